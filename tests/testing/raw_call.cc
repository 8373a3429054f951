#include "tests/testing/raw_call.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "common/file_util.h"
#include "tests/testing/test_pki.h"

namespace liaison::testing {

grpc::Status CallRaw(const std::string& target, const std::string& method,
                     const std::string& bytes) {
  TestPki& pki = TestPki::Shared();
  const CertPaths cert = pki.Issue("RO", "liaison-officer", "ion");
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = *ReadFile(pki.ca());
  tls.pem_private_key = *ReadFile(cert.key);
  tls.pem_cert_chain = *ReadFile(cert.cert);
  grpc::GenericStub stub(
      grpc::CreateChannel(target, grpc::SslCredentials(tls)));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<grpc::Status> result;
  stub.UnaryCall(&context, method, {}, &request, &response,
                 [&](grpc::Status status) {
                   std::lock_guard<std::mutex> lock(mu);
                   result = status;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return *result;
}

}  // namespace liaison::testing

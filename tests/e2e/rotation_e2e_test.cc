// The server's certificate and the CA bundle are rotated under a running
// liaisond: new connections see the new files within --tls-reload-interval,
// with no restart.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "common/tls.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "server/liaison_server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace liaison {
namespace {

using testing::CertPaths;
using testing::TempDir;
using testing::TestPki;

// Replaces `path` by a complete new file, as an operator should.
void Replace(const std::string& path, const std::string& text) {
  const std::string partial = path + ".new";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file << text;
  }
  ASSERT_EQ(std::rename(partial.c_str(), path.c_str()), 0);
}

std::string Read(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// WhoAmI on a fresh connection presenting `client` and trusting `ca`.
grpc::Status WhoAmI(int port, const CertPaths& client, const std::string& ca) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials({client.cert, client.key, ca});
  EXPECT_TRUE(credentials.ok()) << credentials.status();
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  auto stub = v1::Exchange::NewStub(grpc::CreateCustomChannel(
      absl::StrCat("localhost:", port), *credentials, args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::WhoAmIRequest request;
  v1::WhoAmIResponse response;
  return stub->WhoAmI(&context, request, &response);
}

TEST(TlsRotationTest, ServerCertificateAndCaRotateWithoutRestart) {
  TestPki& old_pki = TestPki::Shared();
  std::unique_ptr<TestPki> new_pki = TestPki::Create("selec.test");
  TempDir tls;
  TempDir data;
  const std::string cert = tls.File("server.crt");
  const std::string key = tls.File("server.key");
  const std::string ca = tls.File("ca.crt");
  Replace(cert, Read(old_pki.server_cert()));
  Replace(key, Read(old_pki.server_key()));
  Replace(ca, Read(old_pki.ca()));
  const std::string both_cas = tls.File("both-cas.crt");
  Replace(both_cas, Read(old_pki.ca()) + Read(new_pki->ca()));

  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = data.path();
  options.tls_cert = cert;
  options.tls_key = key;
  options.tls_ca = ca;
  options.tls_reload_interval = absl::Seconds(1);
  options.parties_file = testing::SourcePath("deploy/parties.example");
  options.audit_key_file = old_pki.audit_key();
  SystemClock clock;
  absl::StatusOr<std::unique_ptr<server::LiaisonServer>> started =
      server::LiaisonServer::Start(options, clock);
  ASSERT_TRUE(started.ok()) << started.status();
  server::LiaisonServer& server = **started;

  const CertPaths old_client = old_pki.Issue("RO", "liaison-officer", "rot");
  const CertPaths new_client = new_pki->Issue("HU", "focal-point", "rot");
  EXPECT_TRUE(WhoAmI(server.port(), old_client, old_pki.ca()).ok());
  EXPECT_FALSE(WhoAmI(server.port(), new_client, new_pki->ca()).ok());

  // Rotation: the CA bundle gains the new CA, the server certificate is
  // renewed under it.
  Replace(ca, Read(both_cas));
  Replace(cert, Read(new_pki->server_cert()));
  Replace(key, Read(new_pki->server_key()));
  grpc::Status rotated;
  for (int i = 0; i < 100; ++i) {
    rotated = WhoAmI(server.port(), new_client, new_pki->ca());
    if (rotated.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(rotated.ok()) << rotated.error_message();
  // Clients of the old CA that trust both keep working; one that trusts
  // only the old CA no longer accepts the server.
  EXPECT_TRUE(WhoAmI(server.port(), old_client, both_cas).ok());
  EXPECT_FALSE(WhoAmI(server.port(), old_client, old_pki.ca()).ok());
  server.Shutdown(absl::Seconds(1));
  server.Wait();
}

}  // namespace
}  // namespace liaison

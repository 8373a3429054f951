#include "tests/testing/test_server.h"

#include <grpcpp/create_channel.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/tls.h"
#include "store/open_store.h"
#include "store/sqlite/sqlite_store.h"

namespace liaison::testing {

TestServer::TestServer(std::string crl_file) : crl_file_(std::move(crl_file)) {
  Start();
}

TestServer::~TestServer() {
  if (server_ != nullptr) server_->Shutdown(absl::Seconds(5));
}

void TestServer::Start() {
  TestPki& pki = TestPki::Shared();
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = data_dir_.path();
  options.tls_cert = pki.server_cert();
  options.tls_key = pki.server_key();
  options.tls_ca = pki.ca();
  options.parties_file = SourcePath("deploy/parties.example");
  options.crl_file = crl_file_;
  options.audit_key_file = pki.audit_key();
  absl::StatusOr<std::unique_ptr<server::LiaisonServer>> started =
      server::LiaisonServer::Start(options, clock_);
  if (!started.ok()) {
    std::cerr << "cannot start test server: " << started.status() << "\n";
    std::abort();
  }
  server_ = std::move(started).value();
}

void TestServer::Restart(const std::function<void()>& while_stopped) {
  server_->Shutdown(absl::Seconds(5));
  server_->Wait();
  server_.reset();
  if (while_stopped) while_stopped();
  Start();
}

std::string TestServer::target() const {
  return absl::StrCat("localhost:", server_->port());
}

std::unique_ptr<v1::Exchange::Stub> TestServer::Stub(const std::string& party,
                                                     const std::string& role,
                                                     const std::string& user) {
  TestPki& pki = TestPki::Shared();
  return StubWith(pki.Issue(party, role, user), pki.ca());
}

std::shared_ptr<grpc::Channel> TestServer::ChannelFor(
    const CertPaths& client) const {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials({client.cert, client.key, TestPki::Shared().ca()});
  if (!credentials.ok()) {
    std::cerr << "cannot build client credentials: " << credentials.status()
              << "\n";
    std::abort();
  }
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(target(), *credentials, args);
}

std::unique_ptr<v1::Exchange::Stub> TestServer::StubWith(
    const CertPaths& client, const std::string& ca) const {
  // With any CA, to test foreign certificates.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials({client.cert, client.key, ca});
  if (!credentials.ok()) {
    std::cerr << "cannot build client credentials: " << credentials.status()
              << "\n";
    std::abort();
  }
  // A channel of its own per stub, so that each uses its own certificate.
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return v1::Exchange::NewStub(
      grpc::CreateCustomChannel(target(), *credentials, args));
}

std::unique_ptr<Store> TestServer::OpenStore() const {
  absl::StatusOr<std::unique_ptr<Store>> store =
      SqliteStore::OpenReadOnly(data_dir_.File("liaison.db"));
  if (!store.ok()) {
    std::cerr << "cannot open the test server's store: " << store.status()
              << "\n";
    std::abort();
  }
  return std::move(store).value();
}

}  // namespace liaison::testing

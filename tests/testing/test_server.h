// liaisond started in-process over real mutual TLS on 127.0.0.1:0, with the
// shared test PKI and deploy/parties.example as roster.
#ifndef LIAISON_TESTS_TESTING_TEST_SERVER_H_
#define LIAISON_TESTS_TESTING_TEST_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "domain/store.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "server/liaison_server.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace liaison::testing {

class TestServer {
 public:
  // `crl_file`: passed as --crl when not empty.
  explicit TestServer(std::string crl_file = "");
  ~TestServer();

  // "localhost:PORT", matching the server certificate's SAN.
  std::string target() const;
  int port() const { return server_->port(); }
  const std::string& data_dir() const { return data_dir_.path(); }

  // A stub presenting the certificate of PARTY/ROLE/USER.
  std::unique_ptr<v1::Exchange::Stub> Stub(const std::string& party,
                                           const std::string& role,
                                           const std::string& user);
  // A channel of its own presenting `client`'s certificate (shared PKI's
  // CA), for a stub of any service.
  std::shared_ptr<grpc::Channel> ChannelFor(const CertPaths& client) const;

  // A stub presenting any certificate, trusting `ca` for the server.
  std::unique_ptr<v1::Exchange::Stub> StubWith(const CertPaths& client,
                                               const std::string& ca) const;

  // The server's database opened read-only, to check what is stored.
  std::unique_ptr<Store> OpenStore() const;

  // Stops the server (draining calls) and starts it again on the same data,
  // running `while_stopped` in between (to tamper with the files).
  void Restart(const std::function<void()>& while_stopped = {});
  // The SQLite database file.
  std::string database() const { return data_dir_.File("liaison.db"); }

 private:
  void Start();

  const std::string crl_file_;
  SystemClock clock_;
  TempDir data_dir_;
  std::unique_ptr<server::LiaisonServer> server_;
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_TEST_SERVER_H_

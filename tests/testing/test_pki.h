// A development PKI made once per test binary with the real certs/ scripts,
// and certificates issued from it on demand.
#ifndef LIAISON_TESTS_TESTING_TEST_PKI_H_
#define LIAISON_TESTS_TESTING_TEST_PKI_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tests/testing/temp_dir.h"

namespace liaison::testing {

struct CertPaths {
  std::string cert;
  std::string key;
};

class TestPki {
 public:
  // The binary-wide PKI for trust domain selec.test.
  static TestPki& Shared();
  // A separate PKI (another CA), e.g. to test a foreign certificate.
  static std::unique_ptr<TestPki> Create(const std::string& trust_domain);

  const std::string& ca() const { return ca_; }
  const std::string& server_cert() const { return server_cert_; }
  const std::string& server_key() const { return server_key_; }
  const std::string& dir() const { return dir_.path(); }
  // The audit checkpoint signing key and its verifier key (files).
  std::string audit_key() const { return dir_.File("audit-signing.key"); }
  std::string audit_vkey() const { return dir_.File("audit.vkey"); }

  // A client certificate for spiffe://selec.test/party/PARTY/ROLE/USER
  // (certs/issue.sh), issued on first use. `extra` are further issue.sh
  // arguments (--san-uri, --trust-domain); certificates with extras are
  // named by `tag`.
  CertPaths Issue(const std::string& party, const std::string& role,
                  const std::string& user,
                  const std::vector<std::string>& extra = {},
                  const std::string& tag = "");

 private:
  explicit TestPki(const std::string& trust_domain);

  TempDir dir_;
  std::string ca_;
  std::string server_cert_;
  std::string server_key_;
  absl::Mutex mu_;
  std::map<std::string, CertPaths> issued_ ABSL_GUARDED_BY(mu_);
};

// Runs a shell command; aborts the test binary with its output if it fails.
void RunOrDie(const std::string& command);

// Path of a file in the source tree.
std::string SourcePath(const std::string& relative);

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_TEST_PKI_H_

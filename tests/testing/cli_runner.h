// Runs the liaison CLI in-process with a fake environment, for tests.
#ifndef LIAISON_TESTS_TESTING_CLI_RUNNER_H_
#define LIAISON_TESTS_TESTING_CLI_RUNNER_H_

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "client/cli.h"
#include "tests/testing/test_pki.h"

namespace liaison::testing {

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

// `liaison ARGS` with exactly the variables in `env` set.
inline CliResult RunCliWithEnv(const std::vector<std::string>& args,
                               const std::map<std::string, std::string>& env) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = client::RunCli(
      args, out, err,
      [&](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) return std::nullopt;
        return it->second;
      });
  return {code, out.str(), err.str()};
}

// `liaison ARGS` against the server at `target`, as PARTY/ROLE/USER of the
// shared test PKI (connection settings in the environment), with `extra`
// variables besides.
inline CliResult RunCliAs(const std::string& target, const std::string& party,
                          const std::string& role, const std::string& user,
                          const std::vector<std::string>& args,
                          std::map<std::string, std::string> extra = {}) {
  const CertPaths cert = TestPki::Shared().Issue(party, role, user);
  extra["LIAISON_SERVER"] = target;
  extra["LIAISON_CA"] = TestPki::Shared().ca();
  extra["LIAISON_CERT"] = cert.cert;
  extra["LIAISON_KEY"] = cert.key;
  return RunCliWithEnv(args, extra);
}

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_CLI_RUNNER_H_

#include "tests/testing/test_pki.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace liaison::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(LIAISON_SOURCE_DIR, "/", relative);
}

void RunOrDie(const std::string& command) {
  const std::string full = command + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0) {
    // Run again to show what went wrong.
    std::system(command.c_str());
    std::cerr << "command failed: " << command << "\n";
    std::abort();
  }
}

TestPki::TestPki(const std::string& trust_domain) {
  RunOrDie(absl::StrCat("bash ", Quote(SourcePath("certs/dev-pki.sh")), " ",
                        Quote(dir_.path()), " --trust-domain ",
                        Quote(trust_domain)));
  ca_ = dir_.File("ca.crt");
  server_cert_ = dir_.File("server.crt");
  server_key_ = dir_.File("server.key");
}

TestPki& TestPki::Shared() {
  static TestPki* pki = new TestPki("selec.test");
  return *pki;
}

std::unique_ptr<TestPki> TestPki::Create(const std::string& trust_domain) {
  return std::unique_ptr<TestPki>(new TestPki(trust_domain));
}

CertPaths TestPki::Issue(const std::string& party, const std::string& role,
                         const std::string& user,
                         const std::vector<std::string>& extra,
                         const std::string& tag) {
  const std::string name = absl::StrCat(party, "-", role, "-", user);
  const std::string key = tag.empty() ? name : tag;
  absl::MutexLock lock(&mu_);
  auto it = issued_.find(key);
  if (it != issued_.end()) return it->second;
  std::vector<std::string> quoted;
  for (const std::string& arg : extra) quoted.push_back(Quote(arg));
  RunOrDie(absl::StrCat("bash ", Quote(SourcePath("certs/issue.sh")), " ",
                        Quote(dir_.path()), " ", Quote(party), " ", Quote(role),
                        " ", Quote(user), " ", absl::StrJoin(quoted, " ")));
  CertPaths paths{dir_.File(name + ".crt"), dir_.File(name + ".key")};
  if (!tag.empty()) {
    // Keep tagged certificates apart from the regular one of that name.
    CertPaths tagged{dir_.File(tag + ".crt"), dir_.File(tag + ".key")};
    RunOrDie(absl::StrCat("mv ", Quote(paths.cert), " ", Quote(tagged.cert),
                          " && mv ", Quote(paths.key), " ", Quote(tagged.key)));
    paths = tagged;
  }
  issued_[key] = paths;
  return paths;
}

}  // namespace liaison::testing

// Verified identities for domain tests, as the edge would hand them over.
#ifndef LIAISON_TESTS_TESTING_TEST_IDENTITY_H_
#define LIAISON_TESTS_TESTING_TEST_IDENTITY_H_

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/identity.h"
#include "common/sha256.h"

namespace liaison::testing {

// spiffe://selec.test/party/PARTY/ROLE/USER, with a certificate serial of
// its own per user (upper-case hex, as real serials are kept).
inline Identity TestIdentity(const std::string& party,
                             Role role = Role::kLiaisonOfficer,
                             const std::string& user = "u1") {
  Identity id;
  id.party = party;
  id.role = role;
  id.user_id = user;
  id.trust_domain = "selec.test";
  id.spiffe_id = absl::StrCat("spiffe://selec.test/party/", party, "/",
                              RoleName(role), "/", user);
  id.serial_hex = absl::AsciiStrToUpper(HexEncode(user));
  return id;
}

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_TEST_IDENTITY_H_

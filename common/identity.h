// Identity of a caller, as carried in its client certificate.
//
// Every client certificate carries exactly one URI SAN
//   spiffe://<trust-domain>/party/<PARTY>/<role>/<user-id>
// (design §2). This file parses and validates that string; it does not decide
// what the identity may do (that is domain/policy.h).
#ifndef LIAISON_COMMON_IDENTITY_H_
#define LIAISON_COMMON_IDENTITY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison {

enum class Role { kFocalPoint, kLiaisonOfficer, kAdmin, kAuditor };

// "focal-point", "liaison-officer", "admin", "auditor".
absl::string_view RoleName(Role role);
std::optional<Role> ParseRole(absl::string_view name);

// The HQ party, the only one with `admin` and `auditor` users.
inline constexpr absl::string_view kHqParty = "HQ";

// A party code: an ISO 3166-1 alpha-2 code or a short upper-case name,
// [A-Z][A-Z0-9]{1,15}.
bool IsValidPartyCode(absl::string_view code);

// A user id: 1 to 64 of [A-Za-z0-9._-], not starting with '.' or '-'.
bool IsValidUserId(absl::string_view user_id);

struct Identity {
  std::string spiffe_id;  // The URI SAN as it appears in the certificate.
  std::string trust_domain;
  std::string party;
  Role role = Role::kLiaisonOfficer;
  std::string user_id;
  // Serial number of the certificate that carried this identity, upper-case
  // hex as `openssl x509 -serial` prints it; empty if unknown.
  std::string serial_hex;
  // Set by the edge when the CA's revocation list names this certificate.
  bool revoked_by_ca = false;

  // "PARTY/role/user", the form revocations by user use.
  std::string Path() const;
};

// Parses `spiffe://<trust_domain>/party/<PARTY>/<role>/<user-id>`.
// UNAUTHENTICATED, saying what is wrong, if the string is not of that form,
// names another trust domain, or an unknown role.
absl::StatusOr<Identity> ParseSpiffeId(absl::string_view uri,
                                       absl::string_view trust_domain);

// Identity from all URI SANs of a verified certificate: exactly one is
// required. UNAUTHENTICATED if there are none or several, or the one is bad.
absl::StatusOr<Identity> IdentityFromUriSans(
    const std::vector<std::string>& uri_sans, absl::string_view trust_domain);

}  // namespace liaison

#endif  // LIAISON_COMMON_IDENTITY_H_

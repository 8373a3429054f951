#include "common/identity.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace liaison {
namespace {

constexpr absl::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFocalPoint:
      return "focal-point";
    case Role::kLiaisonOfficer:
      return "liaison-officer";
    case Role::kAdmin:
      return "admin";
    case Role::kAuditor:
      return "auditor";
  }
  return "unknown";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role role : {Role::kFocalPoint, Role::kLiaisonOfficer, Role::kAdmin,
                    Role::kAuditor}) {
    if (name == RoleName(role)) return role;
  }
  return std::nullopt;
}

bool IsValidPartyCode(absl::string_view code) {
  if (code.size() < 2 || code.size() > 16) return false;
  if (!absl::ascii_isupper(code[0])) return false;
  for (char c : code) {
    if (!absl::ascii_isupper(c) && !absl::ascii_isdigit(c)) return false;
  }
  return true;
}

bool IsValidUserId(absl::string_view user_id) {
  if (user_id.empty() || user_id.size() > 64) return false;
  if (user_id[0] == '.' || user_id[0] == '-') return false;
  for (char c : user_id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string Identity::Path() const {
  return absl::StrCat(party, "/", RoleName(role), "/", user_id);
}

absl::StatusOr<Identity> ParseSpiffeId(absl::string_view uri,
                                       absl::string_view trust_domain) {
  if (!absl::StartsWith(uri, kScheme)) {
    return absl::UnauthenticatedError(absl::StrCat(
        "certificate URI SAN '", uri, "' is not a spiffe:// identity"));
  }
  absl::string_view rest = uri.substr(kScheme.size());
  const std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  // <trust-domain> party <PARTY> <role> <user-id>
  if (parts.size() != 5 || parts[1] != "party") {
    return absl::UnauthenticatedError(absl::StrCat(
        "certificate URI SAN '", uri,
        "' is not of the form spiffe://<trust-domain>/party/<PARTY>/<role>/"
        "<user-id>"));
  }
  const absl::string_view domain = parts[0];
  bool domain_ok = !domain.empty();
  for (char c : domain) domain_ok = domain_ok && IsTrustDomainChar(c);
  if (!domain_ok || domain != trust_domain) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate is for trust domain '", domain,
                     "', this server serves '", trust_domain, "'"));
  }
  if (!IsValidPartyCode(parts[2])) {
    return absl::UnauthenticatedError(absl::StrCat(
        "certificate names a malformed party code '", parts[2], "'"));
  }
  const std::optional<Role> role = ParseRole(parts[3]);
  if (!role.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "certificate names an unknown role '", parts[3],
        "' (expected focal-point, liaison-officer, admin or auditor)"));
  }
  if (!IsValidUserId(parts[4])) {
    return absl::UnauthenticatedError(
        absl::StrCat("certificate names a malformed user id '", parts[4], "'"));
  }
  Identity identity;
  identity.spiffe_id = std::string(uri);
  identity.trust_domain = std::string(domain);
  identity.party = std::string(parts[2]);
  identity.role = *role;
  identity.user_id = std::string(parts[4]);
  return identity;
}

absl::StatusOr<Identity> IdentityFromUriSans(
    const std::vector<std::string>& uri_sans, absl::string_view trust_domain) {
  if (uri_sans.empty()) {
    return absl::UnauthenticatedError(
        "client certificate has no URI SAN identity");
  }
  if (uri_sans.size() > 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate has ", uri_sans.size(),
                     " URI SANs; exactly one identity is required"));
  }
  return ParseSpiffeId(uri_sans.front(), trust_domain);
}

}  // namespace liaison

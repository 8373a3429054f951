#include "domain/roster.h"

#include <algorithm>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/identity.h"
#include "common/status_macros.h"

namespace liaison {

absl::StatusOr<std::vector<Party>> ParseRoster(absl::string_view text) {
  std::vector<Party> parties;
  std::set<std::string> codes;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    // Four single-word fields, then the name (which may contain spaces).
    std::vector<absl::string_view> fields;
    absl::string_view rest = line;
    while (fields.size() < 4 && !rest.empty()) {
      const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
      fields.push_back(rest.substr(0, end));
      rest = absl::StripLeadingAsciiWhitespace(rest.substr(end));
    }
    if (!rest.empty()) fields.push_back(rest);
    auto bad = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("roster line ", line_number, ": ", what));
    };
    if (fields.size() < 5) {
      return bad("expected CODE TIER CEILING AGREEMENT NAME");
    }
    Party party;
    party.code = std::string(fields[0]);
    if (!IsValidPartyCode(party.code)) {
      return bad(absl::StrCat("'", fields[0], "' is not a party code"));
    }
    if (!codes.insert(party.code).second) {
      return bad(absl::StrCat("party ", party.code, " is listed twice"));
    }
    const std::optional<PartyTier> tier = ParsePartyTier(fields[1]);
    if (!tier.has_value()) {
      return bad(absl::StrCat("unknown tier '", fields[1], "'"));
    }
    const std::optional<Classification> ceiling =
        ParseClassification(fields[2]);
    if (!ceiling.has_value()) {
      return bad(absl::StrCat("unknown classification '", fields[2], "'"));
    }
    if (fields[3] != "in-force" && fields[3] != "lapsed" && fields[3] != "-") {
      return bad(absl::StrCat("agreement must be in-force, lapsed or -, not '",
                              fields[3], "'"));
    }
    party.tier = *tier;
    party.ceiling = *ceiling;
    party.agreement_in_force = fields[3] == "in-force";
    party.state = PartyState::kActive;
    party.name = std::string(absl::StripAsciiWhitespace(fields[4]));
    const absl::Status rules = CheckTierRules(party);
    if (!rules.ok()) return bad(rules.message());
    parties.push_back(std::move(party));
  }
  if (parties.empty()) {
    return absl::InvalidArgumentError("roster lists no parties");
  }
  return parties;
}

absl::StatusOr<int> SeedRoster(Store& store, AuditLog& audit,
                               const Clock& clock,
                               const std::vector<Party>& parties) {
  LIAISON_ASSIGN_OR_RETURN(std::vector<Party> existing, store.ListParties());
  if (!existing.empty()) return 0;
  bool seeded_meanwhile = false;
  LIAISON_RETURN_IF_ERROR(store.Write([&](WriteTransaction& txn) {
    // Replicas starting together on one new database all find it empty
    // above; writers are serialised, so the first seeds and the others see
    // its roster here (and leave it as it is, as for any store with parties).
    for (const Party& party : parties) {
      absl::StatusOr<Party> found = txn.GetParty(party.code);
      if (found.ok()) {
        seeded_meanwhile = true;
        return absl::OkStatus();
      }
      if (!absl::IsNotFound(found.status())) return found.status();
    }
    AuditEntry entry;
    entry.time = absl::FromUnixMicros(absl::ToUnixMicros(clock.Now()));
    entry.principal = "liaisond";
    entry.action = "Server.SeedRoster";
    entry.reason = absl::StrCat("initial roster of ", parties.size(),
                                " parties loaded into an empty store");
    for (const Party& party : parties) {
      LIAISON_RETURN_IF_ERROR(txn.InsertParty(party));
      LIAISON_RETURN_IF_ERROR(txn.AppendPartyChange(
          PartyChange{party.code, entry.time, entry.principal, "REGISTERED", "",
                      DescribeStatus(party), "initial roster"}));
      entry.resources.push_back(party.code);
    }
    return audit.Append(txn, entry).status();
  }));
  return seeded_meanwhile ? 0 : static_cast<int>(parties.size());
}

}  // namespace liaison

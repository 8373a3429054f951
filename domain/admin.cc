#include "domain/admin.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace liaison {
namespace {

constexpr absl::string_view kTiers =
    "MEMBER_STATE, OPERATIONAL_PARTNER or OBSERVER";
constexpr absl::string_view kClassifications =
    "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL or SECRET";

absl::Status CheckCode(absl::string_view code) {
  if (code.empty()) return absl::InvalidArgumentError("code is required");
  if (!IsValidPartyCode(code)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "code '", absl::CEscape(code.substr(0, 32)),
        "' is not a party code (2 to 16 upper-case letters and digits, "
        "starting with a letter, e.g. RO)"));
  }
  return absl::OkStatus();
}

absl::Status CheckReason(absl::string_view reason) {
  return CheckLine("reason", reason, AdminService::kMaxReason, true);
}

// Upper-case hex without leading zeros, as certificates' serials are kept.
absl::StatusOr<std::string> NormalizeSerial(absl::string_view serial) {
  // Accept what `openssl x509 -serial` prints and the colon-separated form.
  absl::ConsumePrefix(&serial, "serial=");
  std::string hex =
      absl::StrReplaceAll(absl::AsciiStrToUpper(serial), {{":", ""}});
  if (hex.empty() || hex.size() > 64 ||
      hex.find_first_not_of("0123456789ABCDEF") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("serial '", absl::CEscape(serial.substr(0, 70)),
                     "' is not a certificate serial number in hex"));
  }
  const size_t first = hex.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : hex.substr(first);
}

absl::Status CheckUserPath(absl::string_view user) {
  const std::vector<absl::string_view> parts = absl::StrSplit(user, '/');
  if (parts.size() != 3 || !IsValidPartyCode(parts[0]) ||
      !ParseRole(parts[1]).has_value() || !IsValidUserId(parts[2])) {
    return absl::InvalidArgumentError(
        absl::StrCat("user '", absl::CEscape(user.substr(0, 100)),
                     "' is not PARTY/ROLE/USER (e.g. RO/liaison-officer/ion)"));
  }
  return absl::OkStatus();
}

PartyChange Changed(absl::string_view change, absl::string_view from,
                    absl::string_view to) {
  PartyChange c;
  c.change = std::string(change);
  c.from = std::string(from);
  c.to = std::string(to);
  return c;
}

}  // namespace

absl::StatusOr<Party> AdminService::Change(const Caller& caller, Action action,
                                           const std::string& code,
                                           const absl::Status& field_check,
                                           const std::string& reason,
                                           Mutation mutate) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, action));
  absl::Status valid = CheckCode(code);
  if (valid.ok()) valid = field_check;
  if (valid.ok()) valid = CheckReason(reason);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {code};

  Party result;
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        LIAISON_ASSIGN_OR_RETURN(result, txn.GetParty(code));
        LIAISON_ASSIGN_OR_RETURN(std::vector<PartyChange> changes,
                                 mutate(result));
        LIAISON_RETURN_IF_ERROR(txn.UpdateParty(result));
        std::vector<std::string> summary;
        for (PartyChange& change : changes) {
          change.code = code;
          change.time = call.entry.time;
          change.changed_by = call.identity.spiffe_id;
          change.reason = reason;
          summary.push_back(
              absl::StrCat(change.change, " ", change.from, " -> ", change.to));
          LIAISON_RETURN_IF_ERROR(txn.AppendPartyChange(change));
        }
        call.entry.reason =
            absl::StrCat(absl::StrJoin(summary, "; "), ": ", reason);
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<Party> AdminService::RegisterParty(
    const Caller& caller, const RegisterPartyCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kRegisterParty));
  Party party;
  party.code = command.code;
  party.name = command.name;
  party.state = PartyState::kActive;
  party.agreement_in_force = command.agreement_in_force;
  absl::Status valid = [&]() -> absl::Status {
    LIAISON_RETURN_IF_ERROR(CheckCode(command.code));
    LIAISON_RETURN_IF_ERROR(CheckLine("name", command.name, kMaxName, true));
    LIAISON_ASSIGN_OR_RETURN(party.tier, Require(command.tier, "tier", kTiers));
    LIAISON_ASSIGN_OR_RETURN(
        party.ceiling,
        Require(command.ceiling, "classification_ceiling", kClassifications));
    LIAISON_RETURN_IF_ERROR(CheckTierRules(party));
    return CheckReason(command.reason);
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {party.code};

  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        LIAISON_RETURN_IF_ERROR(txn.InsertParty(party));
        PartyChange change = Changed("REGISTERED", "", DescribeStatus(party));
        change.code = party.code;
        change.time = call.entry.time;
        change.changed_by = call.identity.spiffe_id;
        change.reason = command.reason;
        call.entry.reason =
            absl::StrCat("REGISTERED ", change.to, ": ", command.reason);
        return txn.AppendPartyChange(change);
      }));
  return party;
}

absl::StatusOr<Party> AdminService::SetPartyTier(const Caller& caller,
                                                 const std::string& code,
                                                 Choice<PartyTier> tier,
                                                 const std::string& reason) {
  return Change(
      caller, Action::kSetPartyTier, code,
      Require(tier, "tier", kTiers).status(), reason,
      [&](Party& p) -> absl::StatusOr<std::vector<PartyChange>> {
        LIAISON_ASSIGN_OR_RETURN(PartyTier to, Require(tier, "tier", kTiers));
        if (p.tier == to) {
          return absl::FailedPreconditionError(
              absl::StrCat(p.code, " is already ", Name(to)));
        }
        if (p.code == kHqParty) {
          return absl::FailedPreconditionError("HQ must remain a member state");
        }
        std::vector<PartyChange> changes = {
            Changed("TIER", Name(p.tier), Name(to))};
        p.tier = to;
        // Observers hold nothing above UNCLASSIFIED and have no agreement.
        if (to == PartyTier::kObserver &&
            p.ceiling != Classification::kUnclassified) {
          changes.push_back(Changed("CEILING", Name(p.ceiling),
                                    Name(Classification::kUnclassified)));
          p.ceiling = Classification::kUnclassified;
        }
        if (to != PartyTier::kOperationalPartner && p.agreement_in_force) {
          changes.push_back(Changed("AGREEMENT", "in force", "not applicable"));
          p.agreement_in_force = false;
        }
        return changes;
      });
}

absl::StatusOr<Party> AdminService::SetCeiling(const Caller& caller,
                                               const std::string& code,
                                               Choice<Classification> ceiling,
                                               const std::string& reason) {
  return Change(
      caller, Action::kSetCeiling, code,
      Require(ceiling, "classification_ceiling", kClassifications).status(),
      reason, [&](Party& p) -> absl::StatusOr<std::vector<PartyChange>> {
        LIAISON_ASSIGN_OR_RETURN(
            Classification to,
            Require(ceiling, "classification_ceiling", kClassifications));
        if (p.ceiling == to) {
          return absl::FailedPreconditionError(
              absl::StrCat(p.code, "'s ceiling is already ", Name(to)));
        }
        if (p.tier == PartyTier::kObserver &&
            to != Classification::kUnclassified) {
          return absl::FailedPreconditionError(
              absl::StrCat(p.code,
                           " is an observer; observers are limited to "
                           "UNCLASSIFIED"));
        }
        std::vector<PartyChange> changes = {
            Changed("CEILING", Name(p.ceiling), Name(to))};
        p.ceiling = to;
        return changes;
      });
}

absl::StatusOr<Party> AdminService::SetAgreement(const Caller& caller,
                                                 const std::string& code,
                                                 bool in_force,
                                                 const std::string& reason) {
  return Change(
      caller, Action::kSetAgreement, code, absl::OkStatus(), reason,
      [&](Party& p) -> absl::StatusOr<std::vector<PartyChange>> {
        if (p.tier != PartyTier::kOperationalPartner) {
          return absl::FailedPreconditionError(absl::StrCat(
              p.code, " is ", Name(p.tier),
              "; only operational partners have a cooperation agreement"));
        }
        if (p.agreement_in_force == in_force) {
          return absl::FailedPreconditionError(
              absl::StrCat(p.code, "'s agreement is already ",
                           in_force ? "in force" : "lapsed"));
        }
        std::vector<PartyChange> changes = {
            Changed("AGREEMENT", in_force ? "lapsed" : "in force",
                    in_force ? "in force" : "lapsed")};
        p.agreement_in_force = in_force;
        return changes;
      });
}

absl::StatusOr<Party> AdminService::SuspendParty(const Caller& caller,
                                                 const std::string& code,
                                                 const std::string& reason) {
  return Change(
      caller, Action::kSuspendParty, code, absl::OkStatus(), reason,
      [&](Party& p) -> absl::StatusOr<std::vector<PartyChange>> {
        if (p.code == kHqParty) {
          return absl::FailedPreconditionError(
              "HQ cannot be suspended: its admins would be locked out");
        }
        if (p.state == PartyState::kSuspended) {
          return absl::FailedPreconditionError(
              absl::StrCat(p.code, " is already suspended"));
        }
        p.state = PartyState::kSuspended;
        return std::vector<PartyChange>{
            Changed("SUSPENDED", "ACTIVE", "SUSPENDED")};
      });
}

absl::StatusOr<Party> AdminService::ReinstateParty(const Caller& caller,
                                                   const std::string& code,
                                                   const std::string& reason) {
  return Change(caller, Action::kReinstateParty, code, absl::OkStatus(), reason,
                [&](Party& p) -> absl::StatusOr<std::vector<PartyChange>> {
                  if (p.state != PartyState::kSuspended) {
                    return absl::FailedPreconditionError(
                        absl::StrCat(p.code, " is not suspended"));
                  }
                  p.state = PartyState::kActive;
                  return std::vector<PartyChange>{
                      Changed("REINSTATED", "SUSPENDED", "ACTIVE")};
                });
}

absl::StatusOr<std::vector<Party>> AdminService::ListParties(
    const Caller& caller) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kListParties));
  absl::StatusOr<std::vector<Party>> parties = store_.ListParties();
  if (!parties.ok()) return gate_.Refuse(call, parties.status());
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {}));
  return parties;
}

absl::StatusOr<PartyDetails> AdminService::GetParty(const Caller& caller,
                                                    const std::string& code) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kGetParty));
  absl::Status valid = CheckCode(code);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {code};
  PartyDetails details;
  absl::StatusOr<Party> party = store_.GetParty(code);
  if (!party.ok()) return gate_.Refuse(call, party.status());
  details.party = *std::move(party);
  absl::StatusOr<std::vector<PartyChange>> history =
      store_.ListPartyChanges(code);
  if (!history.ok()) return gate_.Refuse(call, history.status());
  details.history = *std::move(history);
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {code}));
  return details;
}

absl::StatusOr<Revocation> AdminService::RevokeCertificate(
    const Caller& caller, const RevokeCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kRevokeCertificate));
  Revocation revocation;
  absl::Status valid = [&]() -> absl::Status {
    if (command.serial.empty() == command.user.empty()) {
      return absl::InvalidArgumentError(
          "give exactly one of serial (a certificate) or user "
          "(PARTY/ROLE/USER, every certificate of that identity)");
    }
    if (!command.serial.empty()) {
      LIAISON_ASSIGN_OR_RETURN(revocation.serial,
                               NormalizeSerial(command.serial));
    } else {
      LIAISON_RETURN_IF_ERROR(CheckUserPath(command.user));
      revocation.user = command.user;
    }
    LIAISON_RETURN_IF_ERROR(CheckReason(command.reason));
    // Revocations are permanent: an admin who revoked their own certificate
    // would be locked out for good. Another HQ admin revokes an admin.
    if (revocation.serial == call.identity.serial_hex ||
        revocation.user == call.identity.Path()) {
      return absl::FailedPreconditionError(
          "an admin cannot revoke their own certificate; another HQ admin "
          "must do it");
    }
    return absl::OkStatus();
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  revocation.reason = command.reason;
  revocation.revoked_at = call.entry.time;
  revocation.revoked_by = call.identity.spiffe_id;
  call.entry.resources = {revocation.serial.empty()
                              ? revocation.user
                              : absl::StrCat("serial:", revocation.serial)};
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        call.entry.reason = absl::StrCat("revoked: ", command.reason);
        return txn.InsertRevocation(revocation);
      }));
  return revocation;
}

absl::StatusOr<std::vector<Revocation>> AdminService::ListRevocations(
    const Caller& caller) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kListRevocations));
  absl::StatusOr<std::vector<Revocation>> revocations =
      store_.ListRevocations();
  if (!revocations.ok()) return gate_.Refuse(call, revocations.status());
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {}));
  return revocations;
}

}  // namespace liaison

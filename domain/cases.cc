#include "domain/cases.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/validation.h"

namespace liaison {
namespace {

absl::Status CheckCaseId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("case_id is required");
  if (!IsValidMessageId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("case_id '", absl::CEscape(id.substr(0, 64)),
                     "' is not a case id (26 characters of Crockford "
                     "base32)"));
  }
  return absl::OkStatus();
}

absl::Status CheckPartyCode(absl::string_view field, const std::string& code) {
  if (!IsValidPartyCode(code)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " '", absl::CEscape(code.substr(0, 32)),
                     "' is not a party code (e.g. RO)"));
  }
  return absl::OkStatus();
}

absl::Status CaseNotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
}

}  // namespace

absl::Status CaseService::CheckParticipant(WriteTransaction& txn,
                                           const std::string& party) {
  absl::StatusOr<Party> record = txn.GetParty(party);
  if (absl::IsNotFound(record.status())) {
    return absl::NotFoundError(
        absl::StrCat("party ", party, " is not registered"));
  }
  LIAISON_RETURN_IF_ERROR(record.status());
  if (record->state == PartyState::kSuspended) {
    return absl::PermissionDeniedError(
        absl::StrCat(party, " is suspended and may not take part in cases"));
  }
  if (record->tier == PartyTier::kObserver) {
    return absl::PermissionDeniedError(
        absl::StrCat(party, " is an observer and takes no part in cases"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Case> CaseService::MemberCase(WriteTransaction& txn,
                                             const Call& call,
                                             const std::string& case_id,
                                             bool owner_only) {
  absl::StatusOr<Case> c = txn.GetCase(case_id);
  const std::string& party = call.identity.party;
  if (absl::IsNotFound(c.status()) || (c.ok() && !c->Includes(party))) {
    return CaseNotFound(case_id);
  }
  LIAISON_RETURN_IF_ERROR(c.status());
  if (owner_only && c->owner_party != party) {
    return absl::PermissionDeniedError(absl::StrCat("only ", c->owner_party,
                                                    ", the owner of case ",
                                                    case_id, ", may do this"));
  }
  if (owner_only && c->state == CaseState::kClosed) {
    return absl::FailedPreconditionError(
        absl::StrCat("case ", case_id, " is closed"));
  }
  return c;
}

absl::StatusOr<Case> CaseService::OpenCase(
    const Caller& caller, const std::string& title,
    const std::vector<std::string>& participants) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kOpenCase));
  const std::string& owner = call.identity.party;
  absl::Status valid = [&]() -> absl::Status {
    LIAISON_RETURN_IF_ERROR(CheckLine("title", title, kMaxTitle, true));
    if (participants.size() > kMaxParticipants) {
      return absl::InvalidArgumentError(
          absl::StrCat("participants: ", participants.size(),
                       " given; the limit is ", kMaxParticipants));
    }
    for (size_t i = 0; i < participants.size(); ++i) {
      LIAISON_RETURN_IF_ERROR(CheckPartyCode(
          absl::StrCat("participants[", i, "]"), participants[i]));
      if (participants[i] == owner) {
        return absl::InvalidArgumentError(absl::StrCat(
            "participants may not include the owner's own party ", owner));
      }
      if (std::find(participants.begin(), participants.begin() + i,
                    participants[i]) != participants.begin() + i) {
        return absl::InvalidArgumentError(
            absl::StrCat("participants names ", participants[i], " twice"));
      }
    }
    return absl::OkStatus();
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);

  Case c;
  c.id = ids_.Next();
  c.title = title;
  c.owner_party = owner;
  c.participants = participants;
  c.state = CaseState::kOpen;
  c.opened_at = gate_.Now();
  call.entry.resources = {c.id};
  for (const std::string& p : participants) call.entry.resources.push_back(p);
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        for (const std::string& p : participants) {
          LIAISON_RETURN_IF_ERROR(CheckParticipant(txn, p));
        }
        return txn.InsertCase(c);
      }));
  return c;
}

absl::StatusOr<Case> CaseService::ChangeParticipant(const Caller& caller,
                                                    Action action,
                                                    const std::string& case_id,
                                                    const std::string& party,
                                                    bool add) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, action));
  absl::Status valid = CheckCaseId(case_id);
  if (valid.ok()) valid = CheckPartyCode("party", party);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {case_id, party};
  Case result;
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        LIAISON_ASSIGN_OR_RETURN(result, MemberCase(txn, call, case_id, true));
        if (party == result.owner_party) {
          return absl::FailedPreconditionError(
              absl::StrCat(party, " owns case ", case_id));
        }
        const bool member = result.Includes(party);
        if (add && member) {
          return absl::FailedPreconditionError(
              absl::StrCat(party, " already takes part in case ", case_id));
        }
        if (!add && !member) {
          return absl::FailedPreconditionError(
              absl::StrCat(party, " does not take part in case ", case_id));
        }
        if (add) LIAISON_RETURN_IF_ERROR(CheckParticipant(txn, party));
        LIAISON_RETURN_IF_ERROR(
            txn.SetCaseParticipant(case_id, party, add, call.entry.time));
        LIAISON_ASSIGN_OR_RETURN(result, txn.GetCase(case_id));
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<Case> CaseService::AddParticipant(const Caller& caller,
                                                 const std::string& case_id,
                                                 const std::string& party) {
  return ChangeParticipant(caller, Action::kAddParticipant, case_id, party,
                           true);
}

absl::StatusOr<Case> CaseService::RemoveParticipant(const Caller& caller,
                                                    const std::string& case_id,
                                                    const std::string& party) {
  return ChangeParticipant(caller, Action::kRemoveParticipant, case_id, party,
                           false);
}

absl::StatusOr<Case> CaseService::AttachMessage(const Caller& caller,
                                                const std::string& case_id,
                                                const std::string& message_id) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kAttachMessage));
  absl::Status valid = CheckCaseId(case_id);
  if (valid.ok() && !IsValidMessageId(message_id)) {
    valid = absl::InvalidArgumentError(
        absl::StrCat("message_id '", absl::CEscape(message_id.substr(0, 64)),
                     "' is not a message id"));
  }
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {case_id, message_id};
  const std::string& party = call.identity.party;
  Case result;
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        LIAISON_ASSIGN_OR_RETURN(result, MemberCase(txn, call, case_id, false));
        if (result.state == CaseState::kClosed) {
          return absl::FailedPreconditionError(
              absl::StrCat("case ", case_id, " is closed"));
        }
        absl::StatusOr<Message> message = txn.GetMessage(message_id);
        const bool involved =
            message.ok() && (message->sender_party == party ||
                             message->FindRecipient(party) != nullptr);
        if (absl::IsNotFound(message.status()) || (message.ok() && !involved)) {
          return absl::NotFoundError(
              absl::StrCat("message ", message_id, " not found"));
        }
        LIAISON_RETURN_IF_ERROR(message.status());
        // Attaching shares the message with every member: only its owner may.
        if (message->sender_party != party) {
          return absl::PermissionDeniedError(absl::StrCat(
              "only ", message->sender_party, ", the owner of message ",
              message_id, ", may attach it to a case"));
        }
        // All or nothing: every member must be able to hold it now.
        std::vector<std::string> members = result.participants;
        members.push_back(result.owner_party);
        for (const std::string& member : members) {
          LIAISON_ASSIGN_OR_RETURN(Party record, txn.GetParty(member));
          // A member made an observer since reads nothing through the case.
          if (record.tier == PartyTier::kObserver) continue;
          const Decision d =
              MayHold(record, message->classification,
                      message->contains_personal_data, "receive");
          if (!d.allowed()) {
            return absl::PermissionDeniedError(
                absl::StrCat("not attached: case member ", d.reason));
          }
        }
        LIAISON_RETURN_IF_ERROR(
            txn.AttachToCase(case_id, message_id, call.entry.time));
        LIAISON_ASSIGN_OR_RETURN(result, txn.GetCase(case_id));
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<Case> CaseService::CloseCase(const Caller& caller,
                                            const std::string& case_id) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kCloseCase));
  absl::Status valid = CheckCaseId(case_id);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {case_id};
  Case result;
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        LIAISON_ASSIGN_OR_RETURN(result, MemberCase(txn, call, case_id, true));
        LIAISON_RETURN_IF_ERROR(txn.CloseCase(case_id, call.entry.time));
        LIAISON_ASSIGN_OR_RETURN(result, txn.GetCase(case_id));
        return absl::OkStatus();
      }));
  return result;
}

absl::StatusOr<CaseView> CaseService::GetCase(const Caller& caller,
                                              const std::string& case_id) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kGetCase));
  absl::Status valid = CheckCaseId(case_id);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  call.entry.resources = {case_id};
  const std::string& party = call.identity.party;
  absl::StatusOr<Case> c = store_.GetCase(case_id);
  if (absl::IsNotFound(c.status())) {
    return gate_.Refuse(call, CaseNotFound(case_id));
  }
  if (!c.ok()) return gate_.Refuse(call, c.status());
  if (!c->Includes(party)) {
    return gate_.Refuse(call, CaseNotFound(case_id),
                        absl::StrCat(party, " takes no part in the case"));
  }
  absl::StatusOr<std::vector<Message>> thread = store_.CaseThread(case_id);
  if (!thread.ok()) return gate_.Refuse(call, thread.status());

  CaseView view;
  view.details = *std::move(c);
  const absl::Time now = gate_.Now();
  std::vector<std::string> shown = {case_id};
  for (Message& m : *thread) {
    MessageFacts facts = FactsOf(m);
    facts.case_parties = {party};  // a member, through this case
    MessageView item = ViewFor(call, std::move(m), facts, now);
    if (item.withheld_reason.empty()) shown.push_back(item.message.id);
    view.thread.push_back(std::move(item));
  }
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, std::move(shown)));
  return view;
}

absl::StatusOr<std::vector<Case>> CaseService::ListCases(const Caller& caller) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kListCases));
  absl::StatusOr<std::vector<Case>> cases =
      store_.ListCases(call.identity.party);
  if (!cases.ok()) return gate_.Refuse(call, cases.status());
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {}));
  return cases;
}

}  // namespace liaison

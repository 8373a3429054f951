#include "domain/policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace liaison {
namespace {

Decision Deny(std::string reason) {
  return {absl::StatusCode::kPermissionDenied, std::move(reason)};
}

Decision Hidden(std::string reason) {
  return {absl::StatusCode::kNotFound, std::move(reason)};
}

bool ReadsMessageContents(Action action) {
  return action != Action::kWhoAmI && action != Action::kGetStatistics &&
         !IsAdminAction(action) && !IsAuditAction(action);
}

// The caller's certificate, party and role, whatever the action.
Decision DecidePrincipal(const PolicyInput& in) {
  const Identity& who = in.principal;
  if (who.revoked_by_ca) {
    return {absl::StatusCode::kUnauthenticated,
            absl::StrCat("certificate serial ", who.serial_hex,
                         " was revoked by the certificate authority (CRL)")};
  }
  if (in.revocation != nullptr) {
    return {absl::StatusCode::kUnauthenticated,
            absl::StrCat(in.revocation->serial.empty()
                             ? absl::StrCat("identity ", in.revocation->user)
                             : absl::StrCat("certificate serial ",
                                            in.revocation->serial),
                         " was revoked by HQ: ", in.revocation->reason)};
  }
  if (in.party == nullptr) {
    return Deny(
        absl::StrCat("party ", who.party, " is not registered with Liaison"));
  }
  if (in.party->state == PartyState::kSuspended) {
    return Deny(absl::StrCat("party ", who.party,
                             " is suspended; all access is blocked"));
  }
  if ((who.role == Role::kAdmin || who.role == Role::kAuditor) &&
      who.party != kHqParty) {
    return Deny(absl::StrCat("role ", RoleName(who.role),
                             " exists only in party ", kHqParty, ", not in ",
                             who.party));
  }
  if ((who.role == Role::kAdmin || who.role == Role::kAuditor) &&
      ReadsMessageContents(in.action)) {
    return Deny(absl::StrCat("role ", RoleName(who.role),
                             " may not send or read message contents"));
  }
  if (IsAdminAction(in.action) && who.role != Role::kAdmin) {
    return Deny(
        absl::StrCat("only HQ admins administer parties and "
                     "certificates; ",
                     who.party, "/", RoleName(who.role), " may not"));
  }
  return Decision::Allow();
}

bool Involves(const MessageFacts& message, absl::string_view party) {
  return message.sender_party == party ||
         std::find(message.recipient_parties.begin(),
                   message.recipient_parties.end(),
                   party) != message.recipient_parties.end();
}

// Reading an existing message: the party must be its sender or a recipient
// (otherwise the message is hidden), and may hold its content now.
Decision DecideRead(const Party& party, const MessageFacts& message) {
  const bool through_case =
      std::find(message.case_parties.begin(), message.case_parties.end(),
                party.code) != message.case_parties.end();
  if (!Involves(message, party.code) && !through_case) {
    return Hidden(absl::StrCat(party.code,
                               " is neither the sender nor a recipient, nor "
                               "in a case holding the message"));
  }
  if (!Involves(message, party.code) && party.tier == PartyTier::kObserver) {
    return Deny(
        absl::StrCat(party.code, " is an observer and takes no part in cases"));
  }
  return MayHold(party, message.classification, message.contains_personal_data,
                 "read");
}

// Sending: the sender may hold the content, and so may `recipient`.
Decision DecideSend(const Party& sender, const MessageFacts& message,
                    const Party* recipient) {
  Decision d = MayHold(sender, message.classification,
                       message.contains_personal_data, "send");
  if (!d.allowed() || recipient == nullptr) return d;
  if (recipient->state == PartyState::kSuspended) {
    return Deny(absl::StrCat("recipient ", recipient->code,
                             " is suspended and may not receive messages"));
  }
  d = MayHold(*recipient, message.classification,
              message.contains_personal_data, "receive");
  if (!d.allowed()) d.reason = absl::StrCat("recipient ", d.reason);
  return d;
}

}  // namespace

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kWhoAmI:
      return "Exchange.WhoAmI";
    case Action::kSendMessage:
      return "Exchange.SendMessage";
    case Action::kGetMessage:
      return "Exchange.GetMessage";
    case Action::kListInbox:
      return "Exchange.ListInbox";
    case Action::kListOutbox:
      return "Exchange.ListOutbox";
    case Action::kReply:
      return "Exchange.Reply";
    case Action::kAcknowledgeRequest:
      return "Exchange.AcknowledgeRequest";
    case Action::kRefuseRequest:
      return "Exchange.RefuseRequest";
    case Action::kListRequests:
      return "Exchange.ListRequests";
    case Action::kSetHandling:
      return "Exchange.SetHandling";
    case Action::kForward:
      return "Exchange.Forward";
    case Action::kRequestConsent:
      return "Exchange.RequestConsent";
    case Action::kDecideConsent:
      return "Exchange.DecideConsent";
    case Action::kListConsents:
      return "Exchange.ListConsents";
    case Action::kGetStatistics:
      return "Reports.GetStatistics";
    case Action::kSubscribe:
      return "Exchange.Subscribe";
    case Action::kUploadAttachment:
      return "Exchange.UploadAttachment";
    case Action::kDownloadAttachment:
      return "Exchange.DownloadAttachment";
    case Action::kOpenCase:
      return "Cases.OpenCase";
    case Action::kAddParticipant:
      return "Cases.AddParticipant";
    case Action::kRemoveParticipant:
      return "Cases.RemoveParticipant";
    case Action::kAttachMessage:
      return "Cases.AttachMessage";
    case Action::kGetCase:
      return "Cases.GetCase";
    case Action::kListCases:
      return "Cases.ListCases";
    case Action::kCloseCase:
      return "Cases.CloseCase";
    case Action::kRegisterParty:
      return "Admin.RegisterParty";
    case Action::kSetPartyTier:
      return "Admin.SetPartyTier";
    case Action::kSetCeiling:
      return "Admin.SetCeiling";
    case Action::kSetAgreement:
      return "Admin.SetAgreement";
    case Action::kSuspendParty:
      return "Admin.SuspendParty";
    case Action::kReinstateParty:
      return "Admin.ReinstateParty";
    case Action::kListParties:
      return "Admin.ListParties";
    case Action::kGetParty:
      return "Admin.GetParty";
    case Action::kRevokeCertificate:
      return "Admin.RevokeCertificate";
    case Action::kGetCheckpoint:
      return "Audit.GetCheckpoint";
    case Action::kListAuditEntries:
      return "Audit.ListEntries";
    case Action::kGetInclusionProof:
      return "Audit.GetInclusionProof";
    case Action::kGetConsistencyProof:
      return "Audit.GetConsistencyProof";
    case Action::kExportAudit:
      return "Audit.Export";
    case Action::kListAccesses:
      return "Audit.ListAccesses";
    case Action::kListRevocations:
      return "Admin.ListRevocations";
  }
  return "Unknown";
}

bool IsAdminAction(Action action) {
  return absl::StartsWith(ActionName(action), "Admin.");
}

bool IsCaseAction(Action action) {
  return absl::StartsWith(ActionName(action), "Cases.");
}

bool IsAuditAction(Action action) {
  return absl::StartsWith(ActionName(action), "Audit.");
}

bool SeesWholeAuditLog(const Identity& who) {
  return who.role == Role::kAuditor && who.party == kHqParty;
}

Decision MayHold(const Party& party, Classification classification,
                 bool contains_personal_data, absl::string_view as_what) {
  if (party.tier == PartyTier::kObserver) {
    if (contains_personal_data) {
      return Deny(absl::StrCat(party.code, " is an observer and may not ",
                               as_what, " personal data"));
    }
    if (classification != Classification::kUnclassified) {
      return Deny(absl::StrCat(party.code, " is an observer and may not ",
                               as_what, " ", Name(classification),
                               " information (UNCLASSIFIED only)"));
    }
  }
  if (contains_personal_data && party.tier == PartyTier::kOperationalPartner &&
      !party.agreement_in_force) {
    return Deny(absl::StrCat(party.code,
                             "'s cooperation agreement is not in force, so "
                             "it may not ",
                             as_what, " personal data"));
  }
  if (classification > party.ceiling) {
    return Deny(absl::StrCat(
        party.code, " may not ", as_what, " ", Name(classification),
        " information (its ceiling is ", Name(party.ceiling), ")"));
  }
  return Decision::Allow();
}

Decision Decide(const PolicyInput& in) {
  Decision d = DecidePrincipal(in);
  if (!d.allowed()) return d;
  // For administration, role and party were all there was to judge: an
  // active HQ admin.
  if (IsAdminAction(in.action)) return Decision::Allow();
  // The log holds no message contents: any active party may check it; what
  // each sees is scoped by the audit service (SeesWholeAuditLog).
  if (IsAuditAction(in.action)) return Decision::Allow();
  if (IsCaseAction(in.action)) {
    if (in.party->tier == PartyTier::kObserver) {
      return Deny(absl::StrCat(in.party->code,
                               " is an observer and takes no part in cases"));
    }
    // Ownership and participation are judged by the case service.
    return Decision::Allow();
  }
  const Party& party = *in.party;
  switch (in.action) {
    case Action::kWhoAmI:
    case Action::kListInbox:
    case Action::kListOutbox:
    case Action::kListRequests:
    case Action::kListConsents:
    case Action::kSubscribe:
    case Action::kGetStatistics:  // the scope is judged by the service
      // Listings show only the caller's own party's messages.
      return Decision::Allow();
    case Action::kGetMessage:
    case Action::kAcknowledgeRequest:
    case Action::kRefuseRequest:
    case Action::kSetHandling:
    case Action::kRequestConsent:
    case Action::kDecideConsent:
    case Action::kUploadAttachment:
    case Action::kDownloadAttachment:
      // Acting on a message starts with being allowed to read it.
      if (in.message == nullptr) return Decision::Allow();
      return DecideRead(party, *in.message);
    case Action::kReply:
    case Action::kForward:
      // Read what is answered or passed on, then send to the recipient.
      if (in.request == nullptr) return Decision::Allow();
      d = DecideRead(party, *in.request);
      if (!d.allowed()) return d;
      if (in.message == nullptr) return Decision::Allow();
      return DecideSend(party, *in.message, in.recipient);
    case Action::kSendMessage:
      if (in.message == nullptr) return Decision::Allow();
      return DecideSend(party, *in.message, in.recipient);
    default:
      break;
  }
  return Deny("unknown action");
}

}  // namespace liaison

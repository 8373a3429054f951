// The access policy (design §4): one pure decision function. Every action the
// server takes is judged here and every decision is audited by the caller.
//
// Pure: no I/O, no clock, no state; the same input gives the same decision.
#ifndef LIAISON_DOMAIN_POLICY_H_
#define LIAISON_DOMAIN_POLICY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/identity.h"
#include "domain/model.h"

namespace liaison {

enum class Action {
  // Exchange: act for the caller's own party on messages.
  kWhoAmI,
  kSendMessage,
  kGetMessage,
  kListInbox,
  kListOutbox,
  kReply,
  kAcknowledgeRequest,
  kRefuseRequest,
  kListRequests,
  kSetHandling,
  kForward,
  kRequestConsent,
  kDecideConsent,
  kListConsents,
  kSubscribe,
  kUploadAttachment,
  kDownloadAttachment,
  // Reports: counts only, for every role.
  kGetStatistics,
  // Cases: member states and operational partners; never observers.
  kOpenCase,
  kAddParticipant,
  kRemoveParticipant,
  kAttachMessage,
  kGetCase,
  kListCases,
  kCloseCase,
  // Admin: HQ admins only; never message contents.
  kRegisterParty,
  kSetPartyTier,
  kSetCeiling,
  kSetAgreement,
  kSuspendParty,
  kReinstateParty,
  kListParties,
  kGetParty,
  kRevokeCertificate,
  kListRevocations,
  // Audit: every registered, active party; HQ auditors see the whole log,
  // others their own party's entries (the scope is the audit service's).
  kGetCheckpoint,
  kListAuditEntries,
  kGetInclusionProof,
  kGetConsistencyProof,
  kExportAudit,
  kListAccesses,
};

inline constexpr Action kAllActions[] = {
    Action::kWhoAmI,
    Action::kSendMessage,
    Action::kGetMessage,
    Action::kListInbox,
    Action::kListOutbox,
    Action::kReply,
    Action::kAcknowledgeRequest,
    Action::kRefuseRequest,
    Action::kListRequests,
    Action::kSetHandling,
    Action::kForward,
    Action::kRequestConsent,
    Action::kDecideConsent,
    Action::kListConsents,
    Action::kSubscribe,
    Action::kUploadAttachment,
    Action::kDownloadAttachment,
    Action::kGetStatistics,
    Action::kOpenCase,
    Action::kAddParticipant,
    Action::kRemoveParticipant,
    Action::kAttachMessage,
    Action::kGetCase,
    Action::kListCases,
    Action::kCloseCase,
    Action::kRegisterParty,
    Action::kSetPartyTier,
    Action::kSetCeiling,
    Action::kSetAgreement,
    Action::kSuspendParty,
    Action::kReinstateParty,
    Action::kListParties,
    Action::kGetParty,
    Action::kRevokeCertificate,
    Action::kListRevocations,
    Action::kGetCheckpoint,
    Action::kListAuditEntries,
    Action::kGetInclusionProof,
    Action::kGetConsistencyProof,
    Action::kExportAudit,
    Action::kListAccesses,
};

// "SERVICE.RPC" as in the audit log and the proto: "Exchange.SendMessage",
// "Admin.SuspendParty".
absl::string_view ActionName(Action action);

// True for the Admin service's actions.
bool IsAdminAction(Action action);
// True for the Cases service's actions.
bool IsCaseAction(Action action);

// True for the Audit service's actions.
bool IsAuditAction(Action action);

// Whether `who` may see every entry of the audit log (HQ auditors), rather
// than its own party's. Judged after Decide allowed the call.
bool SeesWholeAuditLog(const Identity& who);

// What the policy needs to know of a message.
struct MessageFacts {
  std::string sender_party;
  std::vector<std::string> recipient_parties;
  Classification classification = Classification::kUnclassified;
  bool contains_personal_data = false;
  // Parties that take part in a case the message is attached to.
  std::vector<std::string> case_parties;
};

struct PolicyInput {
  Identity principal;
  // The caller's party as registered now; nullptr if not registered.
  const Party* party = nullptr;
  // Set if HQ revoked the caller's certificate or identity.
  const Revocation* revocation = nullptr;
  Action action = Action::kWhoAmI;
  // kSendMessage, kReply: the message being sent. kGetMessage: the message
  // being read. kReply also reads `request`. Left null, only the principal
  // and its party are judged (the first check of every call).
  const MessageFacts* message = nullptr;
  // kReply: the request being answered; kForward: the message passed on.
  const MessageFacts* request = nullptr;
  // kSendMessage and kReply: the recipient being judged (one call per
  // recipient); nullptr to judge only the sender's side.
  const Party* recipient = nullptr;
};

struct Decision {
  // OK to allow; otherwise PERMISSION_DENIED, or NOT_FOUND when the caller's
  // party may not learn that the message exists.
  absl::StatusCode code = absl::StatusCode::kOk;
  // Why, in words an officer understands ("RS is an observer and may not
  // receive personal data"). Empty when allowed.
  std::string reason;

  bool allowed() const { return code == absl::StatusCode::kOk; }
  static Decision Allow() { return {}; }
};

Decision Decide(const PolicyInput& input);

// Whether `party`, under its current status, may hold (send, receive or read)
// content with these properties; the reason names the party and the rule.
Decision MayHold(const Party& party, Classification classification,
                 bool contains_personal_data, absl::string_view as_what);

}  // namespace liaison

#endif  // LIAISON_DOMAIN_POLICY_H_

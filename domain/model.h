// The domain's vocabulary: parties, messages and audit entries (design §1, §3,
// §6). Plain values, no behaviour beyond naming; no gRPC or proto types.
#ifndef LIAISON_DOMAIN_MODEL_H_
#define LIAISON_DOMAIN_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/identity.h"

namespace liaison {

enum class PartyTier { kMemberState, kOperationalPartner, kObserver };
enum class PartyState { kActive, kSuspended };
// Ordered: a larger value is more sensitive.
enum class Classification {
  kUnclassified = 1,
  kRestricted = 2,
  kConfidential = 3,
  kSecret = 4,
};
enum class MessageKind { kRequest, kReply, kSpontaneous, kWarning, kFeedback };
enum class Priority { kRoutine, kUrgent };
enum class HandlingCode { kH0, kH1, kH2, kH3 };
enum class SourceReliability { kA, kB, kC, kX };
enum class InformationAssessment { k1, k2, k3, k4 };
enum class RequestState { kOpen, kAcknowledged, kAnswered, kRefused };
// Documented grounds on which a recipient refuses a request (after the
// grounds of Directive (EU) 2023/977, Art. 6).
enum class RefusalReason {
  kNotCompetent,           // Not the competent authority; none known.
  kInsufficientDetail,     // The request does not say enough to act on.
  kNationalLaw,            // National law forbids providing it.
  kJudicialAuthorisation,  // Needs a judicial authorisation not obtained.
  kOngoingInvestigation,   // Would jeopardise an investigation or safety.
  kDisproportionate,       // Clearly disproportionate or irrelevant.
  kNotAvailable,           // The information is not available.
  kOther,                  // Explained in the free text.
};

// Stable upper-case names ("MEMBER_STATE", "SECRET", "H2", "OPEN", ...), used
// in storage, audit reasons and the CLI. Parse* accept exactly these names.
absl::string_view Name(PartyTier value);
absl::string_view Name(PartyState value);
absl::string_view Name(Classification value);
absl::string_view Name(MessageKind value);
absl::string_view Name(Priority value);
absl::string_view Name(HandlingCode value);
absl::string_view Name(SourceReliability value);
absl::string_view Name(InformationAssessment value);
absl::string_view Name(RequestState value);
absl::string_view Name(RefusalReason value);
std::optional<PartyTier> ParsePartyTier(absl::string_view name);
std::optional<PartyState> ParsePartyState(absl::string_view name);
std::optional<Classification> ParseClassification(absl::string_view name);
std::optional<MessageKind> ParseMessageKind(absl::string_view name);
std::optional<Priority> ParsePriority(absl::string_view name);
std::optional<HandlingCode> ParseHandlingCode(absl::string_view name);
std::optional<SourceReliability> ParseSourceReliability(absl::string_view name);
std::optional<InformationAssessment> ParseInformationAssessment(
    absl::string_view name);
std::optional<RequestState> ParseRequestState(absl::string_view name);
std::optional<RefusalReason> ParseRefusalReason(absl::string_view name);

struct Party {
  std::string code;  // "RO", "HQ", ...
  std::string name;
  PartyTier tier = PartyTier::kObserver;
  PartyState state = PartyState::kActive;
  // Highest classification the party may hold.
  Classification ceiling = Classification::kUnclassified;
  // Meaningful for operational partners: personal data flows only while the
  // cooperation agreement is in force.
  bool agreement_in_force = false;

  bool operator==(const Party& other) const;
};

enum class CaseState { kOpen, kClosed };
absl::string_view Name(CaseState value);
std::optional<CaseState> ParseCaseState(absl::string_view name);

// A joint investigation or regional operation: an owner party, participant
// parties and a thread of messages their owners attached to it.
struct Case {
  std::string id;  // Same form as message ids.
  int64_t seq = 0;
  std::string title;
  std::string owner_party;
  // Current participants besides the owner, in the order added.
  std::vector<std::string> participants;
  CaseState state = CaseState::kOpen;
  absl::Time opened_at;
  std::optional<absl::Time> closed_at;
  std::vector<std::string> message_ids;  // Attached, oldest first.

  // The owner or a current participant.
  bool Includes(absl::string_view party) const;
  bool operator==(const Case& other) const;
};

enum class ConsentState { kPending, kGranted, kRefused };
absl::string_view Name(ConsentState value);
std::optional<ConsentState> ParseConsentState(absl::string_view name);

// A request to the owner of H2 information for consent to pass it on to a
// party that does not hold it, and the owner's decision.
struct Consent {
  std::string id;
  std::string origin_id;  // The original message.
  std::string owner_party;
  std::string requester_party;
  std::string target_party;
  std::string justification;
  ConsentState state = ConsentState::kPending;
  absl::Time requested_at;
  std::string requested_by;  // URI SAN
  std::optional<absl::Time> decided_at;
  std::string decided_by;
  std::string decision_reason;

  bool operator==(const Consent& other) const;
};

// A file attached to a message by its owner. The bytes live apart from the
// message rows, in chunks.
struct AttachmentInfo {
  std::string id;
  std::string message_id;
  std::string file_name;
  int64_t size = 0;
  std::string sha256_hex;  // lower-case
  absl::Time uploaded_at;
  std::string uploaded_by;  // URI SAN

  bool operator==(const AttachmentInfo& other) const {
    return id == other.id && message_id == other.message_id &&
           file_name == other.file_name && size == other.size &&
           sha256_hex == other.sha256_hex && uploaded_at == other.uploaded_at &&
           uploaded_by == other.uploaded_by;
  }
};

// Something that happened for a party, in order (live delivery). `seq` is
// the cursor a subscriber resumes from.
struct Event {
  int64_t seq = 0;
  std::string party;       // Who is told.
  std::string kind;        // MESSAGE, REQUEST_STATE, RECEIPT
  std::string message_id;  // The message concerned.
  std::string detail;      // e.g. "REQUEST from RO", "HU ACKNOWLEDGED"
  absl::Time time;
};

// One entry of a party's status history.
struct PartyChange {
  std::string code;
  absl::Time time;
  std::string changed_by;  // The admin's URI SAN, or "liaisond".
  // REGISTERED, TIER, CEILING, AGREEMENT, SUSPENDED or REINSTATED.
  std::string change;
  std::string from;
  std::string to;
  std::string reason;

  bool operator==(const PartyChange& other) const;
};

// A certificate (by serial) or an identity (by PARTY/role/user) refused by
// HQ. Exactly one of `serial` and `user` is set.
struct Revocation {
  std::string serial;
  std::string user;
  std::string reason;
  absl::Time revoked_at;
  std::string revoked_by;

  bool operator==(const Revocation& other) const;
};

// "OPERATIONAL_PARTNER, ceiling CONFIDENTIAL, agreement in force, ACTIVE".
std::string DescribeStatus(const Party& party);

// The rules every party record keeps, whoever writes it: an observer's
// ceiling is UNCLASSIFIED and only operational partners have an agreement.
// INVALID_ARGUMENT naming the rule.
absl::Status CheckTierRules(const Party& party);

struct Evaluation {
  SourceReliability source = SourceReliability::kX;
  InformationAssessment information = InformationAssessment::k4;

  bool operator==(const Evaluation& other) const {
    return source == other.source && information == other.information;
  }
};

// One recipient party of a message and, for requests, where it stands.
struct Recipient {
  std::string party;
  // Set for REQUEST messages only.
  std::optional<RequestState> request_state;
  // Set once answered.
  std::optional<absl::Time> answered_at;
  std::string reply_id;
  // REQUEST only: when the answer is due (from receipt: 8 hours for urgent,
  // 7 days for routine requests by default).
  std::optional<absl::Time> due_at;
  std::optional<absl::Time> acknowledged_at;
  std::optional<absl::Time> refused_at;
  std::optional<RefusalReason> refusal_reason;
  std::string refusal_text;
  // Delivery receipts: first listed in the party's inbox, first opened.
  std::optional<absl::Time> delivered_at;
  std::optional<absl::Time> read_at;

  // OPEN or ACKNOWLEDGED past its due time.
  bool IsOverdue(absl::Time now) const;

  bool operator==(const Recipient& other) const;
};

struct Message {
  std::string id;  // Server-assigned; see domain/message_id.h.
  // Position in the store's insertion order; assigned by the store, used for
  // paging. 0 before insertion.
  int64_t seq = 0;
  std::string idempotency_key;
  // SHA-256 of the content fields (see ContentDigest), to tell a retry from a
  // reuse of the key.
  std::string content_digest;
  std::string sender_party;
  std::string sender_user;
  Role sender_role = Role::kLiaisonOfficer;
  std::vector<Recipient> recipients;
  MessageKind kind = MessageKind::kSpontaneous;
  std::string in_reply_to;
  std::string subject;
  std::string body;
  Priority priority = Priority::kRoutine;
  std::string urgency_justification;
  Classification classification = Classification::kUnclassified;
  bool contains_personal_data = false;
  HandlingCode handling_code = HandlingCode::kH0;
  std::string handling_restriction;  // H3 only.
  std::optional<Evaluation> evaluation;
  absl::Time created_at;
  // Onward transmission. For an original message all three are empty: its
  // sender owns it. A forwarded copy names the original (root) message, its
  // owner (the original sender, who alone sets the handling code of every
  // copy) and the message it was forwarded from (the chain's last link).
  std::string origin_id;
  std::string owner_party;
  std::string forwarded_from;

  // The party that owns the information: the original sender.
  const std::string& Owner() const {
    return owner_party.empty() ? sender_party : owner_party;
  }
  // The id of the original message.
  const std::string& Origin() const {
    return origin_id.empty() ? id : origin_id;
  }

  bool operator==(const Message& other) const;
  // The recipient entry for `party`, or nullptr.
  const Recipient* FindRecipient(absl::string_view party) const;
};

// SHA-256 over a deterministic encoding of everything the sender chose:
// recipients (in order), kind, in-reply-to, subject, body, priority,
// justification, classification, personal-data flag, handling, evaluation.
std::string ContentDigest(const Message& message);

enum class AuditOutcome {
  kAllowed,   // The call did what was asked.
  kDenied,    // Policy refused it.
  kRejected,  // Malformed, unknown target, or wrong state.
  kFailed,    // The server could not complete it.
};
absl::string_view Name(AuditOutcome value);
std::optional<AuditOutcome> ParseAuditOutcome(absl::string_view name);

// One audit log entry (design §6). Never holds message bodies or subjects.
struct AuditEntry {
  int64_t seq = 0;  // 1-based position in the log; assigned by the store.
  absl::Time time;
  // The caller's URI SAN; empty if the certificate carried no usable identity.
  std::string principal;
  std::string party;
  std::string role;
  std::string user_id;
  std::string action;                  // RPC name, e.g. "Exchange.SendMessage".
  std::vector<std::string> resources;  // Ids the call touched.
  AuditOutcome outcome = AuditOutcome::kAllowed;
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string reason;

  bool operator==(const AuditEntry& other) const;
};

// The deterministic leaf encoding of an entry (docs/audit-log-format.md,
// version 1). `seq` is not part of it: a leaf's position is its index.
std::string EncodeAuditLeaf(const AuditEntry& entry);

// A signed statement of the audit tree's size and root (design §6): a C2SP
// tlog-checkpoint in a signed note.
struct AuditCheckpoint {
  int64_t tree_size = 0;
  std::string root_hash;  // 32 raw bytes.
  std::string note;       // The signed note, as served and exported.
  absl::Time signed_at;

  bool operator==(const AuditCheckpoint& other) const {
    return tree_size == other.tree_size && root_hash == other.root_hash &&
           note == other.note && signed_at == other.signed_at;
  }
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_MODEL_H_

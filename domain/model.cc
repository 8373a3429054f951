#include "domain/model.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/encoding.h"
#include "common/sha256.h"

namespace liaison {
namespace {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, absl::string_view>, N>;

template <typename E, size_t N>
absl::string_view NameIn(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "UNKNOWN";
}

template <typename E, size_t N>
std::optional<E> ParseIn(const NameTable<E, N>& table, absl::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

constexpr NameTable<PartyTier, 3> kTiers = {{
    {PartyTier::kMemberState, "MEMBER_STATE"},
    {PartyTier::kOperationalPartner, "OPERATIONAL_PARTNER"},
    {PartyTier::kObserver, "OBSERVER"},
}};
constexpr NameTable<PartyState, 2> kStates = {{
    {PartyState::kActive, "ACTIVE"},
    {PartyState::kSuspended, "SUSPENDED"},
}};
constexpr NameTable<Classification, 4> kClassifications = {{
    {Classification::kUnclassified, "UNCLASSIFIED"},
    {Classification::kRestricted, "RESTRICTED"},
    {Classification::kConfidential, "CONFIDENTIAL"},
    {Classification::kSecret, "SECRET"},
}};
constexpr NameTable<MessageKind, 5> kKinds = {{
    {MessageKind::kRequest, "REQUEST"},
    {MessageKind::kReply, "REPLY"},
    {MessageKind::kSpontaneous, "SPONTANEOUS"},
    {MessageKind::kWarning, "WARNING"},
    {MessageKind::kFeedback, "FEEDBACK"},
}};
constexpr NameTable<Priority, 2> kPriorities = {{
    {Priority::kRoutine, "ROUTINE"},
    {Priority::kUrgent, "URGENT"},
}};
constexpr NameTable<HandlingCode, 4> kHandlingCodes = {{
    {HandlingCode::kH0, "H0"},
    {HandlingCode::kH1, "H1"},
    {HandlingCode::kH2, "H2"},
    {HandlingCode::kH3, "H3"},
}};
constexpr NameTable<SourceReliability, 4> kSources = {{
    {SourceReliability::kA, "A"},
    {SourceReliability::kB, "B"},
    {SourceReliability::kC, "C"},
    {SourceReliability::kX, "X"},
}};
constexpr NameTable<InformationAssessment, 4> kInformation = {{
    {InformationAssessment::k1, "1"},
    {InformationAssessment::k2, "2"},
    {InformationAssessment::k3, "3"},
    {InformationAssessment::k4, "4"},
}};
constexpr NameTable<RequestState, 4> kRequestStates = {{
    {RequestState::kOpen, "OPEN"},
    {RequestState::kAcknowledged, "ACKNOWLEDGED"},
    {RequestState::kAnswered, "ANSWERED"},
    {RequestState::kRefused, "REFUSED"},
}};
constexpr NameTable<RefusalReason, 8> kRefusalReasons = {{
    {RefusalReason::kNotCompetent, "NOT_COMPETENT"},
    {RefusalReason::kInsufficientDetail, "INSUFFICIENT_DETAIL"},
    {RefusalReason::kNationalLaw, "NATIONAL_LAW"},
    {RefusalReason::kJudicialAuthorisation, "JUDICIAL_AUTHORISATION"},
    {RefusalReason::kOngoingInvestigation, "ONGOING_INVESTIGATION"},
    {RefusalReason::kDisproportionate, "DISPROPORTIONATE"},
    {RefusalReason::kNotAvailable, "NOT_AVAILABLE"},
    {RefusalReason::kOther, "OTHER"},
}};
constexpr NameTable<AuditOutcome, 4> kOutcomes = {{
    {AuditOutcome::kAllowed, "ALLOWED"},
    {AuditOutcome::kDenied, "DENIED"},
    {AuditOutcome::kRejected, "REJECTED"},
    {AuditOutcome::kFailed, "FAILED"},
}};

// Version byte of the content-digest encoding; bump on any change.
constexpr uint8_t kContentDigestVersion = 1;
// Version byte of the audit leaf encoding (docs/audit-log-format.md).
constexpr uint8_t kAuditLeafVersion = 1;

}  // namespace

absl::string_view Name(PartyTier v) { return NameIn(kTiers, v); }
absl::string_view Name(PartyState v) { return NameIn(kStates, v); }
absl::string_view Name(Classification v) { return NameIn(kClassifications, v); }
absl::string_view Name(MessageKind v) { return NameIn(kKinds, v); }
absl::string_view Name(Priority v) { return NameIn(kPriorities, v); }
absl::string_view Name(HandlingCode v) { return NameIn(kHandlingCodes, v); }
absl::string_view Name(SourceReliability v) { return NameIn(kSources, v); }
absl::string_view Name(InformationAssessment v) {
  return NameIn(kInformation, v);
}
absl::string_view Name(RequestState v) { return NameIn(kRequestStates, v); }
absl::string_view Name(RefusalReason v) { return NameIn(kRefusalReasons, v); }
absl::string_view Name(AuditOutcome v) { return NameIn(kOutcomes, v); }

std::optional<PartyTier> ParsePartyTier(absl::string_view n) {
  return ParseIn(kTiers, n);
}
std::optional<PartyState> ParsePartyState(absl::string_view n) {
  return ParseIn(kStates, n);
}
std::optional<Classification> ParseClassification(absl::string_view n) {
  return ParseIn(kClassifications, n);
}
std::optional<MessageKind> ParseMessageKind(absl::string_view n) {
  return ParseIn(kKinds, n);
}
std::optional<Priority> ParsePriority(absl::string_view n) {
  return ParseIn(kPriorities, n);
}
std::optional<HandlingCode> ParseHandlingCode(absl::string_view n) {
  return ParseIn(kHandlingCodes, n);
}
std::optional<SourceReliability> ParseSourceReliability(absl::string_view n) {
  return ParseIn(kSources, n);
}
std::optional<InformationAssessment> ParseInformationAssessment(
    absl::string_view n) {
  return ParseIn(kInformation, n);
}
std::optional<RequestState> ParseRequestState(absl::string_view n) {
  return ParseIn(kRequestStates, n);
}
std::optional<RefusalReason> ParseRefusalReason(absl::string_view n) {
  return ParseIn(kRefusalReasons, n);
}
std::optional<AuditOutcome> ParseAuditOutcome(absl::string_view n) {
  return ParseIn(kOutcomes, n);
}

bool Party::operator==(const Party& o) const {
  return code == o.code && name == o.name && tier == o.tier &&
         state == o.state && ceiling == o.ceiling &&
         agreement_in_force == o.agreement_in_force;
}

std::string DescribeStatus(const Party& p) {
  std::string out = absl::StrCat(Name(p.tier), ", ceiling ", Name(p.ceiling));
  if (p.tier == PartyTier::kOperationalPartner) {
    absl::StrAppend(&out, ", agreement ",
                    p.agreement_in_force ? "in force" : "lapsed");
  }
  absl::StrAppend(&out, ", ", Name(p.state));
  return out;
}

absl::Status CheckTierRules(const Party& p) {
  if (p.tier == PartyTier::kObserver &&
      p.ceiling != Classification::kUnclassified) {
    return absl::InvalidArgumentError(absl::StrCat(
        p.code,
        ": the classification ceiling of an observer must be UNCLASSIFIED"));
  }
  if (p.agreement_in_force && p.tier != PartyTier::kOperationalPartner) {
    return absl::InvalidArgumentError(absl::StrCat(
        p.code,
        ": a cooperation agreement applies to operational partners only"));
  }
  return absl::OkStatus();
}

absl::string_view Name(CaseState v) {
  return v == CaseState::kOpen ? "OPEN" : "CLOSED";
}

std::optional<CaseState> ParseCaseState(absl::string_view n) {
  if (n == "OPEN") return CaseState::kOpen;
  if (n == "CLOSED") return CaseState::kClosed;
  return std::nullopt;
}

bool Case::Includes(absl::string_view party) const {
  return owner_party == party ||
         std::find(participants.begin(), participants.end(), party) !=
             participants.end();
}

bool Case::operator==(const Case& o) const {
  return id == o.id && seq == o.seq && title == o.title &&
         owner_party == o.owner_party && participants == o.participants &&
         state == o.state && opened_at == o.opened_at &&
         closed_at == o.closed_at && message_ids == o.message_ids;
}

absl::string_view Name(ConsentState v) {
  switch (v) {
    case ConsentState::kPending:
      return "PENDING";
    case ConsentState::kGranted:
      return "GRANTED";
    case ConsentState::kRefused:
      return "REFUSED";
  }
  return "UNKNOWN";
}

std::optional<ConsentState> ParseConsentState(absl::string_view n) {
  for (ConsentState s : {ConsentState::kPending, ConsentState::kGranted,
                         ConsentState::kRefused}) {
    if (Name(s) == n) return s;
  }
  return std::nullopt;
}

bool Consent::operator==(const Consent& o) const {
  return id == o.id && origin_id == o.origin_id &&
         owner_party == o.owner_party && requester_party == o.requester_party &&
         target_party == o.target_party && justification == o.justification &&
         state == o.state && requested_at == o.requested_at &&
         requested_by == o.requested_by && decided_at == o.decided_at &&
         decided_by == o.decided_by && decision_reason == o.decision_reason;
}

bool PartyChange::operator==(const PartyChange& o) const {
  return code == o.code && time == o.time && changed_by == o.changed_by &&
         change == o.change && from == o.from && to == o.to &&
         reason == o.reason;
}

bool Revocation::operator==(const Revocation& o) const {
  return serial == o.serial && user == o.user && reason == o.reason &&
         revoked_at == o.revoked_at && revoked_by == o.revoked_by;
}

bool Recipient::operator==(const Recipient& o) const {
  return party == o.party && request_state == o.request_state &&
         answered_at == o.answered_at && reply_id == o.reply_id &&
         due_at == o.due_at && acknowledged_at == o.acknowledged_at &&
         refused_at == o.refused_at && refusal_reason == o.refusal_reason &&
         refusal_text == o.refusal_text && delivered_at == o.delivered_at &&
         read_at == o.read_at;
}

bool Recipient::IsOverdue(absl::Time now) const {
  return (request_state == RequestState::kOpen ||
          request_state == RequestState::kAcknowledged) &&
         due_at.has_value() && now > *due_at;
}

bool Message::operator==(const Message& o) const {
  return id == o.id && seq == o.seq && idempotency_key == o.idempotency_key &&
         content_digest == o.content_digest && sender_party == o.sender_party &&
         sender_user == o.sender_user && sender_role == o.sender_role &&
         recipients == o.recipients && kind == o.kind &&
         in_reply_to == o.in_reply_to && subject == o.subject &&
         body == o.body && priority == o.priority &&
         urgency_justification == o.urgency_justification &&
         classification == o.classification &&
         contains_personal_data == o.contains_personal_data &&
         handling_code == o.handling_code &&
         handling_restriction == o.handling_restriction &&
         evaluation == o.evaluation && created_at == o.created_at &&
         origin_id == o.origin_id && owner_party == o.owner_party &&
         forwarded_from == o.forwarded_from;
}

const Recipient* Message::FindRecipient(absl::string_view party) const {
  for (const Recipient& r : recipients) {
    if (r.party == party) return &r;
  }
  return nullptr;
}

std::string ContentDigest(const Message& m) {
  RecordWriter w;
  w.U8(kContentDigestVersion);
  w.U32(static_cast<uint32_t>(m.recipients.size()));
  for (const Recipient& r : m.recipients) w.Bytes(r.party);
  w.Bytes(Name(m.kind))
      .Bytes(m.in_reply_to)
      .Bytes(m.subject)
      .Bytes(m.body)
      .Bytes(Name(m.priority))
      .Bytes(m.urgency_justification)
      .Bytes(Name(m.classification))
      .Bool(m.contains_personal_data)
      .Bytes(Name(m.handling_code))
      .Bytes(m.handling_restriction)
      .Bool(m.evaluation.has_value());
  if (m.evaluation.has_value()) {
    w.Bytes(Name(m.evaluation->source)).Bytes(Name(m.evaluation->information));
  }
  // Forwarded copies also differ by what they were forwarded from (appended
  // only for them, so digests of other messages are unchanged).
  if (!m.forwarded_from.empty()) w.Bytes(m.forwarded_from);
  return Sha256(w.data());
}

bool AuditEntry::operator==(const AuditEntry& o) const {
  return seq == o.seq && time == o.time && principal == o.principal &&
         party == o.party && role == o.role && user_id == o.user_id &&
         action == o.action && resources == o.resources &&
         outcome == o.outcome && code == o.code && reason == o.reason;
}

std::string EncodeAuditLeaf(const AuditEntry& e) {
  RecordWriter w;
  w.U8(kAuditLeafVersion)
      .I64(absl::ToUnixMicros(e.time))
      .Bytes(e.principal)
      .Bytes(e.party)
      .Bytes(e.role)
      .Bytes(e.user_id)
      .Bytes(e.action)
      .U32(static_cast<uint32_t>(e.resources.size()));
  for (const std::string& resource : e.resources) w.Bytes(resource);
  w.Bytes(Name(e.outcome)).U32(static_cast<uint32_t>(e.code)).Bytes(e.reason);
  return w.Release();
}

}  // namespace liaison

#include "server/convert.h"

namespace liaison::server {
namespace {

std::optional<MessageKind> FromProto(v1::MessageKind kind) {
  switch (kind) {
    case v1::MESSAGE_KIND_REQUEST:
      return MessageKind::kRequest;
    case v1::MESSAGE_KIND_REPLY:
      return MessageKind::kReply;
    case v1::MESSAGE_KIND_SPONTANEOUS:
      return MessageKind::kSpontaneous;
    case v1::MESSAGE_KIND_WARNING:
      return MessageKind::kWarning;
    case v1::MESSAGE_KIND_FEEDBACK:
      return MessageKind::kFeedback;
    default:
      return std::nullopt;
  }
}

std::optional<PartyTier> FromProto(v1::PartyTier tier) {
  switch (tier) {
    case v1::PARTY_TIER_MEMBER_STATE:
      return PartyTier::kMemberState;
    case v1::PARTY_TIER_OPERATIONAL_PARTNER:
      return PartyTier::kOperationalPartner;
    case v1::PARTY_TIER_OBSERVER:
      return PartyTier::kObserver;
    default:
      return std::nullopt;
  }
}

std::optional<Priority> FromProto(v1::Priority priority) {
  switch (priority) {
    case v1::PRIORITY_ROUTINE:
      return Priority::kRoutine;
    case v1::PRIORITY_URGENT:
      return Priority::kUrgent;
    default:
      return std::nullopt;
  }
}

std::optional<Classification> FromProto(v1::Classification c) {
  switch (c) {
    case v1::CLASSIFICATION_UNCLASSIFIED:
      return Classification::kUnclassified;
    case v1::CLASSIFICATION_RESTRICTED:
      return Classification::kRestricted;
    case v1::CLASSIFICATION_CONFIDENTIAL:
      return Classification::kConfidential;
    case v1::CLASSIFICATION_SECRET:
      return Classification::kSecret;
    default:
      return std::nullopt;
  }
}

std::optional<HandlingCode> FromProto(v1::HandlingCode code) {
  switch (code) {
    case v1::HANDLING_CODE_H0:
      return HandlingCode::kH0;
    case v1::HANDLING_CODE_H1:
      return HandlingCode::kH1;
    case v1::HANDLING_CODE_H2:
      return HandlingCode::kH2;
    case v1::HANDLING_CODE_H3:
      return HandlingCode::kH3;
    default:
      return std::nullopt;
  }
}

std::optional<SourceReliability> FromProto(v1::SourceReliability s) {
  switch (s) {
    case v1::SOURCE_RELIABILITY_A:
      return SourceReliability::kA;
    case v1::SOURCE_RELIABILITY_B:
      return SourceReliability::kB;
    case v1::SOURCE_RELIABILITY_C:
      return SourceReliability::kC;
    case v1::SOURCE_RELIABILITY_X:
      return SourceReliability::kX;
    default:
      return std::nullopt;
  }
}

std::optional<InformationAssessment> FromProto(v1::InformationAssessment i) {
  switch (i) {
    case v1::INFORMATION_ASSESSMENT_1:
      return InformationAssessment::k1;
    case v1::INFORMATION_ASSESSMENT_2:
      return InformationAssessment::k2;
    case v1::INFORMATION_ASSESSMENT_3:
      return InformationAssessment::k3;
    case v1::INFORMATION_ASSESSMENT_4:
      return InformationAssessment::k4;
    default:
      return std::nullopt;
  }
}

v1::MessageKind ToProto(MessageKind kind) {
  switch (kind) {
    case MessageKind::kRequest:
      return v1::MESSAGE_KIND_REQUEST;
    case MessageKind::kReply:
      return v1::MESSAGE_KIND_REPLY;
    case MessageKind::kSpontaneous:
      return v1::MESSAGE_KIND_SPONTANEOUS;
    case MessageKind::kWarning:
      return v1::MESSAGE_KIND_WARNING;
    case MessageKind::kFeedback:
      return v1::MESSAGE_KIND_FEEDBACK;
  }
  return v1::MESSAGE_KIND_UNSPECIFIED;
}

v1::Priority ToProto(Priority priority) {
  return priority == Priority::kUrgent ? v1::PRIORITY_URGENT
                                       : v1::PRIORITY_ROUTINE;
}

v1::HandlingCode ToProto(HandlingCode code) {
  switch (code) {
    case HandlingCode::kH0:
      return v1::HANDLING_CODE_H0;
    case HandlingCode::kH1:
      return v1::HANDLING_CODE_H1;
    case HandlingCode::kH2:
      return v1::HANDLING_CODE_H2;
    case HandlingCode::kH3:
      return v1::HANDLING_CODE_H3;
  }
  return v1::HANDLING_CODE_UNSPECIFIED;
}

v1::SourceReliability ToProto(SourceReliability s) {
  switch (s) {
    case SourceReliability::kA:
      return v1::SOURCE_RELIABILITY_A;
    case SourceReliability::kB:
      return v1::SOURCE_RELIABILITY_B;
    case SourceReliability::kC:
      return v1::SOURCE_RELIABILITY_C;
    case SourceReliability::kX:
      return v1::SOURCE_RELIABILITY_X;
  }
  return v1::SOURCE_RELIABILITY_UNSPECIFIED;
}

v1::InformationAssessment ToProto(InformationAssessment i) {
  switch (i) {
    case InformationAssessment::k1:
      return v1::INFORMATION_ASSESSMENT_1;
    case InformationAssessment::k2:
      return v1::INFORMATION_ASSESSMENT_2;
    case InformationAssessment::k3:
      return v1::INFORMATION_ASSESSMENT_3;
    case InformationAssessment::k4:
      return v1::INFORMATION_ASSESSMENT_4;
  }
  return v1::INFORMATION_ASSESSMENT_UNSPECIFIED;
}

v1::RequestState ToProto(RequestState state) {
  switch (state) {
    case RequestState::kOpen:
      return v1::REQUEST_STATE_OPEN;
    case RequestState::kAcknowledged:
      return v1::REQUEST_STATE_ACKNOWLEDGED;
    case RequestState::kAnswered:
      return v1::REQUEST_STATE_ANSWERED;
    case RequestState::kRefused:
      return v1::REQUEST_STATE_REFUSED;
  }
  return v1::REQUEST_STATE_UNSPECIFIED;
}

std::optional<RequestState> FromProto(v1::RequestState state) {
  switch (state) {
    case v1::REQUEST_STATE_OPEN:
      return RequestState::kOpen;
    case v1::REQUEST_STATE_ACKNOWLEDGED:
      return RequestState::kAcknowledged;
    case v1::REQUEST_STATE_ANSWERED:
      return RequestState::kAnswered;
    case v1::REQUEST_STATE_REFUSED:
      return RequestState::kRefused;
    default:
      return std::nullopt;
  }
}

// The proto numbers of RefusalReason follow the domain's order from 1.
v1::RefusalReason ToProto(RefusalReason reason) {
  return static_cast<v1::RefusalReason>(static_cast<int>(reason) + 1);
}

std::optional<RefusalReason> FromProto(v1::RefusalReason reason) {
  const int number = static_cast<int>(reason);
  if (number < 1 || number > static_cast<int>(RefusalReason::kOther) + 1) {
    return std::nullopt;
  }
  return static_cast<RefusalReason>(number - 1);
}

v1::PartyTier ToProto(PartyTier tier) {
  switch (tier) {
    case PartyTier::kMemberState:
      return v1::PARTY_TIER_MEMBER_STATE;
    case PartyTier::kOperationalPartner:
      return v1::PARTY_TIER_OPERATIONAL_PARTNER;
    case PartyTier::kObserver:
      return v1::PARTY_TIER_OBSERVER;
  }
  return v1::PARTY_TIER_UNSPECIFIED;
}

v1::PartyState ToProto(PartyState state) {
  return state == PartyState::kSuspended ? v1::PARTY_STATE_SUSPENDED
                                         : v1::PARTY_STATE_ACTIVE;
}

template <typename E, typename ProtoEnum>
Choice<E> KnownOrRaw(ProtoEnum value) {
  return {FromProto(value), static_cast<int>(value)};
}

ContentFields ToContent(const std::string& idempotency_key,
                        const std::string& subject, const std::string& body,
                        v1::Classification classification, bool personal,
                        const v1::Handling& handling, bool has_evaluation,
                        const v1::Evaluation& evaluation) {
  ContentFields c;
  c.idempotency_key = idempotency_key;
  c.subject = subject;
  c.body = body;
  c.classification = KnownOrRaw<Classification>(classification);
  c.contains_personal_data = personal;
  c.handling_code = KnownOrRaw<HandlingCode>(handling.code());
  c.handling_restriction = handling.restriction();
  c.has_evaluation = has_evaluation;
  c.source_reliability =
      KnownOrRaw<SourceReliability>(evaluation.source_reliability());
  c.information = KnownOrRaw<InformationAssessment>(evaluation.information());
  return c;
}

void ToProto(const std::optional<absl::Time>& time,
             google::protobuf::Timestamp* out) {
  if (time.has_value()) server::ToProto(*time, out);
}

void ToProto(const Recipient& r, absl::Time as_of, v1::Recipient* out) {
  out->set_party(r.party);
  if (r.request_state.has_value()) {
    out->set_request_state(ToProto(*r.request_state));
  }
  if (r.answered_at.has_value()) {
    ToProto(r.answered_at, out->mutable_answered_at());
  }
  out->set_reply_id(r.reply_id);
  if (r.due_at.has_value()) ToProto(r.due_at, out->mutable_due_at());
  if (r.acknowledged_at.has_value()) {
    ToProto(r.acknowledged_at, out->mutable_acknowledged_at());
  }
  if (r.refused_at.has_value()) {
    ToProto(r.refused_at, out->mutable_refused_at());
  }
  if (r.refusal_reason.has_value()) {
    out->set_refusal_reason(ToProto(*r.refusal_reason));
  }
  out->set_refusal_text(r.refusal_text);
  if (r.delivered_at.has_value()) {
    ToProto(r.delivered_at, out->mutable_delivered_at());
  }
  if (r.read_at.has_value()) ToProto(r.read_at, out->mutable_read_at());
  out->set_overdue(r.IsOverdue(as_of));
}

void ToProto(const Message& m, v1::Sender* out) {
  out->set_party(m.sender_party);
  out->set_user_id(m.sender_user);
  out->set_role(server::ToProto(m.sender_role));
}

}  // namespace

SendCommand ToSendCommand(const v1::SendMessageRequest& request) {
  SendCommand command;
  command.content = ToContent(
      request.idempotency_key(), request.subject(), request.body(),
      request.classification(), request.contains_personal_data(),
      request.handling(), request.has_evaluation(), request.evaluation());
  command.recipients.assign(request.recipients().begin(),
                            request.recipients().end());
  command.kind = KnownOrRaw<MessageKind>(request.kind());
  command.priority = KnownOrRaw<Priority>(request.priority());
  command.urgency_justification = request.urgency_justification();
  command.in_reply_to = request.in_reply_to();
  return command;
}

ReplyCommand ToReplyCommand(const v1::ReplyRequest& request) {
  ReplyCommand command;
  command.request_id = request.request_id();
  command.content = ToContent(
      request.idempotency_key(), request.subject(), request.body(),
      request.classification(), request.contains_personal_data(),
      request.handling(), request.has_evaluation(), request.evaluation());
  return command;
}

void ToProto(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(time);
  int64_t seconds = micros / 1000000;
  int64_t rest = micros % 1000000;
  if (rest < 0) {
    rest += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rest * 1000));
}

v1::Role ToProto(Role role) {
  switch (role) {
    case Role::kFocalPoint:
      return v1::ROLE_FOCAL_POINT;
    case Role::kLiaisonOfficer:
      return v1::ROLE_LIAISON_OFFICER;
    case Role::kAdmin:
      return v1::ROLE_ADMIN;
    case Role::kAuditor:
      return v1::ROLE_AUDITOR;
  }
  return v1::ROLE_UNSPECIFIED;
}

v1::Classification ToProto(Classification c) {
  switch (c) {
    case Classification::kUnclassified:
      return v1::CLASSIFICATION_UNCLASSIFIED;
    case Classification::kRestricted:
      return v1::CLASSIFICATION_RESTRICTED;
    case Classification::kConfidential:
      return v1::CLASSIFICATION_CONFIDENTIAL;
    case Classification::kSecret:
      return v1::CLASSIFICATION_SECRET;
  }
  return v1::CLASSIFICATION_UNSPECIFIED;
}

RequestFilter ToRequestFilter(const v1::ListRequestsRequest& r) {
  RequestFilter filter;
  filter.sent = r.sent();
  filter.state = KnownOrRaw<RequestState>(r.state());
  filter.overdue = r.overdue();
  if (r.has_due_within()) {
    filter.due_within = absl::Seconds(r.due_within().seconds()) +
                        absl::Nanoseconds(r.due_within().nanos());
  }
  filter.page = {r.page_size(), r.page_token()};
  filter.case_id = r.case_id();
  return filter;
}

RefuseCommand ToRefuseCommand(const v1::RefuseRequestRequest& r) {
  return {r.request_id(), KnownOrRaw<RefusalReason>(r.reason()), r.text()};
}

Choice<HandlingCode> ToChoice(v1::HandlingCode code) {
  return KnownOrRaw<HandlingCode>(code);
}

void ToProto(const MessageView& view, v1::Message* out) {
  const Message& m = view.message;
  for (const AttachmentInfo& a : view.attachments) {
    ToProto(a, out->add_attachments());
  }
  out->set_id(m.id);
  ToProto(m, out->mutable_sender());
  for (const Recipient& r : m.recipients) {
    ToProto(r, view.as_of, out->add_recipients());
  }
  out->set_kind(ToProto(m.kind));
  out->set_in_reply_to(m.in_reply_to);
  out->set_subject(m.subject);
  out->set_body(m.body);
  out->set_priority(ToProto(m.priority));
  out->set_urgency_justification(m.urgency_justification);
  out->set_classification(ToProto(m.classification));
  out->set_contains_personal_data(m.contains_personal_data);
  out->mutable_handling()->set_code(ToProto(m.handling_code));
  out->mutable_handling()->set_restriction(m.handling_restriction);
  if (m.evaluation.has_value()) {
    out->mutable_evaluation()->set_source_reliability(
        ToProto(m.evaluation->source));
    out->mutable_evaluation()->set_information(
        ToProto(m.evaluation->information));
  }
  ToProto(m.created_at, out->mutable_created_at());
  out->set_origin_id(m.origin_id);
  out->set_owner_party(m.owner_party);
  out->set_forwarded_from(m.forwarded_from);
}

void ToProto(const MessageView& view, v1::MessageSummary* out) {
  const Message& m = view.message;
  out->set_id(m.id);
  ToProto(m, out->mutable_sender());
  for (const Recipient& r : m.recipients) {
    ToProto(r, view.as_of, out->add_recipients());
  }
  out->set_kind(ToProto(m.kind));
  out->set_in_reply_to(m.in_reply_to);
  out->set_subject(m.subject);
  out->set_priority(ToProto(m.priority));
  out->set_classification(ToProto(m.classification));
  out->set_contains_personal_data(m.contains_personal_data);
  ToProto(m.created_at, out->mutable_created_at());
  out->set_withheld_reason(view.withheld_reason);
  out->set_origin_id(m.origin_id);
  out->set_owner_party(m.owner_party);
  out->set_forwarded_from(m.forwarded_from);
}

Choice<PartyTier> ToChoice(v1::PartyTier tier) {
  return KnownOrRaw<PartyTier>(tier);
}

Choice<Classification> ToChoice(v1::Classification classification) {
  return KnownOrRaw<Classification>(classification);
}

RegisterPartyCommand ToRegisterCommand(const v1::RegisterPartyRequest& r) {
  RegisterPartyCommand command;
  command.code = r.code();
  command.name = r.name();
  command.tier = ToChoice(r.tier());
  command.ceiling = ToChoice(r.classification_ceiling());
  command.agreement_in_force = r.agreement_in_force();
  command.reason = r.reason();
  return command;
}

void ToProto(const Party& party, v1::Party* out) {
  out->set_code(party.code);
  out->set_name(party.name);
  out->set_tier(ToProto(party.tier));
  out->set_state(ToProto(party.state));
  out->set_classification_ceiling(ToProto(party.ceiling));
  out->set_agreement_in_force(party.agreement_in_force);
}

void ToProto(const PartyDetails& details, v1::PartyDetails* out) {
  ToProto(details.party, out->mutable_party());
  for (const PartyChange& c : details.history) {
    v1::StatusChange* change = out->add_history();
    ToProto(c.time, change->mutable_time());
    change->set_changed_by(c.changed_by);
    change->set_change(c.change);
    change->set_from(c.from);
    change->set_to(c.to);
    change->set_reason(c.reason);
  }
}

void ToProto(const Revocation& r, v1::Revocation* out) {
  out->set_serial(r.serial);
  out->set_user(r.user);
  out->set_reason(r.reason);
  ToProto(r.revoked_at, out->mutable_revoked_at());
  out->set_revoked_by(r.revoked_by);
}

void ToProto(const AttachmentInfo& a, v1::AttachmentInfo* out) {
  out->set_id(a.id);
  out->set_message_id(a.message_id);
  out->set_file_name(a.file_name);
  out->set_size(a.size);
  out->set_sha256(a.sha256_hex);
  ToProto(a.uploaded_at, out->mutable_uploaded_at());
}

void ToProto(const Consent& c, v1::Consent* out) {
  out->set_id(c.id);
  out->set_origin_id(c.origin_id);
  out->set_owner_party(c.owner_party);
  out->set_requester_party(c.requester_party);
  out->set_target_party(c.target_party);
  out->set_justification(c.justification);
  switch (c.state) {
    case ConsentState::kPending:
      out->set_state(v1::CONSENT_STATE_PENDING);
      break;
    case ConsentState::kGranted:
      out->set_state(v1::CONSENT_STATE_GRANTED);
      break;
    case ConsentState::kRefused:
      out->set_state(v1::CONSENT_STATE_REFUSED);
      break;
  }
  ToProto(c.requested_at, out->mutable_requested_at());
  out->set_requested_by(c.requested_by);
  if (c.decided_at.has_value()) {
    ToProto(*c.decided_at, out->mutable_decided_at());
  }
  out->set_decided_by(c.decided_by);
  out->set_decision_reason(c.decision_reason);
}

void ToProto(const Case& c, v1::Case* out) {
  out->set_id(c.id);
  out->set_title(c.title);
  out->set_owner_party(c.owner_party);
  for (const std::string& p : c.participants) out->add_participants(p);
  out->set_state(c.state == CaseState::kOpen ? v1::CASE_STATE_OPEN
                                             : v1::CASE_STATE_CLOSED);
  ToProto(c.opened_at, out->mutable_opened_at());
  if (c.closed_at.has_value()) ToProto(*c.closed_at, out->mutable_closed_at());
  for (const std::string& id : c.message_ids) out->add_message_ids(id);
}

void ToProto(const WhoAmIResult& result, v1::WhoAmIResponse* out) {
  out->set_spiffe_id(result.identity.spiffe_id);
  out->set_trust_domain(result.identity.trust_domain);
  out->set_party(result.identity.party);
  out->set_role(ToProto(result.identity.role));
  out->set_user_id(result.identity.user_id);
  out->set_party_name(result.party.name);
  out->set_tier(ToProto(result.party.tier));
  out->set_state(ToProto(result.party.state));
  out->set_classification_ceiling(ToProto(result.party.ceiling));
  out->set_agreement_in_force(result.party.agreement_in_force);
}

void ToProto(const RecordedEntry& r, v1::AuditRecord* out) {
  const AuditEntry& e = r.entry;
  out->set_seq(e.seq);
  ToProto(e.time, out->mutable_time());
  out->set_principal(e.principal);
  out->set_party(e.party);
  out->set_role(e.role);
  out->set_user_id(e.user_id);
  out->set_action(e.action);
  for (const std::string& resource : e.resources) out->add_resources(resource);
  out->set_outcome(std::string(Name(e.outcome)));
  out->set_code(static_cast<uint32_t>(e.code));
  out->set_reason(e.reason);
  out->set_leaf_hash(r.leaf_hash);
}

void ToProto(const AuditCheckpoint& c, v1::SignedCheckpoint* out) {
  out->set_note(c.note);
  out->set_tree_size(c.tree_size);
  out->set_root_hash(c.root_hash);
  ToProto(c.signed_at, out->mutable_signed_at());
}

}  // namespace liaison::server

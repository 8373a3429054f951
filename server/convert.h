// Proto ⇄ domain conversion for the Exchange and Admin services. Enum values
// that are unspecified or unknown to this server become empty optionals; the
// domain rejects them with a message naming the field.
#ifndef LIAISON_SERVER_CONVERT_H_
#define LIAISON_SERVER_CONVERT_H_

#include "domain/admin.h"
#include "domain/audit.h"
#include "domain/cases.h"
#include "domain/exchange.h"
#include "domain/model.h"
#include "liaison/v1/admin.pb.h"
#include "liaison/v1/audit.pb.h"
#include "liaison/v1/cases.pb.h"
#include "liaison/v1/exchange.pb.h"

namespace liaison::server {

SendCommand ToSendCommand(const v1::SendMessageRequest& request);
ReplyCommand ToReplyCommand(const v1::ReplyRequest& request);

void ToProto(const MessageView& view, v1::Message* out);
RequestFilter ToRequestFilter(const v1::ListRequestsRequest& request);
RefuseCommand ToRefuseCommand(const v1::RefuseRequestRequest& request);
Choice<HandlingCode> ToChoice(v1::HandlingCode code);
void ToProto(const MessageView& view, v1::MessageSummary* out);
void ToProto(const WhoAmIResult& result, v1::WhoAmIResponse* out);

// Admin.
Choice<PartyTier> ToChoice(v1::PartyTier tier);
Choice<Classification> ToChoice(v1::Classification classification);
RegisterPartyCommand ToRegisterCommand(const v1::RegisterPartyRequest& r);
void ToProto(const Party& party, v1::Party* out);
void ToProto(const PartyDetails& details, v1::PartyDetails* out);
void ToProto(const Revocation& revocation, v1::Revocation* out);

void ToProto(const Consent& consent, v1::Consent* out);
void ToProto(const AttachmentInfo& info, v1::AttachmentInfo* out);

// Cases.
void ToProto(const Case& c, v1::Case* out);
void ToProto(absl::Time time, google::protobuf::Timestamp* out);

// Audit.
void ToProto(const RecordedEntry& entry, v1::AuditRecord* out);
void ToProto(const AuditCheckpoint& checkpoint, v1::SignedCheckpoint* out);

v1::Role ToProto(Role role);
v1::Classification ToProto(Classification classification);

}  // namespace liaison::server

#endif  // LIAISON_SERVER_CONVERT_H_

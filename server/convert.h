// Proto ⇄ domain conversion for the Exchange service. Enum values that are
// unspecified or unknown to this server become empty optionals; the domain
// rejects them with a message naming the field.
#ifndef LIAISON_SERVER_CONVERT_H_
#define LIAISON_SERVER_CONVERT_H_

#include "domain/exchange.h"
#include "domain/model.h"
#include "liaison/v1/exchange.pb.h"

namespace liaison::server {

SendCommand ToSendCommand(const v1::SendMessageRequest& request);
ReplyCommand ToReplyCommand(const v1::ReplyRequest& request);

void ToProto(const Message& message, v1::Message* out);
void ToProto(const MessageView& view, v1::MessageSummary* out);
void ToProto(const WhoAmIResult& result, v1::WhoAmIResponse* out);
void ToProto(absl::Time time, google::protobuf::Timestamp* out);

v1::Role ToProto(Role role);
v1::Classification ToProto(Classification classification);

}  // namespace liaison::server

#endif  // LIAISON_SERVER_CONVERT_H_

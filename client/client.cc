#include "client/client.h"

#include <grpcpp/create_channel.h>

#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/tls.h"

namespace liaison::client {

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  LIAISON_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ChannelCredentials> credentials,
      MakeChannelCredentials({options.cert, options.key, options.ca}));
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(options.server, credentials);
  return std::unique_ptr<Client>(
      new Client(v1::Exchange::NewStub(channel), options.timeout));
}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> Client::Call(Method method, const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  Response response;
  const grpc::Status status = ((*stub_).*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::WhoAmIResponse> Client::WhoAmI() {
  return Call<v1::WhoAmIRequest, v1::WhoAmIResponse>(
      &v1::Exchange::Stub::WhoAmI, v1::WhoAmIRequest());
}

absl::StatusOr<v1::SendMessageResponse> Client::SendMessage(
    const v1::SendMessageRequest& request) {
  return Call<v1::SendMessageRequest, v1::SendMessageResponse>(
      &v1::Exchange::Stub::SendMessage, request);
}

absl::StatusOr<v1::Message> Client::GetMessage(const std::string& message_id) {
  v1::GetMessageRequest request;
  request.set_message_id(message_id);
  return Call<v1::GetMessageRequest, v1::Message>(
      &v1::Exchange::Stub::GetMessage, request);
}

absl::StatusOr<v1::ListInboxResponse> Client::ListInbox(
    const v1::ListInboxRequest& request) {
  return Call<v1::ListInboxRequest, v1::ListInboxResponse>(
      &v1::Exchange::Stub::ListInbox, request);
}

absl::StatusOr<v1::ListOutboxResponse> Client::ListOutbox(
    const v1::ListOutboxRequest& request) {
  return Call<v1::ListOutboxRequest, v1::ListOutboxResponse>(
      &v1::Exchange::Stub::ListOutbox, request);
}

absl::StatusOr<v1::ReplyResponse> Client::Reply(
    const v1::ReplyRequest& request) {
  return Call<v1::ReplyRequest, v1::ReplyResponse>(&v1::Exchange::Stub::Reply,
                                                   request);
}

}  // namespace liaison::client

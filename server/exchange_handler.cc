#include "server/exchange_handler.h"

#include "common/grpc_status.h"
#include "server/convert.h"

namespace liaison::server {
namespace {

template <typename Response>
void FillSendResponse(const SendResult& result, Response* response) {
  response->set_message_id(result.message_id);
  ToProto(result.created_at, response->mutable_created_at());
  response->set_replayed(result.replayed);
}

template <typename Response>
void FillPage(const MessagePage& page, Response* response) {
  for (const MessageView& view : page.messages) {
    ToProto(view, response->add_messages());
  }
  response->set_next_page_token(page.next_page_token);
}

grpc::Status RespondWith(const absl::StatusOr<MessageView>& view,
                         v1::Message* response) {
  if (!view.ok()) return ToGrpcStatus(view.status());
  ToProto(*view, response);
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* ExchangeHandler::SendMessage(
    grpc::CallbackServerContext* context, const v1::SendMessageRequest* request,
    v1::SendMessageResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish = [reactor, response](absl::StatusOr<SendResult> result) {
    if (!result.ok()) {
      reactor->Finish(ToGrpcStatus(result.status()));
      return;
    }
    FillSendResponse(*result, response);
    reactor->Finish(grpc::Status::OK);
  };
  if (waiting_pool_ == nullptr) {
    exchange_.SendMessageAsync(peers_.Identify(*context),
                               ToSendCommand(*request), std::move(finish));
  } else {
    // The context and the request stay valid until Finish. A send whose
    // caller gave up while it was queued still runs and is recorded, as a
    // synchronous handler's would: a retry with its key finds it.
    waiting_pool_->Run([this, context, request, finish]() mutable {
      finish(exchange_.SendMessage(peers_.Identify(*context),
                                   ToSendCommand(*request)));
    });
  }
  return reactor;
}

grpc::Status ExchangeHandler::GetMessage(grpc::ServerContext* context,
                                         const v1::GetMessageRequest* request,
                                         v1::Message* response) {
  absl::StatusOr<MessageView> view =
      exchange_.GetMessage(peers_.Identify(*context), request->message_id());
  if (!view.ok()) return ToGrpcStatus(view.status());
  ToProto(*view, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::ListInbox(grpc::ServerContext* context,
                                        const v1::ListInboxRequest* request,
                                        v1::ListInboxResponse* response) {
  absl::StatusOr<MessagePage> page = exchange_.ListInbox(
      peers_.Identify(*context), {request->page_size(), request->page_token()});
  if (!page.ok()) return ToGrpcStatus(page.status());
  FillPage(*page, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::ListOutbox(grpc::ServerContext* context,
                                         const v1::ListOutboxRequest* request,
                                         v1::ListOutboxResponse* response) {
  absl::StatusOr<MessagePage> page = exchange_.ListOutbox(
      peers_.Identify(*context), {request->page_size(), request->page_token()});
  if (!page.ok()) return ToGrpcStatus(page.status());
  FillPage(*page, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::Reply(grpc::ServerContext* context,
                                    const v1::ReplyRequest* request,
                                    v1::ReplyResponse* response) {
  absl::StatusOr<SendResult> result =
      exchange_.Reply(peers_.Identify(*context), ToReplyCommand(*request));
  if (!result.ok()) return ToGrpcStatus(result.status());
  FillSendResponse(*result, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::WhoAmI(grpc::ServerContext* context,
                                     const v1::WhoAmIRequest* /*request*/,
                                     v1::WhoAmIResponse* response) {
  absl::StatusOr<WhoAmIResult> result =
      exchange_.WhoAmI(peers_.Identify(*context));
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::AcknowledgeRequest(
    grpc::ServerContext* context, const v1::AcknowledgeRequestRequest* request,
    v1::Message* response) {
  return RespondWith(exchange_.AcknowledgeRequest(peers_.Identify(*context),
                                                  request->request_id()),
                     response);
}

grpc::Status ExchangeHandler::RefuseRequest(
    grpc::ServerContext* context, const v1::RefuseRequestRequest* request,
    v1::Message* response) {
  return RespondWith(exchange_.RefuseRequest(peers_.Identify(*context),
                                             ToRefuseCommand(*request)),
                     response);
}

grpc::Status ExchangeHandler::ListRequests(
    grpc::ServerContext* context, const v1::ListRequestsRequest* request,
    v1::ListRequestsResponse* response) {
  absl::StatusOr<MessagePage> page = exchange_.ListRequests(
      peers_.Identify(*context), ToRequestFilter(*request));
  if (!page.ok()) return ToGrpcStatus(page.status());
  FillPage(*page, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::SetHandling(grpc::ServerContext* context,
                                          const v1::SetHandlingRequest* request,
                                          v1::Message* response) {
  return RespondWith(
      exchange_.SetHandling(peers_.Identify(*context), request->message_id(),
                            ToChoice(request->handling().code()),
                            request->handling().restriction()),
      response);
}

grpc::Status ExchangeHandler::Forward(grpc::ServerContext* context,
                                      const v1::ForwardRequest* request,
                                      v1::SendMessageResponse* response) {
  ForwardCommand command;
  command.message_id = request->message_id();
  command.recipients.assign(request->recipients().begin(),
                            request->recipients().end());
  command.idempotency_key = request->idempotency_key();
  absl::StatusOr<SendResult> result =
      exchange_.Forward(peers_.Identify(*context), command);
  if (!result.ok()) return ToGrpcStatus(result.status());
  FillSendResponse(*result, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::RequestConsent(
    grpc::ServerContext* context, const v1::RequestConsentRequest* request,
    v1::Consent* response) {
  absl::StatusOr<Consent> consent = exchange_.RequestConsent(
      peers_.Identify(*context),
      {request->message_id(), request->to(), request->justification()});
  if (!consent.ok()) return ToGrpcStatus(consent.status());
  ToProto(*consent, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::DecideConsent(
    grpc::ServerContext* context, const v1::DecideConsentRequest* request,
    v1::Consent* response) {
  absl::StatusOr<Consent> consent = exchange_.DecideConsent(
      peers_.Identify(*context),
      {request->consent_id(), request->grant(), request->reason()});
  if (!consent.ok()) return ToGrpcStatus(consent.status());
  ToProto(*consent, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::ListConsents(
    grpc::ServerContext* context, const v1::ListConsentsRequest* /*request*/,
    v1::ListConsentsResponse* response) {
  absl::StatusOr<std::vector<Consent>> consents =
      exchange_.ListConsents(peers_.Identify(*context));
  if (!consents.ok()) return ToGrpcStatus(consents.status());
  for (const Consent& c : *consents) ToProto(c, response->add_consents());
  return grpc::Status::OK;
}

namespace {

// Events onto the gRPC stream.
class StreamSink final : public EventSink {
 public:
  StreamSink(grpc::ServerContext& context,
             grpc::ServerWriter<v1::Event>& writer)
      : context_(context), writer_(writer) {}

  // liaison::EventSink
  bool Send(const Event& event) override {
    v1::Event out;
    out.set_seq(event.seq);
    out.set_kind(event.kind);
    out.set_message_id(event.message_id);
    out.set_detail(event.detail);
    ToProto(event.time, out.mutable_time());
    return writer_.Write(out);
  }
  bool Cancelled() const override { return context_.IsCancelled(); }

 private:
  grpc::ServerContext& context_;
  grpc::ServerWriter<v1::Event>& writer_;
};

}  // namespace

grpc::Status ExchangeHandler::Subscribe(grpc::ServerContext* context,
                                        const v1::SubscribeRequest* request,
                                        grpc::ServerWriter<v1::Event>* writer) {
  StreamSink sink(*context, *writer);
  return ToGrpcStatus(
      exchange_.Subscribe(peers_.Identify(*context), request->cursor(), sink));
}

namespace {

// The bytes after the header: pieces until the stream ends or breaks. A
// second header is treated as the end (the upload then fails on size).
class UploadReader final : public ChunkReader {
 public:
  explicit UploadReader(grpc::ServerReader<v1::UploadAttachmentRequest>& in)
      : in_(in) {}

  // liaison::ChunkReader
  bool Next(std::string* chunk) override {
    v1::UploadAttachmentRequest part;
    if (!in_.Read(&part) || !part.has_chunk()) return false;
    *chunk = std::move(*part.mutable_chunk());
    return true;
  }

 private:
  grpc::ServerReader<v1::UploadAttachmentRequest>& in_;
};

class DownloadWriter final : public ChunkWriter {
 public:
  explicit DownloadWriter(grpc::ServerWriter<v1::AttachmentChunk>& out)
      : out_(out) {}

  // liaison::ChunkWriter
  bool Write(const AttachmentInfo* info, absl::string_view data) override {
    v1::AttachmentChunk chunk;
    if (info != nullptr) ToProto(*info, chunk.mutable_info());
    chunk.set_data(std::string(data));
    return out_.Write(chunk);
  }

 private:
  grpc::ServerWriter<v1::AttachmentChunk>& out_;
};

}  // namespace

grpc::Status ExchangeHandler::UploadAttachment(
    grpc::ServerContext* context,
    grpc::ServerReader<v1::UploadAttachmentRequest>* reader,
    v1::AttachmentInfo* response) {
  v1::UploadAttachmentRequest first;
  AttachmentHeader header;
  if (reader->Read(&first) && first.has_header()) {
    header.message_id = first.header().message_id();
    header.file_name = first.header().file_name();
    header.size = first.header().size();
    header.sha256_hex = first.header().sha256();
  }
  // A missing header leaves every field empty: the domain refuses it.
  UploadReader chunks(*reader);
  absl::StatusOr<AttachmentInfo> info =
      exchange_.UploadAttachment(peers_.Identify(*context), header, chunks);
  if (!info.ok()) return ToGrpcStatus(info.status());
  ToProto(*info, response);
  return grpc::Status::OK;
}

grpc::Status ExchangeHandler::DownloadAttachment(
    grpc::ServerContext* context, const v1::DownloadAttachmentRequest* request,
    grpc::ServerWriter<v1::AttachmentChunk>* writer) {
  DownloadWriter out(*writer);
  return ToGrpcStatus(exchange_.DownloadAttachment(
      peers_.Identify(*context), request->attachment_id(), out));
}

}  // namespace liaison::server

#include "client/client.h"

#include <grpcpp/channel.h>
#include <grpcpp/create_channel.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/tls.h"

namespace liaison::client {

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    const ClientOptions& options) {
  LIAISON_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ChannelCredentials> credentials,
      MakeChannelCredentials({options.cert, options.key, options.ca}));
  return std::unique_ptr<Client>(new Client(
      grpc::CreateChannel(options.server, credentials), options.timeout));
}

Client::Client(const std::shared_ptr<grpc::Channel>& channel,
               absl::Duration timeout)
    : exchange_(v1::Exchange::NewStub(channel)),
      admin_(v1::Admin::NewStub(channel)),
      cases_(v1::Cases::NewStub(channel)),
      reports_(v1::Reports::NewStub(channel)),
      audit_(v1::Audit::NewStub(channel)),
      timeout_(timeout) {}

template <typename Response, typename Stub, typename Method, typename Request>
absl::StatusOr<Response> Client::Call(Stub& stub, Method method,
                                      const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  Response response;
  const grpc::Status status = (stub.*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<v1::WhoAmIResponse> Client::WhoAmI() {
  return Call<v1::WhoAmIResponse>(*exchange_, &v1::Exchange::Stub::WhoAmI,
                                  v1::WhoAmIRequest());
}

absl::StatusOr<v1::SendMessageResponse> Client::SendMessage(
    const v1::SendMessageRequest& request) {
  return Call<v1::SendMessageResponse>(
      *exchange_, &v1::Exchange::Stub::SendMessage, request);
}

absl::StatusOr<v1::Message> Client::GetMessage(const std::string& message_id) {
  v1::GetMessageRequest request;
  request.set_message_id(message_id);
  return Call<v1::Message>(*exchange_, &v1::Exchange::Stub::GetMessage,
                           request);
}

absl::StatusOr<v1::ListInboxResponse> Client::ListInbox(
    const v1::ListInboxRequest& request) {
  return Call<v1::ListInboxResponse>(*exchange_, &v1::Exchange::Stub::ListInbox,
                                     request);
}

absl::StatusOr<v1::ListOutboxResponse> Client::ListOutbox(
    const v1::ListOutboxRequest& request) {
  return Call<v1::ListOutboxResponse>(*exchange_,
                                      &v1::Exchange::Stub::ListOutbox, request);
}

absl::StatusOr<v1::ReplyResponse> Client::Reply(
    const v1::ReplyRequest& request) {
  return Call<v1::ReplyResponse>(*exchange_, &v1::Exchange::Stub::Reply,
                                 request);
}

absl::StatusOr<v1::Message> Client::AcknowledgeRequest(const std::string& id) {
  v1::AcknowledgeRequestRequest request;
  request.set_request_id(id);
  return Call<v1::Message>(*exchange_, &v1::Exchange::Stub::AcknowledgeRequest,
                           request);
}

absl::StatusOr<v1::Message> Client::RefuseRequest(
    const v1::RefuseRequestRequest& request) {
  return Call<v1::Message>(*exchange_, &v1::Exchange::Stub::RefuseRequest,
                           request);
}

absl::StatusOr<v1::ListRequestsResponse> Client::ListRequests(
    const v1::ListRequestsRequest& request) {
  return Call<v1::ListRequestsResponse>(
      *exchange_, &v1::Exchange::Stub::ListRequests, request);
}

absl::StatusOr<v1::Message> Client::SetHandling(
    const v1::SetHandlingRequest& request) {
  return Call<v1::Message>(*exchange_, &v1::Exchange::Stub::SetHandling,
                           request);
}

absl::StatusOr<v1::SendMessageResponse> Client::Forward(
    const v1::ForwardRequest& request) {
  return Call<v1::SendMessageResponse>(*exchange_, &v1::Exchange::Stub::Forward,
                                       request);
}

absl::StatusOr<v1::Consent> Client::RequestConsent(
    const v1::RequestConsentRequest& request) {
  return Call<v1::Consent>(*exchange_, &v1::Exchange::Stub::RequestConsent,
                           request);
}

absl::StatusOr<v1::Consent> Client::DecideConsent(
    const v1::DecideConsentRequest& request) {
  return Call<v1::Consent>(*exchange_, &v1::Exchange::Stub::DecideConsent,
                           request);
}

absl::StatusOr<v1::ListConsentsResponse> Client::ListConsents() {
  return Call<v1::ListConsentsResponse>(
      *exchange_, &v1::Exchange::Stub::ListConsents, v1::ListConsentsRequest());
}

absl::Status Client::Subscribe(
    int64_t cursor, const std::function<bool(const v1::Event&)>& on_event,
    std::optional<absl::Duration> deadline) {
  grpc::ClientContext context;
  if (deadline.has_value()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + *deadline));
  }
  v1::SubscribeRequest request;
  request.set_cursor(cursor);
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
      exchange_->Subscribe(&context, request);
  v1::Event event;
  while (reader->Read(&event)) {
    if (!on_event(event)) {
      context.TryCancel();
      reader->Finish().IgnoreError();
      return absl::OkStatus();
    }
  }
  return FromGrpcStatus(reader->Finish());
}

absl::StatusOr<v1::AttachmentInfo> Client::UploadAttachment(
    const std::string& message_id, const std::string& path,
    const Progress& progress) {
  constexpr size_t kPiece = 1 << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  Sha256Hasher hasher;
  int64_t size = 0;
  std::string piece(kPiece, '\0');
  while (in.read(piece.data(), kPiece) || in.gcount() > 0) {
    hasher.Update(absl::string_view(piece.data(), in.gcount()));
    size += in.gcount();
  }
  in.clear();
  in.seekg(0);

  grpc::ClientContext context;
  v1::AttachmentInfo info;
  std::unique_ptr<grpc::ClientWriter<v1::UploadAttachmentRequest>> writer =
      exchange_->UploadAttachment(&context, &info);
  v1::UploadAttachmentRequest header;
  header.mutable_header()->set_message_id(message_id);
  header.mutable_header()->set_file_name(
      std::string(path.substr(path.find_last_of('/') + 1)));
  header.mutable_header()->set_size(size);
  header.mutable_header()->set_sha256(HexEncode(hasher.Finish()));
  bool open = writer->Write(header);
  int64_t sent = 0;
  progress(0, size);
  while (open && (in.read(piece.data(), kPiece) || in.gcount() > 0)) {
    v1::UploadAttachmentRequest chunk;
    chunk.set_chunk(piece.data(), static_cast<size_t>(in.gcount()));
    open = writer->Write(chunk);
    sent += in.gcount();
    progress(sent, size);
  }
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  if (!status.ok()) return FromGrpcStatus(status);
  return info;
}

absl::StatusOr<v1::AttachmentInfo> Client::DownloadAttachment(
    const std::string& attachment_id, const std::string& path,
    const Progress& progress) {
  const std::string partial = path + ".part";
  std::ofstream out(partial, std::ios::binary | std::ios::trunc);
  if (!out) {
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", partial));
  }
  grpc::ClientContext context;
  v1::DownloadAttachmentRequest request;
  request.set_attachment_id(attachment_id);
  std::unique_ptr<grpc::ClientReader<v1::AttachmentChunk>> reader =
      exchange_->DownloadAttachment(&context, request);
  v1::AttachmentInfo info;
  v1::AttachmentChunk chunk;
  Sha256Hasher hasher;
  int64_t received = 0;
  while (reader->Read(&chunk)) {
    if (chunk.has_info()) info = chunk.info();
    hasher.Update(chunk.data());
    out.write(chunk.data().data(),
              static_cast<std::streamsize>(chunk.data().size()));
    received += static_cast<int64_t>(chunk.data().size());
    progress(received, info.size());
  }
  out.close();
  const grpc::Status status = reader->Finish();
  auto discard = [&](absl::Status why) {
    std::remove(partial.c_str());
    return why;
  };
  if (!status.ok()) return discard(FromGrpcStatus(status));
  if (!out) {
    return discard(absl::DataLossError(absl::StrCat("cannot write ", partial)));
  }
  const std::string digest = HexEncode(hasher.Finish());
  if (received != info.size() || digest != info.sha256()) {
    return discard(absl::DataLossError(absl::StrCat(
        "the download does not match: ", received, " bytes with SHA-256 ",
        digest, ", expected ", info.size(), " bytes with ", info.sha256())));
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    return discard(
        absl::PermissionDeniedError(absl::StrCat("cannot write ", path)));
  }
  return info;
}

absl::StatusOr<v1::GetCheckpointResponse> Client::GetCheckpoint(bool fresh) {
  v1::GetCheckpointRequest request;
  request.set_fresh(fresh);
  return Call<v1::GetCheckpointResponse>(
      *audit_, &v1::Audit::Stub::GetCheckpoint, request);
}

absl::StatusOr<v1::ListEntriesResponse> Client::ListAuditEntries(
    const v1::ListEntriesRequest& request) {
  return Call<v1::ListEntriesResponse>(*audit_, &v1::Audit::Stub::ListEntries,
                                       request);
}

absl::StatusOr<v1::InclusionProof> Client::GetInclusionProof(
    int64_t seq, int64_t tree_size) {
  v1::GetInclusionProofRequest request;
  request.set_seq(seq);
  request.set_tree_size(tree_size);
  return Call<v1::InclusionProof>(*audit_, &v1::Audit::Stub::GetInclusionProof,
                                  request);
}

absl::StatusOr<v1::ConsistencyProof> Client::GetConsistencyProof(
    int64_t old_size, int64_t new_size) {
  v1::GetConsistencyProofRequest request;
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  return Call<v1::ConsistencyProof>(
      *audit_, &v1::Audit::Stub::GetConsistencyProof, request);
}

absl::Status Client::ExportAudit(
    int64_t tree_size,
    const std::function<absl::Status(const v1::ExportChunk&)>& chunk) {
  grpc::ClientContext context;
  v1::ExportRequest request;
  request.set_tree_size(tree_size);
  std::unique_ptr<grpc::ClientReader<v1::ExportChunk>> reader =
      audit_->Export(&context, request);
  v1::ExportChunk received;
  absl::Status consumed;
  while (consumed.ok() && reader->Read(&received)) {
    consumed = chunk(received);
  }
  if (!consumed.ok()) context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (!consumed.ok()) return consumed;
  return FromGrpcStatus(status);
}

absl::StatusOr<v1::ListAccessesResponse> Client::ListAccesses(
    const std::string& message_id) {
  v1::ListAccessesRequest request;
  request.set_message_id(message_id);
  return Call<v1::ListAccessesResponse>(*audit_, &v1::Audit::Stub::ListAccesses,
                                        request);
}

absl::StatusOr<v1::Statistics> Client::GetStatistics(
    const v1::StatisticsRequest& request) {
  return Call<v1::Statistics>(*reports_, &v1::Reports::Stub::GetStatistics,
                              request);
}

absl::StatusOr<v1::Case> Client::OpenCase(const v1::OpenCaseRequest& request) {
  return Call<v1::Case>(*cases_, &v1::Cases::Stub::OpenCase, request);
}

absl::StatusOr<v1::Case> Client::AddParticipant(
    const v1::ParticipantRequest& request) {
  return Call<v1::Case>(*cases_, &v1::Cases::Stub::AddParticipant, request);
}

absl::StatusOr<v1::Case> Client::RemoveParticipant(
    const v1::ParticipantRequest& request) {
  return Call<v1::Case>(*cases_, &v1::Cases::Stub::RemoveParticipant, request);
}

absl::StatusOr<v1::Case> Client::AttachMessage(
    const v1::AttachMessageRequest& request) {
  return Call<v1::Case>(*cases_, &v1::Cases::Stub::AttachMessage, request);
}

absl::StatusOr<v1::CaseDetails> Client::GetCase(const std::string& case_id) {
  v1::CaseRequest request;
  request.set_case_id(case_id);
  return Call<v1::CaseDetails>(*cases_, &v1::Cases::Stub::GetCase, request);
}

absl::StatusOr<v1::ListCasesResponse> Client::ListCases() {
  return Call<v1::ListCasesResponse>(*cases_, &v1::Cases::Stub::ListCases,
                                     v1::ListCasesRequest());
}

absl::StatusOr<v1::Case> Client::CloseCase(const std::string& case_id) {
  v1::CaseRequest request;
  request.set_case_id(case_id);
  return Call<v1::Case>(*cases_, &v1::Cases::Stub::CloseCase, request);
}

absl::StatusOr<v1::Party> Client::RegisterParty(
    const v1::RegisterPartyRequest& request) {
  return Call<v1::Party>(*admin_, &v1::Admin::Stub::RegisterParty, request);
}

absl::StatusOr<v1::Party> Client::SetPartyTier(
    const v1::SetPartyTierRequest& request) {
  return Call<v1::Party>(*admin_, &v1::Admin::Stub::SetPartyTier, request);
}

absl::StatusOr<v1::Party> Client::SetCeiling(
    const v1::SetCeilingRequest& request) {
  return Call<v1::Party>(*admin_, &v1::Admin::Stub::SetCeiling, request);
}

absl::StatusOr<v1::Party> Client::SetAgreement(
    const v1::SetAgreementRequest& request) {
  return Call<v1::Party>(*admin_, &v1::Admin::Stub::SetAgreement, request);
}

absl::StatusOr<v1::Party> Client::SuspendParty(
    const v1::SuspendPartyRequest& request) {
  return Call<v1::Party>(*admin_, &v1::Admin::Stub::SuspendParty, request);
}

absl::StatusOr<v1::Party> Client::ReinstateParty(
    const v1::ReinstatePartyRequest& request) {
  return Call<v1::Party>(*admin_, &v1::Admin::Stub::ReinstateParty, request);
}

absl::StatusOr<v1::ListPartiesResponse> Client::ListParties() {
  return Call<v1::ListPartiesResponse>(*admin_, &v1::Admin::Stub::ListParties,
                                       v1::ListPartiesRequest());
}

absl::StatusOr<v1::PartyDetails> Client::GetParty(const std::string& code) {
  v1::GetPartyRequest request;
  request.set_code(code);
  return Call<v1::PartyDetails>(*admin_, &v1::Admin::Stub::GetParty, request);
}

absl::StatusOr<v1::Revocation> Client::RevokeCertificate(
    const v1::RevokeCertificateRequest& request) {
  return Call<v1::Revocation>(*admin_, &v1::Admin::Stub::RevokeCertificate,
                              request);
}

absl::StatusOr<v1::ListRevocationsResponse> Client::ListRevocations() {
  return Call<v1::ListRevocationsResponse>(
      *admin_, &v1::Admin::Stub::ListRevocations, v1::ListRevocationsRequest());
}

}  // namespace liaison::client

#include "server/cases_handler.h"

#include "common/grpc_status.h"
#include "server/convert.h"

namespace liaison::server {
namespace {

grpc::Status Respond(const absl::StatusOr<Case>& c, v1::Case* response) {
  if (!c.ok()) return ToGrpcStatus(c.status());
  ToProto(*c, response);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status CasesHandler::OpenCase(grpc::ServerContext* context,
                                    const v1::OpenCaseRequest* request,
                                    v1::Case* response) {
  return Respond(cases_.OpenCase(peers_.Identify(*context), request->title(),
                                 {request->participants().begin(),
                                  request->participants().end()}),
                 response);
}

grpc::Status CasesHandler::AddParticipant(grpc::ServerContext* context,
                                          const v1::ParticipantRequest* request,
                                          v1::Case* response) {
  return Respond(cases_.AddParticipant(peers_.Identify(*context),
                                       request->case_id(), request->party()),
                 response);
}

grpc::Status CasesHandler::RemoveParticipant(
    grpc::ServerContext* context, const v1::ParticipantRequest* request,
    v1::Case* response) {
  return Respond(cases_.RemoveParticipant(peers_.Identify(*context),
                                          request->case_id(), request->party()),
                 response);
}

grpc::Status CasesHandler::AttachMessage(
    grpc::ServerContext* context, const v1::AttachMessageRequest* request,
    v1::Case* response) {
  return Respond(
      cases_.AttachMessage(peers_.Identify(*context), request->case_id(),
                           request->message_id()),
      response);
}

grpc::Status CasesHandler::GetCase(grpc::ServerContext* context,
                                   const v1::CaseRequest* request,
                                   v1::CaseDetails* response) {
  absl::StatusOr<CaseView> view =
      cases_.GetCase(peers_.Identify(*context), request->case_id());
  if (!view.ok()) return ToGrpcStatus(view.status());
  ToProto(view->details, response->mutable_case_());
  for (const MessageView& item : view->thread) {
    ToProto(item, response->add_thread());
  }
  return grpc::Status::OK;
}

grpc::Status CasesHandler::ListCases(grpc::ServerContext* context,
                                     const v1::ListCasesRequest* /*request*/,
                                     v1::ListCasesResponse* response) {
  absl::StatusOr<std::vector<Case>> cases =
      cases_.ListCases(peers_.Identify(*context));
  if (!cases.ok()) return ToGrpcStatus(cases.status());
  for (const Case& c : *cases) ToProto(c, response->add_cases());
  return grpc::Status::OK;
}

grpc::Status CasesHandler::CloseCase(grpc::ServerContext* context,
                                     const v1::CaseRequest* request,
                                     v1::Case* response) {
  return Respond(
      cases_.CloseCase(peers_.Identify(*context), request->case_id()),
      response);
}

}  // namespace liaison::server

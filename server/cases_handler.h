// gRPC adapter for liaison.v1.Cases.
#ifndef LIAISON_SERVER_CASES_HANDLER_H_
#define LIAISON_SERVER_CASES_HANDLER_H_

#include "domain/cases.h"
#include "liaison/v1/cases.grpc.pb.h"
#include "server/peer_identity.h"

namespace liaison::server {

class CasesHandler final : public v1::Cases::Service {
 public:
  // Both must outlive the handler.
  CasesHandler(CaseService& cases, PeerIdentifier& peers)
      : cases_(cases), peers_(peers) {}

  // liaison.v1.Cases
  grpc::Status OpenCase(grpc::ServerContext* context,
                        const v1::OpenCaseRequest* request,
                        v1::Case* response) override;
  grpc::Status AddParticipant(grpc::ServerContext* context,
                              const v1::ParticipantRequest* request,
                              v1::Case* response) override;
  grpc::Status RemoveParticipant(grpc::ServerContext* context,
                                 const v1::ParticipantRequest* request,
                                 v1::Case* response) override;
  grpc::Status AttachMessage(grpc::ServerContext* context,
                             const v1::AttachMessageRequest* request,
                             v1::Case* response) override;
  grpc::Status GetCase(grpc::ServerContext* context,
                       const v1::CaseRequest* request,
                       v1::CaseDetails* response) override;
  grpc::Status ListCases(grpc::ServerContext* context,
                         const v1::ListCasesRequest* request,
                         v1::ListCasesResponse* response) override;
  grpc::Status CloseCase(grpc::ServerContext* context,
                         const v1::CaseRequest* request,
                         v1::Case* response) override;

 private:
  CaseService& cases_;
  PeerIdentifier& peers_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_CASES_HANDLER_H_

// gRPC adapter for liaison.v1.Audit.
#ifndef LIAISON_SERVER_AUDIT_HANDLER_H_
#define LIAISON_SERVER_AUDIT_HANDLER_H_

#include "domain/audit.h"
#include "liaison/v1/audit.grpc.pb.h"
#include "server/peer_identity.h"

namespace liaison::server {

class AuditHandler final : public v1::Audit::Service {
 public:
  // Both must outlive the handler.
  AuditHandler(AuditService& audit, PeerIdentifier& peers)
      : audit_(audit), peers_(peers) {}

  // liaison.v1.Audit
  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status ListEntries(grpc::ServerContext* context,
                           const v1::ListEntriesRequest* request,
                           v1::ListEntriesResponse* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(
      grpc::ServerContext* context,
      const v1::GetConsistencyProofRequest* request,
      v1::ConsistencyProof* response) override;
  grpc::Status Export(grpc::ServerContext* context,
                      const v1::ExportRequest* request,
                      grpc::ServerWriter<v1::ExportChunk>* writer) override;
  grpc::Status ListAccesses(grpc::ServerContext* context,
                            const v1::ListAccessesRequest* request,
                            v1::ListAccessesResponse* response) override;

 private:
  AuditService& audit_;
  PeerIdentifier& peers_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_AUDIT_HANDLER_H_

// gRPC adapter for liaison.v1.Admin: identify the peer, convert, call the
// domain, convert back. No decisions are made here.
#ifndef LIAISON_SERVER_ADMIN_HANDLER_H_
#define LIAISON_SERVER_ADMIN_HANDLER_H_

#include "domain/admin.h"
#include "liaison/v1/admin.grpc.pb.h"
#include "server/peer_identity.h"

namespace liaison::server {

class AdminHandler final : public v1::Admin::Service {
 public:
  // Both must outlive the handler.
  AdminHandler(AdminService& admin, PeerIdentifier& peers)
      : admin_(admin), peers_(peers) {}

  // liaison.v1.Admin
  grpc::Status RegisterParty(grpc::ServerContext* context,
                             const v1::RegisterPartyRequest* request,
                             v1::Party* response) override;
  grpc::Status SetPartyTier(grpc::ServerContext* context,
                            const v1::SetPartyTierRequest* request,
                            v1::Party* response) override;
  grpc::Status SetCeiling(grpc::ServerContext* context,
                          const v1::SetCeilingRequest* request,
                          v1::Party* response) override;
  grpc::Status SetAgreement(grpc::ServerContext* context,
                            const v1::SetAgreementRequest* request,
                            v1::Party* response) override;
  grpc::Status SuspendParty(grpc::ServerContext* context,
                            const v1::SuspendPartyRequest* request,
                            v1::Party* response) override;
  grpc::Status ReinstateParty(grpc::ServerContext* context,
                              const v1::ReinstatePartyRequest* request,
                              v1::Party* response) override;
  grpc::Status ListParties(grpc::ServerContext* context,
                           const v1::ListPartiesRequest* request,
                           v1::ListPartiesResponse* response) override;
  grpc::Status GetParty(grpc::ServerContext* context,
                        const v1::GetPartyRequest* request,
                        v1::PartyDetails* response) override;
  grpc::Status RevokeCertificate(grpc::ServerContext* context,
                                 const v1::RevokeCertificateRequest* request,
                                 v1::Revocation* response) override;
  grpc::Status ListRevocations(grpc::ServerContext* context,
                               const v1::ListRevocationsRequest* request,
                               v1::ListRevocationsResponse* response) override;

 private:
  AdminService& admin_;
  PeerIdentifier& peers_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_ADMIN_HANDLER_H_

#include "server/admin_handler.h"

#include "common/grpc_status.h"
#include "server/convert.h"

namespace liaison::server {
namespace {

grpc::Status Respond(const absl::StatusOr<Party>& party, v1::Party* response) {
  if (!party.ok()) return ToGrpcStatus(party.status());
  ToProto(*party, response);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AdminHandler::RegisterParty(
    grpc::ServerContext* context, const v1::RegisterPartyRequest* request,
    v1::Party* response) {
  return Respond(admin_.RegisterParty(peers_.Identify(*context),
                                      ToRegisterCommand(*request)),
                 response);
}

grpc::Status AdminHandler::SetPartyTier(grpc::ServerContext* context,
                                        const v1::SetPartyTierRequest* request,
                                        v1::Party* response) {
  return Respond(
      admin_.SetPartyTier(peers_.Identify(*context), request->code(),
                          ToChoice(request->tier()), request->reason()),
      response);
}

grpc::Status AdminHandler::SetCeiling(grpc::ServerContext* context,
                                      const v1::SetCeilingRequest* request,
                                      v1::Party* response) {
  return Respond(admin_.SetCeiling(peers_.Identify(*context), request->code(),
                                   ToChoice(request->classification_ceiling()),
                                   request->reason()),
                 response);
}

grpc::Status AdminHandler::SetAgreement(grpc::ServerContext* context,
                                        const v1::SetAgreementRequest* request,
                                        v1::Party* response) {
  return Respond(admin_.SetAgreement(peers_.Identify(*context), request->code(),
                                     request->in_force(), request->reason()),
                 response);
}

grpc::Status AdminHandler::SuspendParty(grpc::ServerContext* context,
                                        const v1::SuspendPartyRequest* request,
                                        v1::Party* response) {
  return Respond(admin_.SuspendParty(peers_.Identify(*context), request->code(),
                                     request->reason()),
                 response);
}

grpc::Status AdminHandler::ReinstateParty(
    grpc::ServerContext* context, const v1::ReinstatePartyRequest* request,
    v1::Party* response) {
  return Respond(admin_.ReinstateParty(peers_.Identify(*context),
                                       request->code(), request->reason()),
                 response);
}

grpc::Status AdminHandler::ListParties(
    grpc::ServerContext* context, const v1::ListPartiesRequest* /*request*/,
    v1::ListPartiesResponse* response) {
  absl::StatusOr<std::vector<Party>> parties =
      admin_.ListParties(peers_.Identify(*context));
  if (!parties.ok()) return ToGrpcStatus(parties.status());
  for (const Party& party : *parties) ToProto(party, response->add_parties());
  return grpc::Status::OK;
}

grpc::Status AdminHandler::GetParty(grpc::ServerContext* context,
                                    const v1::GetPartyRequest* request,
                                    v1::PartyDetails* response) {
  absl::StatusOr<PartyDetails> details =
      admin_.GetParty(peers_.Identify(*context), request->code());
  if (!details.ok()) return ToGrpcStatus(details.status());
  ToProto(*details, response);
  return grpc::Status::OK;
}

grpc::Status AdminHandler::RevokeCertificate(
    grpc::ServerContext* context, const v1::RevokeCertificateRequest* request,
    v1::Revocation* response) {
  RevokeCommand command;
  command.serial = request->serial();
  command.user = request->user();
  command.reason = request->reason();
  absl::StatusOr<Revocation> revocation =
      admin_.RevokeCertificate(peers_.Identify(*context), command);
  if (!revocation.ok()) return ToGrpcStatus(revocation.status());
  ToProto(*revocation, response);
  return grpc::Status::OK;
}

grpc::Status AdminHandler::ListRevocations(
    grpc::ServerContext* context, const v1::ListRevocationsRequest* /*request*/,
    v1::ListRevocationsResponse* response) {
  absl::StatusOr<std::vector<Revocation>> revocations =
      admin_.ListRevocations(peers_.Identify(*context));
  if (!revocations.ok()) return ToGrpcStatus(revocations.status());
  for (const Revocation& r : *revocations) {
    ToProto(r, response->add_revocations());
  }
  return grpc::Status::OK;
}

}  // namespace liaison::server

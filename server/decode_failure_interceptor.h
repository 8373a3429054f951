// Audits the calls that gRPC refuses before any handler runs because the
// request cannot be decoded (for example a string field that is not UTF-8),
// and gives them INVALID_ARGUMENT instead of gRPC's INTERNAL. Without it such
// calls would leave no trace in the audit log.
#ifndef LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_
#define LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "domain/call_gate.h"
#include "server/peer_identity.h"

namespace liaison::server {

class DecodeFailureInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // Both must outlive the server.
  DecodeFailureInterceptorFactory(CallGate& gate, PeerIdentifier& peers)
      : gate_(gate), peers_(peers) {}

  // grpc::experimental::ServerInterceptorFactoryInterface
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallGate& gate_;
  PeerIdentifier& peers_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_

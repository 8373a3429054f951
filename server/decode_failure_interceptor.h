// Audits the calls that gRPC refuses before any handler runs because the
// request cannot be decoded (for example a string field that is not UTF-8),
// and gives them INVALID_ARGUMENT instead of gRPC's INTERNAL. Without it such
// calls would leave no trace in the audit log.
#ifndef LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_
#define LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include "common/worker_pool.h"
#include "domain/call_gate.h"
#include "server/peer_identity.h"

namespace liaison::server {

class DecodeFailureInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // All must outlive the server. The refusal is recorded without holding
  // gRPC's thread: on `waiting_pool` if the store's reads and commits wait
  // (Store::ServesWithoutWaiting is false), else through
  // CallGate::RejectUndecodableAsync (`waiting_pool` null).
  DecodeFailureInterceptorFactory(CallGate& gate, PeerIdentifier& peers,
                                  WorkerPool* waiting_pool)
      : gate_(gate), peers_(peers), waiting_pool_(waiting_pool) {}

  // grpc::experimental::ServerInterceptorFactoryInterface
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  CallGate& gate_;
  PeerIdentifier& peers_;
  WorkerPool* const waiting_pool_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_

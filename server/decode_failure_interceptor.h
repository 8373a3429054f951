// Audits the calls that gRPC refuses before any handler runs because the
// request cannot be decoded (for example a string field that is not UTF-8),
// and gives them INVALID_ARGUMENT instead of gRPC's INTERNAL. Without it such
// calls would leave no trace in the audit log.
#ifndef LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_
#define LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_

#include <grpcpp/support/server_interceptor.h>

#include <string>

#include "domain/exchange.h"

namespace liaison::server {

class DecodeFailureInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `exchange` must outlive the server.
  DecodeFailureInterceptorFactory(ExchangeService& exchange,
                                  std::string trust_domain)
      : exchange_(exchange), trust_domain_(std::move(trust_domain)) {}

  // grpc::experimental::ServerInterceptorFactoryInterface
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ExchangeService& exchange_;
  const std::string trust_domain_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_DECODE_FAILURE_INTERCEPTOR_H_

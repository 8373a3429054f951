// Who is calling, read only from the verified peer certificate in the gRPC
// auth context (never from request fields or metadata).
#ifndef LIAISON_SERVER_PEER_IDENTITY_H_
#define LIAISON_SERVER_PEER_IDENTITY_H_

#include <grpcpp/server_context.h>

#include "absl/strings/string_view.h"
#include "domain/exchange.h"

namespace liaison::server {

// The caller's identity, or UNAUTHENTICATED saying why the certificate does
// not carry one for `trust_domain`.
Caller IdentifyPeer(const grpc::ServerContextBase& context,
                    absl::string_view trust_domain);

}  // namespace liaison::server

#endif  // LIAISON_SERVER_PEER_IDENTITY_H_

// Building mutual-TLS credentials from PEM files, for server and client.
#ifndef LIAISON_COMMON_TLS_H_
#define LIAISON_COMMON_TLS_H_

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace liaison {

struct TlsFiles {
  std::string cert;  // PEM certificate (chain) of this end.
  std::string key;   // PEM private key of `cert`.
  std::string ca;    // PEM CA bundle that the other end's certificate must
                     // chain to.
};

// Server credentials that require and verify a client certificate issued by
// `files.ca` (TLS 1.2 or later, gRPC's default minimum). The three files are
// checked now, then watched: every `reload_interval` (at least a second)
// they are read again, so that a renewed server certificate or a new CA
// bundle applies to new connections without a restart. Replace a file by
// renaming a complete new one over it. Errors: NOT_FOUND /
// PERMISSION_DENIED for unreadable files, INVALID_ARGUMENT for files that are
// not PEM.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, absl::Duration reload_interval = absl::Minutes(1));

// Channel credentials that present `files.cert` and verify the server against
// `files.ca`. Errors as MakeServerCredentials.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& files);

}  // namespace liaison

#endif  // LIAISON_COMMON_TLS_H_

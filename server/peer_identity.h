// Who is calling, read only from the verified peer certificate in the gRPC
// auth context (never from request fields or metadata), and whether the CA
// has revoked that certificate (an optional CRL file).
#ifndef LIAISON_SERVER_PEER_IDENTITY_H_
#define LIAISON_SERVER_PEER_IDENTITY_H_

#include <grpcpp/server_context.h>
#include <sys/types.h>

#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "domain/call_gate.h"

namespace liaison::server {

// Thread-safe.
class PeerIdentifier {
 public:
  // Without a CRL.
  explicit PeerIdentifier(std::string trust_domain);

  // With the CRL file `crl_file` (PEM, signed by a CA in `ca_file`), read
  // now and again whenever the file changes. INVALID_ARGUMENT if it cannot
  // be read or verified now.
  static absl::StatusOr<std::unique_ptr<PeerIdentifier>> WithCrl(
      std::string trust_domain, std::string crl_file, std::string ca_file);

  // The caller's identity (with its certificate serial), or UNAUTHENTICATED
  // saying why the certificate does not carry one for this trust domain or
  // why it is refused (revoked at the CA).
  Caller Identify(const grpc::ServerContextBase& context);

 private:
  PeerIdentifier(std::string trust_domain, std::string crl_file,
                 std::string ca_file);

  // The identity a verified certificate carries (revoked_by_ca unset).
  // Parsing a certificate costs more than the rest of a small call, so the
  // identities of recent certificates are kept, by their PEM text.
  absl::StatusOr<Identity> FromCertificate(absl::string_view pem)
      ABSL_LOCKS_EXCLUDED(cache_mu_);

  // Rereads the CRL if the file changed; keeps the last good one if the new
  // one is unusable.
  void RefreshCrl() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string trust_domain_;
  const std::string crl_file_;
  const std::string ca_file_;
  absl::Mutex mu_;
  std::set<std::string> revoked_serials_ ABSL_GUARDED_BY(mu_);
  timespec crl_mtime_ ABSL_GUARDED_BY(mu_) = {0, 0};

  // Certificates in use at once are far fewer; a full cache starts afresh.
  static constexpr size_t kMaxKnown = 4096;
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, Identity> known_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_PEER_IDENTITY_H_

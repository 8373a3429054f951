#include "server/peer_identity.h"

#include <grpc/grpc_security_constants.h>

#include <string>

#include "common/status_macros.h"
#include "common/x509.h"

namespace liaison::server {

Caller IdentifyPeer(const grpc::ServerContextBase& context,
                    absl::string_view trust_domain) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  const std::vector<grpc::string_ref> pems =
      auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  LIAISON_ASSIGN_OR_RETURN(CertificateFields fields,
                           ParseCertificatePem(absl::string_view(
                               pems.front().data(), pems.front().size())));
  return IdentityFromUriSans(fields.uri_sans, trust_domain);
}

}  // namespace liaison::server

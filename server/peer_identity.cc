#include "server/peer_identity.h"

#include <grpc/grpc_security_constants.h>
#include <sys/stat.h>

#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/x509.h"

namespace liaison::server {
namespace {

absl::StatusOr<std::set<std::string>> LoadCrl(const std::string& crl_file,
                                              const std::string& ca_file) {
  LIAISON_ASSIGN_OR_RETURN(std::string crl, ReadFile(crl_file));
  LIAISON_ASSIGN_OR_RETURN(std::string ca, ReadFile(ca_file));
  absl::StatusOr<std::set<std::string>> serials = RevokedSerials(crl, ca);
  if (!serials.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--crl=", crl_file, ": ", serials.status().message()));
  }
  return serials;
}

}  // namespace

PeerIdentifier::PeerIdentifier(std::string trust_domain)
    : trust_domain_(std::move(trust_domain)) {}

absl::StatusOr<std::unique_ptr<PeerIdentifier>> PeerIdentifier::WithCrl(
    std::string trust_domain, std::string crl_file, std::string ca_file) {
  // The time is taken before reading, so a file replaced meanwhile is
  // reread on the first call.
  struct stat st;
  const bool stat_ok = stat(crl_file.c_str(), &st) == 0;
  LIAISON_ASSIGN_OR_RETURN(std::set<std::string> serials,
                           LoadCrl(crl_file, ca_file));
  std::unique_ptr<PeerIdentifier> identifier(new PeerIdentifier(
      std::move(trust_domain), std::move(crl_file), std::move(ca_file)));
  absl::MutexLock lock(&identifier->mu_);
  identifier->revoked_serials_ = std::move(serials);
  if (stat_ok) identifier->crl_mtime_ = st.st_mtim;
  return identifier;
}

PeerIdentifier::PeerIdentifier(std::string trust_domain, std::string crl_file,
                               std::string ca_file)
    : trust_domain_(std::move(trust_domain)),
      crl_file_(std::move(crl_file)),
      ca_file_(std::move(ca_file)) {}

void PeerIdentifier::RefreshCrl() {
  struct stat st;
  if (stat(crl_file_.c_str(), &st) != 0) return;
  if (st.st_mtim.tv_sec == crl_mtime_.tv_sec &&
      st.st_mtim.tv_nsec == crl_mtime_.tv_nsec) {
    return;
  }
  // Remembered even if the new file is unusable: it is not reread (and the
  // error not repeated) until it changes again.
  crl_mtime_ = st.st_mtim;
  absl::StatusOr<std::set<std::string>> serials = LoadCrl(crl_file_, ca_file_);
  if (!serials.ok()) {
    std::cerr << "liaisond: keeping the previous CRL: " << serials.status()
              << "\n";
    return;
  }
  revoked_serials_ = *std::move(serials);
}

Caller PeerIdentifier::Identify(const grpc::ServerContextBase& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  const std::vector<grpc::string_ref> pems =
      auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  const absl::string_view pem(pems.front().data(), pems.front().size());
  LIAISON_ASSIGN_OR_RETURN(Identity identity, FromCertificate(pem));
  if (!crl_file_.empty()) {
    absl::MutexLock lock(&mu_);
    RefreshCrl();
    // Judged by the policy, so the refusal is recorded with who it was.
    identity.revoked_by_ca = revoked_serials_.count(identity.serial_hex) > 0;
  }
  return identity;
}

absl::StatusOr<Identity> PeerIdentifier::FromCertificate(
    absl::string_view pem) {
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = known_.find(pem);
    if (it != known_.end()) return it->second;
  }
  LIAISON_ASSIGN_OR_RETURN(CertificateFields fields, ParseCertificatePem(pem));
  LIAISON_ASSIGN_OR_RETURN(Identity identity,
                           IdentityFromUriSans(fields.uri_sans, trust_domain_));
  identity.serial_hex = fields.serial_hex;
  absl::MutexLock lock(&cache_mu_);
  if (known_.size() >= kMaxKnown) known_.clear();
  known_.emplace(pem, identity);
  return identity;
}

}  // namespace liaison::server

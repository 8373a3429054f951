#include "common/tls.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace liaison {
namespace {

struct PemMaterial {
  std::string cert;
  std::string key;
  std::string ca;
};

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view what,
                                    absl::string_view marker) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, " file given"));
  }
  LIAISON_ASSIGN_OR_RETURN(std::string pem, ReadFile(path, 1 << 20));
  if (!absl::StrContains(pem, "-----BEGIN ") ||
      !absl::StrContains(pem, marker)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " file ", path, " does not hold a PEM ", marker));
  }
  return pem;
}

absl::StatusOr<PemMaterial> ReadMaterial(const TlsFiles& files) {
  PemMaterial m;
  LIAISON_ASSIGN_OR_RETURN(m.cert,
                           ReadPem(files.cert, "certificate", "CERTIFICATE"));
  LIAISON_ASSIGN_OR_RETURN(m.key, ReadPem(files.key, "key", "PRIVATE KEY"));
  LIAISON_ASSIGN_OR_RETURN(m.ca, ReadPem(files.ca, "CA", "CERTIFICATE"));
  return m;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const TlsFiles& files, absl::Duration reload_interval) {
  // Read once now, for a clear error at startup; gRPC's watcher reads them
  // from then on.
  LIAISON_RETURN_IF_ERROR(ReadMaterial(files).status());
  const int64_t seconds =
      std::max<int64_t>(1, absl::ToInt64Seconds(reload_interval));
  auto provider =
      std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
          files.key, files.cert, files.ca, static_cast<unsigned int>(seconds));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsFiles& files) {
  LIAISON_ASSIGN_OR_RETURN(PemMaterial m, ReadMaterial(files));
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = m.ca;
  options.pem_private_key = m.key;
  options.pem_cert_chain = m.cert;
  return grpc::SslCredentials(options);
}

}  // namespace liaison

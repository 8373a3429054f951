// Reading the fields Liaison needs from an X.509 certificate (OpenSSL).
#ifndef LIAISON_COMMON_X509_H_
#define LIAISON_COMMON_X509_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison {

struct CertificateFields {
  // Every URI entry of the subjectAltName extension, in order.
  std::vector<std::string> uri_sans;
};

// Parses one PEM certificate. It does not verify anything: callers pass only
// certificates that the TLS stack already verified. UNAUTHENTICATED if the
// PEM cannot be parsed.
absl::StatusOr<CertificateFields> ParseCertificatePem(absl::string_view pem);

}  // namespace liaison

#endif  // LIAISON_COMMON_X509_H_

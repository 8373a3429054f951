// Reading the fields Liaison needs from an X.509 certificate (OpenSSL).
#ifndef LIAISON_COMMON_X509_H_
#define LIAISON_COMMON_X509_H_

#include <openssl/types.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison {

struct CertificateFields {
  // Every URI entry of the subjectAltName extension, in order.
  std::vector<std::string> uri_sans;
  // Serial number as upper-case hex without leading zeros (`openssl x509
  // -serial` prints the same digits, padded to whole bytes).
  std::string serial_hex;
};

// Upper-case hex of a certificate serial without leading zeros, as in
// CertificateFields::serial_hex; empty on allocation failure.
std::string SerialHex(const ASN1_INTEGER* serial);

// Parses one PEM certificate. It does not verify anything: callers pass only
// certificates that the TLS stack already verified. UNAUTHENTICATED if the
// PEM cannot be parsed.
absl::StatusOr<CertificateFields> ParseCertificatePem(absl::string_view pem);

// The serial numbers (as SerialHex) revoked by the PEM CRLs in `crl_pem`,
// each of which must be signed by one of the PEM certificates in `ca_pem`.
// INVALID_ARGUMENT if a CRL cannot be parsed or its signature does not
// verify; an expired CRL is still honoured (revocations never lapse).
absl::StatusOr<std::set<std::string>> RevokedSerials(absl::string_view crl_pem,
                                                     absl::string_view ca_pem);

}  // namespace liaison

#endif  // LIAISON_COMMON_X509_H_

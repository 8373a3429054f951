#include "common/x509.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace liaison {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

struct CrlFree {
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};
struct BignumFree {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};

}  // namespace

std::string SerialHex(const ASN1_INTEGER* serial) {
  std::unique_ptr<BIGNUM, BignumFree> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (bn == nullptr) return "";
  char* hex = BN_bn2hex(bn.get());
  if (hex == nullptr) return "";
  std::string out = hex;
  OPENSSL_free(hex);
  // BN_bn2hex prints whole bytes ("0D..."); serials are compared without
  // leading zeros, as admins may type them either way.
  const size_t first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

absl::StatusOr<CertificateFields> ParseCertificatePem(absl::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory");
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    return absl::UnauthenticatedError("peer certificate cannot be parsed");
  }

  CertificateFields fields;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
          cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
      if (name->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
      fields.uri_sans.emplace_back(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
          static_cast<size_t>(ASN1_STRING_length(uri)));
    }
  }

  fields.serial_hex = SerialHex(X509_get0_serialNumber(cert.get()));
  if (fields.serial_hex.empty() || fields.serial_hex[0] == '-') {
    // Revocation by serial could not apply to it: refuse rather than fail
    // open.
    return absl::UnauthenticatedError(
        "peer certificate has no usable serial number");
  }
  return fields;
}

absl::StatusOr<std::set<std::string>> RevokedSerials(absl::string_view crl_pem,
                                                     absl::string_view ca_pem) {
  std::vector<std::unique_ptr<X509, X509Free>> cas;
  {
    std::unique_ptr<BIO, BioFree> bio(
        BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
    while (X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      cas.emplace_back(ca);
    }
  }
  if (cas.empty()) {
    return absl::InvalidArgumentError("no CA certificate to check CRLs with");
  }
  std::set<std::string> serials;
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(crl_pem.data(), static_cast<int>(crl_pem.size())));
  int count = 0;
  while (X509_CRL* raw =
             PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    std::unique_ptr<X509_CRL, CrlFree> crl(raw);
    ++count;
    bool verified = false;
    for (const auto& ca : cas) {
      EVP_PKEY* key = X509_get0_pubkey(ca.get());
      if (key != nullptr &&
          X509_NAME_cmp(X509_CRL_get_issuer(crl.get()),
                        X509_get_subject_name(ca.get())) == 0 &&
          X509_CRL_verify(crl.get(), key) == 1) {
        verified = true;
        break;
      }
    }
    if (!verified) {
      return absl::InvalidArgumentError(
          absl::StrCat("CRL ", count, " is not signed by the configured CA"));
    }
    STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(crl.get());
    for (int i = 0; i < sk_X509_REVOKED_num(revoked); ++i) {
      serials.insert(SerialHex(
          X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i))));
    }
  }
  ERR_clear_error();  // The reads above end on a "no more PEM" error.
  if (count == 0) {
    return absl::InvalidArgumentError("no PEM CRL found");
  }
  return serials;
}

}  // namespace liaison

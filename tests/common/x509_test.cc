#include "common/x509.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "tests/testing/test_pki.h"

namespace liaison {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestPki;

// What `openssl x509 -serial` says, without "serial=" and leading zeros.
std::string OpensslSerial(const std::string& cert) {
  std::string out;
  FILE* pipe = popen(
      absl::StrCat("openssl x509 -noout -serial -in ", cert).c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  pclose(pipe);
  const size_t eq = out.find('=');
  if (eq == std::string::npos) return "no serial in: " + out;
  out = out.substr(eq + 1);
  out = out.substr(0, out.find('\n'));
  const size_t first = out.find_first_not_of('0');
  return first == std::string::npos ? "0" : out.substr(first);
}

TEST(X509Test, ReadsUriSansAndSerial) {
  TestPki& pki = TestPki::Shared();
  // Leading zeros are covered below with constructed serials; here the
  // digits must match openssl's for real certificates.
  for (int i = 0; i < 3; ++i) {
    const testing::CertPaths cert =
        pki.Issue("RO", "liaison-officer", absl::StrCat("u", i));
    absl::StatusOr<CertificateFields> fields =
        ParseCertificatePem(*ReadFile(cert.cert));
    ASSERT_TRUE(fields.ok()) << fields.status();
    EXPECT_THAT(fields->uri_sans,
                ElementsAre(absl::StrCat(
                    "spiffe://selec.test/party/RO/liaison-officer/u", i)));
    EXPECT_EQ(fields->serial_hex, OpensslSerial(cert.cert));
    EXPECT_NE(fields->serial_hex[0], '0');
  }
}

TEST(X509Test, SerialHexDropsLeadingZeros) {
  for (const auto& [hex, expected] :
       std::vector<std::pair<const char*, const char*>>{{"0DECA7", "DECA7"},
                                                        {"00FF", "FF"},
                                                        {"ABCDEF", "ABCDEF"},
                                                        {"0", "0"}}) {
    SCOPED_TRACE(hex);
    BIGNUM* bn = nullptr;
    ASSERT_GT(BN_hex2bn(&bn, hex), 0);
    ASN1_INTEGER* serial = BN_to_ASN1_INTEGER(bn, nullptr);
    EXPECT_EQ(SerialHex(serial), expected);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
  }
}

TEST(X509Test, RejectsGarbage) {
  EXPECT_EQ(ParseCertificatePem("not a certificate").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(X509Test, CrlSerialsNeedTheCaSignature) {
  TestPki& pki = TestPki::Shared();
  const testing::CertPaths cert = pki.Issue("HU", "focal-point", "crl");
  testing::RunOrDie(absl::StrCat("bash ", testing::SourcePath("certs/crl.sh"),
                                 " ", pki.dir(), " ", cert.cert));
  const std::string crl = *ReadFile(absl::StrCat(pki.dir(), "/crl.pem"));
  absl::StatusOr<std::set<std::string>> serials =
      RevokedSerials(crl, *ReadFile(pki.ca()));
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_THAT(*serials, ElementsAre(OpensslSerial(cert.cert)));

  std::unique_ptr<TestPki> other = TestPki::Create("selec.test");
  absl::StatusOr<std::set<std::string>> foreign =
      RevokedSerials(crl, *ReadFile(other->ca()));
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(foreign.status().message(), HasSubstr("not signed"));
  EXPECT_EQ(RevokedSerials("", *ReadFile(pki.ca())).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace liaison

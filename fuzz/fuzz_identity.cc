// Fuzz target: what a client certificate brings (URI SANs, the PEM the
// server re-reads for serials), and the signed notes and checkpoints a
// verifier reads from files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "common/identity.h"
#include "common/signed_note.h"
#include "common/x509.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)liaison::ParseSpiffeId(input, "selec.test");
  const std::vector<std::string> sans = absl::StrSplit(input, '\n');
  (void)liaison::IdentityFromUriSans(sans, "selec.test");
  (void)liaison::ParseCertificatePem(input);
  (void)liaison::ParseCheckpoint(input);
  (void)liaison::NoteVerifier::FromVerifierKey(input);
  (void)liaison::NoteSigner::FromPrivateKey(input);
  static const liaison::NoteVerifier* verifier = [] {
    static liaison::NoteVerifier v = *liaison::NoteVerifier::FromVerifierKey(
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
    return &v;
  }();
  (void)verifier->Open(input);
  return 0;
}

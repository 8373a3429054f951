// Fuzz target: `liaison audit verify` reading an export file. Each input is
// read twice: as a whole file (the header fuzzed), and as the entry lines
// after a header whose checkpoint is validly signed (so that the entries'
// parsing, hashing and diagnosis are reached).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "client/audit_verify.h"
#include "common/sha256.h"
#include "common/signed_note.h"

namespace {

// The published test key of golang.org/x/mod/sumdb/note.
constexpr char kKey[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+"
    "Y7hfZx09iUvxdXHKDFz";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const liaison::NoteSigner* signer =
      new liaison::NoteSigner(*liaison::NoteSigner::FromPrivateKey(kKey));
  static const liaison::NoteVerifier* verifier = new liaison::NoteVerifier(
      *liaison::NoteVerifier::FromVerifierKey(signer->VerifierKey()));
  const std::string input(reinterpret_cast<const char*>(data), size);
  {
    std::istringstream in(input);
    (void)liaison::client::VerifyExport(in, *verifier, {});
  }
  const size_t lines = std::count(input.begin(), input.end(), '\n') + 1;
  liaison::CheckpointBody body{
      "PeterNeumann", lines, liaison::Sha256(input), {}};
  liaison::v1::ExportHeader header;
  header.set_format(std::string(liaison::client::kExportFormat));
  header.set_scope(size > 0 && data[0] % 2 == 1 ? "party:RO" : "full");
  header.mutable_checkpoint()->set_note(
      *signer->Sign(liaison::FormatCheckpoint(body)));
  std::istringstream in(*liaison::client::ExportLine(header) + "\n" + input);
  (void)liaison::client::VerifyExport(in, *verifier, {});
  return 0;
}

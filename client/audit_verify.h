// Checking the audit log without the server (design §6): signed
// checkpoints, inclusion and consistency proofs, and exports. Nothing here
// talks to a server or a database; what the server sent is only data.
//
// The export file is JSON Lines: an ExportHeader, then one ExportedEntry
// per line (liaison/v1/audit.proto, proto3 JSON mapping). The format is in
// docs/audit-log-format.md.
#ifndef LIAISON_CLIENT_AUDIT_VERIFY_H_
#define LIAISON_CLIENT_AUDIT_VERIFY_H_

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/signed_note.h"
#include "domain/model.h"
#include "liaison/v1/audit.pb.h"

namespace liaison::client {

inline constexpr absl::string_view kExportFormat = "liaison-audit-export/1";

// The entry an exported record stands for, to hash its leaf from.
// INVALID_ARGUMENT if it cannot be one (unknown outcome, a time finer than
// microseconds).
absl::StatusOr<AuditEntry> EntryOf(const v1::AuditRecord& record);

// The leaf hash of `record`'s fields, as the log hashes them.
absl::StatusOr<std::string> LeafHashOf(const v1::AuditRecord& record);

// A checkpoint whose signature and body were checked.
struct CheckedCheckpoint {
  std::string note;
  CheckpointBody body;
};

// Checks a signed checkpoint note with `verifier`: the signature, the body's
// format, and that its origin is the key's name. PERMISSION_DENIED for a
// missing or bad signature, INVALID_ARGUMENT for a malformed note.
absl::StatusOr<CheckedCheckpoint> CheckCheckpoint(absl::string_view note,
                                                  const NoteVerifier& verifier);

// Does `proof` show `record` at its position in `checkpoint`'s tree?
// FAILED_PRECONDITION saying why not.
absl::Status CheckInclusion(const v1::AuditRecord& record,
                            const std::vector<std::string>& proof,
                            const CheckedCheckpoint& checkpoint);

// Does `proof` show that `now` extends `old`? FAILED_PRECONDITION saying
// why not (including a log that shrank, or one root for two trees of the
// same size).
absl::Status CheckConsistency(const CheckedCheckpoint& old,
                              const CheckedCheckpoint& now,
                              const std::vector<std::string>& proof);

struct ExportReport {
  bool ok = false;
  std::string scope;    // "full" or "party:CODE".
  int64_t entries = 0;  // Entry lines read.
  CheckedCheckpoint checkpoint;
  int checkpoints_checked = 0;  // Earlier and kept checkpoints matched.
  // What is wrong, each naming the entry or checkpoint; empty when ok.
  std::vector<std::string> problems;
};

// Reads an export from `in` and checks it: the checkpoint's signature; for
// a full export that the entries, hashed from their fields, reproduce the
// signed root and every earlier checkpoint's root (and each of `kept`, the
// notes of checkpoints the verifier kept itself); for a party's export each
// entry's inclusion proof. When the roots differ, names the entries that do
// not match the leaves the signed tree holds.
ExportReport VerifyExport(std::istream& in, const NoteVerifier& verifier,
                          const std::vector<std::string>& kept);

// One line of an export file (no newline).
absl::StatusOr<std::string> ExportLine(const google::protobuf::Message& line);

}  // namespace liaison::client

#endif  // LIAISON_CLIENT_AUDIT_VERIFY_H_

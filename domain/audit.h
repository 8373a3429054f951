// The verifiable audit log as callers see it (design §6): signed
// checkpoints of the log's Merkle tree, entries, inclusion and consistency
// proofs, exports, and access receipts for the owners of messages.
//
// HQ auditors see the whole log; every other caller sees the entries of its
// own party's callers and the accesses to messages its party owns. Every
// call is itself audited.
#ifndef LIAISON_DOMAIN_AUDIT_H_
#define LIAISON_DOMAIN_AUDIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/signed_note.h"
#include "domain/audit_log.h"
#include "domain/call_gate.h"
#include "domain/model.h"
#include "domain/store.h"

namespace liaison {

struct CheckpointOptions {
  // A checkpoint is signed once the log has grown and either this long has
  // passed since the latest one, or `max_entries` entries were appended.
  absl::Duration interval = absl::Seconds(10);
  int64_t max_entries = 1000;
};

// Signs checkpoint notes. Thread-safe.
class CheckpointSigner {
 public:
  virtual ~CheckpointSigner() = default;
  // The key's name, which is also the checkpoints' origin line.
  virtual const std::string& name() const = 0;
  // "name+keyid+base64", for verifiers.
  virtual std::string VerifierKey() const = 0;
  // The signed note of `text` (a checkpoint body).
  virtual absl::StatusOr<std::string> Sign(absl::string_view text) const = 0;
};

// The production signer: an Ed25519 note key (C2SP signed-note).
std::unique_ptr<CheckpointSigner> MakeNoteCheckpointSigner(NoteSigner signer);

// Signs checkpoints of the audit tree with the server's key. Thread-safe.
class Checkpointer {
 public:
  // `store` and `clock` must outlive the checkpointer.
  Checkpointer(Store& store, std::unique_ptr<CheckpointSigner> signer,
               const Clock& clock, CheckpointOptions options);

  // The latest checkpoint, signed now if the log has grown since (or there
  // is none). Before signing, checks that the stored tree still has the
  // root of the latest checkpoint: DATA_LOSS if the log was altered.
  // FAILED_PRECONDITION if the log is empty.
  absl::StatusOr<AuditCheckpoint> SignNow();

  // Signs if the options say one is due; returns the new checkpoint if so.
  absl::StatusOr<std::optional<AuditCheckpoint>> SignIfDue();

  // The latest checkpoint covering at least `size` entries: the stored one
  // if it does, else one signed now.
  absl::StatusOr<AuditCheckpoint> Covering(int64_t size);

  // The verifier key of the signing key ("name+keyid+base64").
  std::string VerifierKey() const { return signer_->VerifierKey(); }
  const std::string& origin() const { return signer_->name(); }

 private:
  absl::StatusOr<AuditCheckpoint> SignLocked()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // DATA_LOSS unless the stored tree still has `latest`'s root.
  absl::Status CheckStillSigned(const AuditCheckpoint& latest)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store& store_;
  const std::unique_ptr<CheckpointSigner> signer_;
  const Clock& clock_;
  const CheckpointOptions options_;
  absl::Mutex mu_;  // One signer at a time: checkpoints only move forward.
};

// The root and proofs of the stored tree (O(log n) node reads).
absl::StatusOr<std::string> StoredRoot(Store& store, int64_t size);
absl::StatusOr<std::vector<std::string>> StoredInclusionProof(Store& store,
                                                              int64_t seq,
                                                              int64_t size);

// An entry with the leaf hash the tree holds for it.
struct RecordedEntry {
  AuditEntry entry;
  std::string leaf_hash;
  // Set where an inclusion proof was asked for (exports of a party's
  // entries, access receipts): the audit path in the export's tree.
  std::vector<std::string> proof;
};

struct EntryPage {
  std::vector<RecordedEntry> entries;
  int64_t next_seq = 0;  // 0 when there are no more.
  int64_t tree_size = 0;
};

struct EntryProof {
  RecordedEntry entry;
  int64_t tree_size = 0;
  std::vector<std::string> hashes;
  std::optional<AuditCheckpoint> checkpoint;
};

// What an export covers: its checkpoint, earlier ones, and whose entries
// ("" for the whole log).
struct ExportPlan {
  std::string party;
  AuditCheckpoint checkpoint;
  // At most kMaxEarlierCheckpoints, spread evenly over those signed before
  // (the first and the latest always among them).
  std::vector<AuditCheckpoint> earlier;
  Call call;  // The export call, recorded again if the export fails.
};

struct AccessReceipts {
  AuditCheckpoint checkpoint;
  // Every call that touched the message or a copy passed on from it (and
  // from those copies), oldest first, each with its proof.
  std::vector<RecordedEntry> accesses;
  // The copies found, in the order found.
  std::vector<std::string> copies;
  // Set when more than kMaxAccesses calls touched them; the oldest are
  // listed.
  bool truncated = false;
};

class AuditService {
 public:
  static constexpr int kDefaultPageSize = 100;
  static constexpr int kMaxPageSize = 1000;
  static constexpr size_t kMaxEarlierCheckpoints = 256;
  static constexpr size_t kMaxAccesses = 2000;

  // All references must outlive the service.
  AuditService(Store& store, AuditLog& audit, const Clock& clock,
               Checkpointer& checkpointer)
      : store_(store),
        gate_(store, audit, clock),
        checkpointer_(checkpointer) {}

  // The latest checkpoint; with `fresh`, one of the log as it is now.
  absl::StatusOr<AuditCheckpoint> GetCheckpoint(const Caller& caller,
                                                bool fresh);

  // Entries from_seq..to_seq (0: no bound), at most `page_size` (0: the
  // default). Only the caller's party's entries unless it is an HQ
  // auditor. INVALID_ARGUMENT for a negative or reversed range or page size.
  absl::StatusOr<EntryPage> ListEntries(const Caller& caller, int64_t from_seq,
                                        int64_t to_seq, int page_size);

  // The audit path of entry `seq` in the tree of `tree_size` entries (0: the
  // latest checkpoint, signed now if it does not cover the entry).
  // INVALID_ARGUMENT if out of range; PERMISSION_DENIED for another party's
  // entry, unless the caller is an HQ auditor.
  absl::StatusOr<EntryProof> GetInclusionProof(const Caller& caller,
                                               int64_t seq, int64_t tree_size);

  // INVALID_ARGUMENT unless 0 < old_size <= new_size <= the log's size.
  absl::StatusOr<std::vector<std::string>> GetConsistencyProof(
      const Caller& caller, int64_t old_size, int64_t new_size);

  // Starts an export up to the checkpoint of `tree_size` (0: signed now):
  // the whole log for HQ auditors, else the caller's party's entries.
  // INVALID_ARGUMENT if no checkpoint has that size. The call is audited
  // here; ExportPage reads on.
  absl::StatusOr<ExportPlan> BeginExport(const Caller& caller,
                                         int64_t tree_size);
  // Entries of `plan` from `from_seq`, at most `limit`; for a party's
  // export each with its inclusion proof. next_seq 0 at the end.
  absl::StatusOr<EntryPage> ExportPage(const ExportPlan& plan, int64_t from_seq,
                                       int limit);
  // Records an export that did not complete (the caller went away, a read
  // failed) after BeginExport recorded it as allowed.
  void ExportFailed(ExportPlan& plan, const absl::Status& why);

  // Every entry that touched `message_id` or a copy passed on from it, each
  // with its inclusion proof against one checkpoint covering them all. For
  // the party that owns the message (its sender, or the original's sender
  // for a copy passed on) and HQ auditors. The listing proves that each
  // access is in the signed log, not that none is missing (that is what a
  // full export proves). INVALID_ARGUMENT for a malformed id; NOT_FOUND for a
  // missing message or one the caller's party does not own.
  absl::StatusOr<AccessReceipts> ListAccesses(const Caller& caller,
                                              const std::string& message_id);

  std::string VerifierKey() const { return checkpointer_.VerifierKey(); }

  // Applies `limiter` (calls per second per user) to this service's calls.
  void set_rate_limiter(RateLimiter* limiter) {
    gate_.set_rate_limiter(limiter);
  }

 private:
  // Entries as `query` says with their leaf hashes.
  absl::StatusOr<std::vector<RecordedEntry>> Recorded(const AuditQuery& query);

  Store& store_;
  CallGate gate_;
  Checkpointer& checkpointer_;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_AUDIT_H_

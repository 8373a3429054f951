#include "domain/audit.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "domain/merkle.h"
#include "domain/message_id.h"
#include "domain/policy.h"

namespace liaison {
namespace {

// Reads the stored tree's nodes.
auto NodesOf(Store& store) {
  return [&store](int level, uint64_t index) {
    return store.ReadAuditNode(level, static_cast<int64_t>(index));
  };
}

absl::Time Micros(absl::Time t) {
  return absl::FromUnixMicros(absl::ToUnixMicros(t));
}

std::string CheckpointResource(int64_t size) {
  return absl::StrCat("checkpoint:", size);
}

class NoteCheckpointSigner final : public CheckpointSigner {
 public:
  explicit NoteCheckpointSigner(NoteSigner signer)
      : signer_(std::move(signer)) {}

  // liaison::CheckpointSigner
  const std::string& name() const override { return signer_.name(); }
  std::string VerifierKey() const override { return signer_.VerifierKey(); }
  absl::StatusOr<std::string> Sign(absl::string_view text) const override {
    return signer_.Sign(text);
  }

 private:
  const NoteSigner signer_;
};

}  // namespace

std::unique_ptr<CheckpointSigner> MakeNoteCheckpointSigner(NoteSigner signer) {
  return std::make_unique<NoteCheckpointSigner>(std::move(signer));
}

absl::StatusOr<std::string> StoredRoot(Store& store, int64_t size) {
  return merkle::RootHash(static_cast<uint64_t>(size), NodesOf(store));
}

absl::StatusOr<std::vector<std::string>> StoredInclusionProof(Store& store,
                                                              int64_t seq,
                                                              int64_t size) {
  return merkle::InclusionProof(static_cast<uint64_t>(seq - 1),
                                static_cast<uint64_t>(size), NodesOf(store));
}

Checkpointer::Checkpointer(Store& store,
                           std::unique_ptr<CheckpointSigner> signer,
                           const Clock& clock, CheckpointOptions options)
    : store_(store),
      signer_(std::move(signer)),
      clock_(clock),
      options_(options) {}

absl::StatusOr<AuditCheckpoint> Checkpointer::SignNow() {
  absl::MutexLock lock(&mu_);
  return SignLocked();
}

absl::StatusOr<AuditCheckpoint> Checkpointer::Covering(int64_t size) {
  absl::MutexLock lock(&mu_);
  LIAISON_ASSIGN_OR_RETURN(std::optional<AuditCheckpoint> latest,
                           store_.LatestCheckpoint());
  if (latest.has_value() && latest->tree_size >= size) {
    LIAISON_RETURN_IF_ERROR(CheckStillSigned(*latest));
    return *latest;
  }
  return SignLocked();
}

absl::StatusOr<std::optional<AuditCheckpoint>> Checkpointer::SignIfDue() {
  absl::MutexLock lock(&mu_);
  LIAISON_ASSIGN_OR_RETURN(const int64_t size, store_.AuditSize());
  if (size == 0) return std::nullopt;
  LIAISON_ASSIGN_OR_RETURN(std::optional<AuditCheckpoint> latest,
                           store_.LatestCheckpoint());
  if (latest.has_value()) {
    LIAISON_RETURN_IF_ERROR(CheckStillSigned(*latest));
    const bool grown = size > latest->tree_size;
    const bool waited = clock_.Now() - latest->signed_at >= options_.interval;
    const bool many = size - latest->tree_size >= options_.max_entries;
    if (!grown || !(waited || many)) return std::nullopt;
  }
  LIAISON_ASSIGN_OR_RETURN(AuditCheckpoint signed_now, SignLocked());
  return signed_now;
}

absl::Status Checkpointer::CheckStillSigned(const AuditCheckpoint& latest) {
  absl::StatusOr<std::string> root = StoredRoot(store_, latest.tree_size);
  if (root.ok() && *root == latest.root_hash) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(
      "the audit tree no longer has the root of the checkpoint of ",
      latest.tree_size,
      " entries: the log was altered since it was signed; refusing to sign"));
}

absl::StatusOr<AuditCheckpoint> Checkpointer::SignLocked() {
  LIAISON_ASSIGN_OR_RETURN(const int64_t size, store_.AuditSize());
  if (size == 0) {
    return absl::FailedPreconditionError(
        "the audit log is empty; there is nothing to sign");
  }
  LIAISON_ASSIGN_OR_RETURN(std::optional<AuditCheckpoint> latest,
                           store_.LatestCheckpoint());
  if (latest.has_value()) {
    // Never sign over, or hand out, a log that no longer extends what was
    // signed before.
    LIAISON_RETURN_IF_ERROR(CheckStillSigned(*latest));
    if (latest->tree_size == size) return *latest;
  }
  LIAISON_ASSIGN_OR_RETURN(std::string root, StoredRoot(store_, size));
  CheckpointBody body;
  body.origin = signer_->name();
  body.size = static_cast<uint64_t>(size);
  body.root_hash = root;
  LIAISON_ASSIGN_OR_RETURN(std::string note,
                           signer_->Sign(FormatCheckpoint(body)));
  AuditCheckpoint checkpoint;
  checkpoint.tree_size = size;
  checkpoint.root_hash = std::move(root);
  checkpoint.note = std::move(note);
  checkpoint.signed_at = Micros(clock_.Now());
  const absl::Status stored = store_.Write(
      [&](WriteTransaction& txn) { return txn.InsertCheckpoint(checkpoint); });
  if (absl::IsFailedPrecondition(stored)) {
    // Another liaisond on the same store (replicas share the signing key)
    // stored a checkpoint as large or larger since `size` was read; it
    // covers every entry this one would have, so it serves as well.
    LIAISON_ASSIGN_OR_RETURN(std::optional<AuditCheckpoint> newer,
                             store_.LatestCheckpoint());
    if (newer.has_value() && newer->tree_size >= size) {
      LIAISON_RETURN_IF_ERROR(CheckStillSigned(*newer));
      return *newer;
    }
  }
  LIAISON_RETURN_IF_ERROR(stored);
  return checkpoint;
}

absl::StatusOr<AuditCheckpoint> AuditService::GetCheckpoint(
    const Caller& caller, bool fresh) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kGetCheckpoint));
  absl::StatusOr<AuditCheckpoint> checkpoint =
      fresh ? checkpointer_.SignNow() : checkpointer_.Covering(1);
  if (!checkpoint.ok()) return gate_.Refuse(call, checkpoint.status());
  LIAISON_RETURN_IF_ERROR(
      gate_.RecordAllowed(call, {CheckpointResource(checkpoint->tree_size)}));
  return checkpoint;
}

absl::StatusOr<std::vector<RecordedEntry>> AuditService::Recorded(
    const AuditQuery& query) {
  LIAISON_ASSIGN_OR_RETURN(std::vector<AuditEntry> entries,
                           store_.ReadAudit(query));
  std::vector<RecordedEntry> recorded;
  recorded.reserve(entries.size());
  for (AuditEntry& entry : entries) {
    RecordedEntry r;
    absl::StatusOr<std::string> leaf = store_.ReadAuditNode(0, entry.seq - 1);
    if (leaf.ok()) {
      r.leaf_hash = *std::move(leaf);
    } else if (leaf.status().code() != absl::StatusCode::kNotFound) {
      return leaf.status();
    }  // A missing node is left empty for the verifier to point out.
    r.entry = std::move(entry);
    recorded.push_back(std::move(r));
  }
  return recorded;
}

absl::StatusOr<EntryPage> AuditService::ListEntries(const Caller& caller,
                                                    int64_t from_seq,
                                                    int64_t to_seq,
                                                    int page_size) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kListAuditEntries));
  if (from_seq < 0 || to_seq < 0 || (to_seq != 0 && to_seq < from_seq)) {
    return gate_.Refuse(
        call, absl::InvalidArgumentError(absl::StrCat(
                  "entries ", from_seq, "..", to_seq,
                  " are not a range (1-based; to_seq 0 for no bound)")));
  }
  if (page_size < 0 || page_size > kMaxPageSize) {
    return gate_.Refuse(call, absl::InvalidArgumentError(absl::StrCat(
                                  "page_size must be 0 (default ",
                                  kDefaultPageSize, ") to ", kMaxPageSize)));
  }
  absl::StatusOr<int64_t> size = store_.AuditSize();
  if (!size.ok()) return gate_.Refuse(call, size.status());
  AuditQuery query;
  query.from_seq = std::max<int64_t>(from_seq, 1);
  query.to_seq = to_seq == 0 ? *size : std::min(to_seq, *size);
  query.limit = (page_size == 0 ? kDefaultPageSize : page_size) + 1;
  if (!SeesWholeAuditLog(call.identity)) query.party = call.identity.party;
  EntryPage page;
  page.tree_size = *size;
  if (query.to_seq >= query.from_seq) {
    absl::StatusOr<std::vector<RecordedEntry>> entries = Recorded(query);
    if (!entries.ok()) return gate_.Refuse(call, entries.status());
    page.entries = *std::move(entries);
  }
  if (page.entries.size() == static_cast<size_t>(query.limit)) {
    page.entries.pop_back();
    page.next_seq = page.entries.back().entry.seq + 1;
  }
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {}));
  return page;
}

absl::StatusOr<EntryProof> AuditService::GetInclusionProof(const Caller& caller,
                                                           int64_t seq,
                                                           int64_t tree_size) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kGetInclusionProof));
  absl::StatusOr<int64_t> size = store_.AuditSize();
  if (!size.ok()) return gate_.Refuse(call, size.status());
  if (seq < 1 || seq > *size) {
    return gate_.Refuse(call, absl::InvalidArgumentError(absl::StrCat(
                                  "no audit entry ", seq, "; the log has ",
                                  *size, " entries")));
  }
  if (tree_size != 0 && (tree_size < seq || tree_size > *size)) {
    return gate_.Refuse(
        call, absl::InvalidArgumentError(absl::StrCat(
                  "tree_size ", tree_size, " must be between the entry (", seq,
                  ") and the log's size (", *size, "), or 0")));
  }
  AuditQuery query;
  query.from_seq = seq;
  query.to_seq = seq;
  query.limit = 1;
  absl::StatusOr<std::vector<RecordedEntry>> found = Recorded(query);
  if (!found.ok()) return gate_.Refuse(call, found.status());
  if (found->empty()) {
    return gate_.Refuse(call, absl::DataLossError(absl::StrCat(
                                  "audit entry ", seq, " is missing")));
  }
  if (!SeesWholeAuditLog(call.identity) &&
      found->front().entry.party != call.identity.party) {
    return gate_.Refuse(call, absl::PermissionDeniedError(absl::StrCat(
                                  "audit entry ", seq,
                                  " records another party's call; only HQ "
                                  "auditors see every entry")));
  }
  EntryProof proof;
  proof.entry = std::move(found->front());
  if (tree_size == 0) {
    absl::StatusOr<AuditCheckpoint> checkpoint = checkpointer_.Covering(seq);
    if (!checkpoint.ok()) return gate_.Refuse(call, checkpoint.status());
    proof.checkpoint = *std::move(checkpoint);
    proof.tree_size = proof.checkpoint->tree_size;
  } else {
    proof.tree_size = tree_size;
    absl::StatusOr<std::vector<AuditCheckpoint>> checkpoints =
        store_.ListCheckpoints(tree_size);
    if (!checkpoints.ok()) return gate_.Refuse(call, checkpoints.status());
    if (!checkpoints->empty() && checkpoints->back().tree_size == tree_size) {
      proof.checkpoint = std::move(checkpoints->back());
    }
  }
  absl::StatusOr<std::vector<std::string>> hashes =
      StoredInclusionProof(store_, seq, proof.tree_size);
  if (!hashes.ok()) return gate_.Refuse(call, hashes.status());
  proof.hashes = *std::move(hashes);
  LIAISON_RETURN_IF_ERROR(
      gate_.RecordAllowed(call, {absl::StrCat("audit-entry:", seq)}));
  return proof;
}

absl::StatusOr<std::vector<std::string>> AuditService::GetConsistencyProof(
    const Caller& caller, int64_t old_size, int64_t new_size) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kGetConsistencyProof));
  absl::StatusOr<int64_t> size = store_.AuditSize();
  if (!size.ok()) return gate_.Refuse(call, size.status());
  if (!(0 < old_size && old_size <= new_size && new_size <= *size)) {
    return gate_.Refuse(
        call, absl::InvalidArgumentError(absl::StrCat(
                  "no consistency proof from ", old_size, " to ", new_size,
                  " entries: need 0 < old_size <= new_size <= ", *size)));
  }
  absl::StatusOr<std::vector<std::string>> proof = merkle::ConsistencyProof(
      static_cast<uint64_t>(old_size), static_cast<uint64_t>(new_size),
      NodesOf(store_));
  if (!proof.ok()) return gate_.Refuse(call, proof.status());
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(
      call, {CheckpointResource(old_size), CheckpointResource(new_size)}));
  return proof;
}

absl::StatusOr<ExportPlan> AuditService::BeginExport(const Caller& caller,
                                                     int64_t tree_size) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kExportAudit));
  ExportPlan plan;
  if (!SeesWholeAuditLog(call.identity)) plan.party = call.identity.party;
  if (tree_size < 0) {
    return gate_.Refuse(call, absl::InvalidArgumentError(
                                  "tree_size must be a checkpoint's size, or "
                                  "0 to sign one now"));
  }
  if (tree_size == 0) {
    absl::StatusOr<AuditCheckpoint> checkpoint = checkpointer_.SignNow();
    if (!checkpoint.ok()) return gate_.Refuse(call, checkpoint.status());
    plan.checkpoint = *std::move(checkpoint);
  } else {
    absl::StatusOr<std::vector<AuditCheckpoint>> checkpoints =
        store_.ListCheckpoints(tree_size);
    if (!checkpoints.ok()) return gate_.Refuse(call, checkpoints.status());
    if (checkpoints->empty() || checkpoints->back().tree_size != tree_size) {
      return gate_.Refuse(call, absl::InvalidArgumentError(absl::StrCat(
                                    "no checkpoint was signed at ", tree_size,
                                    " entries; export 0 to sign one now")));
    }
    plan.checkpoint = std::move(checkpoints->back());
  }
  absl::StatusOr<std::vector<AuditCheckpoint>> earlier =
      store_.ListCheckpoints(plan.checkpoint.tree_size - 1);
  if (!earlier.ok()) return gate_.Refuse(call, earlier.status());
  // Spread evenly, so that the header stays small however many there are.
  const size_t n = earlier->size();
  const size_t keep = std::min(n, kMaxEarlierCheckpoints);
  for (size_t i = 0; i < keep; ++i) {
    const size_t at = keep == 1 ? n - 1 : i * (n - 1) / (keep - 1);
    plan.earlier.push_back((*earlier)[at]);
  }
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(
      call, {CheckpointResource(plan.checkpoint.tree_size)}));
  plan.call = std::move(call);
  return plan;
}

void AuditService::ExportFailed(ExportPlan& plan, const absl::Status& why) {
  gate_.Refuse(plan.call, why).IgnoreError();
}

absl::StatusOr<EntryPage> AuditService::ExportPage(const ExportPlan& plan,
                                                   int64_t from_seq,
                                                   int limit) {
  AuditQuery query;
  query.from_seq = from_seq;
  query.to_seq = plan.checkpoint.tree_size;
  query.party = plan.party;
  query.limit = limit + 1;
  EntryPage page;
  page.tree_size = plan.checkpoint.tree_size;
  LIAISON_ASSIGN_OR_RETURN(page.entries, Recorded(query));
  if (page.entries.size() == static_cast<size_t>(query.limit)) {
    page.entries.pop_back();
    page.next_seq = page.entries.back().entry.seq + 1;
  }
  if (!plan.party.empty()) {
    for (RecordedEntry& r : page.entries) {
      LIAISON_ASSIGN_OR_RETURN(
          r.proof, StoredInclusionProof(store_, r.entry.seq, page.tree_size));
    }
  }
  return page;
}

absl::StatusOr<AccessReceipts> AuditService::ListAccesses(
    const Caller& caller, const std::string& message_id) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kListAccesses));
  if (!IsValidMessageId(message_id)) {
    return gate_.Refuse(call, absl::InvalidArgumentError(
                                  "message_id is not a Liaison message id"));
  }
  const absl::Status hidden =
      absl::NotFoundError(absl::StrCat("no message ", message_id));
  absl::StatusOr<Message> message = store_.GetMessage(message_id);
  if (!message.ok()) return gate_.Refuse(call, message.status());
  if (!SeesWholeAuditLog(call.identity) &&
      message->Owner() != call.identity.party) {
    return gate_.Refuse(
        call, hidden,
        absl::StrCat("message ", message_id, " is owned by ", message->Owner(),
                     ", not ", call.identity.party));
  }
  absl::StatusOr<int64_t> size = store_.AuditSize();
  if (!size.ok()) return gate_.Refuse(call, size.status());
  AccessReceipts receipts;
  absl::StatusOr<AuditCheckpoint> checkpoint = checkpointer_.Covering(*size);
  if (!checkpoint.ok()) return gate_.Refuse(call, checkpoint.status());
  receipts.checkpoint = *std::move(checkpoint);
  // The message, then each copy passed on from it or from a copy: a
  // forwarding names the copy first and the message it came from second.
  std::vector<std::string> ids = {message_id};
  std::set<std::string> seen = {message_id};
  std::map<int64_t, RecordedEntry> found;
  for (size_t i = 0; i < ids.size() && !receipts.truncated; ++i) {
    AuditQuery query;
    query.resource = ids[i];
    query.to_seq = receipts.checkpoint.tree_size;
    query.limit = kMaxPageSize;
    while (true) {
      absl::StatusOr<std::vector<RecordedEntry>> page = Recorded(query);
      if (!page.ok()) return gate_.Refuse(call, page.status());
      const size_t read = page->size();
      const int64_t last = read == 0 ? 0 : page->back().entry.seq;
      for (RecordedEntry& r : *page) {
        const AuditEntry& e = r.entry;
        if (e.action == ActionName(Action::kForward) &&
            e.outcome == AuditOutcome::kAllowed && e.resources.size() >= 2 &&
            e.resources[1] == ids[i] && IsValidMessageId(e.resources[0]) &&
            seen.insert(e.resources[0]).second) {
          ids.push_back(e.resources[0]);
          receipts.copies.push_back(e.resources[0]);
        }
        found.emplace(e.seq, std::move(r));
      }
      if (read < static_cast<size_t>(query.limit)) break;
      query.from_seq = last + 1;
    }
    receipts.truncated = found.size() > kMaxAccesses;
  }
  for (auto& [seq, r] : found) {
    if (receipts.accesses.size() == kMaxAccesses) {
      receipts.truncated = true;
      break;
    }
    absl::StatusOr<std::vector<std::string>> proof =
        StoredInclusionProof(store_, seq, receipts.checkpoint.tree_size);
    if (!proof.ok()) return gate_.Refuse(call, proof.status());
    r.proof = *std::move(proof);
    receipts.accesses.push_back(std::move(r));
  }
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {message_id}));
  return receipts;
}

}  // namespace liaison

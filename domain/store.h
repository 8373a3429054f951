// Durable storage as the domain sees it. SQLite (store/sqlite) implements it
// today; every implementation passes tests/store/store_conformance.h.
#ifndef LIAISON_DOMAIN_STORE_H_
#define LIAISON_DOMAIN_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"
#include "domain/merkle.h"
#include "domain/model.h"

namespace liaison {

// Which audit entries to read.
struct AuditQuery {
  int64_t from_seq = 1;
  int64_t to_seq = 0;    // Inclusive; 0 for no bound.
  std::string party;     // Only entries of this party's callers, if set.
  std::string resource;  // Only entries that touched this id, if set.
  int limit = 100;
};

// The writes of one transaction. Valid only inside Store::Write's callback;
// not thread-safe (the store runs one transaction at a time).
class WriteTransaction {
 public:
  virtual ~WriteTransaction() = default;

  // The party as registered at this point of the transaction. NOT_FOUND if
  // no party has `code`.
  virtual absl::StatusOr<Party> GetParty(absl::string_view code) = 0;

  // As Store::FindRevocation, at this point of the transaction.
  virtual absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user) = 0;

  // The message `sender_party` sent with `idempotency_key`, if any.
  virtual absl::StatusOr<std::optional<Message>> FindByIdempotencyKey(
      absl::string_view sender_party, absl::string_view idempotency_key) = 0;

  // Stores a new message and its recipients; assigns nothing back (the
  // message's seq is visible through later reads). ALREADY_EXISTS if the id,
  // or the sender's idempotency key, is taken.
  virtual absl::Status InsertMessage(const Message& message) = 0;

  // The message as stored at this point of the transaction; NOT_FOUND if
  // there is none.
  virtual absl::StatusOr<Message> GetMessage(absl::string_view id) = 0;

  // Replaces the per-recipient state of `r.party` on `message_id`.
  // NOT_FOUND if that party is not a recipient.
  virtual absl::Status UpdateRecipient(absl::string_view message_id,
                                       const Recipient& r) = 0;

  // Sets the delivery receipt (and with `read` the read receipt) of `party`
  // on each of `message_ids` where not set yet. Ids `party` did not receive
  // are ignored.
  virtual absl::Status RecordReceipts(
      absl::string_view party, const std::vector<std::string>& message_ids,
      absl::Time at, bool read) = 0;

  // Stores an attachment and its bytes (in order). ALREADY_EXISTS if the
  // id is taken.
  virtual absl::Status InsertAttachment(
      const AttachmentInfo& info, const std::vector<std::string>& chunks) = 0;
  // How many attachments `message_id` has at this point of the transaction.
  virtual absl::StatusOr<int64_t> CountAttachments(
      absl::string_view message_id) = 0;

  // Appends an event for `event.party` (its seq is assigned by the store).
  virtual absl::Status AppendEvent(const Event& event) = 0;

  // Stores a consent request, or records the owner's decision on one.
  virtual absl::Status InsertConsent(const Consent& consent) = 0;
  virtual absl::Status UpdateConsent(const Consent& consent) = 0;
  virtual absl::StatusOr<Consent> GetConsent(absl::string_view id) = 0;
  // A GRANTED consent to pass `origin_id` from `requester` to `target`.
  virtual absl::StatusOr<std::optional<Consent>> FindGrantedConsent(
      absl::string_view origin_id, absl::string_view requester,
      absl::string_view target) = 0;

  // Sets the handling code of an original message and of every copy
  // forwarded from it. NOT_FOUND if there is no such message.
  virtual absl::Status SetHandling(absl::string_view message_id,
                                   HandlingCode code,
                                   absl::string_view restriction) = 0;

  // Stores a new case with its owner and participants. ALREADY_EXISTS if
  // the id is taken.
  virtual absl::Status InsertCase(const Case& c) = 0;
  // The case as stored now; NOT_FOUND if there is none.
  virtual absl::StatusOr<Case> GetCase(absl::string_view id) = 0;
  // Makes `party` a current participant (again), or ends its participation.
  virtual absl::Status SetCaseParticipant(absl::string_view case_id,
                                          absl::string_view party,
                                          bool participating,
                                          absl::Time at) = 0;
  // Attaches a message to a case. ALREADY_EXISTS if attached already.
  virtual absl::Status AttachToCase(absl::string_view case_id,
                                    absl::string_view message_id,
                                    absl::Time at) = 0;
  virtual absl::Status CloseCase(absl::string_view case_id, absl::Time at) = 0;

  // Marks `request_id` ANSWERED for recipient `party` by `reply_id`.
  // NOT_FOUND if `party` is not a recipient of that request,
  // FAILED_PRECONDITION if it is not OPEN or ACKNOWLEDGED for `party`.
  virtual absl::Status MarkAnswered(absl::string_view request_id,
                                    absl::string_view party,
                                    absl::string_view reply_id,
                                    absl::Time answered_at) = 0;

  // Appends `entry` to the audit log as leaf number AuditSize() (0-based)
  // with the tree `nodes` that leaf completes (merkle::NodesForAppend), and
  // returns the entry's seq (1-based, dense). INVALID_ARGUMENT if a resource
  // id is empty or spans lines, or `nodes` do not start with that leaf.
  virtual absl::StatusOr<int64_t> AppendAudit(
      const AuditEntry& entry, const std::vector<merkle::Node>& nodes) = 0;
  // The number of audit entries at this point of the transaction.
  virtual absl::StatusOr<int64_t> AuditSize() = 0;
  // A stored node of the audit tree. NOT_FOUND if the tree has none there.
  virtual absl::StatusOr<std::string> AuditNode(int level, int64_t index) = 0;
  // Keeps a signed checkpoint. FAILED_PRECONDITION unless its size is above
  // the latest checkpoint's and at most AuditSize().
  virtual absl::Status InsertCheckpoint(const AuditCheckpoint& checkpoint) = 0;

  // Registers a party. ALREADY_EXISTS if the code is taken.
  virtual absl::Status InsertParty(const Party& party) = 0;

  // Replaces the record of an existing party. NOT_FOUND if there is none.
  virtual absl::Status UpdateParty(const Party& party) = 0;

  // Appends to a party's status history.
  virtual absl::Status AppendPartyChange(const PartyChange& change) = 0;

  // Records a revocation. ALREADY_EXISTS if that serial or user is already
  // revoked.
  virtual absl::Status InsertRevocation(const Revocation& revocation) = 0;
};

// One recipient's copy of a request, for statistics: no contents.
struct RequestRow {
  std::string sender;
  std::string recipient;
  Priority priority = Priority::kRoutine;
  RequestState state = RequestState::kOpen;
  std::optional<RefusalReason> refusal_reason;
  std::optional<absl::Time> due_at;
  absl::Time sent_at;
};

// Which requests to list (Store::ListRequests).
struct RequestQuery {
  std::string party;
  // False: requests `party` received (its own progress is judged); true:
  // requests it sent (a request matches if any recipient does).
  bool sent = false;
  std::optional<RequestState> state;
  // Only OPEN or ACKNOWLEDGED requests due before this time.
  std::optional<absl::Time> due_before;
  // Only requests attached to this case.
  std::string case_id;
  int limit = 50;
  std::optional<int64_t> before_seq;  // Newest first, below this seq.
};

// A Write whose commit has an unknown outcome (the connection to a database
// server broke while it committed) fails with UNAVAILABLE marked by this
// payload: the write may or may not be stored, so callers must not report
// that nothing changed.
inline constexpr char kOutcomeUnknownPayload[] =
    "liaison/store/outcome-unknown";

inline absl::Status OutcomeUnknownError(absl::string_view message) {
  absl::Status status = absl::UnavailableError(message);
  status.SetPayload(kOutcomeUnknownPayload, absl::Cord("1"));
  return status;
}

inline bool IsOutcomeUnknown(const absl::Status& status) {
  return status.GetPayload(kOutcomeUnknownPayload).has_value();
}

// Durable storage. Thread-safe. A Write that returns OK is on stable storage
// before it returns; one that fails leaves nothing behind.
//
// Errors: UNAVAILABLE when storage is busy or failing (retryable),
// DATA_LOSS when stored data cannot be decoded, plus those named per method.
class Store {
 public:
  virtual ~Store() = default;

  // For storage shared by several liaisond processes: calls `on_commit` (on
  // a thread of the store's, never inside a caller's call) soon after any
  // process sharing it committed writes, and once whenever the store may
  // have missed such news (a lost notification channel), so that waiting
  // readers here look again at once. `nullptr` stops the calls; it returns
  // only when no call is running. Stores of one process never call it:
  // their writes are all seen by this process's own code.
  virtual void WatchCommits(std::function<void()> on_commit) {
    (void)on_commit;
  }

  // Runs `fn` in one transaction and commits it durably if `fn` returns OK;
  // otherwise rolls back and returns `fn`'s status.
  virtual absl::Status Write(
      absl::FunctionRef<absl::Status(WriteTransaction&)> fn) = 0;

  // As Write, without waiting: `done` gets what Write would return, once
  // the transaction has committed or failed, on a thread of the store's
  // choosing (this one, by default: then it does wait). `done` must not
  // call Write.
  //
  // `fn` may run more than once: a store may roll back a run, with the
  // writes of others it was grouped with, and run `fn` again, possibly in a
  // later transaction that sees other writes committed meanwhile. Each run
  // must start over from what `fn` was given, not from what an earlier run
  // left in its captures, and have no effect outside the transaction; only
  // the last run's writes can be committed, and `done` gets the outcome of
  // that run's transaction.
  virtual void WriteAsync(
      absl::AnyInvocable<absl::Status(WriteTransaction&)> fn,
      absl::AnyInvocable<void(absl::Status)> done) {
    done(Write([&fn](WriteTransaction& txn) { return fn(txn); }));
  }

  // True if WriteAsync never waits for the commit and reads never wait on
  // anything slower than a local file (no network, no lock held across a
  // commit): then a thread that serves other calls meanwhile may make this
  // store's reads and call WriteAsync (see ExchangeService::SendMessageAsync).
  virtual bool ServesWithoutWaiting() const { return false; }

  // NOT_FOUND if no party has `code`.
  virtual absl::StatusOr<Party> GetParty(absl::string_view code) = 0;
  // Ordered by code.
  virtual absl::StatusOr<std::vector<Party>> ListParties() = 0;

  // NOT_FOUND if there is no message `id`.
  virtual absl::StatusOr<Message> GetMessage(absl::string_view id) = 0;

  // Messages `party` received (inbox) or sent (outbox), newest first, at most
  // `limit`, only those with seq < `before_seq` when it is set. Listings are
  // summaries: every field but the body (left empty) is filled in.
  virtual absl::StatusOr<std::vector<Message>> ListInbox(
      absl::string_view party, int limit,
      std::optional<int64_t> before_seq) = 0;
  virtual absl::StatusOr<std::vector<Message>> ListOutbox(
      absl::string_view party, int limit,
      std::optional<int64_t> before_seq) = 0;

  // A party's status history, oldest first.
  virtual absl::StatusOr<std::vector<PartyChange>> ListPartyChanges(
      absl::string_view code) = 0;

  // The revocation of certificate `serial` or of identity `user`
  // (PARTY/role/user), if either is revoked. Empty arguments match nothing.
  virtual absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user) = 0;
  // All revocations, oldest first.
  virtual absl::StatusOr<std::vector<Revocation>> ListRevocations() = 0;

  // NOT_FOUND if there is no case `id`.
  virtual absl::StatusOr<Case> GetCase(absl::string_view id) = 0;
  // Consents `party` asked for or must decide as owner, newest first.
  virtual absl::StatusOr<std::vector<Consent>> ListConsents(
      absl::string_view party) = 0;
  // Cases `party` owns or currently takes part in, newest first.
  virtual absl::StatusOr<std::vector<Case>> ListCases(
      absl::string_view party) = 0;
  // Parties that may read `message_id` through cases: owners and current
  // participants of every case the message is attached to.
  virtual absl::StatusOr<std::vector<std::string>> CaseReaders(
      absl::string_view message_id) = 0;
  // Summaries (no bodies) of the messages attached to a case, oldest first.
  virtual absl::StatusOr<std::vector<Message>> CaseThread(
      absl::string_view case_id) = 0;

  // NOT_FOUND if there is no attachment `id`.
  virtual absl::StatusOr<AttachmentInfo> GetAttachment(
      absl::string_view id) = 0;
  // A message's attachments, oldest first.
  virtual absl::StatusOr<std::vector<AttachmentInfo>> ListAttachments(
      absl::string_view message_id) = 0;
  // Chunk `index` (0-based) of an attachment's bytes; empty past the end.
  virtual absl::StatusOr<std::optional<std::string>> ReadAttachmentChunk(
      absl::string_view id, int64_t index) = 0;

  // Events of `party` with seq > `after_seq`, in order, at most `limit`.
  virtual absl::StatusOr<std::vector<Event>> ReadEvents(absl::string_view party,
                                                        int64_t after_seq,
                                                        int limit) = 0;
  // The seq of the party's latest event, 0 if none.
  virtual absl::StatusOr<int64_t> LastEventSeq(absl::string_view party) = 0;
  // How many of the party's events come after `after_seq`, counting no
  // further than `cap`.
  virtual absl::StatusOr<int64_t> CountEvents(absl::string_view party,
                                              int64_t after_seq,
                                              int64_t cap) = 0;

  // Every recipient copy of the requests sent in [from, to), involving
  // `party` as sender or recipient (every party if empty).
  virtual absl::StatusOr<std::vector<RequestRow>> ListRequestRows(
      absl::Time from, absl::Time to, absl::string_view party) = 0;
  // Cases opened and closed in [from, to) that `party` owns or takes part
  // in (every case if empty).
  virtual absl::StatusOr<std::pair<int64_t, int64_t>> CountCases(
      absl::Time from, absl::Time to, absl::string_view party) = 0;

  // Requests as `query` says, newest first, as summaries (no bodies).
  virtual absl::StatusOr<std::vector<Message>> ListRequests(
      const RequestQuery& query) = 0;

  // Audit entries with seq >= `from_seq`, in order, at most `limit`.
  virtual absl::StatusOr<std::vector<AuditEntry>> ReadAudit(int64_t from_seq,
                                                            int limit) = 0;
  // Audit entries as `query` says, in order.
  virtual absl::StatusOr<std::vector<AuditEntry>> ReadAudit(
      const AuditQuery& query) = 0;
  // Number of audit entries.
  virtual absl::StatusOr<int64_t> AuditSize() = 0;
  // A stored node of the audit tree. NOT_FOUND if the tree has none there.
  // Nodes never change once written, so reads need no snapshot.
  virtual absl::StatusOr<std::string> ReadAuditNode(int level,
                                                    int64_t index) = 0;
  // The stored leaf hashes of entries `from_seq`.. in order, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> ReadAuditLeafHashes(
      int64_t from_seq, int limit) = 0;
  // The checkpoint with the largest tree size, if any.
  virtual absl::StatusOr<std::optional<AuditCheckpoint>> LatestCheckpoint() = 0;
  // Checkpoints with tree size <= `max_size`, smallest first.
  virtual absl::StatusOr<std::vector<AuditCheckpoint>> ListCheckpoints(
      int64_t max_size) = 0;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_STORE_H_

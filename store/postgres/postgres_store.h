// The scale-out Store: one PostgreSQL database shared by several liaisond
// replicas (design §7).
//
// Durability: a Write returns only after PostgreSQL has committed it; the
// store raises synchronous_commit to "on" where the server has it "off",
// so a commit is flushed to the server's WAL before it is acknowledged.
// Schema: versioned in `schema_migrations`, migrated forward at Open while
// holding a session advisory lock, so replicas that start together migrate
// once. The audit tables refuse UPDATE, DELETE and TRUNCATE through
// triggers.
//
// Writes are serialised across every replica: each write transaction
// starts by taking one transaction-scoped advisory lock. The audit log stays
// one linear, dense log, an idempotency key is checked and inserted by one
// writer at a time, and seqs (messages, events) are assigned in commit
// order, so a reader that has seen seq N never later sees a new row below
// it. Unique constraints remain as a second line of defence.
//
// Thread safety: all methods may be called from any thread. Each call takes
// a connection from a small pool (opened on demand, up to a fixed number);
// reads of more than one statement run in one REPEATABLE READ READ ONLY
// transaction, so they see one committed state. A broken connection is
// dropped and replaced by a new one; the call that found it broken returns
// UNAVAILABLE, unless it is a read or had not started its transaction yet,
// which is then retried once on a fresh connection.
//
// Errors, besides those of domain/store.h: UNAVAILABLE when the server
// cannot be reached, the connection breaks, a lock waits too long, or a
// commit's outcome is unknown; INVALID_ARGUMENT for text PostgreSQL cannot
// store (a NUL character, invalid UTF-8).
#ifndef LIAISON_STORE_POSTGRES_POSTGRES_STORE_H_
#define LIAISON_STORE_POSTGRES_POSTGRES_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "domain/store.h"

namespace liaison {

class PostgresPool;

class PostgresStore final : public Store {
 public:
  // Connects to the database `url` names (a libpq connection URI,
  // postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?PARAMS], or a key=value
  // string) and migrates its schema. UNAVAILABLE if it cannot connect (the
  // message names host, port, database and user, never the password),
  // INVALID_ARGUMENT if libpq cannot parse `url`, FAILED_PRECONDITION if the
  // database was migrated by a newer version of Liaison.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(
      const std::string& url);

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // The schema version this build writes.
  static int CurrentSchemaVersion();

  // liaison::Store
  // Listens (LISTEN) on a connection of its own; every committed Write
  // notifies (NOTIFY), from any replica.
  void WatchCommits(std::function<void()> on_commit) override;
  absl::Status Write(
      absl::FunctionRef<absl::Status(WriteTransaction&)> fn) override;
  absl::StatusOr<Party> GetParty(absl::string_view code) override;
  absl::StatusOr<std::vector<Party>> ListParties() override;
  absl::StatusOr<Message> GetMessage(absl::string_view id) override;
  absl::StatusOr<std::vector<Message>> ListInbox(
      absl::string_view party, int limit,
      std::optional<int64_t> before_seq) override;
  absl::StatusOr<std::vector<Message>> ListOutbox(
      absl::string_view party, int limit,
      std::optional<int64_t> before_seq) override;
  absl::StatusOr<std::vector<Message>> ListRequests(
      const RequestQuery& query) override;
  absl::StatusOr<AttachmentInfo> GetAttachment(absl::string_view id) override;
  absl::StatusOr<std::vector<AttachmentInfo>> ListAttachments(
      absl::string_view message_id) override;
  absl::StatusOr<std::optional<std::string>> ReadAttachmentChunk(
      absl::string_view id, int64_t index) override;
  absl::StatusOr<std::vector<Event>> ReadEvents(absl::string_view party,
                                                int64_t after_seq,
                                                int limit) override;
  absl::StatusOr<int64_t> LastEventSeq(absl::string_view party) override;
  absl::StatusOr<int64_t> CountEvents(absl::string_view party,
                                      int64_t after_seq, int64_t cap) override;
  absl::StatusOr<std::vector<RequestRow>> ListRequestRows(
      absl::Time from, absl::Time to, absl::string_view party) override;
  absl::StatusOr<std::pair<int64_t, int64_t>> CountCases(
      absl::Time from, absl::Time to, absl::string_view party) override;
  absl::StatusOr<Case> GetCase(absl::string_view id) override;
  absl::StatusOr<std::vector<Consent>> ListConsents(
      absl::string_view party) override;
  absl::StatusOr<std::vector<Case>> ListCases(absl::string_view party) override;
  absl::StatusOr<std::vector<std::string>> CaseReaders(
      absl::string_view message_id) override;
  absl::StatusOr<std::vector<Message>> CaseThread(
      absl::string_view case_id) override;
  absl::StatusOr<std::vector<PartyChange>> ListPartyChanges(
      absl::string_view code) override;
  absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user) override;
  absl::StatusOr<std::vector<Revocation>> ListRevocations() override;
  absl::StatusOr<std::vector<AuditEntry>> ReadAudit(int64_t from_seq,
                                                    int limit) override;
  absl::StatusOr<std::vector<AuditEntry>> ReadAudit(
      const AuditQuery& query) override;
  absl::StatusOr<int64_t> AuditSize() override;
  absl::StatusOr<std::string> ReadAuditNode(int level, int64_t index) override;
  absl::StatusOr<std::vector<std::string>> ReadAuditLeafHashes(
      int64_t from_seq, int limit) override;
  absl::StatusOr<std::optional<AuditCheckpoint>> LatestCheckpoint() override;
  absl::StatusOr<std::vector<AuditCheckpoint>> ListCheckpoints(
      int64_t max_size) override;

 private:
  class Transaction;
  class CommitWatcher;

  explicit PostgresStore(std::unique_ptr<PostgresPool> pool);

  // Thread-safe; owns every connection.
  const std::unique_ptr<PostgresPool> pool_;
  // Declared after the pool it connects through.
  const std::unique_ptr<CommitWatcher> watcher_;
};

}  // namespace liaison

#endif  // LIAISON_STORE_POSTGRES_POSTGRES_STORE_H_

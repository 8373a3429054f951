// The embedded, single-node Store: one SQLite database file.
//
// Durability: WAL journal with synchronous=FULL, so a committed transaction
// survives a crash or power loss; Write() returns only after the commit.
// Schema: versioned in `schema_version`, migrated forward at Open. The audit
// table refuses UPDATE and DELETE through triggers.
//
// Throughput: writes are committed in groups. Concurrent Write calls queue
// up; one committer thread runs every queued transaction function, each
// in a savepoint of one SQLite transaction, and commits them with one
// fsync, while the next group queues. A function that fails is rolled back to
// its savepoint alone; a commit that fails fails every write in it. Each Write
// still returns only once its own writes are durable (or known not to be).
// A group made only of WriteAsync functions (which may run more than once)
// runs without savepoints first: if one of them fails, the transaction is
// rolled back and the group run again, each function in its savepoint.
//
// Thread safety: all methods may be called from any thread. One write
// connection, used by one group at a time; reads use a small pool of read
// connections, each read in one read transaction (WAL lets them proceed
// while a group commits). ":memory:" has only the write connection.
// Party records and revocation answers, which every call reads, are kept
// as last committed (AccessCache), since this process is the only writer.
#ifndef LIAISON_STORE_SQLITE_SQLITE_STORE_H_
#define LIAISON_STORE_SQLITE_SQLITE_STORE_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/worker_pool.h"
#include "domain/store.h"
#include "store/sqlite/access_cache.h"

namespace liaison {

class SqliteConnection;

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (":memory:" for a private
  // in-memory database) and migrates its schema. UNAVAILABLE if the file
  // cannot be opened, FAILED_PRECONDITION if it was written by a newer
  // version of Liaison, DATA_LOSS if it is not a Liaison database.
  //
  // The opening process becomes the database's one writer: it holds an
  // exclusive lock on `path`-lock until the store is destroyed (or the
  // process ends), and another Open of the same file fails with
  // FAILED_PRECONDITION meanwhile.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path);

  // For reading a database another process (or store) writes, such as a
  // running liaisond's, for inspection: takes no lock, caches nothing,
  // migrates nothing (FAILED_PRECONDITION unless the schema is current)
  // and refuses every Write with FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenReadOnly(
      const std::string& path);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The schema version this build writes.
  static int CurrentSchemaVersion();

  // How many Write and WriteAsync calls have been answered, in how many
  // groups (group commit: fewer groups than writes under concurrent load),
  // and how many groups ran twice: rolled back without savepoints because a
  // function failed, then run again with them.
  struct WriteStats {
    int64_t writes = 0;
    int64_t transactions = 0;
    int64_t reruns = 0;
  };
  WriteStats write_stats() ABSL_LOCKS_EXCLUDED(queue_mu_);

  // liaison::Store
  absl::Status Write(
      absl::FunctionRef<absl::Status(WriteTransaction&)> fn) override;
  // `done` runs on the store's finishing thread, after the commit.
  void WriteAsync(absl::AnyInvocable<absl::Status(WriteTransaction&)> fn,
                  absl::AnyInvocable<void(absl::Status)> done) override;
  // Reads come from memory (AccessCache) or WAL read connections, which
  // never wait for the writer (at most for a free read connection). Not
  // for ":memory:", whose reads share the write connection and wait for
  // a group's commit.
  bool ServesWithoutWaiting() const override { return !readers_.empty(); }
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
  class Reader;
  struct PendingWrite;
  enum class Mode { kWriter, kReadOnly };
  // The lock that makes a writer the only one; closed (released) last.
  struct LockFile {
    LockFile() = default;
    LockFile(const LockFile&) = delete;
    LockFile& operator=(const LockFile&) = delete;
    ~LockFile();
    int fd = -1;
  };

  // Read connections opened next to the write connection.
  static constexpr int kReadConnections = 4;
  // Most transaction functions one commit takes.
  static constexpr size_t kMaxBatch = 256;

  SqliteStore(std::unique_ptr<SqliteConnection> db,
              std::vector<std::unique_ptr<SqliteConnection>> readers);
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenAs(
      const std::string& path, Mode mode);
  absl::Status CheckSchemaIsCurrent() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Runs the front of `batch` in one committed transaction (two if a group
  // without savepoints had to be rolled back and run again: then `rerun`).
  // `ran`: how many of its writes ran and have their final status, at
  // least one.
  struct BatchRun {
    size_t ran = 0;
    bool rerun = false;
  };
  BatchRun RunBatch(const std::vector<PendingWrite*>& batch)
      ABSL_LOCKS_EXCLUDED(queue_mu_, write_mu_);
  // Whether each write of a group runs in a savepoint of its own.
  enum Savepoints { kWithSavepoints, kWithoutSavepoints };
  // RunBatch's one attempt. Without savepoints, a write that fails undoes
  // the group (nothing is committed, no status is final) and it returns
  // nullopt; the group must run again with them.
  std::optional<size_t> RunGroup(const std::vector<PendingWrite*>& batch,
                                 Savepoints savepoints)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) ABSL_LOCKS_EXCLUDED(queue_mu_);
  // The committer thread: runs the queued writes in groups until the store
  // is destroyed.
  void CommitLoop() ABSL_LOCKS_EXCLUDED(queue_mu_);
  // Summaries (no bodies) from a FROM/WHERE/ORDER BY clause whose two
  // parameters are the party and the exclusive upper bound of seq.
  absl::StatusOr<std::vector<Message>> ListSummaries(
      absl::string_view from_where_order, absl::string_view party, int limit,
      std::optional<int64_t> before_seq);

  // Declared first, so released after every connection is closed.
  LockFile lock_file_;
  // Set once at open, before the store is shared.
  bool read_only_ = false;
  // Party and revocation answers as last committed; null when read-only.
  std::unique_ptr<AccessCache> access_;

  // Lock order: queue_mu_ is never held while taking write_mu_ or pool_mu_.
  absl::Mutex queue_mu_;
  // Writes not yet committed, in arrival order; the committer takes its
  // batch from the front and pops what it ran.
  std::deque<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  WriteStats stats_ ABSL_GUARDED_BY(queue_mu_);
  // Runs CommitLoop from Open to the destructor (not for read-only stores).
  std::thread committer_;
  // Runs WriteAsync's `done`s after their commit, so that the committer
  // starts the next group at once instead of finishing gRPC calls; one
  // thread, woken once per group. Destroyed after the committer stops.
  std::unique_ptr<WorkerPool> finisher_;

  absl::Mutex write_mu_;
  const std::unique_ptr<SqliteConnection> db_ ABSL_PT_GUARDED_BY(write_mu_);

  // Empty for ":memory:".
  const std::vector<std::unique_ptr<SqliteConnection>> readers_;
  absl::Mutex pool_mu_;
  std::vector<SqliteConnection*> idle_readers_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace liaison

#endif  // LIAISON_STORE_SQLITE_SQLITE_STORE_H_

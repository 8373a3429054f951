// The embedded, single-node Store: one SQLite database file.
//
// Durability: WAL journal with synchronous=FULL, so a committed transaction
// survives a crash or power loss; Write() returns only after the commit.
// Schema: versioned in `schema_version`, migrated forward at Open. The audit
// table refuses UPDATE and DELETE through triggers.
//
// Thread safety: all methods may be called from any thread. One connection,
// serialised by `mu_`; transactions never interleave.
#ifndef LIAISON_STORE_SQLITE_SQLITE_STORE_H_
#define LIAISON_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "domain/store.h"

struct sqlite3;

namespace liaison {

class SqliteStore final : public Store {
 public:
  // Opens or creates the database at `path` (":memory:" for a private
  // in-memory database) and migrates its schema. UNAVAILABLE if the file
  // cannot be opened, FAILED_PRECONDITION if it was written by a newer
  // version of Liaison, DATA_LOSS if it is not a Liaison database.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The schema version this build writes.
  static int CurrentSchemaVersion();

  // liaison::Store
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

  explicit SqliteStore(sqlite3* db) : db_(db) {}
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Summaries (no bodies) from a FROM/WHERE/ORDER BY clause whose two
  // parameters are the party and the exclusive upper bound of seq.
  absl::StatusOr<std::vector<Message>> ListSummaries(
      absl::string_view from_where_order, absl::string_view party, int limit,
      std::optional<int64_t> before_seq);

  absl::Mutex mu_;
  sqlite3* const db_ ABSL_PT_GUARDED_BY(mu_);
};

}  // namespace liaison

#endif  // LIAISON_STORE_SQLITE_SQLITE_STORE_H_

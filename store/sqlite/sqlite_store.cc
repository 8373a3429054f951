#include "store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "common/thread_name.h"
#include "domain/merkle.h"
#include "store/sqlite/wal_gather.h"

namespace liaison {

// One SQLite connection and the statements prepared on it, kept for reuse
// (parsing SQL was a fifth of a send's CPU time). Not thread-safe: used by
// one thread at a time (the store's locks see to it).
class SqliteConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() {
    for (auto& [sql, stmt] : idle_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  sqlite3* get() const { return db_; }

  // True while a group of writes runs in a transaction on this connection:
  // a statement then fails rather than run on its own if SQLite has ended
  // the transaction (after an I/O error or a full disk, SQLite rolls back
  // and would otherwise commit each later statement by itself).
  bool writing() const { return writing_; }
  void set_writing(bool writing) { writing_ = writing; }

  // A prepared statement for `sql`: an idle one if there is one, else a new
  // one. Hand it back with Return.
  int Take(absl::string_view sql, sqlite3_stmt** stmt) {
    auto it = idle_.find(sql);
    if (it != idle_.end()) {
      *stmt = it->second;
      idle_.erase(it);
      return SQLITE_OK;
    }
    return sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, stmt, nullptr);
  }

  // Resets `stmt` and keeps it for the next use of `sql`, unless an idle one
  // is kept already (nested use of the same SQL). A full cache is emptied
  // first, so that statements in steady use always find their place again.
  void Return(absl::string_view sql, sqlite3_stmt* stmt) {
    if (stmt == nullptr) return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (idle_.size() >= kMaxCached && idle_.count(sql) == 0) {
      for (auto& [text, idle] : idle_) sqlite3_finalize(idle);
      idle_.clear();
    }
    if (!idle_.emplace(sql, stmt).second) sqlite3_finalize(stmt);
  }

 private:
  // Several times the store's fixed statements (those whose text varies
  // with their input are not kept: Statement::kOnce).
  static constexpr size_t kMaxCached = 256;

  sqlite3* const db_;
  bool writing_ = false;
  absl::flat_hash_map<std::string, sqlite3_stmt*> idle_;
};

namespace {

// Each entry migrates the schema from version i to i + 1. Append only: a
// released migration is never edited.
constexpr std::array<const char*, 11> kMigrations = {
    // Version 1: parties, messages with recipients, the audit log.
    R"sql(
CREATE TABLE parties (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  state TEXT NOT NULL,
  ceiling TEXT NOT NULL,
  agreement_in_force INTEGER NOT NULL
);
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  sender_party TEXT NOT NULL REFERENCES parties(code),
  idempotency_key TEXT NOT NULL,
  content_digest BLOB NOT NULL,
  sender_user TEXT NOT NULL,
  sender_role TEXT NOT NULL,
  kind TEXT NOT NULL,
  in_reply_to TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  priority TEXT NOT NULL,
  urgency_justification TEXT NOT NULL,
  classification TEXT NOT NULL,
  contains_personal_data INTEGER NOT NULL,
  handling_code TEXT NOT NULL,
  handling_restriction TEXT NOT NULL,
  eval_source TEXT,
  eval_information TEXT,
  created_at_us INTEGER NOT NULL,
  UNIQUE (sender_party, idempotency_key)
);
CREATE INDEX messages_outbox ON messages (sender_party, seq);
CREATE TABLE recipients (
  message_seq INTEGER NOT NULL REFERENCES messages(seq),
  position INTEGER NOT NULL,
  party TEXT NOT NULL REFERENCES parties(code),
  request_state TEXT,
  answered_at_us INTEGER,
  reply_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (message_seq, party)
);
CREATE INDEX recipients_inbox ON recipients (party, message_seq);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  time_us INTEGER NOT NULL,
  principal TEXT NOT NULL,
  party TEXT NOT NULL,
  role TEXT NOT NULL,
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  resources TEXT NOT NULL,
  outcome TEXT NOT NULL,
  code INTEGER NOT NULL,
  reason TEXT NOT NULL,
  leaf BLOB NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
)sql",
    // Version 2: party status history and certificate revocations.
    R"sql(
CREATE TABLE party_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  code TEXT NOT NULL REFERENCES parties(code),
  time_us INTEGER NOT NULL,
  changed_by TEXT NOT NULL,
  change TEXT NOT NULL,
  from_value TEXT NOT NULL,
  to_value TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX party_changes_code ON party_changes (code, seq);
INSERT INTO party_changes (code, time_us, changed_by, change, from_value,
                           to_value, reason)
  SELECT code, CAST(strftime('%s', 'now') AS INTEGER) * 1000000,
         'liaisond', 'REGISTERED', '', tier,
         'registered before status history was kept'
  FROM parties ORDER BY code;
CREATE TABLE revocations (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  serial TEXT UNIQUE,
  user_path TEXT UNIQUE,
  reason TEXT NOT NULL,
  revoked_at_us INTEGER NOT NULL,
  revoked_by TEXT NOT NULL,
  CHECK ((serial IS NULL) != (user_path IS NULL))
);
CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations
BEGIN SELECT RAISE(ABORT, 'revocations are permanent'); END;
)sql",
    // Version 3: request deadlines, acknowledgement, refusal, receipts.
    R"sql(
ALTER TABLE recipients ADD COLUMN due_at_us INTEGER;
ALTER TABLE recipients ADD COLUMN acknowledged_at_us INTEGER;
ALTER TABLE recipients ADD COLUMN refused_at_us INTEGER;
ALTER TABLE recipients ADD COLUMN refusal_reason TEXT;
ALTER TABLE recipients ADD COLUMN refusal_text TEXT NOT NULL DEFAULT '';
ALTER TABLE recipients ADD COLUMN delivered_at_us INTEGER;
ALTER TABLE recipients ADD COLUMN read_at_us INTEGER;
CREATE INDEX recipients_due ON recipients (party, request_state, due_at_us);
-- Requests stored before deadlines were kept: due by the default deadlines
-- (8 hours urgent, 7 days routine) from receipt.
UPDATE recipients SET due_at_us = (
  SELECT m.created_at_us + CASE m.priority WHEN 'URGENT' THEN 28800000000
                                           ELSE 604800000000 END
  FROM messages m WHERE m.seq = recipients.message_seq)
WHERE request_state IS NOT NULL;
)sql",
    // Version 4: cases (joint investigations, regional operations).
    R"sql(
CREATE TABLE cases (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  owner_party TEXT NOT NULL REFERENCES parties(code),
  state TEXT NOT NULL,
  opened_at_us INTEGER NOT NULL,
  closed_at_us INTEGER
);
CREATE TABLE case_participants (
  case_seq INTEGER NOT NULL REFERENCES cases(seq),
  party TEXT NOT NULL REFERENCES parties(code),
  added_at_us INTEGER NOT NULL,
  removed_at_us INTEGER,
  PRIMARY KEY (case_seq, party)
);
CREATE INDEX case_participants_party ON case_participants (party);
CREATE TABLE case_messages (
  case_seq INTEGER NOT NULL REFERENCES cases(seq),
  message_id TEXT NOT NULL REFERENCES messages(id),
  attached_at_us INTEGER NOT NULL,
  PRIMARY KEY (case_seq, message_id)
);
CREATE INDEX case_messages_message ON case_messages (message_id);
)sql",
    // Version 5: onward transmission (provenance) and owners' consents.
    R"sql(
ALTER TABLE messages ADD COLUMN origin_id TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN owner_party TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN forwarded_from TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_origin ON messages (origin_id);
CREATE TABLE consents (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  origin_id TEXT NOT NULL REFERENCES messages(id),
  owner_party TEXT NOT NULL,
  requester_party TEXT NOT NULL,
  target_party TEXT NOT NULL,
  justification TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_at_us INTEGER NOT NULL,
  requested_by TEXT NOT NULL,
  decided_at_us INTEGER,
  decided_by TEXT NOT NULL DEFAULT '',
  decision_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consents_lookup ON consents (origin_id, requester_party,
                                          target_party, state);
)sql",
    // Version 6: per-party events for live delivery (Subscribe).
    R"sql(
CREATE TABLE events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  party TEXT NOT NULL,
  kind TEXT NOT NULL,
  message_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  time_us INTEGER NOT NULL
);
CREATE INDEX events_party ON events (party, seq);
)sql",
    // Version 7: attachments, their bytes in chunks apart from the rows.
    R"sql(
CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id),
  file_name TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha256_hex TEXT NOT NULL,
  uploaded_at_us INTEGER NOT NULL,
  uploaded_by TEXT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE TABLE attachment_chunks (
  attachment_id TEXT NOT NULL REFERENCES attachments(id),
  idx INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (attachment_id, idx)
);
)sql",
    // Version 8: the verifiable audit log. The Merkle tree's complete
    // subtrees, signed checkpoints, and lookups by party and by resource.
    // The tree over entries written before this version is built by
    // BackfillAuditTree right after.
    R"sql(
CREATE TABLE audit_tree (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END;
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END;
CREATE TABLE audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  signed_at_us INTEGER NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TABLE audit_resources (
  resource TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (resource, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO audit_resources (resource, seq)
WITH RECURSIVE split(seq, item, rest) AS (
  SELECT seq, '', resources || char(10) FROM audit_log
  UNION ALL
  SELECT seq, substr(rest, 1, instr(rest, char(10)) - 1),
         substr(rest, instr(rest, char(10)) + 1)
  FROM split WHERE rest != ''
)
SELECT item, seq FROM split WHERE item != '';
CREATE INDEX audit_log_party ON audit_log (party, seq);
)sql",
    // Version 9: INSERT OR REPLACE deletes the row it replaces without firing
    // DELETE triggers; refuse an insert over an existing row instead. The
    // resource index is append-only too.
    R"sql(
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_tree_no_replace BEFORE INSERT ON audit_tree
WHEN EXISTS (SELECT 1 FROM audit_tree WHERE level = NEW.level AND idx = NEW.idx)
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE tree_size = NEW.tree_size)
BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_resources_no_update BEFORE UPDATE ON audit_resources
BEGIN SELECT RAISE(ABORT, 'audit resource index is append-only'); END;
CREATE TRIGGER audit_resources_no_delete BEFORE DELETE ON audit_resources
BEGIN SELECT RAISE(ABORT, 'audit resource index is append-only'); END;
)sql",
    // Version 10: the tree's nodes keyed by their position in post-order
    // (merkle::PostOrderPosition), so that a commit's new nodes go to the end
    // of one B-tree instead of one place per tree level. RekeyAuditTree
    // moves the nodes over right after, in this transaction. A node is added
    // only at the next position, as the node that comes next: nothing
    // replaced, nothing skipped, no level or index but its own.
    R"sql(
DROP TRIGGER IF EXISTS audit_tree_no_update;
DROP TRIGGER IF EXISTS audit_tree_no_delete;
DROP TRIGGER IF EXISTS audit_tree_no_replace;
ALTER TABLE audit_tree RENAME TO audit_tree_by_level;
CREATE TABLE audit_tree (
  pos INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL
);
-- The next node after (level, idx) in post-order: its parent if it is a
-- right child, else the next leaf. The first is leaf 0 at position 0.
CREATE TRIGGER audit_tree_in_order BEFORE INSERT ON audit_tree
WHEN NOT (
  (NEW.pos IS 0 AND NEW.level IS 0 AND NEW.idx IS 0 AND
   NOT EXISTS (SELECT 1 FROM audit_tree)) OR
  EXISTS (SELECT 1 FROM audit_tree AS last
          WHERE last.pos = (SELECT MAX(pos) FROM audit_tree) AND
                NEW.pos IS last.pos + 1 AND
                CASE WHEN last.idx % 2 = 1
                     THEN NEW.level IS last.level + 1 AND
                          NEW.idx IS last.idx / 2
                     ELSE NEW.level IS 0 AND
                          NEW.idx IS (last.idx + 1) << last.level END))
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only, in order'); END;
CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END;
CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END;
)sql",
    // Version 11: only copies passed on have an origin; originals (origin
    // '') stay out of the origin's index, which every send wrote to. And the
    // tree's order trigger as version 10 has it now: the first build of
    // version 10 (4bb1843) checked the position only.
    R"sql(
DROP INDEX messages_origin;
CREATE INDEX messages_origin ON messages (origin_id) WHERE origin_id != '';
DROP TRIGGER audit_tree_in_order;
CREATE TRIGGER audit_tree_in_order BEFORE INSERT ON audit_tree
WHEN NOT (
  (NEW.pos IS 0 AND NEW.level IS 0 AND NEW.idx IS 0 AND
   NOT EXISTS (SELECT 1 FROM audit_tree)) OR
  EXISTS (SELECT 1 FROM audit_tree AS last
          WHERE last.pos = (SELECT MAX(pos) FROM audit_tree) AND
                NEW.pos IS last.pos + 1 AND
                CASE WHEN last.idx % 2 = 1
                     THEN NEW.level IS last.level + 1 AND
                          NEW.idx IS last.idx / 2
                     ELSE NEW.level IS 0 AND
                          NEW.idx IS (last.idx + 1) << last.level END))
BEGIN SELECT RAISE(ABORT, 'audit tree is append-only, in order'); END;
)sql",
};

// The audit tree's first version; older logs get their tree built.
constexpr int kAuditTreeVersion = 8;
// The version that keys the tree's nodes by position; older trees are
// moved over.
constexpr int kAuditTreeByPositionVersion = 10;
// Each migration step writes the tree with the statement of its own version,
// never with the current code's.
constexpr char kInsertNodeByLevel[] =
    "INSERT INTO audit_tree (level, idx, hash) VALUES (?, ?, ?)";
constexpr char kInsertNodeByPosition[] =
    "INSERT INTO audit_tree (pos, level, idx, hash) VALUES (?, ?, ?, ?)";

absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what) {
  const std::string message =
      absl::StrCat("storage: ", what, ": ",
                   db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return absl::AlreadyExistsError(message);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER:
      return absl::FailedPreconditionError(message);
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::InvalidArgumentError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

// A prepared statement, finalized on destruction.
class Statement {
 public:
  // kReuse keeps the prepared statement on the connection for the next
  // use of the same text; kOnce is for texts that vary with the input (one
  // placeholder per item), which would only crowd the connection's cache.
  enum Reuse { kReuse, kOnce };

  Statement(SqliteConnection& db, absl::string_view sql, Reuse reuse = kReuse)
      : db_(db), sql_(sql), reuse_(reuse) {
    rc_ = reuse_ == kReuse ? db_.Take(sql_, &stmt_)
                           : sqlite3_prepare_v2(db_.get(), sql_.data(),
                                                static_cast<int>(sql_.size()),
                                                &stmt_, nullptr);
  }
  ~Statement() {
    if (rc_ == SQLITE_OK && reuse_ == kReuse) {
      db_.Return(sql_, stmt_);
    } else {
      sqlite3_finalize(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status status() const {
    return rc_ == SQLITE_OK ? absl::OkStatus()
                            : SqliteError(db_.get(), rc_, "prepare or bind");
  }

  Statement& Bind(absl::string_view value) {
    Check(sqlite3_bind_text(stmt_, ++index_, value.data(),
                            static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& BindBlob(absl::string_view value) {
    Check(sqlite3_bind_blob(stmt_, ++index_, value.data(),
                            static_cast<int>(value.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& Bind(int64_t value) {
    Check(sqlite3_bind_int64(stmt_, ++index_, value));
    return *this;
  }
  Statement& BindNull() {
    Check(sqlite3_bind_null(stmt_, ++index_));
    return *this;
  }
  Statement& BindOptional(const std::optional<absl::string_view>& value) {
    return value.has_value() ? Bind(*value) : BindNull();
  }

  // Advances to the next row: true if there is one.
  absl::StatusOr<bool> Step() {
    if (rc_ != SQLITE_OK) return status();
    if (db_.writing() && sqlite3_get_autocommit(db_.get())) {
      return absl::UnavailableError(
          "storage: the transaction was rolled back by a storage fault; "
          "nothing of it was stored");
    }
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_.get(), rc, "step");
  }
  // Runs a statement that returns no rows.
  absl::Status Run() {
    absl::StatusOr<bool> row = Step();
    return row.status();
  }

  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    return text == nullptr
               ? std::string()
               : std::string(
                     reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::string Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    return data == nullptr
               ? std::string()
               : std::string(
                     static_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK && rc_ == SQLITE_OK) rc_ = rc;
  }

  SqliteConnection& db_;
  const std::string sql_;
  const Reuse reuse_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
  int index_ = 0;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  absl::Status status = SqliteError(db, rc, error != nullptr ? error : sql);
  sqlite3_free(error);
  return status;
}

// One statement without parameters or rows, prepared once per connection.
absl::Status Exec(SqliteConnection& db, const char* sql) {
  Statement statement(db, sql);
  return statement.Run();
}

template <typename E>
absl::StatusOr<E> Decode(std::optional<E> value, absl::string_view column,
                         absl::string_view text) {
  if (!value.has_value()) {
    return absl::DataLossError(
        absl::StrCat("storage: unknown ", column, " value '", text, "'"));
  }
  return *value;
}

constexpr char kPartyColumns[] =
    "code, name, tier, state, ceiling, agreement_in_force";

absl::StatusOr<Party> ReadParty(const Statement& row) {
  Party party;
  party.code = row.Text(0);
  party.name = row.Text(1);
  LIAISON_ASSIGN_OR_RETURN(
      party.tier, Decode(ParsePartyTier(row.Text(2)), "tier", row.Text(2)));
  LIAISON_ASSIGN_OR_RETURN(
      party.state, Decode(ParsePartyState(row.Text(3)), "state", row.Text(3)));
  LIAISON_ASSIGN_OR_RETURN(
      party.ceiling,
      Decode(ParseClassification(row.Text(4)), "ceiling", row.Text(4)));
  party.agreement_in_force = row.Int(5) != 0;
  return party;
}

absl::StatusOr<std::optional<Party>> FindPartyIn(SqliteConnection& db,
                                                 absl::string_view code) {
  Statement q(db, absl::StrCat("SELECT ", kPartyColumns,
                               " FROM parties WHERE code = ?"));
  q.Bind(code);
  LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::nullopt;
  return ReadParty(q);
}

// GetParty's answer: NOT_FOUND for a party that is not registered.
absl::StatusOr<Party> Registered(absl::string_view code,
                                 absl::StatusOr<std::optional<Party>> found) {
  if (!found.ok()) return found.status();
  if (!found->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("party ", code, " is not registered"));
  }
  return **found;
}

#define LIAISON_MESSAGE_COLUMNS(body)                                     \
  "m.seq, m.id, m.sender_party, m.idempotency_key, m.content_digest, "    \
  "m.sender_user, m.sender_role, m.kind, m.in_reply_to, m.subject, " body \
  ", m.priority, m.urgency_justification, m.classification, "             \
  "m.contains_personal_data, m.handling_code, m.handling_restriction, "   \
  "m.eval_source, m.eval_information, m.created_at_us, m.origin_id, "     \
  "m.owner_party, m.forwarded_from"
// Whole messages, and summaries that leave the (up to 1 MiB) body unread.
constexpr char kMessageColumns[] = LIAISON_MESSAGE_COLUMNS("m.body");
constexpr char kSummaryColumns[] = LIAISON_MESSAGE_COLUMNS("''");
#undef LIAISON_MESSAGE_COLUMNS

absl::StatusOr<Message> ReadMessageRow(const Statement& row) {
  Message m;
  m.seq = row.Int(0);
  m.id = row.Text(1);
  m.sender_party = row.Text(2);
  m.idempotency_key = row.Text(3);
  m.content_digest = row.Blob(4);
  m.sender_user = row.Text(5);
  LIAISON_ASSIGN_OR_RETURN(m.sender_role,
                           Decode(ParseRole(row.Text(6)), "role", row.Text(6)));
  LIAISON_ASSIGN_OR_RETURN(
      m.kind, Decode(ParseMessageKind(row.Text(7)), "kind", row.Text(7)));
  m.in_reply_to = row.Text(8);
  m.subject = row.Text(9);
  m.body = row.Text(10);
  LIAISON_ASSIGN_OR_RETURN(m.priority, Decode(ParsePriority(row.Text(11)),
                                              "priority", row.Text(11)));
  m.urgency_justification = row.Text(12);
  LIAISON_ASSIGN_OR_RETURN(m.classification,
                           Decode(ParseClassification(row.Text(13)),
                                  "classification", row.Text(13)));
  m.contains_personal_data = row.Int(14) != 0;
  LIAISON_ASSIGN_OR_RETURN(
      m.handling_code,
      Decode(ParseHandlingCode(row.Text(15)), "handling", row.Text(15)));
  m.handling_restriction = row.Text(16);
  if (!row.IsNull(17)) {
    Evaluation evaluation;
    LIAISON_ASSIGN_OR_RETURN(
        evaluation.source,
        Decode(ParseSourceReliability(row.Text(17)), "source", row.Text(17)));
    LIAISON_ASSIGN_OR_RETURN(evaluation.information,
                             Decode(ParseInformationAssessment(row.Text(18)),
                                    "information", row.Text(18)));
    m.evaluation = evaluation;
  }
  m.created_at = absl::FromUnixMicros(row.Int(19));
  m.origin_id = row.Text(20);
  m.owner_party = row.Text(21);
  m.forwarded_from = row.Text(22);
  return m;
}

std::optional<absl::string_view> OptionalName(
    const std::optional<RequestState>& state) {
  if (!state.has_value()) return std::nullopt;
  return Name(*state);
}

// Columns of a recipient row after message_seq, in ReadRecipient's order.
constexpr char kRecipientColumns[] =
    "party, request_state, answered_at_us, reply_id, due_at_us, "
    "acknowledged_at_us, refused_at_us, refusal_reason, refusal_text, "
    "delivered_at_us, read_at_us";

std::optional<absl::Time> OptionalTime(const Statement& row, int column) {
  if (row.IsNull(column)) return std::nullopt;
  return absl::FromUnixMicros(row.Int(column));
}

// Reads kRecipientColumns starting at `first`.
absl::StatusOr<Recipient> ReadRecipient(const Statement& q, int first) {
  Recipient r;
  r.party = q.Text(first);
  if (!q.IsNull(first + 1)) {
    LIAISON_ASSIGN_OR_RETURN(r.request_state,
                             Decode(ParseRequestState(q.Text(first + 1)),
                                    "request state", q.Text(first + 1)));
  }
  r.answered_at = OptionalTime(q, first + 2);
  r.reply_id = q.Text(first + 3);
  r.due_at = OptionalTime(q, first + 4);
  r.acknowledged_at = OptionalTime(q, first + 5);
  r.refused_at = OptionalTime(q, first + 6);
  if (!q.IsNull(first + 7)) {
    LIAISON_ASSIGN_OR_RETURN(r.refusal_reason,
                             Decode(ParseRefusalReason(q.Text(first + 7)),
                                    "refusal reason", q.Text(first + 7)));
  }
  r.refusal_text = q.Text(first + 8);
  r.delivered_at = OptionalTime(q, first + 9);
  r.read_at = OptionalTime(q, first + 10);
  return r;
}

// Binds the values of kRecipientColumns after `party`, in order.
void BindRecipientState(Statement& q, const Recipient& r) {
  auto time = [&q](const std::optional<absl::Time>& t) {
    if (t.has_value()) {
      q.Bind(absl::ToUnixMicros(*t));
    } else {
      q.BindNull();
    }
  };
  q.BindOptional(OptionalName(r.request_state));
  time(r.answered_at);
  q.Bind(r.reply_id);
  time(r.due_at);
  time(r.acknowledged_at);
  time(r.refused_at);
  q.BindOptional(r.refusal_reason.has_value()
                     ? std::optional<absl::string_view>(Name(*r.refusal_reason))
                     : std::nullopt);
  q.Bind(r.refusal_text);
  time(r.delivered_at);
  time(r.read_at);
}

// Loads the recipients of all `messages` with one query.
absl::Status LoadRecipients(SqliteConnection& db,
                            std::vector<Message>& messages) {
  if (messages.empty()) return absl::OkStatus();
  std::map<int64_t, Message*> by_seq;
  for (Message& m : messages) {
    m.recipients.clear();
    by_seq[m.seq] = &m;
  }
  Statement q(
      db,
      absl::StrCat(
          "SELECT message_seq, ", kRecipientColumns,
          " FROM recipients WHERE message_seq IN (",
          absl::StrJoin(std::vector<std::string>(messages.size(), "?"), ", "),
          ") ORDER BY message_seq, position"),
      Statement::kOnce);
  for (const auto& [seq, message] : by_seq) q.Bind(seq);
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    LIAISON_ASSIGN_OR_RETURN(Recipient r, ReadRecipient(q, 1));
    by_seq.at(q.Int(0))->recipients.push_back(std::move(r));
  }
  return absl::OkStatus();
}

// Runs a message query (columns kMessageColumns or kSummaryColumns) and
// loads recipients.
absl::StatusOr<std::vector<Message>> QueryMessages(SqliteConnection& db,
                                                   Statement& q) {
  std::vector<Message> messages;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    LIAISON_ASSIGN_OR_RETURN(Message m, ReadMessageRow(q));
    messages.push_back(std::move(m));
  }
  LIAISON_RETURN_IF_ERROR(LoadRecipients(db, messages));
  return messages;
}

constexpr char kRevocationColumns[] =
    "COALESCE(serial, ''), COALESCE(user_path, ''), reason, revoked_at_us, "
    "revoked_by";

Revocation ReadRevocation(const Statement& row) {
  return Revocation{row.Text(0), row.Text(1), row.Text(2),
                    absl::FromUnixMicros(row.Int(3)), row.Text(4)};
}

absl::StatusOr<std::optional<Revocation>> FindRevocationIn(
    SqliteConnection& db, absl::string_view serial, absl::string_view user) {
  Statement q(db, absl::StrCat("SELECT ", kRevocationColumns,
                               " FROM revocations WHERE serial = ? OR "
                               "user_path = ? ORDER BY seq LIMIT 1"));
  // Empty arguments must match nothing; NULL never equals anything.
  q.BindOptional(serial.empty() ? std::nullopt
                                : std::optional<absl::string_view>(serial))
      .BindOptional(user.empty() ? std::nullopt
                                 : std::optional<absl::string_view>(user));
  LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::nullopt;
  return ReadRevocation(q);
}

absl::StatusOr<Message> GetMessageIn(SqliteConnection& db,
                                     absl::string_view id) {
  Statement q(db, absl::StrCat("SELECT ", kMessageColumns,
                               " FROM messages m WHERE m.id = ?"));
  q.Bind(id);
  LIAISON_ASSIGN_OR_RETURN(std::vector<Message> found, QueryMessages(db, q));
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("message ", id, " not found"));
  }
  return std::move(found.front());
}

constexpr char kConsentColumns[] =
    "id, origin_id, owner_party, requester_party, target_party, "
    "justification, state, requested_at_us, requested_by, decided_at_us, "
    "decided_by, decision_reason";

absl::StatusOr<Consent> ReadConsent(const Statement& q) {
  Consent c;
  c.id = q.Text(0);
  c.origin_id = q.Text(1);
  c.owner_party = q.Text(2);
  c.requester_party = q.Text(3);
  c.target_party = q.Text(4);
  c.justification = q.Text(5);
  LIAISON_ASSIGN_OR_RETURN(c.state, Decode(ParseConsentState(q.Text(6)),
                                           "consent state", q.Text(6)));
  c.requested_at = absl::FromUnixMicros(q.Int(7));
  c.requested_by = q.Text(8);
  c.decided_at = OptionalTime(q, 9);
  c.decided_by = q.Text(10);
  c.decision_reason = q.Text(11);
  return c;
}

absl::StatusOr<Consent> GetConsentIn(SqliteConnection& db,
                                     absl::string_view id) {
  Statement q(db, absl::StrCat("SELECT ", kConsentColumns,
                               " FROM consents WHERE id = ?"));
  q.Bind(id);
  LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat("consent ", id, " not found"));
  }
  return ReadConsent(q);
}

absl::StatusOr<Case> GetCaseIn(SqliteConnection& db, absl::string_view id) {
  Statement q(db,
              "SELECT seq, id, title, owner_party, state, opened_at_us, "
              "closed_at_us FROM cases WHERE id = ?");
  q.Bind(id);
  LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
  }
  Case c;
  c.seq = q.Int(0);
  c.id = q.Text(1);
  c.title = q.Text(2);
  c.owner_party = q.Text(3);
  LIAISON_ASSIGN_OR_RETURN(
      c.state, Decode(ParseCaseState(q.Text(4)), "case state", q.Text(4)));
  c.opened_at = absl::FromUnixMicros(q.Int(5));
  c.closed_at = OptionalTime(q, 6);
  Statement parts(db,
                  "SELECT party FROM case_participants WHERE case_seq = ? "
                  "AND removed_at_us IS NULL ORDER BY added_at_us, party");
  parts.Bind(c.seq);
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool row, parts.Step());
    if (!row) break;
    c.participants.push_back(parts.Text(0));
  }
  Statement messages(db,
                     "SELECT message_id FROM case_messages WHERE case_seq = "
                     "? ORDER BY attached_at_us, rowid");
  messages.Bind(c.seq);
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool row, messages.Step());
    if (!row) break;
    c.message_ids.push_back(messages.Text(0));
  }
  return c;
}

}  // namespace

// Entries from rows of seq, time_us, principal, party, role, user_id,
// action, resources, outcome, code, reason.
absl::StatusOr<std::vector<AuditEntry>> ReadAuditRows(Statement& q) {
  std::vector<AuditEntry> entries;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    AuditEntry e;
    e.seq = q.Int(0);
    e.time = absl::FromUnixMicros(q.Int(1));
    e.principal = q.Text(2);
    e.party = q.Text(3);
    e.role = q.Text(4);
    e.user_id = q.Text(5);
    e.action = q.Text(6);
    const std::string resources = q.Text(7);
    if (!resources.empty()) e.resources = absl::StrSplit(resources, '\n');
    LIAISON_ASSIGN_OR_RETURN(
        e.outcome, Decode(ParseAuditOutcome(q.Text(8)), "outcome", q.Text(8)));
    e.code = static_cast<absl::StatusCode>(q.Int(9));
    e.reason = q.Text(10);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<int64_t> AuditSizeIn(SqliteConnection& db) {
  // seq is dense from 1, so its maximum is the count (without a scan).
  Statement q(db, "SELECT COALESCE(MAX(seq), 0) FROM audit_log");
  LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
  return has_row ? q.Int(0) : 0;
}

absl::StatusOr<std::string> AuditNodeIn(SqliteConnection& db, int level,
                                        int64_t index) {
  if (level < 0 || level > 62 || index < 0 || (index >> (62 - level)) != 0) {
    return absl::NotFoundError(
        absl::StrCat("audit tree has no node ", level, "/", index));
  }
  Statement q(db, "SELECT hash FROM audit_tree WHERE pos = ?");
  q.Bind(static_cast<int64_t>(
      merkle::PostOrderPosition(level, static_cast<uint64_t>(index))));
  LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
  if (!has_row) {
    return absl::NotFoundError(
        absl::StrCat("audit tree has no node ", level, "/", index));
  }
  return q.Blob(0);
}

absl::Status InsertAuditNodes(SqliteConnection& db,
                              const std::vector<merkle::Node>& nodes) {
  for (const merkle::Node& node : nodes) {
    Statement insert(db, kInsertNodeByPosition);
    insert
        .Bind(static_cast<int64_t>(
            merkle::PostOrderPosition(node.level, node.index)))
        .Bind(int64_t{node.level})
        .Bind(static_cast<int64_t>(node.index))
        .BindBlob(node.hash);
    LIAISON_RETURN_IF_ERROR(insert.Run());
  }
  return absl::OkStatus();
}

constexpr absl::string_view kCheckpointColumns =
    "tree_size, root, note, signed_at_us";

AuditCheckpoint ReadCheckpoint(const Statement& q) {
  AuditCheckpoint c;
  c.tree_size = q.Int(0);
  c.root_hash = q.Blob(1);
  c.note = q.Text(2);
  c.signed_at = absl::FromUnixMicros(q.Int(3));
  return c;
}

absl::StatusOr<std::optional<AuditCheckpoint>> LatestCheckpointIn(
    SqliteConnection& db) {
  Statement q(db, absl::StrCat("SELECT ", kCheckpointColumns,
                               " FROM audit_checkpoints "
                               "ORDER BY tree_size DESC LIMIT 1"));
  LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
  if (!has_row) return std::nullopt;
  return ReadCheckpoint(q);
}

// Builds the tree over entries written before the tree existed, from their
// stored leaves, in version 8's table (keyed by level and index).
absl::Status BackfillAuditTree(SqliteConnection& db) {
  Statement q(db, "SELECT seq, leaf FROM audit_log ORDER BY seq");
  // Only the right edge of the tree is read again: each node read is a left
  // sibling being combined, and is forgotten then (O(log n) memory).
  std::map<std::pair<int, uint64_t>, std::string> edge;
  auto read = [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
    auto it = edge.find({level, index});
    if (it == edge.end()) {
      return absl::InternalError("audit tree backfill lost a node");
    }
    std::string hash = std::move(it->second);
    edge.erase(it);
    return hash;
  };
  uint64_t index = 0;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    if (q.Int(0) != static_cast<int64_t>(index) + 1) {
      return absl::DataLossError(absl::StrCat(
          "audit log has entry ", q.Int(0), " where ", index + 1, " belongs"));
    }
    LIAISON_ASSIGN_OR_RETURN(
        std::vector<merkle::Node> nodes,
        merkle::NodesForAppend(index, merkle::LeafHash(q.Blob(1)), read));
    for (const merkle::Node& node : nodes) {
      Statement insert(db, kInsertNodeByLevel);
      insert.Bind(int64_t{node.level})
          .Bind(static_cast<int64_t>(node.index))
          .BindBlob(node.hash);
      LIAISON_RETURN_IF_ERROR(insert.Run());
    }
    edge[{nodes.back().level, nodes.back().index}] =
        std::move(nodes.back().hash);
    ++index;
  }
  return absl::OkStatus();
}

// Moves the tree's nodes from the table keyed by (level, index) to the one
// keyed by position (version 10), in position order, and drops the old one.
// The old table must hold exactly the tree of its leaves, and its leaves be
// the hashes of the log's entries, one each.
absl::Status RekeyAuditTree(SqliteConnection& db) {
  int64_t leaves = 0;
  int64_t nodes = 0;
  {
    Statement count(db,
                    "SELECT COALESCE(MAX(idx) + 1, 0), COUNT(*), "
                    "(SELECT COUNT(*) FROM audit_tree_by_level) "
                    "FROM audit_tree_by_level WHERE level = 0",
                    Statement::kOnce);
    LIAISON_ASSIGN_OR_RETURN(bool has_count, count.Step());
    if (has_count) {
      leaves = count.Int(0);
      nodes = count.Int(2);
      if (count.Int(1) != leaves) {
        return absl::DataLossError(
            absl::StrCat("audit tree has ", count.Int(1), " leaves in ", leaves,
                         " places; cannot move it to version ",
                         kAuditTreeByPositionVersion));
      }
    }
  }
  LIAISON_ASSIGN_OR_RETURN(const int64_t entries, AuditSizeIn(db));
  if (entries != leaves) {
    return absl::DataLossError(
        absl::StrCat("audit tree has ", leaves, " leaves for ", entries,
                     " log entries; cannot move it to version ",
                     kAuditTreeByPositionVersion));
  }
  int64_t moved = 0;
  for (int64_t leaf = 0; leaf < leaves; ++leaf) {
    // The nodes appending this leaf completed, in the order it added them.
    const uint64_t end = static_cast<uint64_t>(leaf) + 1;
    for (int level = 0; level == 0 || ((end >> (level - 1)) & 1) == 0;
         ++level) {
      const uint64_t index = (end >> level) - 1;
      std::string hash;
      {
        Statement old(db,
                      "SELECT hash FROM audit_tree_by_level "
                      "WHERE level = ? AND idx = ?");
        old.Bind(int64_t{level}).Bind(static_cast<int64_t>(index));
        LIAISON_ASSIGN_OR_RETURN(bool has_node, old.Step());
        if (!has_node) {
          return absl::DataLossError(absl::StrCat(
              "audit tree has no node ", level, "/", index, " of its ", leaves,
              " leaves; cannot move it to version ",
              kAuditTreeByPositionVersion));
        }
        hash = old.Blob(0);
      }
      if (level == 0) {
        // Each leaf is its log entry's.
        Statement entry(db, "SELECT leaf FROM audit_log WHERE seq = ?");
        entry.Bind(leaf + 1);
        LIAISON_ASSIGN_OR_RETURN(bool has_entry, entry.Step());
        if (!has_entry || merkle::LeafHash(entry.Blob(0)) != hash) {
          return absl::DataLossError(absl::StrCat(
              "audit tree's leaf ", index, " is not the hash of log entry ",
              leaf + 1, has_entry ? "" : " (there is none)",
              "; cannot move it to version ", kAuditTreeByPositionVersion));
        }
      }
      Statement insert(db, kInsertNodeByPosition);
      insert.Bind(moved)
          .Bind(int64_t{level})
          .Bind(static_cast<int64_t>(index))
          .BindBlob(hash);
      LIAISON_RETURN_IF_ERROR(insert.Run());
      ++moved;
    }
  }
  if (nodes != moved) {
    return absl::DataLossError(absl::StrCat(
        "audit tree has ", nodes - moved, " nodes outside the tree of its ",
        leaves, " leaves; cannot move it to version ",
        kAuditTreeByPositionVersion));
  }
  return Exec(db, "DROP TABLE audit_tree_by_level");
}

class SqliteStore::Transaction final : public WriteTransaction {
 public:
  // `cache` (null: none) holds what is committed; it answers only until a
  // write of this group changes parties or revocations.
  Transaction(SqliteConnection& db, AccessCache* cache)
      : db_(db), cache_(cache) {}

  // True once a write of the group may have changed a party or a
  // revocation (even if it was rolled back).
  bool changed_access() const { return changed_access_; }

  // liaison::WriteTransaction
  absl::StatusOr<Party> GetParty(absl::string_view code) override {
    auto read = [&] { return FindPartyIn(db_, code); };
    if (cache_ == nullptr || changed_access_) return Registered(code, read());
    return Registered(code, cache_->FindParty(code, read));
  }

  absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user) override {
    auto read = [&] { return FindRevocationIn(db_, serial, user); };
    if (cache_ == nullptr || changed_access_) return read();
    return cache_->FindRevocation(serial, user, read);
  }

  absl::StatusOr<std::optional<Message>> FindByIdempotencyKey(
      absl::string_view sender_party,
      absl::string_view idempotency_key) override {
    Statement q(db_, absl::StrCat("SELECT ", kMessageColumns,
                                  " FROM messages m WHERE m.sender_party = ? "
                                  "AND m.idempotency_key = ?"));
    q.Bind(sender_party).Bind(idempotency_key);
    LIAISON_ASSIGN_OR_RETURN(std::vector<Message> found, QueryMessages(db_, q));
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  absl::Status InsertMessage(const Message& m) override {
    Statement insert(
        db_,
        "INSERT INTO messages (id, sender_party, idempotency_key, "
        "content_digest, sender_user, sender_role, kind, in_reply_to, "
        "subject, body, priority, urgency_justification, classification, "
        "contains_personal_data, handling_code, handling_restriction, "
        "eval_source, eval_information, created_at_us, origin_id, "
        "owner_party, forwarded_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.Bind(m.id)
        .Bind(m.sender_party)
        .Bind(m.idempotency_key)
        .BindBlob(m.content_digest)
        .Bind(m.sender_user)
        .Bind(RoleName(m.sender_role))
        .Bind(Name(m.kind))
        .Bind(m.in_reply_to)
        .Bind(m.subject)
        .Bind(m.body)
        .Bind(Name(m.priority))
        .Bind(m.urgency_justification)
        .Bind(Name(m.classification))
        .Bind(int64_t{m.contains_personal_data ? 1 : 0})
        .Bind(Name(m.handling_code))
        .Bind(m.handling_restriction);
    if (m.evaluation.has_value()) {
      insert.Bind(Name(m.evaluation->source))
          .Bind(Name(m.evaluation->information));
    } else {
      insert.BindNull().BindNull();
    }
    insert.Bind(absl::ToUnixMicros(m.created_at))
        .Bind(m.origin_id)
        .Bind(m.owner_party)
        .Bind(m.forwarded_from);
    LIAISON_RETURN_IF_ERROR(insert.Run());
    const int64_t seq = sqlite3_last_insert_rowid(db_.get());

    int64_t position = 0;
    for (const Recipient& r : m.recipients) {
      Statement add(db_, absl::StrCat("INSERT INTO recipients (message_seq, "
                                      "position, ",
                                      kRecipientColumns,
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                      "?, ?, ?, ?)"));
      add.Bind(seq).Bind(position++).Bind(r.party);
      BindRecipientState(add, r);
      LIAISON_RETURN_IF_ERROR(add.Run());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Message> GetMessage(absl::string_view id) override {
    return GetMessageIn(db_, id);
  }

  absl::Status UpdateRecipient(absl::string_view message_id,
                               const Recipient& r) override {
    Statement update(
        db_,
        "UPDATE recipients SET request_state = ?, answered_at_us = ?, "
        "reply_id = ?, due_at_us = ?, acknowledged_at_us = ?, "
        "refused_at_us = ?, refusal_reason = ?, refusal_text = ?, "
        "delivered_at_us = ?, read_at_us = ? WHERE party = ? AND "
        "message_seq = (SELECT seq FROM messages WHERE id = ?)");
    BindRecipientState(update, r);
    update.Bind(r.party).Bind(message_id);
    LIAISON_RETURN_IF_ERROR(update.Run());
    if (sqlite3_changes(db_.get()) == 0) {
      return absl::NotFoundError(absl::StrCat(
          "party ", r.party, " is not a recipient of ", message_id));
    }
    return absl::OkStatus();
  }

  absl::Status RecordReceipts(absl::string_view party,
                              const std::vector<std::string>& message_ids,
                              absl::Time at, bool read) override {
    if (message_ids.empty()) return absl::OkStatus();
    Statement update(
        db_,
        absl::StrCat(
            "UPDATE recipients SET delivered_at_us = "
            "COALESCE(delivered_at_us, ?)",
            read ? ", read_at_us = COALESCE(read_at_us, ?)" : "",
            " WHERE party = ? AND message_seq IN (SELECT seq FROM "
            "messages WHERE id IN (",
            absl::StrJoin(std::vector<std::string>(message_ids.size(), "?"),
                          ", "),
            "))"),
        Statement::kOnce);
    update.Bind(absl::ToUnixMicros(at));
    if (read) update.Bind(absl::ToUnixMicros(at));
    update.Bind(party);
    for (const std::string& id : message_ids) update.Bind(id);
    return update.Run();
  }

  absl::Status SetHandling(absl::string_view message_id, HandlingCode code,
                           absl::string_view restriction) override {
    // The copies by the origin's index, which holds copies only.
    Statement update(db_,
                     "UPDATE messages SET handling_code = ?, "
                     "handling_restriction = ? WHERE id = ? OR "
                     "(origin_id = ? AND origin_id != '')");
    update.Bind(Name(code)).Bind(restriction).Bind(message_id).Bind(message_id);
    LIAISON_RETURN_IF_ERROR(update.Run());
    if (sqlite3_changes(db_.get()) == 0) {
      return absl::NotFoundError(
          absl::StrCat("message ", message_id, " not found"));
    }
    return absl::OkStatus();
  }

  absl::Status InsertConsent(const Consent& c) override {
    Statement insert(
        db_,
        "INSERT INTO consents (id, origin_id, owner_party, requester_party, "
        "target_party, justification, state, requested_at_us, requested_by, "
        "decided_at_us, decided_by, decision_reason) VALUES (?, ?, ?, ?, ?, "
        "?, ?, ?, ?, NULL, '', '')");
    insert.Bind(c.id)
        .Bind(c.origin_id)
        .Bind(c.owner_party)
        .Bind(c.requester_party)
        .Bind(c.target_party)
        .Bind(c.justification)
        .Bind(Name(c.state))
        .Bind(absl::ToUnixMicros(c.requested_at))
        .Bind(c.requested_by);
    return insert.Run();
  }

  absl::Status UpdateConsent(const Consent& c) override {
    Statement update(db_,
                     "UPDATE consents SET state = ?, decided_at_us = ?, "
                     "decided_by = ?, decision_reason = ? WHERE id = ?");
    update.Bind(Name(c.state));
    if (c.decided_at.has_value()) {
      update.Bind(absl::ToUnixMicros(*c.decided_at));
    } else {
      update.BindNull();
    }
    update.Bind(c.decided_by).Bind(c.decision_reason).Bind(c.id);
    return update.Run();
  }

  absl::StatusOr<Consent> GetConsent(absl::string_view id) override {
    return GetConsentIn(db_, id);
  }

  absl::StatusOr<std::optional<Consent>> FindGrantedConsent(
      absl::string_view origin_id, absl::string_view requester,
      absl::string_view target) override {
    Statement q(db_,
                "SELECT id FROM consents WHERE origin_id = ? AND "
                "requester_party = ? AND target_party = ? AND state = "
                "'GRANTED' ORDER BY seq LIMIT 1");
    q.Bind(origin_id).Bind(requester).Bind(target);
    LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) return std::nullopt;
    return GetConsentIn(db_, q.Text(0));
  }

  absl::StatusOr<int64_t> CountAttachments(
      absl::string_view message_id) override {
    Statement q(db_, "SELECT COUNT(*) FROM attachments WHERE message_id = ?");
    q.Bind(message_id);
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    return has_row ? q.Int(0) : 0;
  }

  absl::Status InsertAttachment(
      const AttachmentInfo& a,
      const std::vector<std::string>& chunks) override {
    Statement insert(db_,
                     "INSERT INTO attachments (id, message_id, file_name, "
                     "size, sha256_hex, uploaded_at_us, uploaded_by) VALUES "
                     "(?, ?, ?, ?, ?, ?, ?)");
    insert.Bind(a.id)
        .Bind(a.message_id)
        .Bind(a.file_name)
        .Bind(a.size)
        .Bind(a.sha256_hex)
        .Bind(absl::ToUnixMicros(a.uploaded_at))
        .Bind(a.uploaded_by);
    LIAISON_RETURN_IF_ERROR(insert.Run());
    for (size_t i = 0; i < chunks.size(); ++i) {
      Statement chunk(db_,
                      "INSERT INTO attachment_chunks (attachment_id, idx, "
                      "data) VALUES (?, ?, ?)");
      chunk.Bind(a.id).Bind(static_cast<int64_t>(i)).BindBlob(chunks[i]);
      LIAISON_RETURN_IF_ERROR(chunk.Run());
    }
    return absl::OkStatus();
  }

  absl::Status AppendEvent(const Event& e) override {
    Statement insert(db_,
                     "INSERT INTO events (party, kind, message_id, detail, "
                     "time_us) VALUES (?, ?, ?, ?, ?)");
    insert.Bind(e.party)
        .Bind(e.kind)
        .Bind(e.message_id)
        .Bind(e.detail)
        .Bind(absl::ToUnixMicros(e.time));
    return insert.Run();
  }

  absl::Status InsertCase(const Case& c) override {
    Statement insert(
        db_,
        "INSERT INTO cases (id, title, owner_party, state, "
        "opened_at_us, closed_at_us) VALUES (?, ?, ?, ?, ?, NULL)");
    insert.Bind(c.id)
        .Bind(c.title)
        .Bind(c.owner_party)
        .Bind(Name(c.state))
        .Bind(absl::ToUnixMicros(c.opened_at));
    LIAISON_RETURN_IF_ERROR(insert.Run());
    for (const std::string& party : c.participants) {
      LIAISON_RETURN_IF_ERROR(
          SetCaseParticipant(c.id, party, true, c.opened_at));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Case> GetCase(absl::string_view id) override {
    return GetCaseIn(db_, id);
  }

  absl::Status SetCaseParticipant(absl::string_view case_id,
                                  absl::string_view party, bool participating,
                                  absl::Time at) override {
    if (participating) {
      Statement upsert(
          db_,
          "INSERT INTO case_participants (case_seq, party, added_at_us, "
          "removed_at_us) VALUES ((SELECT seq FROM cases WHERE id = ?), ?, "
          "?, NULL) ON CONFLICT (case_seq, party) DO UPDATE SET "
          "added_at_us = excluded.added_at_us, removed_at_us = NULL");
      upsert.Bind(case_id).Bind(party).Bind(absl::ToUnixMicros(at));
      return upsert.Run();
    }
    Statement remove(db_,
                     "UPDATE case_participants SET removed_at_us = ? WHERE "
                     "case_seq = (SELECT seq FROM cases WHERE id = ?) AND "
                     "party = ? AND removed_at_us IS NULL");
    remove.Bind(absl::ToUnixMicros(at)).Bind(case_id).Bind(party);
    LIAISON_RETURN_IF_ERROR(remove.Run());
    if (sqlite3_changes(db_.get()) == 0) {
      return absl::NotFoundError(
          absl::StrCat(party, " does not take part in case ", case_id));
    }
    return absl::OkStatus();
  }

  absl::Status AttachToCase(absl::string_view case_id,
                            absl::string_view message_id,
                            absl::Time at) override {
    Statement insert(db_,
                     "INSERT INTO case_messages (case_seq, message_id, "
                     "attached_at_us) VALUES ((SELECT seq FROM cases WHERE "
                     "id = ?), ?, ?)");
    insert.Bind(case_id).Bind(message_id).Bind(absl::ToUnixMicros(at));
    absl::Status status = insert.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "message ", message_id, " is already attached to case ", case_id));
    }
    return status;
  }

  absl::Status CloseCase(absl::string_view case_id, absl::Time at) override {
    Statement update(db_,
                     "UPDATE cases SET state = 'CLOSED', closed_at_us = ? "
                     "WHERE id = ?");
    update.Bind(absl::ToUnixMicros(at)).Bind(case_id);
    return update.Run();
  }

  absl::Status MarkAnswered(absl::string_view request_id,
                            absl::string_view party, absl::string_view reply_id,
                            absl::Time answered_at) override {
    Statement q(db_,
                "SELECT r.request_state FROM recipients r JOIN messages m "
                "ON m.seq = r.message_seq WHERE m.id = ? AND r.party = ?");
    q.Bind(request_id).Bind(party);
    LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("party ", party, " is not a recipient of ", request_id));
    }
    const std::string state = q.Text(0);
    if (state != Name(RequestState::kOpen) &&
        state != Name(RequestState::kAcknowledged)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "request ", request_id, " is ",
          state.empty() ? "not a request" : state, " for ", party));
    }
    Statement update(
        db_,
        "UPDATE recipients SET request_state = ?, answered_at_us = ?, "
        "reply_id = ? WHERE party = ? AND message_seq = "
        "(SELECT seq FROM messages WHERE id = ?)");
    update.Bind(Name(RequestState::kAnswered))
        .Bind(absl::ToUnixMicros(answered_at))
        .Bind(reply_id)
        .Bind(party)
        .Bind(request_id);
    return update.Run();
  }

  absl::StatusOr<int64_t> AppendAudit(
      const AuditEntry& e, const std::vector<merkle::Node>& nodes) override {
    for (const std::string& resource : e.resources) {
      if (resource.empty() || resource.find('\n') != std::string::npos) {
        return absl::InvalidArgumentError(
            "audit resource ids must be non-empty and single-line");
      }
    }
    LIAISON_ASSIGN_OR_RETURN(const int64_t size, AuditSize());
    if (nodes.empty() || nodes.front().level != 0 ||
        nodes.front().index != static_cast<uint64_t>(size)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "audit entry ", size + 1, " must come with its leaf's tree nodes"));
    }
    const std::string leaf = EncodeAuditLeaf(e);
    Statement insert(
        db_,
        "INSERT INTO audit_log (seq, time_us, principal, party, role, "
        "user_id, action, resources, outcome, code, reason, leaf) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.Bind(size + 1)
        .Bind(absl::ToUnixMicros(e.time))
        .Bind(e.principal)
        .Bind(e.party)
        .Bind(e.role)
        .Bind(e.user_id)
        .Bind(e.action)
        .Bind(absl::StrJoin(e.resources, "\n"))
        .Bind(Name(e.outcome))
        .Bind(static_cast<int64_t>(e.code))
        .Bind(e.reason)
        .BindBlob(leaf);
    LIAISON_RETURN_IF_ERROR(insert.Run());
    for (const std::string& resource : e.resources) {
      Statement index(db_,
                      "INSERT OR IGNORE INTO audit_resources (resource, seq) "
                      "VALUES (?, ?)");
      index.Bind(resource).Bind(size + 1);
      LIAISON_RETURN_IF_ERROR(index.Run());
    }
    LIAISON_RETURN_IF_ERROR(InsertAuditNodes(db_, nodes));
    return size + 1;
  }

  absl::StatusOr<int64_t> AuditSize() override { return AuditSizeIn(db_); }

  absl::StatusOr<std::string> AuditNode(int level, int64_t index) override {
    return AuditNodeIn(db_, level, index);
  }

  absl::Status InsertCheckpoint(const AuditCheckpoint& c) override {
    LIAISON_ASSIGN_OR_RETURN(const int64_t size, AuditSize());
    LIAISON_ASSIGN_OR_RETURN(std::optional<AuditCheckpoint> latest,
                             LatestCheckpointIn(db_));
    const int64_t latest_size = latest.has_value() ? latest->tree_size : 0;
    if (c.tree_size <= latest_size || c.tree_size > size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a checkpoint of ", c.tree_size, " entries cannot follow one of ",
          latest_size, " in a log of ", size));
    }
    Statement insert(db_,
                     "INSERT INTO audit_checkpoints (tree_size, root, note, "
                     "signed_at_us) VALUES (?, ?, ?, ?)");
    insert.Bind(c.tree_size)
        .BindBlob(c.root_hash)
        .Bind(c.note)
        .Bind(absl::ToUnixMicros(c.signed_at));
    return insert.Run();
  }

  absl::Status UpdateParty(const Party& p) override {
    changed_access_ = true;
    Statement update(db_,
                     "UPDATE parties SET name = ?, tier = ?, state = ?, "
                     "ceiling = ?, agreement_in_force = ? WHERE code = ?");
    update.Bind(p.name)
        .Bind(Name(p.tier))
        .Bind(Name(p.state))
        .Bind(Name(p.ceiling))
        .Bind(int64_t{p.agreement_in_force ? 1 : 0})
        .Bind(p.code);
    LIAISON_RETURN_IF_ERROR(update.Run());
    if (sqlite3_changes(db_.get()) == 0) {
      return absl::NotFoundError(
          absl::StrCat("party ", p.code, " is not registered"));
    }
    return absl::OkStatus();
  }

  absl::Status AppendPartyChange(const PartyChange& c) override {
    Statement insert(db_,
                     "INSERT INTO party_changes (code, time_us, changed_by, "
                     "change, from_value, to_value, reason) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.Bind(c.code)
        .Bind(absl::ToUnixMicros(c.time))
        .Bind(c.changed_by)
        .Bind(c.change)
        .Bind(c.from)
        .Bind(c.to)
        .Bind(c.reason);
    return insert.Run();
  }

  absl::Status InsertRevocation(const Revocation& r) override {
    changed_access_ = true;
    Statement insert(db_,
                     "INSERT INTO revocations (serial, user_path, reason, "
                     "revoked_at_us, revoked_by) VALUES (?, ?, ?, ?, ?)");
    insert
        .BindOptional(r.serial.empty()
                          ? std::nullopt
                          : std::optional<absl::string_view>(r.serial))
        .BindOptional(r.user.empty() ? std::nullopt
                                     : std::optional<absl::string_view>(r.user))
        .Bind(r.reason)
        .Bind(absl::ToUnixMicros(r.revoked_at))
        .Bind(r.revoked_by);
    absl::Status status = insert.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(absl::StrCat(
          r.serial.empty() ? "user " : "certificate serial ",
          r.serial.empty() ? r.user : r.serial, " is already revoked"));
    }
    return status;
  }

  absl::Status InsertParty(const Party& p) override {
    changed_access_ = true;
    Statement insert(db_, absl::StrCat("INSERT INTO parties (", kPartyColumns,
                                       ") VALUES (?, ?, ?, ?, ?, ?)"));
    insert.Bind(p.code)
        .Bind(p.name)
        .Bind(Name(p.tier))
        .Bind(Name(p.state))
        .Bind(Name(p.ceiling))
        .Bind(int64_t{p.agreement_in_force ? 1 : 0});
    absl::Status status = insert.Run();
    if (absl::IsAlreadyExists(status)) {
      return absl::AlreadyExistsError(
          absl::StrCat("party ", p.code, " is already registered"));
    }
    return status;
  }

 private:
  SqliteConnection& db_;
  AccessCache* const cache_;
  bool changed_access_ = false;
};

namespace {

// Opens one connection to `path` with the settings every connection of the
// store uses.
// `read_only`: opened SQLITE_OPEN_READONLY (a missing file is an error, not
// created), and closing it never checkpoints the WAL into the file.
// `vfs`: the SQLite VFS by name (null: the default). The write connection
// uses the gathering VFS (wal_gather.h), which needs its synchronous=FULL.
absl::StatusOr<std::unique_ptr<SqliteConnection>> OpenConnection(
    const std::string& path, bool read_only, const char* vfs = nullptr) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      (read_only ? SQLITE_OPEN_READONLY
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                          SQLITE_OPEN_NOMUTEX,
                      vfs);
  if (rc != SQLITE_OK) {
    absl::Status status =
        SqliteError(db, rc, absl::StrCat("cannot open ", path));
    sqlite3_close(db);
    return absl::UnavailableError(status.message());
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  if (read_only) {
    sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  }
  return std::make_unique<SqliteConnection>(db);
}

}  // namespace

// One caller's transaction function waiting in the write queue.
struct SqliteStore::PendingWrite {
  // A waiting caller's.
  explicit PendingWrite(absl::FunctionRef<absl::Status(WriteTransaction&)> f)
      : borrowed(f) {}
  // WriteAsync's: owns the function and what to do when it is committed.
  PendingWrite(absl::AnyInvocable<absl::Status(WriteTransaction&)> f,
               absl::AnyInvocable<void(absl::Status)> d)
      : owned(std::move(f)), on_done(std::move(d)) {}

  absl::Status Run(WriteTransaction& txn) {
    return owned != nullptr ? owned(txn) : (*borrowed)(txn);
  }

  std::optional<absl::FunctionRef<absl::Status(WriteTransaction&)>> borrowed;
  absl::AnyInvocable<absl::Status(WriteTransaction&)> owned;
  absl::AnyInvocable<void(absl::Status)> on_done;  // Null for a caller's.
  absl::Status status;  // Set by the batch that ran `fn`.
  bool done = false;    // Guarded by queue_mu_.
};

// A read connection for the length of one read, in one read transaction so
// that every statement of the read sees the same committed state.
class SqliteStore::Reader {
 public:
  // One statement reads in a transaction of its own; more need one shared.
  enum Statements { kOneStatement, kSeveral };

  explicit Reader(SqliteStore& store, Statements statements = kSeveral)
      : store_(store) {
    if (store_.readers_.empty()) {
      // An in-memory database has one connection: the writer's.
      store_.write_mu_.Lock();
      db_ = store_.db_.get();
      return;
    }
    {
      absl::MutexLock lock(&store_.pool_mu_);
      store_.pool_mu_.Await(absl::Condition(
          +[](std::vector<SqliteConnection*>* idle) { return !idle->empty(); },
          &store_.idle_readers_));
      db_ = store_.idle_readers_.back();
      store_.idle_readers_.pop_back();
    }
    // Without it each statement reads the latest commit on its own.
    if (statements == kSeveral) Exec(*db_, "BEGIN").IgnoreError();
  }

  ~Reader() {
    if (store_.readers_.empty()) {
      store_.write_mu_.Unlock();
      return;
    }
    if (!sqlite3_get_autocommit(db_->get())) {
      Exec(*db_, "COMMIT").IgnoreError();
    }
    if (!sqlite3_get_autocommit(db_->get())) {
      Exec(*db_, "ROLLBACK").IgnoreError();
    }
    absl::MutexLock lock(&store_.pool_mu_);
    store_.idle_readers_.push_back(db_);
  }

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  SqliteConnection& db() const { return *db_; }

 private:
  SqliteStore& store_;
  SqliteConnection* db_ = nullptr;
};

SqliteStore::SqliteStore(std::unique_ptr<SqliteConnection> db,
                         std::vector<std::unique_ptr<SqliteConnection>> readers)
    : db_(std::move(db)), readers_(std::move(readers)) {
  absl::MutexLock lock(&pool_mu_);
  for (const std::unique_ptr<SqliteConnection>& reader : readers_) {
    idle_readers_.push_back(reader.get());
  }
}

SqliteStore::LockFile::~LockFile() {
  if (fd >= 0) close(fd);
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path) {
  return OpenAs(path, Mode::kWriter);
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenReadOnly(
    const std::string& path) {
  if (path == ":memory:") {
    return absl::InvalidArgumentError(
        "storage: a private in-memory database cannot be opened read-only");
  }
  return OpenAs(path, Mode::kReadOnly);
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenAs(
    const std::string& path, Mode mode) {
  LockFile lock_file;
  if (path != ":memory:" && mode == Mode::kWriter) {
    // One writing process per database: the access cache and the audit
    // log's single writer rest on it. Released by the kernel when the
    // process ends, however it ends.
    const std::string lock_path = path + "-lock";
    lock_file.fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_file.fd < 0 && errno == EACCES) {
      // flock needs no write access: an existing lock file will do.
      lock_file.fd = open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (lock_file.fd < 0) {
      return absl::UnavailableError(absl::StrCat(
          "storage: cannot open ", lock_path, ": ", std::strerror(errno)));
    }
    if (flock(lock_file.fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return absl::FailedPreconditionError(absl::StrCat(
            "storage: ", path, " is in use by another process (it holds ",
            lock_path,
            "); one liaisond serves a SQLite database: stop the other one, "
            "or run several on PostgreSQL (--store=postgres://...)"));
      }
      return absl::UnavailableError(absl::StrCat(
          "storage: cannot lock ", lock_path, ": ", std::strerror(errno)));
    }
  }
  const bool read_only = mode == Mode::kReadOnly;
  // The write connection writes the WAL's frames of a commit in a few large
  // writes (wal_gather.h); sound since its synchronous=FULL is checked
  // below, before it writes anything.
  const char* vfs = nullptr;
  if (!read_only) {
    LIAISON_ASSIGN_OR_RETURN(vfs, WalGatherVfs());
  }
  LIAISON_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> db,
                           OpenConnection(path, read_only, vfs));
  if (read_only) {
    LIAISON_RETURN_IF_ERROR(Exec(*db, "PRAGMA query_only = 1"));
  } else {
    // WAL with full sync: every commit is on disk before it returns. Both
    // are read back, since SQLite ignores a journal mode it cannot use.
    LIAISON_RETURN_IF_ERROR(Exec(*db, "PRAGMA journal_mode = WAL"));
  }
  LIAISON_RETURN_IF_ERROR(Exec(*db, "PRAGMA synchronous = FULL"));
  LIAISON_RETURN_IF_ERROR(Exec(*db, "PRAGMA foreign_keys = ON"));
  // A group commit runs each write in a savepoint, whose undo pages
  // (the sub-journal) would otherwise go to a temporary file, page by page.
  LIAISON_RETURN_IF_ERROR(Exec(*db, "PRAGMA temp_store = MEMORY"));
  if (path != ":memory:") {
    Statement mode(*db, "PRAGMA journal_mode");
    LIAISON_ASSIGN_OR_RETURN(bool has_mode, mode.Step());
    if (!has_mode || mode.Text(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("storage: ", path, " cannot use write-ahead logging"));
    }
  }
  {
    Statement sync(*db, "PRAGMA synchronous");
    LIAISON_ASSIGN_OR_RETURN(bool has_sync, sync.Step());
    if (!has_sync || sync.Int(0) != 2) {  // 2 = FULL
      return absl::FailedPreconditionError(
          "storage: synchronous=FULL could not be set");
    }
  }
  std::vector<std::unique_ptr<SqliteConnection>> readers;
  if (path != ":memory:") {
    for (int i = 0; i < kReadConnections; ++i) {
      LIAISON_ASSIGN_OR_RETURN(std::unique_ptr<SqliteConnection> reader,
                               OpenConnection(path, read_only));
      // A read connection that tried to write would be a bug: make it fail.
      LIAISON_RETURN_IF_ERROR(Exec(*reader, "PRAGMA query_only = 1"));
      readers.push_back(std::move(reader));
    }
  }
  std::unique_ptr<SqliteStore> store(
      new SqliteStore(std::move(db), std::move(readers)));
  store->lock_file_.fd = std::exchange(lock_file.fd, -1);
  absl::MutexLock lock(&store->write_mu_);
  if (mode == Mode::kReadOnly) {
    // Another process may be writing: nothing is cached, nothing migrated.
    store->read_only_ = true;
    LIAISON_RETURN_IF_ERROR(store->CheckSchemaIsCurrent());
    return store;
  }
  store->access_ = std::make_unique<AccessCache>();
  LIAISON_RETURN_IF_ERROR(store->Migrate());
  SqliteStore* raw = store.get();
  store->finisher_ = std::make_unique<WorkerPool>(1, "sqlite-finish");
  store->committer_ = std::thread([raw] { raw->CommitLoop(); });
  NameThread(store->committer_, "sqlite-commit");
  return store;
}

absl::Status SqliteStore::CheckSchemaIsCurrent() {
  Statement q(*db_, "SELECT version FROM schema_version");
  absl::StatusOr<bool> has_row = q.Step();
  if (!has_row.ok() || !*has_row) {
    return absl::FailedPreconditionError(
        "storage: not a Liaison database (no schema version)");
  }
  if (q.Int(0) > CurrentSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "storage: database schema version ", q.Int(0),
        " is newer than this build supports (", CurrentSchemaVersion(), ")"));
  }
  if (q.Int(0) < CurrentSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("storage: database schema version ", q.Int(0),
                     " is older than this build's (", CurrentSchemaVersion(),
                     "); open it for writing once to migrate it"));
  }
  return absl::OkStatus();
}

SqliteStore::~SqliteStore() {
  if (!committer_.joinable()) return;
  {
    absl::MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  committer_.join();
  // Runs the `done`s still queued; a write they ask for now is refused
  // (WriteAsync), as the committer has stopped.
  finisher_.reset();
}

int SqliteStore::CurrentSchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

absl::Status SqliteStore::Migrate() {
  LIAISON_RETURN_IF_ERROR(Exec(*db_, "BEGIN IMMEDIATE"));
  auto migrate = [this]() -> absl::Status {
    LIAISON_RETURN_IF_ERROR(Exec(*db_,
                                 "CREATE TABLE IF NOT EXISTS schema_version "
                                 "(version INTEGER NOT NULL)"));
    int64_t version = 0;
    bool has_row = false;
    {
      // Ended before migrating: a statement still running would keep a
      // migration from dropping a table.
      Statement q(*db_, "SELECT version FROM schema_version");
      LIAISON_ASSIGN_OR_RETURN(has_row, q.Step());
      if (has_row) version = q.Int(0);
    }
    if (!has_row) {
      LIAISON_RETURN_IF_ERROR(
          Exec(*db_, "INSERT INTO schema_version (version) VALUES (0)"));
    }
    if (version > CurrentSchemaVersion()) {
      return absl::FailedPreconditionError(
          absl::StrCat("database schema version ", version,
                       " is newer than this liaisond supports (",
                       CurrentSchemaVersion(), ")"));
    }
    for (; version < CurrentSchemaVersion(); ++version) {
      LIAISON_RETURN_IF_ERROR(Exec(db_->get(), kMigrations[version]));
      if (version + 1 == kAuditTreeVersion) {
        LIAISON_RETURN_IF_ERROR(BackfillAuditTree(*db_));
      }
      if (version + 1 == kAuditTreeByPositionVersion) {
        LIAISON_RETURN_IF_ERROR(RekeyAuditTree(*db_));
      }
      Statement set(*db_, "UPDATE schema_version SET version = ?");
      set.Bind(version + 1);
      LIAISON_RETURN_IF_ERROR(set.Run());
    }
    return absl::OkStatus();
  };
  absl::Status status = migrate();
  if (!status.ok()) {
    Exec(*db_, "ROLLBACK").IgnoreError();
    return status;
  }
  return Exec(*db_, "COMMIT");
}

absl::Status SqliteStore::Write(
    absl::FunctionRef<absl::Status(WriteTransaction&)> fn) {
  if (read_only_) {
    return absl::FailedPreconditionError(
        "storage: this store was opened read-only");
  }
  // Group commit: writers queue up and wait; the committer thread runs the
  // queued transaction functions, each in a savepoint of one SQLite
  // transaction, and commits them together, so that one fsync covers them
  // all. Each returns only after the commit that holds its writes.
  PendingWrite self(fn);
  absl::MutexLock lock(&queue_mu_);
  queue_.push_back(&self);
  queue_mu_.Await(absl::Condition(&self.done));
  return self.status;
}

void SqliteStore::CommitLoop() {
  std::vector<PendingWrite*> batch;
  while (true) {
    {
      absl::MutexLock lock(&queue_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
        return stopping_ || !queue_.empty();
      };
      queue_mu_.Await(absl::Condition(&ready));
      // The store is destroyed only when no Write is in progress.
      if (queue_.empty()) return;
      batch.assign(queue_.begin(),
                   queue_.begin() + static_cast<std::ptrdiff_t>(
                                        std::min(queue_.size(), kMaxBatch)));
    }
    // The next group gathers while this one runs and commits.
    const auto [ran, rerun] = RunBatch(batch);
    std::vector<std::unique_ptr<PendingWrite>> finished;
    {
      absl::MutexLock lock(&queue_mu_);
      // Writes that did not run (their batch ended early) stay queued.
      for (size_t i = 0; i < ran; ++i) {
        if (batch[i]->on_done != nullptr) {
          finished.emplace_back(batch[i]);
        } else {
          batch[i]->done = true;
        }
        queue_.pop_front();
      }
      stats_.writes += static_cast<int64_t>(ran);
      ++stats_.transactions;
      if (rerun) ++stats_.reruns;
    }
    if (!finished.empty()) {
      finisher_->Run([finished = std::move(finished)]() mutable {
        for (std::unique_ptr<PendingWrite>& w : finished) {
          w->on_done(std::move(w->status));
        }
      });
    }
  }
}

void SqliteStore::WriteAsync(
    absl::AnyInvocable<absl::Status(WriteTransaction&)> fn,
    absl::AnyInvocable<void(absl::Status)> done) {
  if (read_only_) {
    done(absl::FailedPreconditionError(
        "storage: this store was opened read-only"));
    return;
  }
  auto w = std::make_unique<PendingWrite>(std::move(fn), std::move(done));
  {
    absl::MutexLock lock(&queue_mu_);
    if (!stopping_) {
      queue_.push_back(w.release());
      return;
    }
  }
  // Only a `done` run while the store closes can ask for a write this late.
  w->on_done(absl::UnavailableError("storage: the store is closing"));
}

SqliteStore::WriteStats SqliteStore::write_stats() {
  absl::MutexLock lock(&queue_mu_);
  return stats_;
}

SqliteStore::BatchRun SqliteStore::RunBatch(
    const std::vector<PendingWrite*>& batch) {
  absl::MutexLock lock(&write_mu_);
  // A savepoint per write lets one that fails be undone alone, but copies
  // every page its write changes into the sub-journal (a seventh of the
  // store's CPU per send in groups of 16, by liaison_commit_bench:
  // docs/performance.md). WriteAsync's functions may run again
  // (Store::WriteAsync), so a group of them first runs without; only if one
  // of them fails is the group undone and run again, with savepoints.
  // Failures are storage faults or bugs, so rare: the group's work twice is
  // then their price.
  const bool rerunnable =
      batch.size() > 1 &&
      std::all_of(batch.begin(), batch.end(),
                  [](const PendingWrite* w) { return w->on_done != nullptr; });
  if (rerunnable) {
    if (std::optional<size_t> ran = RunGroup(batch, kWithoutSavepoints)) {
      return {*ran, false};
    }
  }
  // With savepoints, RunGroup always decides every write it ran.
  const std::optional<size_t> ran = RunGroup(batch, kWithSavepoints);
  return {ran.value_or(1), rerunnable};
}

std::optional<size_t> SqliteStore::RunGroup(
    const std::vector<PendingWrite*>& batch, Savepoints savepoints) {
  // A transaction left open by a failed ROLLBACK would refuse every later
  // BEGIN: end it first.
  if (!sqlite3_get_autocommit(db_->get())) {
    Exec(*db_, "ROLLBACK").IgnoreError();
  }
  absl::Status outcome = Exec(*db_, "BEGIN IMMEDIATE");
  if (!outcome.ok()) {
    batch.front()->status = outcome;
    return 1;
  }
  db_->set_writing(true);
  Transaction txn(*db_, access_.get());
  // One write alone needs no savepoint: the transaction is its own.
  const bool grouped = batch.size() > 1;
  const bool nested = grouped && savepoints == kWithSavepoints;
  size_t ran = 0;
  while (ran < batch.size()) {
    PendingWrite& w = *batch[ran++];
    if (nested) {
      outcome = Exec(*db_, "SAVEPOINT write");
      if (!outcome.ok()) break;
    }
    w.status = w.Run(txn);
    if (sqlite3_get_autocommit(db_->get())) {
      // SQLite ended the transaction itself (I/O error, disk full): every
      // write of the group so far is gone with it.
      outcome = absl::UnavailableError(
          absl::StrCat("storage: the transaction was rolled back (",
                       w.status.ok() ? "storage fault" : w.status.message(),
                       "); nothing was stored"));
      break;
    }
    if (!grouped) {
      if (!w.status.ok()) outcome = w.status;
      break;
    }
    if (!nested) {
      if (w.status.ok()) continue;
      // Without savepoints the failure cannot be undone alone: undo the
      // group, whose writes run again with savepoints.
      db_->set_writing(false);
      Exec(*db_, "ROLLBACK").IgnoreError();
      if (txn.changed_access() && access_ != nullptr) access_->Invalidate();
      return std::nullopt;
    }
    if (!w.status.ok()) outcome = Exec(*db_, "ROLLBACK TO write");
    if (outcome.ok()) outcome = Exec(*db_, "RELEASE write");
    if (!outcome.ok()) break;
  }
  db_->set_writing(false);
  if (outcome.ok()) outcome = Exec(*db_, "COMMIT");
  if (!outcome.ok()) {
    // Nothing of the group is kept: a failed COMMIT may leave the
    // transaction open; undo it either way.
    if (!sqlite3_get_autocommit(db_->get())) {
      Exec(*db_, "ROLLBACK").IgnoreError();
    }
    // In a group, every write that ran gets the group's failure, even one
    // that had failed on its own: it may have seen the uncommitted writes of
    // those before it, so its own answer may rest on nothing.
    for (size_t i = 0; i < ran; ++i) {
      if (grouped || batch[i]->status.ok()) batch[i]->status = outcome;
    }
  }
  // Before any writer of the group returns: the next call reads the change.
  if (txn.changed_access() && access_ != nullptr) access_->Invalidate();
  return ran;
}

absl::StatusOr<Party> SqliteStore::GetParty(absl::string_view code) {
  auto read = [&] {
    Reader reader(*this, Reader::kOneStatement);
    return FindPartyIn(reader.db(), code);
  };
  if (access_ == nullptr) return Registered(code, read());
  return Registered(code, access_->FindParty(code, read));
}

absl::StatusOr<std::vector<Party>> SqliteStore::ListParties() {
  Reader reader(*this, Reader::kOneStatement);
  Statement q(reader.db(), absl::StrCat("SELECT ", kPartyColumns,
                                        " FROM parties ORDER BY code"));
  std::vector<Party> parties;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    LIAISON_ASSIGN_OR_RETURN(Party party, ReadParty(q));
    parties.push_back(std::move(party));
  }
  return parties;
}

absl::StatusOr<Message> SqliteStore::GetMessage(absl::string_view id) {
  Reader reader(*this);
  return GetMessageIn(reader.db(), id);
}

absl::StatusOr<std::vector<Message>> SqliteStore::ListRequests(
    const RequestQuery& query) {
  // Conditions on one recipient row `r` of a request.
  std::string conditions;
  if (query.state.has_value())
    absl::StrAppend(&conditions, " AND r.request_state = ?");
  if (query.due_before.has_value()) {
    absl::StrAppend(&conditions,
                    " AND r.request_state IN ('OPEN', 'ACKNOWLEDGED') AND "
                    "r.due_at_us < ?");
  }
  if (!query.case_id.empty()) {
    absl::StrAppend(&conditions,
                    " AND m.id IN (SELECT cm.message_id FROM case_messages "
                    "cm JOIN cases c ON c.seq = cm.case_seq WHERE c.id = ?)");
  }
  const std::string sql =
      query.sent
          ? absl::StrCat("SELECT ", kSummaryColumns,
                         " FROM messages m WHERE m.sender_party = ? AND "
                         "m.kind = 'REQUEST' AND m.seq < ? AND EXISTS ("
                         "SELECT 1 FROM recipients r WHERE r.message_seq = "
                         "m.seq",
                         conditions, ") ORDER BY m.seq DESC LIMIT ?")
          : absl::StrCat("SELECT ", kSummaryColumns,
                         " FROM recipients r JOIN messages m ON m.seq = "
                         "r.message_seq WHERE r.party = ? AND m.kind = "
                         "'REQUEST' AND m.seq < ?",
                         conditions, " ORDER BY m.seq DESC LIMIT ?");
  Reader reader(*this);
  Statement q(reader.db(), sql);
  q.Bind(query.party).Bind(query.before_seq.value_or(INT64_MAX));
  if (query.state.has_value()) q.Bind(Name(*query.state));
  if (query.due_before.has_value()) {
    q.Bind(absl::ToUnixMicros(*query.due_before));
  }
  if (!query.case_id.empty()) q.Bind(query.case_id);
  q.Bind(int64_t{query.limit});
  return QueryMessages(reader.db(), q);
}

absl::StatusOr<std::vector<Message>> SqliteStore::ListInbox(
    absl::string_view party, int limit, std::optional<int64_t> before_seq) {
  return ListSummaries(
      "recipients r JOIN messages m ON m.seq = r.message_seq "
      "WHERE r.party = ? AND r.message_seq < ? ORDER BY r.message_seq DESC",
      party, limit, before_seq);
}

absl::StatusOr<std::vector<Message>> SqliteStore::ListOutbox(
    absl::string_view party, int limit, std::optional<int64_t> before_seq) {
  return ListSummaries(
      "messages m WHERE m.sender_party = ? AND m.seq < ? ORDER BY m.seq DESC",
      party, limit, before_seq);
}

absl::StatusOr<std::vector<Message>> SqliteStore::ListSummaries(
    absl::string_view from_where_order, absl::string_view party, int limit,
    std::optional<int64_t> before_seq) {
  Reader reader(*this);
  Statement q(reader.db(), absl::StrCat("SELECT ", kSummaryColumns, " FROM ",
                                        from_where_order, " LIMIT ?"));
  q.Bind(party).Bind(before_seq.value_or(INT64_MAX)).Bind(int64_t{limit});
  return QueryMessages(reader.db(), q);
}

absl::StatusOr<std::vector<Consent>> SqliteStore::ListConsents(
    absl::string_view party) {
  Reader reader(*this);
  Statement q(reader.db(),
              absl::StrCat("SELECT ", kConsentColumns,
                           " FROM consents WHERE owner_party = ? OR "
                           "requester_party = ? ORDER BY seq DESC"));
  q.Bind(party).Bind(party);
  std::vector<Consent> consents;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    LIAISON_ASSIGN_OR_RETURN(Consent c, ReadConsent(q));
    consents.push_back(std::move(c));
  }
  return consents;
}

namespace {

constexpr char kAttachmentColumns[] =
    "id, message_id, file_name, size, sha256_hex, uploaded_at_us, "
    "uploaded_by";

AttachmentInfo ReadAttachment(const Statement& q) {
  return AttachmentInfo{q.Text(0), q.Text(1), q.Text(2),
                        q.Int(3),  q.Text(4), absl::FromUnixMicros(q.Int(5)),
                        q.Text(6)};
}

}  // namespace

absl::StatusOr<AttachmentInfo> SqliteStore::GetAttachment(
    absl::string_view id) {
  Reader reader(*this);
  Statement q(reader.db(), absl::StrCat("SELECT ", kAttachmentColumns,
                                        " FROM attachments WHERE id = ?"));
  q.Bind(id);
  LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) {
    return absl::NotFoundError(absl::StrCat("attachment ", id, " not found"));
  }
  return ReadAttachment(q);
}

absl::StatusOr<std::vector<AttachmentInfo>> SqliteStore::ListAttachments(
    absl::string_view message_id) {
  Reader reader(*this);
  Statement q(reader.db(),
              absl::StrCat("SELECT ", kAttachmentColumns,
                           " FROM attachments WHERE message_id = ? "
                           "ORDER BY uploaded_at_us, id"));
  q.Bind(message_id);
  std::vector<AttachmentInfo> attachments;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    attachments.push_back(ReadAttachment(q));
  }
  return attachments;
}

absl::StatusOr<std::optional<std::string>> SqliteStore::ReadAttachmentChunk(
    absl::string_view id, int64_t index) {
  Reader reader(*this);
  Statement q(reader.db(),
              "SELECT data FROM attachment_chunks WHERE attachment_id = ? "
              "AND idx = ?");
  q.Bind(id).Bind(index);
  LIAISON_ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return std::nullopt;
  return q.Blob(0);
}

absl::StatusOr<std::vector<Event>> SqliteStore::ReadEvents(
    absl::string_view party, int64_t after_seq, int limit) {
  Reader reader(*this);
  Statement q(reader.db(),
              "SELECT seq, party, kind, message_id, detail, time_us FROM "
              "events WHERE party = ? AND seq > ? ORDER BY seq LIMIT ?");
  q.Bind(party).Bind(after_seq).Bind(int64_t{limit});
  std::vector<Event> events;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    events.push_back(Event{q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4),
                           absl::FromUnixMicros(q.Int(5))});
  }
  return events;
}

absl::StatusOr<int64_t> SqliteStore::CountEvents(absl::string_view party,
                                                 int64_t after_seq,
                                                 int64_t cap) {
  Reader reader(*this, Reader::kOneStatement);
  Statement q(reader.db(),
              "SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE party = ? AND "
              "seq > ? LIMIT ?)");
  q.Bind(party).Bind(after_seq).Bind(cap);
  LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
  return has_row ? q.Int(0) : 0;
}

absl::StatusOr<int64_t> SqliteStore::LastEventSeq(absl::string_view party) {
  Reader reader(*this, Reader::kOneStatement);
  Statement q(reader.db(),
              "SELECT COALESCE(MAX(seq), 0) FROM events WHERE party = ?");
  q.Bind(party);
  LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
  return has_row ? q.Int(0) : 0;
}

absl::StatusOr<std::vector<RequestRow>> SqliteStore::ListRequestRows(
    absl::Time from, absl::Time to, absl::string_view party) {
  Reader reader(*this);
  Statement q(reader.db(),
              "SELECT m.sender_party, r.party, m.priority, r.request_state, "
              "r.refusal_reason, r.due_at_us, m.created_at_us FROM recipients "
              "r JOIN messages m ON m.seq = r.message_seq WHERE m.kind = "
              "'REQUEST' AND r.request_state IS NOT NULL AND "
              "m.created_at_us >= ? AND m.created_at_us < ? AND (? = '' OR "
              "m.sender_party = ? OR r.party = ?)");
  q.Bind(absl::ToUnixMicros(from))
      .Bind(absl::ToUnixMicros(to))
      .Bind(party)
      .Bind(party)
      .Bind(party);
  std::vector<RequestRow> rows;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    RequestRow row;
    row.sender = q.Text(0);
    row.recipient = q.Text(1);
    LIAISON_ASSIGN_OR_RETURN(
        row.priority, Decode(ParsePriority(q.Text(2)), "priority", q.Text(2)));
    LIAISON_ASSIGN_OR_RETURN(row.state, Decode(ParseRequestState(q.Text(3)),
                                               "request state", q.Text(3)));
    if (!q.IsNull(4)) {
      LIAISON_ASSIGN_OR_RETURN(
          row.refusal_reason,
          Decode(ParseRefusalReason(q.Text(4)), "refusal reason", q.Text(4)));
    }
    row.due_at = OptionalTime(q, 5);
    row.sent_at = absl::FromUnixMicros(q.Int(6));
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::pair<int64_t, int64_t>> SqliteStore::CountCases(
    absl::Time from, absl::Time to, absl::string_view party) {
  Reader reader(*this);
  Statement q(
      reader.db(),
      "SELECT COALESCE(SUM(opened_at_us >= ?1 AND opened_at_us < ?2), 0), "
      "COALESCE(SUM(closed_at_us IS NOT NULL AND closed_at_us >= ?1 AND "
      "closed_at_us < ?2), 0) FROM cases c WHERE ?3 = '' OR "
      "c.owner_party = ?3 OR EXISTS (SELECT 1 FROM case_participants p "
      "WHERE p.case_seq = c.seq AND p.party = ?3)");
  q.Bind(absl::ToUnixMicros(from)).Bind(absl::ToUnixMicros(to)).Bind(party);
  LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
  if (!has_row) return std::make_pair(int64_t{0}, int64_t{0});
  return std::make_pair(q.Int(0), q.Int(1));
}

absl::StatusOr<Case> SqliteStore::GetCase(absl::string_view id) {
  Reader reader(*this);
  return GetCaseIn(reader.db(), id);
}

absl::StatusOr<std::vector<Case>> SqliteStore::ListCases(
    absl::string_view party) {
  Reader reader(*this);
  Statement q(reader.db(),
              "SELECT id FROM cases c WHERE c.owner_party = ? OR EXISTS ("
              "SELECT 1 FROM case_participants p WHERE p.case_seq = c.seq "
              "AND p.party = ? AND p.removed_at_us IS NULL) "
              "ORDER BY c.seq DESC");
  q.Bind(party).Bind(party);
  std::vector<std::string> ids;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ids.push_back(q.Text(0));
  }
  std::vector<Case> cases;
  for (const std::string& id : ids) {
    LIAISON_ASSIGN_OR_RETURN(Case c, GetCaseIn(reader.db(), id));
    cases.push_back(std::move(c));
  }
  return cases;
}

absl::StatusOr<std::vector<std::string>> SqliteStore::CaseReaders(
    absl::string_view message_id) {
  Reader reader(*this);
  Statement q(reader.db(),
              "SELECT c.owner_party FROM case_messages m JOIN cases c ON "
              "c.seq = m.case_seq WHERE m.message_id = ? UNION "
              "SELECT p.party FROM case_messages m JOIN case_participants p "
              "ON p.case_seq = m.case_seq WHERE m.message_id = ? AND "
              "p.removed_at_us IS NULL ORDER BY 1");
  q.Bind(message_id).Bind(message_id);
  std::vector<std::string> parties;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    parties.push_back(q.Text(0));
  }
  return parties;
}

absl::StatusOr<std::vector<Message>> SqliteStore::CaseThread(
    absl::string_view case_id) {
  Reader reader(*this);
  Statement q(
      reader.db(),
      absl::StrCat("SELECT ", kSummaryColumns,
                   " FROM case_messages cm JOIN cases c ON c.seq = "
                   "cm.case_seq JOIN messages m ON m.id = cm.message_id "
                   "WHERE c.id = ? ORDER BY cm.attached_at_us, cm.rowid"));
  q.Bind(case_id);
  return QueryMessages(reader.db(), q);
}

absl::StatusOr<std::vector<PartyChange>> SqliteStore::ListPartyChanges(
    absl::string_view code) {
  Reader reader(*this);
  Statement q(reader.db(),
              "SELECT code, time_us, changed_by, change, from_value, "
              "to_value, reason FROM party_changes WHERE code = ? "
              "ORDER BY seq");
  q.Bind(code);
  std::vector<PartyChange> changes;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    changes.push_back(PartyChange{q.Text(0), absl::FromUnixMicros(q.Int(1)),
                                  q.Text(2), q.Text(3), q.Text(4), q.Text(5),
                                  q.Text(6)});
  }
  return changes;
}

absl::StatusOr<std::optional<Revocation>> SqliteStore::FindRevocation(
    absl::string_view serial, absl::string_view user) {
  auto read = [&] {
    Reader reader(*this, Reader::kOneStatement);
    return FindRevocationIn(reader.db(), serial, user);
  };
  if (access_ == nullptr) return read();
  return access_->FindRevocation(serial, user, read);
}

absl::StatusOr<std::vector<Revocation>> SqliteStore::ListRevocations() {
  Reader reader(*this, Reader::kOneStatement);
  Statement q(reader.db(), absl::StrCat("SELECT ", kRevocationColumns,
                                        " FROM revocations ORDER BY seq"));
  std::vector<Revocation> revocations;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    revocations.push_back(ReadRevocation(q));
  }
  return revocations;
}

absl::StatusOr<std::vector<AuditEntry>> SqliteStore::ReadAudit(int64_t from_seq,
                                                               int limit) {
  AuditQuery query;
  query.from_seq = from_seq;
  query.limit = limit;
  return ReadAudit(query);
}

absl::StatusOr<std::vector<AuditEntry>> SqliteStore::ReadAudit(
    const AuditQuery& query) {
  Reader reader(*this);
  std::string sql =
      "SELECT a.seq, a.time_us, a.principal, a.party, a.role, a.user_id, "
      "a.action, a.resources, a.outcome, a.code, a.reason FROM audit_log a ";
  if (!query.resource.empty()) {
    sql += "JOIN audit_resources r ON r.seq = a.seq AND r.resource = ?1 ";
  }
  sql += "WHERE a.seq >= ?2 AND (?3 = 0 OR a.seq <= ?3) ";
  if (!query.party.empty()) sql += "AND a.party = ?4 ";
  sql += "ORDER BY a.seq LIMIT ?5";
  Statement q(reader.db(), sql);
  // Numbered parameters: ?5 is always there, so all five bind in order.
  q.Bind(query.resource)
      .Bind(query.from_seq)
      .Bind(query.to_seq)
      .Bind(query.party)
      .Bind(int64_t{query.limit});
  return ReadAuditRows(q);
}

absl::StatusOr<int64_t> SqliteStore::AuditSize() {
  Reader reader(*this, Reader::kOneStatement);
  return AuditSizeIn(reader.db());
}

absl::StatusOr<std::string> SqliteStore::ReadAuditNode(int level,
                                                       int64_t index) {
  Reader reader(*this, Reader::kOneStatement);
  return AuditNodeIn(reader.db(), level, index);
}

absl::StatusOr<std::vector<std::string>> SqliteStore::ReadAuditLeafHashes(
    int64_t from_seq, int limit) {
  std::vector<std::string> hashes;
  const uint64_t first =
      static_cast<uint64_t>(std::max<int64_t>(from_seq, 1)) - 1;
  if ((first >> 62) != 0) return hashes;
  // Leaves come in their order among the other nodes, in position order.
  Reader reader(*this, Reader::kOneStatement);
  Statement q(reader.db(),
              "SELECT hash FROM audit_tree WHERE pos >= ? AND level = 0 "
              "ORDER BY pos LIMIT ?");
  q.Bind(static_cast<int64_t>(merkle::PostOrderPosition(0, first)))
      .Bind(int64_t{limit});
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    hashes.push_back(q.Blob(0));
  }
  return hashes;
}

absl::StatusOr<std::optional<AuditCheckpoint>> SqliteStore::LatestCheckpoint() {
  Reader reader(*this);
  return LatestCheckpointIn(reader.db());
}

absl::StatusOr<std::vector<AuditCheckpoint>> SqliteStore::ListCheckpoints(
    int64_t max_size) {
  Reader reader(*this);
  Statement q(reader.db(),
              absl::StrCat("SELECT ", kCheckpointColumns,
                           " FROM audit_checkpoints WHERE tree_size <= ? "
                           "ORDER BY tree_size"));
  q.Bind(max_size);
  std::vector<AuditCheckpoint> checkpoints;
  while (true) {
    LIAISON_ASSIGN_OR_RETURN(bool has_row, q.Step());
    if (!has_row) break;
    checkpoints.push_back(ReadCheckpoint(q));
  }
  return checkpoints;
}

}  // namespace liaison

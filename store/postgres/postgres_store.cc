#include "store/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "common/thread_name.h"

namespace liaison {

namespace {

// Each entry migrates the schema from version i to i + 1. Append only: a
// released migration is never edited.
//
// Version 1 is the SQLite store's schema version 9 (store/sqlite), with
// PostgreSQL types: BIGINT for seqs, sizes and times (unix microseconds, as
// there), BYTEA for hashes and bytes, BOOLEAN for flags, identity columns
// for AUTOINCREMENT, and a seq on case_messages where SQLite orders by
// rowid. Append-only tables also refuse TRUNCATE.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE FUNCTION liaison_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING MESSAGE = TG_ARGV[0];
END
$$;

CREATE TABLE parties (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  tier TEXT NOT NULL,
  state TEXT NOT NULL,
  ceiling TEXT NOT NULL,
  agreement_in_force BOOLEAN NOT NULL
);

CREATE TABLE messages (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  sender_party TEXT NOT NULL REFERENCES parties(code),
  idempotency_key TEXT NOT NULL,
  content_digest BYTEA NOT NULL,
  sender_user TEXT NOT NULL,
  sender_role TEXT NOT NULL,
  kind TEXT NOT NULL,
  in_reply_to TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  priority TEXT NOT NULL,
  urgency_justification TEXT NOT NULL,
  classification TEXT NOT NULL,
  contains_personal_data BOOLEAN NOT NULL,
  handling_code TEXT NOT NULL,
  handling_restriction TEXT NOT NULL,
  eval_source TEXT,
  eval_information TEXT,
  created_at_us BIGINT NOT NULL,
  origin_id TEXT NOT NULL DEFAULT '',
  owner_party TEXT NOT NULL DEFAULT '',
  forwarded_from TEXT NOT NULL DEFAULT '',
  UNIQUE (sender_party, idempotency_key)
);
CREATE INDEX messages_outbox ON messages (sender_party, seq);
CREATE INDEX messages_origin ON messages (origin_id);

CREATE TABLE recipients (
  message_seq BIGINT NOT NULL REFERENCES messages(seq),
  position BIGINT NOT NULL,
  party TEXT NOT NULL REFERENCES parties(code),
  request_state TEXT,
  answered_at_us BIGINT,
  reply_id TEXT NOT NULL DEFAULT '',
  due_at_us BIGINT,
  acknowledged_at_us BIGINT,
  refused_at_us BIGINT,
  refusal_reason TEXT,
  refusal_text TEXT NOT NULL DEFAULT '',
  delivered_at_us BIGINT,
  read_at_us BIGINT,
  PRIMARY KEY (message_seq, party)
);
CREATE INDEX recipients_inbox ON recipients (party, message_seq);
CREATE INDEX recipients_due ON recipients (party, request_state, due_at_us);

CREATE TABLE party_changes (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code TEXT NOT NULL REFERENCES parties(code),
  time_us BIGINT NOT NULL,
  changed_by TEXT NOT NULL,
  change TEXT NOT NULL,
  from_value TEXT NOT NULL,
  to_value TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX party_changes_code ON party_changes (code, seq);

CREATE TABLE revocations (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  serial TEXT UNIQUE,
  user_path TEXT UNIQUE,
  reason TEXT NOT NULL,
  revoked_at_us BIGINT NOT NULL,
  revoked_by TEXT NOT NULL,
  CHECK ((serial IS NULL) <> (user_path IS NULL))
);
CREATE TRIGGER revocations_permanent BEFORE DELETE ON revocations
  FOR EACH ROW EXECUTE FUNCTION
    liaison_refuse_change('revocations are permanent');
CREATE TRIGGER revocations_no_truncate BEFORE TRUNCATE ON revocations
  FOR EACH STATEMENT EXECUTE FUNCTION
    liaison_refuse_change('revocations are permanent');

CREATE TABLE cases (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  owner_party TEXT NOT NULL REFERENCES parties(code),
  state TEXT NOT NULL,
  opened_at_us BIGINT NOT NULL,
  closed_at_us BIGINT
);
CREATE TABLE case_participants (
  case_seq BIGINT NOT NULL REFERENCES cases(seq),
  party TEXT NOT NULL REFERENCES parties(code),
  added_at_us BIGINT NOT NULL,
  removed_at_us BIGINT,
  PRIMARY KEY (case_seq, party)
);
CREATE INDEX case_participants_party ON case_participants (party);
CREATE TABLE case_messages (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  case_seq BIGINT NOT NULL REFERENCES cases(seq),
  message_id TEXT NOT NULL REFERENCES messages(id),
  attached_at_us BIGINT NOT NULL,
  PRIMARY KEY (case_seq, message_id)
);
CREATE INDEX case_messages_message ON case_messages (message_id);

CREATE TABLE consents (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  origin_id TEXT NOT NULL REFERENCES messages(id),
  owner_party TEXT NOT NULL,
  requester_party TEXT NOT NULL,
  target_party TEXT NOT NULL,
  justification TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_at_us BIGINT NOT NULL,
  requested_by TEXT NOT NULL,
  decided_at_us BIGINT,
  decided_by TEXT NOT NULL DEFAULT '',
  decision_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consents_lookup ON consents (origin_id, requester_party,
                                          target_party, state);

CREATE TABLE events (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  party TEXT NOT NULL,
  kind TEXT NOT NULL,
  message_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  time_us BIGINT NOT NULL
);
CREATE INDEX events_party ON events (party, seq);

CREATE TABLE attachments (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id),
  file_name TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256_hex TEXT NOT NULL,
  uploaded_at_us BIGINT NOT NULL,
  uploaded_by TEXT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);
CREATE TABLE attachment_chunks (
  attachment_id TEXT NOT NULL REFERENCES attachments(id),
  idx BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (attachment_id, idx)
);

CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  time_us BIGINT NOT NULL,
  principal TEXT NOT NULL,
  party TEXT NOT NULL,
  role TEXT NOT NULL,
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  resources TEXT NOT NULL,
  outcome TEXT NOT NULL,
  code BIGINT NOT NULL,
  reason TEXT NOT NULL,
  leaf BYTEA NOT NULL
);
CREATE INDEX audit_log_party ON audit_log (party, seq);
CREATE TABLE audit_tree (
  level BIGINT NOT NULL,
  idx BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE audit_checkpoints (
  tree_size BIGINT PRIMARY KEY,
  root BYTEA NOT NULL,
  note TEXT NOT NULL,
  signed_at_us BIGINT NOT NULL
);
CREATE TABLE audit_resources (
  resource TEXT NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (resource, seq)
);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION
    liaison_refuse_change('audit log is append-only');
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION
    liaison_refuse_change('audit log is append-only');
CREATE TRIGGER audit_tree_append_only BEFORE UPDATE OR DELETE ON audit_tree
  FOR EACH ROW EXECUTE FUNCTION
    liaison_refuse_change('audit tree is append-only');
CREATE TRIGGER audit_tree_no_truncate BEFORE TRUNCATE ON audit_tree
  FOR EACH STATEMENT EXECUTE FUNCTION
    liaison_refuse_change('audit tree is append-only');
CREATE TRIGGER audit_checkpoints_append_only
  BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION
    liaison_refuse_change('audit checkpoints are append-only');
CREATE TRIGGER audit_checkpoints_no_truncate
  BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION
    liaison_refuse_change('audit checkpoints are append-only');
CREATE TRIGGER audit_resources_append_only
  BEFORE UPDATE OR DELETE ON audit_resources
  FOR EACH ROW EXECUTE FUNCTION
    liaison_refuse_change('audit resource index is append-only');
CREATE TRIGGER audit_resources_no_truncate BEFORE TRUNCATE ON audit_resources
  FOR EACH STATEMENT EXECUTE FUNCTION
    liaison_refuse_change('audit resource index is append-only');
)sql",
};

// Advisory lock keys (one key space per database). Every replica of every
// version uses the same two: the session lock held while migrating, and
// the transaction lock every write takes first.
//   kMigrationLock = 0x4c49414953303031 ("LIAIS001")
//   kWriteLock     = 0x4c49414953303032 ("LIAIS002")
constexpr char kTakeMigrationLock[] =
    "SET lock_timeout = 0; SELECT pg_advisory_lock(5496996603366486065)";
constexpr char kReleaseMigrationLock[] =
    "SELECT pg_advisory_unlock(5496996603366486065); "
    "SET lock_timeout = '30s'";
// READ COMMITTED explicitly, whatever the server's default: each statement
// then reads what was committed before it, in particular everything the
// previous holder of the lock committed. Under REPEATABLE READ the snapshot
// would be taken by the lock statement itself, before the lock is granted.
constexpr char kBeginWrite[] =
    "BEGIN ISOLATION LEVEL READ COMMITTED READ WRITE; "
    "SELECT pg_advisory_xact_lock(5496996603366486066)";
constexpr char kBeginRead[] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// Set on every new connection. A write waiting more than 30 s for the lock
// (or a row lock) gives up with UNAVAILABLE rather than pile up; a session
// that stalls inside a transaction (a replica frozen or cut off while it
// holds the write lock) is ended by the server after 60 s, which releases
// the lock for the other replicas. Commits are durable: synchronous_commit
// is raised to "on" where the server has it "off" (stronger settings such
// as remote_apply are kept).
constexpr char kSessionSettings[] =
    "SET lock_timeout = '30s'; "
    "SET idle_in_transaction_session_timeout = '60s'; "
    "SET client_min_messages = warning; "
    "SELECT set_config('synchronous_commit', 'on', false) "
    "WHERE current_setting('synchronous_commit') IN "
    "('off', 'local', 'remote_write')";

// Type OIDs (PostgreSQL's pg_type.h; fixed across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
constexpr Oid kTextArrayOid = 1009;
constexpr Oid kByteaArrayOid = 1001;
constexpr Oid kInt8ArrayOid = 1016;

// A libpq message on one line.
std::string OneLine(absl::string_view text) {
  std::string line = absl::StrReplaceAll(text, {{"\n", " "}, {"\t", " "}});
  return std::string(absl::StripAsciiWhitespace(line));
}

// Maps a failed command to a status. `result` may be null (the connection
// was lost, or libpq ran out of memory).
absl::Status PgError(PGconn* conn, const PGresult* result) {
  const char* sqlstate = result != nullptr
                             ? PQresultErrorField(result, PG_DIAG_SQLSTATE)
                             : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)
                        : nullptr;
  std::string message =
      absl::StrCat("storage: ", OneLine(primary != nullptr && *primary != '\0'
                                            ? primary
                                            : PQerrorMessage(conn)));
  if (sqlstate == nullptr || PQstatus(conn) == CONNECTION_BAD) {
    return absl::UnavailableError(
        absl::StrCat(message, " (the connection to PostgreSQL was lost)"));
  }
  const absl::string_view state = sqlstate;
  absl::StrAppend(&message, " (SQLSTATE ", state, ")");
  if (state == "23505") return absl::AlreadyExistsError(message);
  if (state == "23503") return absl::FailedPreconditionError(message);
  // RAISE EXCEPTION in liaison_refuse_change: a write to an append-only
  // table.
  if (state == "P0001") return absl::FailedPreconditionError(message);
  // Other integrity constraints (NOT NULL, CHECK) and data exceptions: text
  // PostgreSQL cannot hold (NUL, invalid UTF-8), a negative LIMIT.
  if (absl::StartsWith(state, "23") || absl::StartsWith(state, "22")) {
    return absl::InvalidArgumentError(message);
  }
  if (state == "XX001" || state == "XX002") {
    return absl::DataLossError(message);
  }
  // Retryable: connection exceptions (08), serialization failures and
  // deadlocks (40), insufficient resources such as a full disk or too many
  // connections (53), shutdowns and cancelled statements (57), I/O errors
  // (58), lock timeouts (55P03), a read-only server such as a standby after
  // a failover (25006), a session ended for idling in a transaction (25P03).
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "40") ||
      absl::StartsWith(state, "53") || absl::StartsWith(state, "57") ||
      absl::StartsWith(state, "58") || state == "55P03" || state == "25006" ||
      state == "25P03") {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

void AppendBigEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

std::string EncodeInt8(int64_t value) {
  std::string out;
  AppendBigEndian(out, static_cast<uint64_t>(value), 8);
  return out;
}

// A one-dimensional array in PostgreSQL's binary format (array_recv):
// dimensions, null flag, element type, then each element's length (-1 for
// NULL) and bytes.
std::string EncodeArray(Oid element_type,
                        const std::vector<std::optional<std::string>>& items) {
  bool has_null = false;
  for (const std::optional<std::string>& item : items) {
    has_null = has_null || !item.has_value();
  }
  std::string out;
  AppendBigEndian(out, items.empty() ? 0 : 1, 4);
  AppendBigEndian(out, has_null ? 1 : 0, 4);
  AppendBigEndian(out, element_type, 4);
  if (!items.empty()) {
    AppendBigEndian(out, items.size(), 4);
    AppendBigEndian(out, 1, 4);  // lower bound
  }
  for (const std::optional<std::string>& item : items) {
    if (!item.has_value()) {
      AppendBigEndian(out, static_cast<uint32_t>(-1), 4);
      continue;
    }
    AppendBigEndian(out, item->size(), 4);
    out += *item;
  }
  return out;
}

// A statement and its parameters, all sent in binary format with their
// types given, so that values never become SQL text and text keeps every
// byte (PostgreSQL refuses, rather than truncates, what it cannot store).
class Query {
 public:
  explicit Query(std::string sql) : sql_(std::move(sql)) {}

  Query& BindText(absl::string_view value) {
    return Add(kTextOid, std::string(value));
  }
  Query& BindBytes(absl::string_view value) {
    return Add(kByteaOid, std::string(value));
  }
  Query& BindInt(int64_t value) { return Add(kInt8Oid, EncodeInt8(value)); }
  Query& BindBool(bool value) {
    return Add(kBoolOid, std::string(1, value ? '\1' : '\0'));
  }
  Query& BindTime(absl::Time t) { return BindInt(absl::ToUnixMicros(t)); }
  Query& BindOptionalTime(const std::optional<absl::Time>& t) {
    return t.has_value() ? BindTime(*t) : Add(kInt8Oid, std::nullopt);
  }
  Query& BindOptionalText(const std::optional<absl::string_view>& value) {
    return value.has_value() ? BindText(*value) : Add(kTextOid, std::nullopt);
  }
  // LIMIT: a negative one means none, as in SQLite (LIMIT NULL).
  Query& BindLimit(int64_t limit) {
    return limit < 0 ? Add(kInt8Oid, std::nullopt) : BindInt(limit);
  }
  Query& BindTextArray(const std::vector<std::optional<std::string>>& items) {
    return Add(kTextArrayOid, EncodeArray(kTextOid, items));
  }
  Query& BindBytesArray(const std::vector<std::optional<std::string>>& items) {
    return Add(kByteaArrayOid, EncodeArray(kByteaOid, items));
  }
  Query& BindIntArray(const std::vector<std::optional<int64_t>>& items) {
    std::vector<std::optional<std::string>> encoded;
    encoded.reserve(items.size());
    for (const std::optional<int64_t>& item : items) {
      encoded.push_back(item.has_value() ? std::optional(EncodeInt8(*item))
                                         : std::nullopt);
    }
    return Add(kInt8ArrayOid, EncodeArray(kInt8Oid, encoded));
  }

  // Runs the statement; results come back in binary format too.
  PGresult* Execute(PGconn* conn) const {
    std::vector<const char*> values;
    std::vector<int> lengths;
    const std::vector<int> formats(values_.size(), 1);
    for (const std::optional<std::string>& value : values_) {
      values.push_back(value.has_value() ? value->data() : nullptr);
      lengths.push_back(value.has_value() ? static_cast<int>(value->size())
                                          : 0);
    }
    return PQexecParams(conn, sql_.c_str(), static_cast<int>(values_.size()),
                        types_.data(), values.data(), lengths.data(),
                        formats.data(), /*resultFormat=*/1);
  }

 private:
  Query& Add(Oid type, std::optional<std::string> value) {
    types_.push_back(type);
    values_.push_back(std::move(value));
    return *this;
  }

  const std::string sql_;
  std::vector<Oid> types_;
  std::vector<std::optional<std::string>> values_;
};

// One row of a binary-format result.
class Row {
 public:
  Row(const PGresult* result, int row) : result_(result), row_(row) {}

  bool IsNull(int column) const {
    return PQgetisnull(result_, row_, column) != 0;
  }
  // TEXT and BYTEA alike: the bytes as stored.
  std::string Text(int column) const {
    return std::string(PQgetvalue(result_, row_, column),
                       static_cast<size_t>(PQgetlength(result_, row_, column)));
  }
  std::string Blob(int column) const { return Text(column); }
  // BIGINT (or a narrower integer); 0 for NULL.
  int64_t Int(int column) const {
    const char* value = PQgetvalue(result_, row_, column);
    const int length = PQgetlength(result_, row_, column);
    uint64_t bits = 0;
    for (int i = 0; i < length; ++i) {
      bits = (bits << 8) | static_cast<uint8_t>(value[i]);
    }
    switch (length) {
      case 2:
        return static_cast<int16_t>(bits);
      case 4:
        return static_cast<int32_t>(bits);
      default:
        return static_cast<int64_t>(bits);
    }
  }
  bool Bool(int column) const {
    return PQgetlength(result_, row_, column) == 1 &&
           PQgetvalue(result_, row_, column)[0] != 0;
  }
  absl::Time Time(int column) const {
    return absl::FromUnixMicros(Int(column));
  }
  std::optional<absl::Time> OptionalTime(int column) const {
    if (IsNull(column)) return std::nullopt;
    return Time(column);
  }

 private:
  const PGresult* result_;
  int row_;
};

// The result of a command that succeeded; owns the PGresult.
class Result {
 public:
  explicit Result(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  Row row(int i) const { return Row(result_.get(), i); }
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const {
    const char* tuples = PQcmdTuples(result_.get());
    return tuples != nullptr && *tuples != '\0' ? std::atoll(tuples) : 0;
  }
  absl::string_view command() const { return PQcmdStatus(result_.get()); }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

}  // namespace

// One libpq connection. Not thread-safe: used by one thread at a time (the
// pool lends it to one caller at a time).
class PgConnection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() { PQfinish(conn_); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  PGconn* get() const { return conn_; }
  bool broken() const { return PQstatus(conn_) == CONNECTION_BAD; }
  // Outside any transaction, and usable.
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  bool in_transaction() const {
    const PGTransactionStatusType status = PQtransactionStatus(conn_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
  }

  absl::StatusOr<Result> Run(const Query& query) {
    return Check(query.Execute(conn_));
  }

  // Runs `sql`, one or more statements without parameters.
  absl::Status Exec(const char* sql) {
    return Check(PQexec(conn_, sql)).status();
  }

 private:
  absl::StatusOr<Result> Check(PGresult* result) {
    const ExecStatusType status =
        result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      return Result(result);
    }
    absl::Status error = PgError(conn_, result);
    PQclear(result);
    return error;
  }

  PGconn* const conn_;
};

// The store's connections: a few for writes (each waits for the write lock
// while it holds one) and more for reads, apart so that a read made while a
// write is under way never waits for a connection that a writer queued
// behind that write holds. Connections open on demand; a broken one is
// closed when handed back, and a new one opened in its place when needed.
class PostgresPool {
 public:
  enum Use { kRead, kWrite };

  // A connection lent to one caller; handed back on destruction.
  class Lease {
   public:
    Lease(PostgresPool* pool, Use use, std::unique_ptr<PgConnection> conn)
        : pool_(pool), use_(use), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept
        : pool_(other.pool_), use_(other.use_), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Return(use_, std::move(conn_));
    }

    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }

   private:
    PostgresPool* pool_;
    Use use_;
    std::unique_ptr<PgConnection> conn_;
  };

  // INVALID_ARGUMENT if libpq cannot parse `url`; the message never repeats
  // the URL (libpq's parse errors may quote its password).
  static absl::StatusOr<std::unique_ptr<PostgresPool>> Create(
      const std::string& url) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
    if (options == nullptr) {
      PQfreemem(error);
      return absl::InvalidArgumentError(
          "storage: the PostgreSQL URL cannot be parsed (expected "
          "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS])");
    }
    std::string password;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (absl::string_view(o->keyword) == "password" && o->val != nullptr) {
        password = o->val;
      }
    }
    PQconninfoFree(options);
    return std::unique_ptr<PostgresPool>(
        new PostgresPool(url, std::move(password)));
  }

  // Opens a new connection, outside the pool's count (Adopt counts it).
  // UNAVAILABLE naming host, port, database and user if it fails.
  absl::StatusOr<std::unique_ptr<PgConnection>> Connect() const {
    // Defaults come before the URL, which may override them; the encoding
    // comes after: every text this store sends and reads is UTF-8.
    // A server that stops answering (a partition) is given up on within
    // about 30 s, not the kernel's hours: TCP keepalives and a limit on
    // unacknowledged data. The URL may set other values.
    const char* const keys[] = {
        "connect_timeout",     "fallback_application_name",
        "keepalives",          "keepalives_idle",
        "keepalives_interval", "keepalives_count",
        "tcp_user_timeout",    "dbname",
        "client_encoding",     nullptr};
    const char* const values[] = {"10",   "liaisond", "1",     "10",
                                  "5",    "3",        "30000", url_.c_str(),
                                  "UTF8", nullptr};
    PGconn* raw = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (raw == nullptr) {
      return absl::UnavailableError(
          "storage: cannot connect to PostgreSQL: out of memory");
    }
    auto conn = std::make_unique<PgConnection>(raw);
    if (PQstatus(raw) != CONNECTION_OK) {
      return absl::UnavailableError(absl::StrCat(
          "storage: cannot connect to PostgreSQL database \"", Or(PQdb(raw)),
          "\" on ", Or(PQhost(raw)), ":", Or(PQport(raw)), " as user \"",
          Or(PQuser(raw)), "\": ", Redact(OneLine(PQerrorMessage(raw)))));
    }
    absl::Status set = conn->Exec(kSessionSettings);
    if (!set.ok()) {
      return absl::Status(set.code(), Redact(std::string(set.message())));
    }
    return conn;
  }

  // A connection for `use`: an idle one, or a new one while fewer than the
  // limit are open; otherwise waits for one to be handed back.
  absl::StatusOr<Lease> Acquire(Use use) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      Slots& slots = use == kRead ? read_ : write_;
      mu_.Await(absl::Condition(
          +[](Slots* s) { return !s->idle.empty() || s->open < s->max; },
          &slots));
      if (!slots.idle.empty()) {
        std::unique_ptr<PgConnection> conn = std::move(slots.idle.back());
        slots.idle.pop_back();
        return Lease(this, use, std::move(conn));
      }
      ++slots.open;
    }
    absl::StatusOr<std::unique_ptr<PgConnection>> conn = Connect();
    if (!conn.ok()) {
      absl::MutexLock lock(&mu_);
      --(use == kRead ? read_ : write_).open;
      return conn.status();
    }
    return Lease(this, use, std::move(conn).value());
  }

  // Adds a connection opened by Connect to the idle ones.
  void Adopt(Use use, std::unique_ptr<PgConnection> conn)
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      ++(use == kRead ? read_ : write_).open;
    }
    Return(use, std::move(conn));
  }

 private:
  struct Slots {
    explicit Slots(int max) : max(max) {}
    std::vector<std::unique_ptr<PgConnection>> idle;
    int open = 0;  // Idle and lent.
    const int max;
  };

  // Most connections of each use one store opens. Writers beyond one wait
  // for the write lock anyway; a few let this replica's next writers queue
  // in PostgreSQL alongside other replicas'.
  static constexpr int kReadConnections = 8;
  static constexpr int kWriteConnections = 4;

  PostgresPool(std::string url, std::string password)
      : url_(std::move(url)),
        password_(std::move(password)),
        read_(kReadConnections),
        write_(kWriteConnections) {}

  static const char* Or(const char* value) {
    return value != nullptr && *value != '\0' ? value : "(default)";
  }

  // libpq's messages do not quote passwords; this makes sure.
  std::string Redact(std::string text) const {
    if (password_.empty()) return text;
    return absl::StrReplaceAll(text, {{password_, "***"}});
  }

  // Keeps `conn` for the next caller if it is usable and outside any
  // transaction; closes it otherwise.
  void Return(Use use, std::unique_ptr<PgConnection> conn)
      ABSL_LOCKS_EXCLUDED(mu_) {
    if (!conn->broken() && conn->in_transaction()) {
      conn->Exec("ROLLBACK").IgnoreError();
    }
    const bool keep = !conn->broken() && conn->idle();
    const bool broken = conn->broken();
    if (!keep) conn.reset();  // Closed outside the lock.
    std::vector<std::unique_ptr<PgConnection>> stale;
    {
      absl::MutexLock lock(&mu_);
      Slots& slots = use == kRead ? read_ : write_;
      if (keep) {
        slots.idle.push_back(std::move(conn));
      } else {
        --slots.open;
      }
      // A broken connection usually means the server restarted or failed
      // over: the idle ones are as dead, and a retry must not pick one.
      if (broken) {
        stale.swap(slots.idle);
        slots.open -= static_cast<int>(stale.size());
      }
    }
    // `stale` closes here, outside the lock.
  }

  const std::string url_;
  const std::string password_;
  absl::Mutex mu_;
  Slots read_ ABSL_GUARDED_BY(mu_);
  Slots write_ ABSL_GUARDED_BY(mu_);
};

namespace {

using Lease = PostgresPool::Lease;

// The statements of one read or one write transaction on one connection.
// After a statement fails, PostgreSQL has aborted the transaction: later
// statements are not sent, and fail, so a caller that went on anyway
// cannot mistake them for work done.
class Session {
 public:
  explicit Session(PgConnection& conn) : conn_(conn) {}

  absl::StatusOr<Result> Run(const Query& query) {
    if (!failure_.ok()) {
      return absl::InternalError(absl::StrCat(
          "storage: statement not run: an earlier statement of this "
          "transaction failed (",
          failure_.message(), ")"));
    }
    absl::StatusOr<Result> result = conn_.Run(query);
    if (!result.ok()) failure_ = result.status();
    return result;
  }

  // The first statement's failure, or OK.
  const absl::Status& failure() const { return failure_; }

 private:
  PgConnection& conn_;
  absl::Status failure_;
};

// Whether a read runs one statement (which sees one committed state on its
// own) or several (which share a REPEATABLE READ READ ONLY transaction).
enum class Statements { kOne, kSeveral };

// Runs `read` on a read connection. A read that finds its connection broken
// (the server restarted since it was last used, say) is run once more on a
// new connection: reads change nothing, so running one twice is harmless.
template <typename Fn>
auto ReadWith(PostgresPool& pool, Statements statements, Fn read)
    -> decltype(read(std::declval<Session&>())) {
  for (int attempt = 0;; ++attempt) {
    LIAISON_ASSIGN_OR_RETURN(Lease lease, pool.Acquire(PostgresPool::kRead));
    if (statements == Statements::kSeveral) {
      absl::Status begun = lease->Exec(kBeginRead);
      if (!begun.ok()) {
        if (attempt == 0 && lease->broken()) continue;
        return begun;
      }
    }
    Session session(*lease);
    auto result = read(session);
    // Ending a read-only transaction cannot lose anything it read; the pool
    // rolls back whatever is left open.
    if (statements == Statements::kSeveral && result.ok()) {
      lease->Exec("COMMIT").IgnoreError();
    }
    if (result.ok() || attempt > 0 || !lease->broken()) return result;
  }
}

// A write connection in a transaction that holds the write lock. A pooled
// connection found broken at BEGIN (nothing has run on it) is replaced once.
absl::StatusOr<Lease> BeginWrite(PostgresPool& pool) {
  for (int attempt = 0;; ++attempt) {
    LIAISON_ASSIGN_OR_RETURN(Lease lease, pool.Acquire(PostgresPool::kWrite));
    absl::Status begun = lease->Exec(kBeginWrite);
    if (begun.ok()) return lease;
    if (attempt > 0 || !lease->broken()) return begun;
  }
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

std::optional<absl::string_view> NonEmpty(absl::string_view value) {
  if (value.empty()) return std::nullopt;
  return value;
}

constexpr char kPartyColumns[] =
    "code, name, tier, state, ceiling, agreement_in_force";

absl::StatusOr<Party> ReadParty(const Row& row) {
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
  party.agreement_in_force = row.Bool(5);
  return party;
}

absl::StatusOr<Party> ReadPartyByCode(Session& db, absl::string_view code) {
  LIAISON_ASSIGN_OR_RETURN(
      Result q, db.Run(Query(absl::StrCat("SELECT ", kPartyColumns,
                                          " FROM parties WHERE code = $1"))
                           .BindText(code)));
  if (q.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("party ", code, " is not registered"));
  }
  return ReadParty(q.row(0));
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
constexpr char kSummaryColumns[] = LIAISON_MESSAGE_COLUMNS("''::text");
#undef LIAISON_MESSAGE_COLUMNS

absl::StatusOr<Message> ReadMessageRow(const Row& row) {
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
  m.contains_personal_data = row.Bool(14);
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
  m.created_at = row.Time(19);
  m.origin_id = row.Text(20);
  m.owner_party = row.Text(21);
  m.forwarded_from = row.Text(22);
  return m;
}

// Columns of a recipient row after message_seq, in ReadRecipient's order.
constexpr char kRecipientColumns[] =
    "party, request_state, answered_at_us, reply_id, due_at_us, "
    "acknowledged_at_us, refused_at_us, refusal_reason, refusal_text, "
    "delivered_at_us, read_at_us";

// Reads kRecipientColumns starting at `first`.
absl::StatusOr<Recipient> ReadRecipient(const Row& q, int first) {
  Recipient r;
  r.party = q.Text(first);
  if (!q.IsNull(first + 1)) {
    LIAISON_ASSIGN_OR_RETURN(r.request_state,
                             Decode(ParseRequestState(q.Text(first + 1)),
                                    "request state", q.Text(first + 1)));
  }
  r.answered_at = q.OptionalTime(first + 2);
  r.reply_id = q.Text(first + 3);
  r.due_at = q.OptionalTime(first + 4);
  r.acknowledged_at = q.OptionalTime(first + 5);
  r.refused_at = q.OptionalTime(first + 6);
  if (!q.IsNull(first + 7)) {
    LIAISON_ASSIGN_OR_RETURN(r.refusal_reason,
                             Decode(ParseRefusalReason(q.Text(first + 7)),
                                    "refusal reason", q.Text(first + 7)));
  }
  r.refusal_text = q.Text(first + 8);
  r.delivered_at = q.OptionalTime(first + 9);
  r.read_at = q.OptionalTime(first + 10);
  return r;
}

std::optional<std::string> OptionalName(
    const std::optional<RequestState>& state) {
  if (!state.has_value()) return std::nullopt;
  return std::string(Name(*state));
}

std::optional<int64_t> OptionalMicros(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

// Binds the values of kRecipientColumns after `party`, in order.
void BindRecipientState(Query& q, const Recipient& r) {
  q.BindOptionalText(OptionalName(r.request_state))
      .BindOptionalTime(r.answered_at)
      .BindText(r.reply_id)
      .BindOptionalTime(r.due_at)
      .BindOptionalTime(r.acknowledged_at)
      .BindOptionalTime(r.refused_at)
      .BindOptionalText(
          r.refusal_reason.has_value()
              ? std::optional<absl::string_view>(Name(*r.refusal_reason))
              : std::nullopt)
      .BindText(r.refusal_text)
      .BindOptionalTime(r.delivered_at)
      .BindOptionalTime(r.read_at);
}

// Loads the recipients of all `messages` with one query.
absl::Status LoadRecipients(Session& db, std::vector<Message>& messages) {
  if (messages.empty()) return absl::OkStatus();
  std::map<int64_t, Message*> by_seq;
  std::vector<std::optional<int64_t>> seqs;
  for (Message& m : messages) {
    m.recipients.clear();
    by_seq[m.seq] = &m;
    seqs.push_back(m.seq);
  }
  LIAISON_ASSIGN_OR_RETURN(
      Result q,
      db.Run(Query(absl::StrCat("SELECT message_seq, ", kRecipientColumns,
                                " FROM recipients WHERE message_seq = "
                                "ANY($1) ORDER BY message_seq, position"))
                 .BindIntArray(seqs)));
  for (int i = 0; i < q.rows(); ++i) {
    const Row row = q.row(i);
    LIAISON_ASSIGN_OR_RETURN(Recipient r, ReadRecipient(row, 1));
    by_seq.at(row.Int(0))->recipients.push_back(std::move(r));
  }
  return absl::OkStatus();
}

// Runs a message query (columns kMessageColumns or kSummaryColumns) and
// loads recipients.
absl::StatusOr<std::vector<Message>> QueryMessages(Session& db,
                                                   const Query& query) {
  LIAISON_ASSIGN_OR_RETURN(Result q, db.Run(query));
  std::vector<Message> messages;
  for (int i = 0; i < q.rows(); ++i) {
    LIAISON_ASSIGN_OR_RETURN(Message m, ReadMessageRow(q.row(i)));
    messages.push_back(std::move(m));
  }
  LIAISON_RETURN_IF_ERROR(LoadRecipients(db, messages));
  return messages;
}

constexpr char kRevocationColumns[] =
    "COALESCE(serial, ''), COALESCE(user_path, ''), reason, revoked_at_us, "
    "revoked_by";

Revocation ReadRevocation(const Row& row) {
  return Revocation{row.Text(0), row.Text(1), row.Text(2), row.Time(3),
                    row.Text(4)};
}

absl::StatusOr<std::optional<Revocation>> FindRevocationIn(
    Session& db, absl::string_view serial, absl::string_view user) {
  // Empty arguments must match nothing; NULL never equals anything.
  LIAISON_ASSIGN_OR_RETURN(
      Result q,
      db.Run(Query(absl::StrCat("SELECT ", kRevocationColumns,
                                " FROM revocations WHERE serial = $1 OR "
                                "user_path = $2 ORDER BY seq LIMIT 1"))
                 .BindOptionalText(NonEmpty(serial))
                 .BindOptionalText(NonEmpty(user))));
  if (q.rows() == 0) return std::nullopt;
  return ReadRevocation(q.row(0));
}

absl::StatusOr<Message> GetMessageIn(Session& db, absl::string_view id) {
  LIAISON_ASSIGN_OR_RETURN(
      std::vector<Message> found,
      QueryMessages(db, Query(absl::StrCat("SELECT ", kMessageColumns,
                                           " FROM messages m WHERE m.id = $1"))
                            .BindText(id)));
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("message ", id, " not found"));
  }
  return std::move(found.front());
}

constexpr char kConsentColumns[] =
    "id, origin_id, owner_party, requester_party, target_party, "
    "justification, state, requested_at_us, requested_by, decided_at_us, "
    "decided_by, decision_reason";

absl::StatusOr<Consent> ReadConsent(const Row& q) {
  Consent c;
  c.id = q.Text(0);
  c.origin_id = q.Text(1);
  c.owner_party = q.Text(2);
  c.requester_party = q.Text(3);
  c.target_party = q.Text(4);
  c.justification = q.Text(5);
  LIAISON_ASSIGN_OR_RETURN(c.state, Decode(ParseConsentState(q.Text(6)),
                                           "consent state", q.Text(6)));
  c.requested_at = q.Time(7);
  c.requested_by = q.Text(8);
  c.decided_at = q.OptionalTime(9);
  c.decided_by = q.Text(10);
  c.decision_reason = q.Text(11);
  return c;
}

absl::StatusOr<Consent> GetConsentIn(Session& db, absl::string_view id) {
  LIAISON_ASSIGN_OR_RETURN(
      Result q, db.Run(Query(absl::StrCat("SELECT ", kConsentColumns,
                                          " FROM consents WHERE id = $1"))
                           .BindText(id)));
  if (q.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("consent ", id, " not found"));
  }
  return ReadConsent(q.row(0));
}

absl::StatusOr<Case> GetCaseIn(Session& db, absl::string_view id) {
  LIAISON_ASSIGN_OR_RETURN(
      Result q, db.Run(Query("SELECT seq, id, title, owner_party, state, "
                             "opened_at_us, closed_at_us FROM cases "
                             "WHERE id = $1")
                           .BindText(id)));
  if (q.rows() == 0) {
    return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
  }
  const Row row = q.row(0);
  Case c;
  c.seq = row.Int(0);
  c.id = row.Text(1);
  c.title = row.Text(2);
  c.owner_party = row.Text(3);
  LIAISON_ASSIGN_OR_RETURN(
      c.state, Decode(ParseCaseState(row.Text(4)), "case state", row.Text(4)));
  c.opened_at = row.Time(5);
  c.closed_at = row.OptionalTime(6);
  // Text is ordered byte by byte (COLLATE "C"), as SQLite does, whatever
  // the database's collation.
  LIAISON_ASSIGN_OR_RETURN(
      Result parts,
      db.Run(Query("SELECT party FROM case_participants WHERE case_seq = $1 "
                   "AND removed_at_us IS NULL ORDER BY added_at_us, "
                   "party COLLATE \"C\"")
                 .BindInt(c.seq)));
  for (int i = 0; i < parts.rows(); ++i) {
    c.participants.push_back(parts.row(i).Text(0));
  }
  LIAISON_ASSIGN_OR_RETURN(
      Result messages,
      db.Run(Query("SELECT message_id FROM case_messages WHERE case_seq = $1 "
                   "ORDER BY attached_at_us, seq")
                 .BindInt(c.seq)));
  for (int i = 0; i < messages.rows(); ++i) {
    c.message_ids.push_back(messages.row(i).Text(0));
  }
  return c;
}

// Entries from rows of seq, time_us, principal, party, role, user_id,
// action, resources, outcome, code, reason.
absl::StatusOr<std::vector<AuditEntry>> ReadAuditRows(const Result& q) {
  std::vector<AuditEntry> entries;
  for (int i = 0; i < q.rows(); ++i) {
    const Row row = q.row(i);
    AuditEntry e;
    e.seq = row.Int(0);
    e.time = row.Time(1);
    e.principal = row.Text(2);
    e.party = row.Text(3);
    e.role = row.Text(4);
    e.user_id = row.Text(5);
    e.action = row.Text(6);
    const std::string resources = row.Text(7);
    if (!resources.empty()) e.resources = absl::StrSplit(resources, '\n');
    LIAISON_ASSIGN_OR_RETURN(e.outcome, Decode(ParseAuditOutcome(row.Text(8)),
                                               "outcome", row.Text(8)));
    e.code = static_cast<absl::StatusCode>(row.Int(9));
    e.reason = row.Text(10);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<int64_t> AuditSizeIn(Session& db) {
  // seq is dense from 1, so its maximum is the count (without a scan).
  LIAISON_ASSIGN_OR_RETURN(
      Result q, db.Run(Query("SELECT COALESCE(MAX(seq), 0) FROM audit_log")));
  return q.rows() > 0 ? q.row(0).Int(0) : 0;
}

absl::StatusOr<std::string> AuditNodeIn(Session& db, int level, int64_t index) {
  LIAISON_ASSIGN_OR_RETURN(
      Result q,
      db.Run(Query("SELECT hash FROM audit_tree WHERE level = $1 AND idx = $2")
                 .BindInt(level)
                 .BindInt(index)));
  if (q.rows() == 0) {
    return absl::NotFoundError(
        absl::StrCat("audit tree has no node ", level, "/", index));
  }
  return q.row(0).Blob(0);
}

constexpr absl::string_view kCheckpointColumns =
    "tree_size, root, note, signed_at_us";

AuditCheckpoint ReadCheckpoint(const Row& q) {
  AuditCheckpoint c;
  c.tree_size = q.Int(0);
  c.root_hash = q.Blob(1);
  c.note = q.Text(2);
  c.signed_at = q.Time(3);
  return c;
}

absl::StatusOr<std::optional<AuditCheckpoint>> LatestCheckpointIn(Session& db) {
  LIAISON_ASSIGN_OR_RETURN(
      Result q, db.Run(Query(absl::StrCat("SELECT ", kCheckpointColumns,
                                          " FROM audit_checkpoints ORDER BY "
                                          "tree_size DESC LIMIT 1"))));
  if (q.rows() == 0) return std::nullopt;
  return ReadCheckpoint(q.row(0));
}

constexpr char kAttachmentColumns[] =
    "id, message_id, file_name, size, sha256_hex, uploaded_at_us, "
    "uploaded_by";

AttachmentInfo ReadAttachment(const Row& q) {
  return AttachmentInfo{q.Text(0), q.Text(1), q.Text(2), q.Int(3),
                        q.Text(4), q.Time(5), q.Text(6)};
}

}  // namespace

class PostgresStore::Transaction final : public WriteTransaction {
 public:
  explicit Transaction(PgConnection& conn) : db_(conn) {}

  // The first failed statement's status, or OK.
  const absl::Status& failure() const { return db_.failure(); }
  // Whether other replicas' subscribers must look again after the commit:
  // an event was appended, or a party or revocation changed.
  bool announce() const { return announce_; }

  // liaison::WriteTransaction
  absl::StatusOr<Party> GetParty(absl::string_view code) override {
    return ReadPartyByCode(db_, code);
  }

  absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user) override {
    return FindRevocationIn(db_, serial, user);
  }

  absl::StatusOr<std::optional<Message>> FindByIdempotencyKey(
      absl::string_view sender_party,
      absl::string_view idempotency_key) override {
    LIAISON_ASSIGN_OR_RETURN(
        std::vector<Message> found,
        QueryMessages(
            db_, Query(absl::StrCat("SELECT ", kMessageColumns,
                                    " FROM messages m WHERE m.sender_party = "
                                    "$1 AND m.idempotency_key = $2"))
                     .BindText(sender_party)
                     .BindText(idempotency_key)));
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  }

  // One statement for the message and its recipients. A taken id or key
  // inserts nothing (ON CONFLICT DO NOTHING) and is reported without
  // failing the transaction, as a refused statement in SQLite leaves the
  // rest of its transaction standing.
  absl::Status InsertMessage(const Message& m) override {
    Query insert(
        "WITH m AS (INSERT INTO messages (id, sender_party, idempotency_key, "
        "content_digest, sender_user, sender_role, kind, in_reply_to, "
        "subject, body, priority, urgency_justification, classification, "
        "contains_personal_data, handling_code, handling_restriction, "
        "eval_source, eval_information, created_at_us, origin_id, "
        "owner_party, forwarded_from) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
        "$22) ON CONFLICT DO NOTHING RETURNING seq), "
        "r AS (INSERT INTO recipients (message_seq, position, party, "
        "request_state, answered_at_us, reply_id, due_at_us, "
        "acknowledged_at_us, refused_at_us, refusal_reason, refusal_text, "
        "delivered_at_us, read_at_us) SELECT m.seq, r.* FROM m, "
        "unnest($23::bigint[], $24::text[], $25::text[], $26::bigint[], "
        "$27::text[], $28::bigint[], $29::bigint[], $30::bigint[], "
        "$31::text[], $32::text[], $33::bigint[], $34::bigint[]) AS r) "
        "SELECT seq FROM m");
    insert.BindText(m.id)
        .BindText(m.sender_party)
        .BindText(m.idempotency_key)
        .BindBytes(m.content_digest)
        .BindText(m.sender_user)
        .BindText(RoleName(m.sender_role))
        .BindText(Name(m.kind))
        .BindText(m.in_reply_to)
        .BindText(m.subject)
        .BindText(m.body)
        .BindText(Name(m.priority))
        .BindText(m.urgency_justification)
        .BindText(Name(m.classification))
        .BindBool(m.contains_personal_data)
        .BindText(Name(m.handling_code))
        .BindText(m.handling_restriction);
    if (m.evaluation.has_value()) {
      insert.BindText(Name(m.evaluation->source))
          .BindText(Name(m.evaluation->information));
    } else {
      insert.BindOptionalText(std::nullopt).BindOptionalText(std::nullopt);
    }
    insert.BindTime(m.created_at)
        .BindText(m.origin_id)
        .BindText(m.owner_party)
        .BindText(m.forwarded_from);
    // Recipients as columns, one array each.
    std::vector<std::optional<int64_t>> position, answered, due, acknowledged,
        refused, delivered, read;
    std::vector<std::optional<std::string>> party, state, reply, reason, text;
    for (const Recipient& r : m.recipients) {
      position.push_back(static_cast<int64_t>(position.size()));
      party.push_back(r.party);
      state.push_back(OptionalName(r.request_state));
      answered.push_back(OptionalMicros(r.answered_at));
      reply.push_back(r.reply_id);
      due.push_back(OptionalMicros(r.due_at));
      acknowledged.push_back(OptionalMicros(r.acknowledged_at));
      refused.push_back(OptionalMicros(r.refused_at));
      reason.push_back(
          r.refusal_reason.has_value()
              ? std::optional<std::string>(std::string(Name(*r.refusal_reason)))
              : std::nullopt);
      text.push_back(r.refusal_text);
      delivered.push_back(OptionalMicros(r.delivered_at));
      read.push_back(OptionalMicros(r.read_at));
    }
    insert.BindIntArray(position)
        .BindTextArray(party)
        .BindTextArray(state)
        .BindIntArray(answered)
        .BindTextArray(reply)
        .BindIntArray(due)
        .BindIntArray(acknowledged)
        .BindIntArray(refused)
        .BindTextArray(reason)
        .BindTextArray(text)
        .BindIntArray(delivered)
        .BindIntArray(read);
    LIAISON_ASSIGN_OR_RETURN(Result inserted, db_.Run(insert));
    if (inserted.rows() == 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "storage: message id ", m.id, " or idempotency key '",
          m.idempotency_key, "' of ", m.sender_party, " is already taken"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Message> GetMessage(absl::string_view id) override {
    return GetMessageIn(db_, id);
  }

  absl::Status UpdateRecipient(absl::string_view message_id,
                               const Recipient& r) override {
    Query update(
        "UPDATE recipients SET request_state = $1, answered_at_us = $2, "
        "reply_id = $3, due_at_us = $4, acknowledged_at_us = $5, "
        "refused_at_us = $6, refusal_reason = $7, refusal_text = $8, "
        "delivered_at_us = $9, read_at_us = $10 WHERE party = $11 AND "
        "message_seq = (SELECT seq FROM messages WHERE id = $12)");
    BindRecipientState(update, r);
    update.BindText(r.party).BindText(message_id);
    LIAISON_ASSIGN_OR_RETURN(Result updated, db_.Run(update));
    if (updated.affected() == 0) {
      return absl::NotFoundError(absl::StrCat(
          "party ", r.party, " is not a recipient of ", message_id));
    }
    return absl::OkStatus();
  }

  absl::Status RecordReceipts(absl::string_view party,
                              const std::vector<std::string>& message_ids,
                              absl::Time at, bool read) override {
    if (message_ids.empty()) return absl::OkStatus();
    std::vector<std::optional<std::string>> ids(message_ids.begin(),
                                                message_ids.end());
    Query update(absl::StrCat(
        "UPDATE recipients SET delivered_at_us = COALESCE(delivered_at_us, "
        "$1)",
        read ? ", read_at_us = COALESCE(read_at_us, $1)" : "",
        " WHERE party = $2 AND message_seq IN (SELECT seq FROM messages "
        "WHERE id = ANY($3))"));
    update.BindTime(at).BindText(party).BindTextArray(ids);
    return db_.Run(update).status();
  }

  absl::Status SetHandling(absl::string_view message_id, HandlingCode code,
                           absl::string_view restriction) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result updated,
        db_.Run(Query("UPDATE messages SET handling_code = $1, "
                      "handling_restriction = $2 WHERE id = $3 OR "
                      "origin_id = $3")
                    .BindText(Name(code))
                    .BindText(restriction)
                    .BindText(message_id)));
    if (updated.affected() == 0) {
      return absl::NotFoundError(
          absl::StrCat("message ", message_id, " not found"));
    }
    return absl::OkStatus();
  }

  absl::Status InsertConsent(const Consent& c) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result inserted,
        db_.Run(Query("INSERT INTO consents (id, origin_id, owner_party, "
                      "requester_party, target_party, justification, state, "
                      "requested_at_us, requested_by, decided_at_us, "
                      "decided_by, decision_reason) VALUES ($1, $2, $3, $4, "
                      "$5, $6, $7, $8, $9, NULL, '', '') "
                      "ON CONFLICT DO NOTHING")
                    .BindText(c.id)
                    .BindText(c.origin_id)
                    .BindText(c.owner_party)
                    .BindText(c.requester_party)
                    .BindText(c.target_party)
                    .BindText(c.justification)
                    .BindText(Name(c.state))
                    .BindTime(c.requested_at)
                    .BindText(c.requested_by)));
    if (inserted.affected() == 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("storage: consent ", c.id, " already exists"));
    }
    return absl::OkStatus();
  }

  absl::Status UpdateConsent(const Consent& c) override {
    return db_
        .Run(Query("UPDATE consents SET state = $1, decided_at_us = $2, "
                   "decided_by = $3, decision_reason = $4 WHERE id = $5")
                 .BindText(Name(c.state))
                 .BindOptionalTime(c.decided_at)
                 .BindText(c.decided_by)
                 .BindText(c.decision_reason)
                 .BindText(c.id))
        .status();
  }

  absl::StatusOr<Consent> GetConsent(absl::string_view id) override {
    return GetConsentIn(db_, id);
  }

  absl::StatusOr<std::optional<Consent>> FindGrantedConsent(
      absl::string_view origin_id, absl::string_view requester,
      absl::string_view target) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result q,
        db_.Run(Query("SELECT id FROM consents WHERE origin_id = $1 AND "
                      "requester_party = $2 AND target_party = $3 AND state = "
                      "'GRANTED' ORDER BY seq LIMIT 1")
                    .BindText(origin_id)
                    .BindText(requester)
                    .BindText(target)));
    if (q.rows() == 0) return std::nullopt;
    return GetConsentIn(db_, q.row(0).Text(0));
  }

  absl::StatusOr<int64_t> CountAttachments(
      absl::string_view message_id) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result q,
        db_.Run(Query("SELECT COUNT(*) FROM attachments WHERE message_id = $1")
                    .BindText(message_id)));
    return q.rows() > 0 ? q.row(0).Int(0) : 0;
  }

  absl::Status InsertAttachment(
      const AttachmentInfo& a,
      const std::vector<std::string>& chunks) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result inserted,
        db_.Run(Query("INSERT INTO attachments (id, message_id, file_name, "
                      "size, sha256_hex, uploaded_at_us, uploaded_by) VALUES "
                      "($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
                    .BindText(a.id)
                    .BindText(a.message_id)
                    .BindText(a.file_name)
                    .BindInt(a.size)
                    .BindText(a.sha256_hex)
                    .BindTime(a.uploaded_at)
                    .BindText(a.uploaded_by)));
    if (inserted.affected() == 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("storage: attachment ", a.id, " already exists"));
    }
    // A statement per chunk: chunks are large, one array of them all would
    // hold the whole attachment twice more in memory.
    for (size_t i = 0; i < chunks.size(); ++i) {
      LIAISON_RETURN_IF_ERROR(
          db_.Run(Query("INSERT INTO attachment_chunks (attachment_id, idx, "
                        "data) VALUES ($1, $2, $3)")
                      .BindText(a.id)
                      .BindInt(static_cast<int64_t>(i))
                      .BindBytes(chunks[i]))
              .status());
    }
    return absl::OkStatus();
  }

  absl::Status AppendEvent(const Event& e) override {
    announce_ = true;
    return db_
        .Run(Query("INSERT INTO events (party, kind, message_id, detail, "
                   "time_us) VALUES ($1, $2, $3, $4, $5)")
                 .BindText(e.party)
                 .BindText(e.kind)
                 .BindText(e.message_id)
                 .BindText(e.detail)
                 .BindTime(e.time))
        .status();
  }

  absl::Status InsertCase(const Case& c) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result inserted,
        db_.Run(Query("INSERT INTO cases (id, title, owner_party, state, "
                      "opened_at_us, closed_at_us) VALUES ($1, $2, $3, $4, "
                      "$5, NULL) ON CONFLICT DO NOTHING")
                    .BindText(c.id)
                    .BindText(c.title)
                    .BindText(c.owner_party)
                    .BindText(Name(c.state))
                    .BindTime(c.opened_at)));
    if (inserted.affected() == 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("storage: case ", c.id, " already exists"));
    }
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
      return db_
          .Run(Query("INSERT INTO case_participants (case_seq, party, "
                     "added_at_us, removed_at_us) VALUES ((SELECT seq FROM "
                     "cases WHERE id = $1), $2, $3, NULL) ON CONFLICT "
                     "(case_seq, party) DO UPDATE SET added_at_us = "
                     "excluded.added_at_us, removed_at_us = NULL")
                   .BindText(case_id)
                   .BindText(party)
                   .BindTime(at))
          .status();
    }
    LIAISON_ASSIGN_OR_RETURN(
        Result removed,
        db_.Run(Query("UPDATE case_participants SET removed_at_us = $1 WHERE "
                      "case_seq = (SELECT seq FROM cases WHERE id = $2) AND "
                      "party = $3 AND removed_at_us IS NULL")
                    .BindTime(at)
                    .BindText(case_id)
                    .BindText(party)));
    if (removed.affected() == 0) {
      return absl::NotFoundError(
          absl::StrCat(party, " does not take part in case ", case_id));
    }
    return absl::OkStatus();
  }

  absl::Status AttachToCase(absl::string_view case_id,
                            absl::string_view message_id,
                            absl::Time at) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result inserted,
        db_.Run(Query("INSERT INTO case_messages (case_seq, message_id, "
                      "attached_at_us) VALUES ((SELECT seq FROM cases WHERE "
                      "id = $1), $2, $3) ON CONFLICT DO NOTHING")
                    .BindText(case_id)
                    .BindText(message_id)
                    .BindTime(at)));
    if (inserted.affected() == 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          "message ", message_id, " is already attached to case ", case_id));
    }
    return absl::OkStatus();
  }

  absl::Status CloseCase(absl::string_view case_id, absl::Time at) override {
    return db_
        .Run(Query("UPDATE cases SET state = 'CLOSED', closed_at_us = $1 "
                   "WHERE id = $2")
                 .BindTime(at)
                 .BindText(case_id))
        .status();
  }

  absl::Status MarkAnswered(absl::string_view request_id,
                            absl::string_view party, absl::string_view reply_id,
                            absl::Time answered_at) override {
    LIAISON_ASSIGN_OR_RETURN(
        Result q,
        db_.Run(Query("SELECT r.request_state FROM recipients r JOIN "
                      "messages m ON m.seq = r.message_seq WHERE m.id = $1 "
                      "AND r.party = $2")
                    .BindText(request_id)
                    .BindText(party)));
    if (q.rows() == 0) {
      return absl::NotFoundError(
          absl::StrCat("party ", party, " is not a recipient of ", request_id));
    }
    const std::string state = q.row(0).Text(0);
    if (state != Name(RequestState::kOpen) &&
        state != Name(RequestState::kAcknowledged)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "request ", request_id, " is ",
          state.empty() ? "not a request" : state, " for ", party));
    }
    return db_
        .Run(Query("UPDATE recipients SET request_state = $1, "
                   "answered_at_us = $2, reply_id = $3 WHERE party = $4 AND "
                   "message_seq = (SELECT seq FROM messages WHERE id = $5)")
                 .BindText(Name(RequestState::kAnswered))
                 .BindTime(answered_at)
                 .BindText(reply_id)
                 .BindText(party)
                 .BindText(request_id))
        .status();
  }

  // The entry, its resource index rows and its tree nodes in one statement.
  // Writers hold the write lock, so AuditSize() + 1 is this entry's seq;
  // the primary key refuses a second entry with it all the same.
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
    std::vector<std::optional<std::string>> resources(e.resources.begin(),
                                                      e.resources.end());
    std::vector<std::optional<int64_t>> levels, indexes;
    std::vector<std::optional<std::string>> hashes;
    for (const merkle::Node& node : nodes) {
      levels.push_back(node.level);
      indexes.push_back(static_cast<int64_t>(node.index));
      hashes.push_back(node.hash);
    }
    LIAISON_RETURN_IF_ERROR(
        db_.Run(Query("WITH a AS (INSERT INTO audit_log (seq, time_us, "
                      "principal, party, role, user_id, action, resources, "
                      "outcome, code, reason, leaf) VALUES ($1, $2, $3, $4, "
                      "$5, $6, $7, $8, $9, $10, $11, $12)), "
                      "r AS (INSERT INTO audit_resources (resource, seq) "
                      "SELECT DISTINCT resource, $1 FROM unnest($13::text[]) "
                      "AS resource ON CONFLICT DO NOTHING) "
                      "INSERT INTO audit_tree (level, idx, hash) SELECT * "
                      "FROM unnest($14::bigint[], $15::bigint[], "
                      "$16::bytea[])")
                    .BindInt(size + 1)
                    .BindTime(e.time)
                    .BindText(e.principal)
                    .BindText(e.party)
                    .BindText(e.role)
                    .BindText(e.user_id)
                    .BindText(e.action)
                    .BindText(absl::StrJoin(e.resources, "\n"))
                    .BindText(Name(e.outcome))
                    .BindInt(static_cast<int64_t>(e.code))
                    .BindText(e.reason)
                    .BindBytes(EncodeAuditLeaf(e))
                    .BindTextArray(resources)
                    .BindIntArray(levels)
                    .BindIntArray(indexes)
                    .BindBytesArray(hashes))
            .status());
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
    return db_
        .Run(Query("INSERT INTO audit_checkpoints (tree_size, root, note, "
                   "signed_at_us) VALUES ($1, $2, $3, $4)")
                 .BindInt(c.tree_size)
                 .BindBytes(c.root_hash)
                 .BindText(c.note)
                 .BindTime(c.signed_at))
        .status();
  }

  absl::Status UpdateParty(const Party& p) override {
    announce_ = true;  // A suspension ends streams at once.
    LIAISON_ASSIGN_OR_RETURN(
        Result updated,
        db_.Run(Query("UPDATE parties SET name = $1, tier = $2, state = $3, "
                      "ceiling = $4, agreement_in_force = $5 WHERE code = $6")
                    .BindText(p.name)
                    .BindText(Name(p.tier))
                    .BindText(Name(p.state))
                    .BindText(Name(p.ceiling))
                    .BindBool(p.agreement_in_force)
                    .BindText(p.code)));
    if (updated.affected() == 0) {
      return absl::NotFoundError(
          absl::StrCat("party ", p.code, " is not registered"));
    }
    return absl::OkStatus();
  }

  absl::Status AppendPartyChange(const PartyChange& c) override {
    return db_
        .Run(Query("INSERT INTO party_changes (code, time_us, changed_by, "
                   "change, from_value, to_value, reason) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)")
                 .BindText(c.code)
                 .BindTime(c.time)
                 .BindText(c.changed_by)
                 .BindText(c.change)
                 .BindText(c.from)
                 .BindText(c.to)
                 .BindText(c.reason))
        .status();
  }

  absl::Status InsertRevocation(const Revocation& r) override {
    announce_ = true;
    LIAISON_ASSIGN_OR_RETURN(
        Result inserted,
        db_.Run(Query("INSERT INTO revocations (serial, user_path, reason, "
                      "revoked_at_us, revoked_by) VALUES ($1, $2, $3, $4, $5) "
                      "ON CONFLICT DO NOTHING")
                    .BindOptionalText(NonEmpty(r.serial))
                    .BindOptionalText(NonEmpty(r.user))
                    .BindText(r.reason)
                    .BindTime(r.revoked_at)
                    .BindText(r.revoked_by)));
    if (inserted.affected() == 0) {
      return absl::AlreadyExistsError(absl::StrCat(
          r.serial.empty() ? "user " : "certificate serial ",
          r.serial.empty() ? r.user : r.serial, " is already revoked"));
    }
    return absl::OkStatus();
  }

  absl::Status InsertParty(const Party& p) override {
    announce_ = true;
    LIAISON_ASSIGN_OR_RETURN(
        Result inserted,
        db_.Run(Query(absl::StrCat("INSERT INTO parties (", kPartyColumns,
                                   ") VALUES ($1, $2, $3, $4, $5, $6) "
                                   "ON CONFLICT DO NOTHING"))
                    .BindText(p.code)
                    .BindText(p.name)
                    .BindText(Name(p.tier))
                    .BindText(Name(p.state))
                    .BindText(Name(p.ceiling))
                    .BindBool(p.agreement_in_force)));
    if (inserted.affected() == 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("party ", p.code, " is already registered"));
    }
    return absl::OkStatus();
  }

 private:
  Session db_;
  bool announce_ = false;
};

namespace {

// Brings the schema to the current version. Run with the migration lock
// held, so that one replica migrates while the others wait and then find
// nothing to do.
absl::Status MigrateLocked(PgConnection& conn) {
  LIAISON_RETURN_IF_ERROR(
      conn.Exec("BEGIN ISOLATION LEVEL READ COMMITTED; "
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version BIGINT PRIMARY KEY, "
                "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"));
  LIAISON_ASSIGN_OR_RETURN(
      Result q, conn.Run(Query("SELECT COALESCE(MAX(version), 0) FROM "
                               "schema_migrations")));
  int64_t version = q.rows() > 0 ? q.row(0).Int(0) : 0;
  const int64_t current = static_cast<int64_t>(kMigrations.size());
  if (version > current) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", version,
                     " is newer than this liaisond supports (", current, ")"));
  }
  for (; version < current; ++version) {
    LIAISON_RETURN_IF_ERROR(conn.Exec(kMigrations[version]));
    LIAISON_RETURN_IF_ERROR(
        conn.Run(Query("INSERT INTO schema_migrations (version) VALUES ($1)")
                     .BindInt(version + 1))
            .status());
  }
  LIAISON_ASSIGN_OR_RETURN(Result committed, conn.Run(Query("COMMIT")));
  if (committed.command() != "COMMIT") {
    return absl::UnavailableError("storage: the migration was rolled back");
  }
  return absl::OkStatus();
}

absl::Status Migrate(PgConnection& conn) {
  // Text is stored as sent (UTF-8); a database in another encoding would
  // refuse or mangle some of it.
  LIAISON_ASSIGN_OR_RETURN(
      Result encoding,
      conn.Run(Query("SELECT current_setting('server_encoding')")));
  if (encoding.rows() != 1 || encoding.row(0).Text(0) != "UTF8") {
    return absl::FailedPreconditionError(absl::StrCat(
        "storage: the database's encoding is ",
        encoding.rows() == 1 ? encoding.row(0).Text(0) : "unknown",
        "; Liaison needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')"));
  }
  LIAISON_RETURN_IF_ERROR(conn.Exec(kTakeMigrationLock));
  absl::Status status = MigrateLocked(conn);
  if (!status.ok() && !conn.broken() && conn.in_transaction()) {
    conn.Exec("ROLLBACK").IgnoreError();
  }
  // The lock is the session's: it outlives the transaction, and is gone
  // anyway if the connection is.
  absl::Status released = conn.Exec(kReleaseMigrationLock);
  return status.ok() ? released : status;
}

}  // namespace

// The channel every committed Write notifies (NOTIFY is delivered at
// commit, to every session listening, this replica's own included).
constexpr char kCommitChannel[] = "liaison_commits";

// Listens on kCommitChannel on a connection of its own, on a thread of its
// own, and calls the callback for each batch of notifications, and after
// every (re)connection since commits may have been missed in between.
class PostgresStore::CommitWatcher {
 public:
  explicit CommitWatcher(PostgresPool& pool)
      : pool_(pool), stop_fd_(eventfd(0, EFD_CLOEXEC)) {}

  ~CommitWatcher() {
    stopping_ = true;
    if (stop_fd_ >= 0) {
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(stop_fd_, &one, sizeof(one));
    }
    if (thread_.joinable()) thread_.join();
    if (stop_fd_ >= 0) close(stop_fd_);
  }

  void Set(std::function<void()> on_commit) ABSL_LOCKS_EXCLUDED(call_mu_) {
    // Held while the callback runs: once this returns, the old one is not
    // running and will not run again.
    absl::MutexLock lock(&call_mu_);
    on_commit_ = std::move(on_commit);
    if (on_commit_ != nullptr && !thread_.joinable() && stop_fd_ >= 0) {
      thread_ = std::thread([this] { Run(); });
      NameThread(thread_, "pg-commits");
    }
  }

 private:
  void Wake() ABSL_LOCKS_EXCLUDED(call_mu_) {
    absl::MutexLock lock(&call_mu_);
    if (on_commit_ != nullptr) on_commit_();
  }

  // Waits until `fd` is readable, `timeout_ms` passed (-1: no limit) or the
  // watcher stops; false once stopping.
  bool WaitFor(int fd, int timeout_ms) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
    return !stopping_;
  }

  void Run() {
    std::string last_error;
    while (!stopping_) {
      absl::Status listening = Listen();
      // Report a failure once, not on every retry.
      const std::string error =
          listening.ok() ? "" : std::string(listening.message());
      if (!error.empty() && error != last_error) {
        std::cerr << "liaisond: not notified of other replicas' commits "
                     "(subscribers re-read on their own timer meanwhile): "
                  << error << "\n";
      }
      last_error = error;
      if (!WaitFor(-1, 1000)) return;  // Retry once a second.
    }
  }

  // Connects, listens, and delivers notifications until the connection
  // breaks (the error) or the watcher stops (OK).
  absl::Status Listen() {
    LIAISON_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn,
                             pool_.Connect());
    LIAISON_RETURN_IF_ERROR(
        conn->Exec(absl::StrCat("LISTEN ", kCommitChannel).c_str()));
    Wake();  // Whatever was committed before this point is in the store.
    const int socket = PQsocket(conn->get());
    while (true) {
      // A quiet minute is checked with a query, so that a connection cut
      // without a word (a partition) is noticed and replaced.
      if (!WaitFor(socket, 60'000)) return absl::OkStatus();
      if (PQconsumeInput(conn->get()) == 0) {
        return absl::UnavailableError(OneLine(PQerrorMessage(conn->get())));
      }
      bool notified = false;
      while (PGnotify* n = PQnotifies(conn->get())) {
        notified = true;
        PQfreemem(n);
      }
      if (notified) {
        Wake();
      } else {
        LIAISON_RETURN_IF_ERROR(conn->Exec("SELECT 1"));
        // Notifications that came with the answer.
        while (PGnotify* n = PQnotifies(conn->get())) {
          notified = true;
          PQfreemem(n);
        }
        if (notified) Wake();
      }
    }
  }

  PostgresPool& pool_;
  const int stop_fd_;
  std::atomic<bool> stopping_{false};
  absl::Mutex call_mu_;
  std::function<void()> on_commit_ ABSL_GUARDED_BY(call_mu_);
  std::thread thread_;
};

PostgresStore::PostgresStore(std::unique_ptr<PostgresPool> pool)
    : pool_(std::move(pool)),
      watcher_(std::make_unique<CommitWatcher>(*pool_)) {}

PostgresStore::~PostgresStore() = default;

void PostgresStore::WatchCommits(std::function<void()> on_commit) {
  watcher_->Set(std::move(on_commit));
}

int PostgresStore::CurrentSchemaVersion() {
  return static_cast<int>(kMigrations.size());
}

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(
    const std::string& url) {
  LIAISON_ASSIGN_OR_RETURN(std::unique_ptr<PostgresPool> pool,
                           PostgresPool::Create(url));
  LIAISON_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, pool->Connect());
  LIAISON_RETURN_IF_ERROR(Migrate(*conn));
  pool->Adopt(PostgresPool::kWrite, std::move(conn));
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(pool)));
}

absl::Status PostgresStore::Write(
    absl::FunctionRef<absl::Status(WriteTransaction&)> fn) {
  LIAISON_ASSIGN_OR_RETURN(Lease lease, BeginWrite(*pool_));
  absl::Status status;
  bool announce = false;
  {
    Transaction txn(*lease);
    status = fn(txn);
    announce = txn.announce();
    // A function that carried on past a failed statement has written
    // nothing since (PostgreSQL aborted the transaction): it must not be
    // reported as stored.
    if (status.ok()) status = txn.failure();
  }
  if (!status.ok()) {
    // The pool rolls back (or closes) a connection handed back in a
    // transaction; doing it here keeps the lock no longer than needed.
    lease->Exec("ROLLBACK").IgnoreError();
    return status;
  }
  // Other replicas' subscribers hear of this commit at once (delivered at
  // commit). Only commits that subscribers care about wake them.
  if (announce) {
    absl::Status notified =
        lease->Exec(absl::StrCat("NOTIFY ", kCommitChannel).c_str());
    if (!notified.ok()) {
      lease->Exec("ROLLBACK").IgnoreError();
      return absl::UnavailableError(absl::StrCat(
          "storage: nothing was stored (", notified.message(), ")"));
    }
  }
  absl::StatusOr<Result> committed = lease->Run(Query("COMMIT"));
  if (!committed.ok()) {
    if (lease->broken()) {
      return OutcomeUnknownError(absl::StrCat(
          "storage: the connection was lost during COMMIT; the write may or "
          "may not have been stored (",
          committed.status().message(), ")"));
    }
    return absl::UnavailableError(
        absl::StrCat("storage: COMMIT failed; nothing was stored (",
                     committed.status().message(), ")"));
  }
  if (committed->command() != "COMMIT") {
    return absl::UnavailableError(
        "storage: PostgreSQL rolled the transaction back; nothing was stored");
  }
  return absl::OkStatus();
}

absl::StatusOr<Party> PostgresStore::GetParty(absl::string_view code) {
  return ReadWith(*pool_, Statements::kOne,
                  [&](Session& db) { return ReadPartyByCode(db, code); });
}

absl::StatusOr<std::vector<Party>> PostgresStore::ListParties() {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<Party>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q, db.Run(Query(absl::StrCat(
                          "SELECT ", kPartyColumns,
                          " FROM parties ORDER BY code COLLATE \"C\""))));
        std::vector<Party> parties;
        for (int i = 0; i < q.rows(); ++i) {
          LIAISON_ASSIGN_OR_RETURN(Party party, ReadParty(q.row(i)));
          parties.push_back(std::move(party));
        }
        return parties;
      });
}

absl::StatusOr<Message> PostgresStore::GetMessage(absl::string_view id) {
  return ReadWith(*pool_, Statements::kSeveral,
                  [&](Session& db) { return GetMessageIn(db, id); });
}

absl::StatusOr<std::vector<Message>> PostgresStore::ListRequests(
    const RequestQuery& query) {
  // Parameters in a fixed order; the conditions name those that apply.
  // Conditions on one recipient row `r` of a request.
  std::string conditions;
  if (query.state.has_value()) {
    absl::StrAppend(&conditions, " AND r.request_state = $3");
  }
  if (query.due_before.has_value()) {
    absl::StrAppend(&conditions,
                    " AND r.request_state IN ('OPEN', 'ACKNOWLEDGED') AND "
                    "r.due_at_us < $4");
  }
  if (!query.case_id.empty()) {
    absl::StrAppend(&conditions,
                    " AND m.id IN (SELECT cm.message_id FROM case_messages "
                    "cm JOIN cases c ON c.seq = cm.case_seq WHERE c.id = $5)");
  }
  const std::string sql =
      query.sent
          ? absl::StrCat("SELECT ", kSummaryColumns,
                         " FROM messages m WHERE m.sender_party = $1 AND "
                         "m.kind = 'REQUEST' AND m.seq < $2 AND EXISTS ("
                         "SELECT 1 FROM recipients r WHERE r.message_seq = "
                         "m.seq",
                         conditions, ") ORDER BY m.seq DESC LIMIT $6")
          : absl::StrCat("SELECT ", kSummaryColumns,
                         " FROM recipients r JOIN messages m ON m.seq = "
                         "r.message_seq WHERE r.party = $1 AND m.kind = "
                         "'REQUEST' AND m.seq < $2",
                         conditions, " ORDER BY m.seq DESC LIMIT $6");
  Query q(sql);
  q.BindText(query.party)
      .BindInt(query.before_seq.value_or(INT64_MAX))
      .BindOptionalText(
          query.state.has_value()
              ? std::optional<absl::string_view>(Name(*query.state))
              : std::nullopt)
      .BindOptionalTime(query.due_before)
      .BindText(query.case_id)
      .BindLimit(query.limit);
  return ReadWith(*pool_, Statements::kSeveral,
                  [&](Session& db) { return QueryMessages(db, q); });
}

absl::StatusOr<std::vector<Message>> PostgresStore::ListInbox(
    absl::string_view party, int limit, std::optional<int64_t> before_seq) {
  Query q(absl::StrCat(
      "SELECT ", kSummaryColumns,
      " FROM recipients r JOIN messages m ON m.seq = r.message_seq "
      "WHERE r.party = $1 AND r.message_seq < $2 "
      "ORDER BY r.message_seq DESC LIMIT $3"));
  q.BindText(party).BindInt(before_seq.value_or(INT64_MAX)).BindLimit(limit);
  return ReadWith(*pool_, Statements::kSeveral,
                  [&](Session& db) { return QueryMessages(db, q); });
}

absl::StatusOr<std::vector<Message>> PostgresStore::ListOutbox(
    absl::string_view party, int limit, std::optional<int64_t> before_seq) {
  Query q(absl::StrCat("SELECT ", kSummaryColumns,
                       " FROM messages m WHERE m.sender_party = $1 AND "
                       "m.seq < $2 ORDER BY m.seq DESC LIMIT $3"));
  q.BindText(party).BindInt(before_seq.value_or(INT64_MAX)).BindLimit(limit);
  return ReadWith(*pool_, Statements::kSeveral,
                  [&](Session& db) { return QueryMessages(db, q); });
}

absl::StatusOr<std::vector<Consent>> PostgresStore::ListConsents(
    absl::string_view party) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<Consent>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query(absl::StrCat("SELECT ", kConsentColumns,
                                      " FROM consents WHERE owner_party = $1 "
                                      "OR requester_party = $1 ORDER BY seq "
                                      "DESC"))
                       .BindText(party)));
        std::vector<Consent> consents;
        for (int i = 0; i < q.rows(); ++i) {
          LIAISON_ASSIGN_OR_RETURN(Consent c, ReadConsent(q.row(i)));
          consents.push_back(std::move(c));
        }
        return consents;
      });
}

absl::StatusOr<AttachmentInfo> PostgresStore::GetAttachment(
    absl::string_view id) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<AttachmentInfo> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query(absl::StrCat("SELECT ", kAttachmentColumns,
                                      " FROM attachments WHERE id = $1"))
                       .BindText(id)));
        if (q.rows() == 0) {
          return absl::NotFoundError(
              absl::StrCat("attachment ", id, " not found"));
        }
        return ReadAttachment(q.row(0));
      });
}

absl::StatusOr<std::vector<AttachmentInfo>> PostgresStore::ListAttachments(
    absl::string_view message_id) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<AttachmentInfo>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query(absl::StrCat("SELECT ", kAttachmentColumns,
                                      " FROM attachments WHERE message_id = "
                                      "$1 ORDER BY uploaded_at_us, id "
                                      "COLLATE \"C\""))
                       .BindText(message_id)));
        std::vector<AttachmentInfo> attachments;
        for (int i = 0; i < q.rows(); ++i) {
          attachments.push_back(ReadAttachment(q.row(i)));
        }
        return attachments;
      });
}

absl::StatusOr<std::optional<std::string>> PostgresStore::ReadAttachmentChunk(
    absl::string_view id, int64_t index) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::optional<std::string>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q, db.Run(Query("SELECT data FROM attachment_chunks WHERE "
                                   "attachment_id = $1 AND idx = $2")
                                 .BindText(id)
                                 .BindInt(index)));
        if (q.rows() == 0) return std::nullopt;
        return q.row(0).Blob(0);
      });
}

absl::StatusOr<std::vector<Event>> PostgresStore::ReadEvents(
    absl::string_view party, int64_t after_seq, int limit) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<Event>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT seq, party, kind, message_id, detail, "
                         "time_us FROM events WHERE party = $1 AND seq > $2 "
                         "ORDER BY seq LIMIT $3")
                       .BindText(party)
                       .BindInt(after_seq)
                       .BindLimit(limit)));
        std::vector<Event> events;
        for (int i = 0; i < q.rows(); ++i) {
          const Row row = q.row(i);
          events.push_back(Event{row.Int(0), row.Text(1), row.Text(2),
                                 row.Text(3), row.Text(4), row.Time(5)});
        }
        return events;
      });
}

absl::StatusOr<int64_t> PostgresStore::CountEvents(absl::string_view party,
                                                   int64_t after_seq,
                                                   int64_t cap) {
  return ReadWith(
      *pool_, Statements::kOne, [&](Session& db) -> absl::StatusOr<int64_t> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE "
                         "party = $1 AND seq > $2 LIMIT $3) AS capped")
                       .BindText(party)
                       .BindInt(after_seq)
                       .BindLimit(cap)));
        return q.rows() > 0 ? q.row(0).Int(0) : 0;
      });
}

absl::StatusOr<int64_t> PostgresStore::LastEventSeq(absl::string_view party) {
  return ReadWith(
      *pool_, Statements::kOne, [&](Session& db) -> absl::StatusOr<int64_t> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT COALESCE(MAX(seq), 0) FROM events WHERE "
                         "party = $1")
                       .BindText(party)));
        return q.rows() > 0 ? q.row(0).Int(0) : 0;
      });
}

absl::StatusOr<std::vector<RequestRow>> PostgresStore::ListRequestRows(
    absl::Time from, absl::Time to, absl::string_view party) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<RequestRow>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT m.sender_party, r.party, m.priority, "
                         "r.request_state, r.refusal_reason, r.due_at_us, "
                         "m.created_at_us FROM recipients r JOIN messages m "
                         "ON m.seq = r.message_seq WHERE m.kind = 'REQUEST' "
                         "AND r.request_state IS NOT NULL AND "
                         "m.created_at_us >= $1 AND m.created_at_us < $2 AND "
                         "($3 = '' OR m.sender_party = $3 OR r.party = $3) "
                         "ORDER BY m.seq, r.position")
                       .BindTime(from)
                       .BindTime(to)
                       .BindText(party)));
        std::vector<RequestRow> rows;
        for (int i = 0; i < q.rows(); ++i) {
          const Row row = q.row(i);
          RequestRow out;
          out.sender = row.Text(0);
          out.recipient = row.Text(1);
          LIAISON_ASSIGN_OR_RETURN(
              out.priority,
              Decode(ParsePriority(row.Text(2)), "priority", row.Text(2)));
          LIAISON_ASSIGN_OR_RETURN(
              out.state, Decode(ParseRequestState(row.Text(3)), "request state",
                                row.Text(3)));
          if (!row.IsNull(4)) {
            LIAISON_ASSIGN_OR_RETURN(out.refusal_reason,
                                     Decode(ParseRefusalReason(row.Text(4)),
                                            "refusal reason", row.Text(4)));
          }
          out.due_at = row.OptionalTime(5);
          out.sent_at = row.Time(6);
          rows.push_back(std::move(out));
        }
        return rows;
      });
}

absl::StatusOr<std::pair<int64_t, int64_t>> PostgresStore::CountCases(
    absl::Time from, absl::Time to, absl::string_view party) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::pair<int64_t, int64_t>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT COUNT(*) FILTER (WHERE opened_at_us >= $1 "
                         "AND opened_at_us < $2), COUNT(*) FILTER (WHERE "
                         "closed_at_us >= $1 AND closed_at_us < $2) FROM "
                         "cases c WHERE $3 = '' OR c.owner_party = $3 OR "
                         "EXISTS (SELECT 1 FROM case_participants p WHERE "
                         "p.case_seq = c.seq AND p.party = $3)")
                       .BindTime(from)
                       .BindTime(to)
                       .BindText(party)));
        if (q.rows() == 0) return std::make_pair(int64_t{0}, int64_t{0});
        return std::make_pair(q.row(0).Int(0), q.row(0).Int(1));
      });
}

absl::StatusOr<Case> PostgresStore::GetCase(absl::string_view id) {
  return ReadWith(*pool_, Statements::kSeveral,
                  [&](Session& db) { return GetCaseIn(db, id); });
}

absl::StatusOr<std::vector<Case>> PostgresStore::ListCases(
    absl::string_view party) {
  return ReadWith(
      *pool_, Statements::kSeveral,
      [&](Session& db) -> absl::StatusOr<std::vector<Case>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT id FROM cases c WHERE c.owner_party = $1 OR "
                         "EXISTS (SELECT 1 FROM case_participants p WHERE "
                         "p.case_seq = c.seq AND p.party = $1 AND "
                         "p.removed_at_us IS NULL) ORDER BY c.seq DESC")
                       .BindText(party)));
        std::vector<Case> cases;
        for (int i = 0; i < q.rows(); ++i) {
          LIAISON_ASSIGN_OR_RETURN(Case c, GetCaseIn(db, q.row(i).Text(0)));
          cases.push_back(std::move(c));
        }
        return cases;
      });
}

absl::StatusOr<std::vector<std::string>> PostgresStore::CaseReaders(
    absl::string_view message_id) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<std::string>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT party FROM (SELECT c.owner_party AS party "
                         "FROM case_messages m JOIN cases c ON c.seq = "
                         "m.case_seq WHERE m.message_id = $1 UNION SELECT "
                         "p.party FROM case_messages m JOIN "
                         "case_participants p ON p.case_seq = m.case_seq "
                         "WHERE m.message_id = $1 AND p.removed_at_us IS "
                         "NULL) AS readers ORDER BY party COLLATE \"C\"")
                       .BindText(message_id)));
        std::vector<std::string> parties;
        for (int i = 0; i < q.rows(); ++i) {
          parties.push_back(q.row(i).Text(0));
        }
        return parties;
      });
}

absl::StatusOr<std::vector<Message>> PostgresStore::CaseThread(
    absl::string_view case_id) {
  Query q(absl::StrCat("SELECT ", kSummaryColumns,
                       " FROM case_messages cm JOIN cases c ON c.seq = "
                       "cm.case_seq JOIN messages m ON m.id = cm.message_id "
                       "WHERE c.id = $1 ORDER BY cm.attached_at_us, cm.seq"));
  q.BindText(case_id);
  return ReadWith(*pool_, Statements::kSeveral,
                  [&](Session& db) { return QueryMessages(db, q); });
}

absl::StatusOr<std::vector<PartyChange>> PostgresStore::ListPartyChanges(
    absl::string_view code) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<PartyChange>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT code, time_us, changed_by, change, "
                         "from_value, to_value, reason FROM party_changes "
                         "WHERE code = $1 ORDER BY seq")
                       .BindText(code)));
        std::vector<PartyChange> changes;
        for (int i = 0; i < q.rows(); ++i) {
          const Row row = q.row(i);
          changes.push_back(PartyChange{row.Text(0), row.Time(1), row.Text(2),
                                        row.Text(3), row.Text(4), row.Text(5),
                                        row.Text(6)});
        }
        return changes;
      });
}

absl::StatusOr<std::optional<Revocation>> PostgresStore::FindRevocation(
    absl::string_view serial, absl::string_view user) {
  return ReadWith(*pool_, Statements::kOne, [&](Session& db) {
    return FindRevocationIn(db, serial, user);
  });
}

absl::StatusOr<std::vector<Revocation>> PostgresStore::ListRevocations() {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<Revocation>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query(absl::StrCat("SELECT ", kRevocationColumns,
                                      " FROM revocations ORDER BY seq"))));
        std::vector<Revocation> revocations;
        for (int i = 0; i < q.rows(); ++i) {
          revocations.push_back(ReadRevocation(q.row(i)));
        }
        return revocations;
      });
}

absl::StatusOr<std::vector<AuditEntry>> PostgresStore::ReadAudit(
    int64_t from_seq, int limit) {
  AuditQuery query;
  query.from_seq = from_seq;
  query.limit = limit;
  return ReadAudit(query);
}

absl::StatusOr<std::vector<AuditEntry>> PostgresStore::ReadAudit(
    const AuditQuery& query) {
  std::string sql =
      "SELECT a.seq, a.time_us, a.principal, a.party, a.role, a.user_id, "
      "a.action, a.resources, a.outcome, a.code, a.reason FROM audit_log a ";
  if (!query.resource.empty()) {
    sql += "JOIN audit_resources r ON r.seq = a.seq AND r.resource = $1 ";
  }
  sql += "WHERE a.seq >= $2 AND ($3 = 0 OR a.seq <= $3) ";
  if (!query.party.empty()) sql += "AND a.party = $4 ";
  sql += "ORDER BY a.seq LIMIT $5";
  // Parameters in a fixed order; the SQL names those that apply.
  Query q(sql);
  q.BindText(query.resource)
      .BindInt(query.from_seq)
      .BindInt(query.to_seq)
      .BindText(query.party)
      .BindLimit(query.limit);
  return ReadWith(*pool_, Statements::kOne,
                  [&](Session& db) -> absl::StatusOr<std::vector<AuditEntry>> {
                    LIAISON_ASSIGN_OR_RETURN(Result rows, db.Run(q));
                    return ReadAuditRows(rows);
                  });
}

absl::StatusOr<int64_t> PostgresStore::AuditSize() {
  return ReadWith(*pool_, Statements::kOne,
                  [&](Session& db) { return AuditSizeIn(db); });
}

absl::StatusOr<std::string> PostgresStore::ReadAuditNode(int level,
                                                         int64_t index) {
  return ReadWith(*pool_, Statements::kOne,
                  [&](Session& db) { return AuditNodeIn(db, level, index); });
}

absl::StatusOr<std::vector<std::string>> PostgresStore::ReadAuditLeafHashes(
    int64_t from_seq, int limit) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<std::string>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query("SELECT hash FROM audit_tree WHERE level = 0 AND "
                         "idx >= $1 ORDER BY idx LIMIT $2")
                       .BindInt(from_seq - 1)
                       .BindLimit(limit)));
        std::vector<std::string> hashes;
        for (int i = 0; i < q.rows(); ++i) hashes.push_back(q.row(i).Blob(0));
        return hashes;
      });
}

absl::StatusOr<std::optional<AuditCheckpoint>>
PostgresStore::LatestCheckpoint() {
  return ReadWith(*pool_, Statements::kOne,
                  [&](Session& db) { return LatestCheckpointIn(db); });
}

absl::StatusOr<std::vector<AuditCheckpoint>> PostgresStore::ListCheckpoints(
    int64_t max_size) {
  return ReadWith(
      *pool_, Statements::kOne,
      [&](Session& db) -> absl::StatusOr<std::vector<AuditCheckpoint>> {
        LIAISON_ASSIGN_OR_RETURN(
            Result q,
            db.Run(Query(absl::StrCat("SELECT ", kCheckpointColumns,
                                      " FROM audit_checkpoints WHERE "
                                      "tree_size <= $1 ORDER BY tree_size"))
                       .BindInt(max_size)));
        std::vector<AuditCheckpoint> checkpoints;
        for (int i = 0; i < q.rows(); ++i) {
          checkpoints.push_back(ReadCheckpoint(q.row(i)));
        }
        return checkpoints;
      });
}

}  // namespace liaison

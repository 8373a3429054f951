#include "store/postgres/postgres_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "domain/audit_log.h"
#include "domain/merkle.h"
#include "store/open_store.h"
#include "tests/store/store_conformance.h"
#include "tests/testing/postgres_server.h"

namespace liaison::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// One throwaway server for the whole process (ctest runs each test in a
// process of its own, each with its own server on its own port).
PostgresServer* server = nullptr;
absl::Status server_status = absl::UnknownError("server not started");

class PostgresEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PostgresServer>> started =
        PostgresServer::Start();
    server_status = started.status();
    // Missing binaries are a broken setup, not a reason to skip.
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started).value();
    server = server_.get();
  }
  void TearDown() override {
    server = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<PostgresServer> server_;
};

const ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

// A fresh database per harness; Open connects to it again each time.
class PostgresHarness final : public StoreHarness {
 public:
  PostgresHarness() {
    if (server == nullptr) {
      ADD_FAILURE() << "no PostgreSQL server: " << server_status;
      return;
    }
    absl::StatusOr<std::string> database = server->CreateDatabase();
    EXPECT_TRUE(database.ok()) << database.status();
    if (database.ok()) url_ = server->Url(*database);
  }

  std::unique_ptr<Store> Open() override {
    if (url_.empty()) return nullptr;
    absl::StatusOr<std::unique_ptr<PostgresStore>> store =
        PostgresStore::Open(url_);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  }

 private:
  std::string url_;
};

std::unique_ptr<StoreHarness> MakePostgresHarness() {
  return std::make_unique<PostgresHarness>();
}

std::string HarnessName(
    const ::testing::TestParamInfo<StoreHarnessFactory>& /*info*/) {
  return "Server";
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest,
                         ::testing::Values(&MakePostgresHarness), HarnessName);
INSTANTIATE_TEST_SUITE_P(Postgres, StoreWithParties,
                         ::testing::Values(&MakePostgresHarness), HarnessName);

// A database of its own for one test.
class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(server, nullptr) << server_status;
    absl::StatusOr<std::string> database = server->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *database;
    url_ = server->Url(database_);
  }

  std::unique_ptr<PostgresStore> Open() {
    absl::StatusOr<std::unique_ptr<PostgresStore>> store =
        PostgresStore::Open(url_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs SQL on a connection of its own, as an operator (or intruder)
  // would.
  absl::StatusOr<std::vector<std::vector<std::string>>> Sql(
      const std::string& sql) {
    return server->Query(database_, sql);
  }

  std::string database_;
  std::string url_;
};

Party MakeParty(const std::string& code) {
  Party p;
  p.code = code;
  p.name = "Party " + code;
  return p;
}

absl::Status AddParties(Store& store, std::vector<std::string> codes) {
  return store.Write([&](WriteTransaction& txn) -> absl::Status {
    for (const std::string& code : codes) {
      absl::Status s = txn.InsertParty(MakeParty(code));
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

Message MakeMessage(const std::string& id, const std::string& key) {
  Message m;
  m.id = id;
  m.idempotency_key = key;
  m.content_digest = std::string(32, '\0');
  m.sender_party = "RO";
  m.sender_user = "ion";
  m.kind = MessageKind::kRequest;
  m.subject = "s";
  m.body = "b";
  m.created_at = absl::FromUnixSeconds(1790000000);
  Recipient r;
  r.party = "HU";
  r.request_state = RequestState::kOpen;
  m.recipients.push_back(r);
  return m;
}

AuditEntry MakeEntry(const std::string& resource) {
  AuditEntry e;
  e.time = absl::FromUnixSeconds(1790000000);
  e.party = "RO";
  e.action = "Exchange.SendMessage";
  e.resources = {resource};
  return e;
}

std::vector<std::string> Versions(
    const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> versions;
  for (const std::vector<std::string>& row : rows) versions.push_back(row[0]);
  return versions;
}

std::vector<std::string> AllVersions() {
  std::vector<std::string> versions;
  for (int v = 1; v <= PostgresStore::CurrentSchemaVersion(); ++v) {
    versions.push_back(absl::StrCat(v));
  }
  return versions;
}

TEST_F(PostgresStoreTest, OpenStoreTakesBothSchemes) {
  for (const std::string scheme : {"postgresql://", "postgres://"}) {
    SCOPED_TRACE(scheme);
    absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(absl::StrCat(
        scheme, "liaison@127.0.0.1:", server->port(), "/", database_));
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->ListParties().ok());
  }
  absl::StatusOr<std::unique_ptr<Store>> other =
      OpenStore("mysql://liaison:s3cret-pw@127.0.0.1/db");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("sqlite:PATH"));
  EXPECT_THAT(other.status().message(), HasSubstr("postgresql://"));
  EXPECT_THAT(other.status().message(), Not(HasSubstr("s3cret-pw")));
}

// Replicas that start together on a new database: one migrates, the others
// wait for it and find the schema current.
TEST_F(PostgresStoreTest, ReplicasStartingTogetherMigrateOnce) {
  constexpr int kReplicas = 4;
  absl::Notification go;
  std::vector<absl::Status> opened(kReplicas);
  std::vector<std::unique_ptr<PostgresStore>> stores(kReplicas);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas; ++i) {
    threads.emplace_back([&, i] {
      go.WaitForNotification();
      absl::StatusOr<std::unique_ptr<PostgresStore>> store =
          PostgresStore::Open(url_);
      opened[i] = store.status();
      if (store.ok()) stores[i] = std::move(store).value();
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kReplicas; ++i) {
    EXPECT_TRUE(opened[i].ok()) << "replica " << i << ": " << opened[i];
  }
  absl::StatusOr<std::vector<std::vector<std::string>>> rows =
      Sql("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Versions(*rows), AllVersions());
  // They share one database.
  ASSERT_NE(stores[0], nullptr);
  ASSERT_NE(stores[kReplicas - 1], nullptr);
  ASSERT_TRUE(AddParties(*stores[0], {"RO"}).ok());
  EXPECT_EQ(stores[kReplicas - 1]->ListParties()->size(), 1u);
}

TEST_F(PostgresStoreTest, ReopeningKeepsTheSchemaVersion) {
  Open().reset();
  Open().reset();
  absl::StatusOr<std::vector<std::vector<std::string>>> rows =
      Sql("SELECT version FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(Versions(*rows), AllVersions());
}

TEST_F(PostgresStoreTest, RefusesADatabaseFromANewerVersion) {
  Open().reset();
  ASSERT_TRUE(Sql("INSERT INTO schema_migrations (version) VALUES (99)").ok());
  absl::StatusOr<std::unique_ptr<PostgresStore>> store =
      PostgresStore::Open(url_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
}

TEST_F(PostgresStoreTest, UnreachableOrMissingDatabaseIsUnavailable) {
  absl::StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(
      absl::StrCat("postgresql://liaison:s3cret-pw@",
                   "127.0.0.1:", server->port(), "/no_such_db"));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), HasSubstr("no_such_db"));
  EXPECT_THAT(store.status().message(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(store.status().message(), Not(HasSubstr("s3cret-pw")));

  // Nothing listens on port 1.
  absl::StatusOr<std::unique_ptr<Store>> unreachable = OpenStore(
      "postgresql://liaison:s3cret-pw@127.0.0.1:1/liaison?connect_timeout=5");
  EXPECT_EQ(unreachable.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(unreachable.status().message(), HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(unreachable.status().message(), Not(HasSubstr("s3cret-pw")));

  // libpq's own parse errors would quote the password: not repeated.
  absl::StatusOr<std::unique_ptr<Store>> malformed =
      OpenStore("postgresql://liaison:s3cret%zz@127.0.0.1/liaison");
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(malformed.status().message(), Not(HasSubstr("s3cret")));
}

TEST_F(PostgresStoreTest, AuditRowsCannotBeChangedOrRemoved) {
  {
    std::unique_ptr<PostgresStore> store = Open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store
                    ->Write([](WriteTransaction& txn) -> absl::Status {
                      for (const char* r : {"M1", "M2", "M3"}) {
                        absl::StatusOr<int64_t> seq =
                            StoreAuditLog().Append(txn, MakeEntry(r));
                        if (!seq.ok()) return seq.status();
                      }
                      AuditCheckpoint c;
                      c.tree_size = 3;
                      c.root_hash = std::string(32, 'r');
                      c.note = "note";
                      return txn.InsertCheckpoint(c);
                    })
                    .ok());
  }
  for (const char* sql : {
           "UPDATE audit_log SET reason = 'forged' WHERE seq = 1",
           "DELETE FROM audit_log",
           "TRUNCATE audit_log CASCADE",
           "INSERT INTO audit_log (seq, time_us, principal, party, role, "
           "user_id, action, resources, outcome, code, reason, leaf) VALUES "
           "(1, 0, '', '', '', '', 'forged', '', 'ALLOWED', 0, '', '') ON "
           "CONFLICT (seq) DO UPDATE SET action = 'forged'",
           "UPDATE audit_tree SET hash = '\\x00' WHERE level = 0",
           "DELETE FROM audit_tree",
           "TRUNCATE audit_tree",
           "UPDATE audit_checkpoints SET note = 'x'",
           "DELETE FROM audit_checkpoints",
           "TRUNCATE audit_checkpoints",
           "UPDATE audit_resources SET seq = 9",
           "DELETE FROM audit_resources",
           "TRUNCATE audit_resources",
       }) {
    SCOPED_TRACE(sql);
    absl::StatusOr<std::vector<std::vector<std::string>>> result = Sql(sql);
    EXPECT_FALSE(result.ok());
    EXPECT_THAT(result.status().message(), HasSubstr("append-only"));
  }
  std::unique_ptr<PostgresStore> store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<AuditEntry>> entries = store->ReadAudit(1, 10);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].action, "Exchange.SendMessage");
}

// Two replicas writing at once, each from several threads: the writes are
// serialised across both, so the audit log stays one dense log whose tree
// matches it, and an idempotency key that every writer tries first is
// stored once (the others find it, as a retried send would).
TEST_F(PostgresStoreTest, ReplicasWritingTogetherKeepOneLog) {
  std::unique_ptr<PostgresStore> a = Open();
  std::unique_ptr<PostgresStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(AddParties(*a, {"RO", "HU"}).ok());

  constexpr int kThreadsPerReplica = 4;
  constexpr int kWritesPerThread = 15;
  absl::Notification go;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerReplica; ++t) {
    PostgresStore* store = t % 2 == 0 ? a.get() : b.get();
    threads.emplace_back([&go, store, t] {
      go.WaitForNotification();
      for (int i = 0; i < kWritesPerThread; ++i) {
        const std::string key =
            i == 0 ? "shared" : absl::StrCat("k", t, "-", i);
        const Message m = MakeMessage(
            absl::StrCat("01M", t, "-", i, std::string(18, '0')), key);
        absl::Status written = store->Write([&](WriteTransaction& txn)
                                                -> absl::Status {
          absl::StatusOr<std::optional<Message>> found =
              txn.FindByIdempotencyKey("RO", key);
          if (!found.ok()) return found.status();
          if (!found->has_value()) {
            absl::Status s = txn.InsertMessage(m);
            if (!s.ok()) return s;
            s = txn.AppendEvent({0, "HU", "MESSAGE", m.id, "", m.created_at});
            if (!s.ok()) return s;
          }
          return StoreAuditLog().Append(txn, MakeEntry(m.id)).status();
        });
        EXPECT_TRUE(written.ok()) << written;
      }
    });
  }
  go.Notify();
  for (std::thread& thread : threads) thread.join();

  constexpr int kWrites = 2 * kThreadsPerReplica * kWritesPerThread;
  EXPECT_EQ(*a->AuditSize(), kWrites);
  absl::StatusOr<std::vector<AuditEntry>> entries = b->ReadAudit(1, 1000);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), static_cast<size_t>(kWrites));
  std::vector<std::string> leaves;
  for (size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].seq, static_cast<int64_t>(i + 1));
    leaves.push_back(merkle::LeafHash(EncodeAuditLeaf((*entries)[i])));
  }
  EXPECT_EQ(*a->ReadAuditLeafHashes(1, 1000), leaves);
  absl::StatusOr<std::string> root =
      merkle::RootHash(kWrites, [&](int level, uint64_t index) {
        return b->ReadAuditNode(level, static_cast<int64_t>(index));
      });
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root, merkle::RootHash(leaves));

  // One message per key: the shared one once.
  constexpr int kMessages = 2 * kThreadsPerReplica * (kWritesPerThread - 1) + 1;
  EXPECT_EQ(a->ListOutbox("RO", 1000, std::nullopt)->size(),
            static_cast<size_t>(kMessages));
  // HU was told of each message once.
  absl::StatusOr<std::vector<Event>> events = b->ReadEvents("HU", 0, 1000);
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(events->size(), static_cast<size_t>(kMessages));
}

// A refused insert (a taken key) leaves the rest of its transaction
// standing, as in SQLite; any other failed statement ends it: later
// statements fail instead of running, and nothing of it is stored even if
// the function carries on and returns OK.
// A replica's subscribers hear of another replica's commits through
// LISTEN/NOTIFY, not only on their own timer.
TEST_F(PostgresStoreTest, CommitsOfAnotherStoreAreAnnounced) {
  std::unique_ptr<PostgresStore> a = Open();
  std::unique_ptr<PostgresStore> b = Open();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  absl::Mutex mu;
  int calls = 0;
  a->WatchCommits([&] {
    absl::MutexLock lock(&mu);
    ++calls;
  });
  auto calls_reach = [&](int n) {
    absl::MutexLock lock(&mu);
    auto reached = [&]()
                       ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return calls >= n; };
    // Only against a hang: the call comes within milliseconds.
    return mu.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(60));
  };
  // Once listening, a first call: commits before it may have been missed.
  ASSERT_TRUE(calls_reach(1));
  int before;
  {
    absl::MutexLock lock(&mu);
    before = calls;
  }
  ASSERT_TRUE(AddParties(*b, {"RO"}).ok());
  EXPECT_TRUE(calls_reach(before + 1)) << "no call after b's commit";

  // A write that fails announces nothing, and after nullptr no call comes.
  a->WatchCommits(nullptr);
  {
    absl::MutexLock lock(&mu);
    before = calls;
  }
  EXPECT_FALSE(b->Write([](WriteTransaction&) {
                  return absl::AbortedError("no");
                }).ok());
  ASSERT_TRUE(AddParties(*b, {"HU"}).ok());
  absl::SleepFor(absl::Milliseconds(300));
  absl::MutexLock lock(&mu);
  EXPECT_EQ(calls, before);
}

TEST_F(PostgresStoreTest, OnlyARefusedInsertLeavesTheTransactionUsable) {
  std::unique_ptr<PostgresStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(AddParties(*store, {"RO"}).ok());
  ASSERT_TRUE(store
                  ->Write([](WriteTransaction& txn) -> absl::Status {
                    EXPECT_EQ(txn.InsertParty(MakeParty("RO")).code(),
                              absl::StatusCode::kAlreadyExists);
                    return txn.InsertParty(MakeParty("HU"));
                  })
                  .ok());
  EXPECT_TRUE(store->GetParty("HU").ok());

  Message from_unknown = MakeMessage("01MUNKNOWNSENDER0000000000", "k");
  from_unknown.sender_party = "ZZ";  // not registered: foreign key
  absl::Status status = store->Write([&](WriteTransaction& txn) {
    EXPECT_EQ(txn.InsertMessage(from_unknown).code(),
              absl::StatusCode::kFailedPrecondition);
    absl::Status later = txn.InsertParty(MakeParty("BG"));
    EXPECT_EQ(later.code(), absl::StatusCode::kInternal);
    EXPECT_THAT(later.message(), HasSubstr("not run"));
    return absl::OkStatus();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->GetParty("BG").status().code(), absl::StatusCode::kNotFound);
  // The connection is fine for the next write.
  EXPECT_TRUE(AddParties(*store, {"BG"}).ok());
}

TEST_F(PostgresStoreTest, TextPostgresCannotHoldIsInvalid) {
  std::unique_ptr<PostgresStore> store = Open();
  ASSERT_NE(store, nullptr);
  Party nul = MakeParty("NU");
  nul.name = std::string("a\0b", 3);
  absl::Status status =
      store->Write([&](WriteTransaction& txn) { return txn.InsertParty(nul); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(store->GetParty("NU").status().code(), absl::StatusCode::kNotFound);
}

// Connections the server ends (a restart, a failover, an operator) are
// replaced: a read or a write that had not begun yet runs on a new one; a
// write cut off mid-transaction fails UNAVAILABLE and stores nothing.
TEST_F(PostgresStoreTest, BrokenConnectionsAreReplaced) {
  std::unique_ptr<PostgresStore> store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(AddParties(*store, {"RO"}).ok());
  ASSERT_TRUE(store->GetParty("RO").ok());  // A read connection too.
  const std::string terminate = absl::StrCat(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE "
      "datname = '",
      database_, "' AND pid <> pg_backend_pid()");
  absl::StatusOr<std::vector<std::vector<std::string>>> ended = Sql(terminate);
  ASSERT_TRUE(ended.ok()) << ended.status();
  // The write connection and the read connection.
  EXPECT_EQ(ended->size(), 2u);
  EXPECT_TRUE(store->GetParty("RO").ok());
  EXPECT_TRUE(AddParties(*store, {"HU"}).ok());

  absl::Status cut = store->Write([&](WriteTransaction& txn) -> absl::Status {
    absl::Status s = txn.InsertParty(MakeParty("BG"));
    if (!s.ok()) return s;
    absl::StatusOr<std::vector<std::vector<std::string>>> cut_off =
        Sql(terminate);
    EXPECT_TRUE(cut_off.ok() && !cut_off->empty()) << cut_off.status();
    return txn.InsertParty(MakeParty("XOB"));
  });
  EXPECT_EQ(cut.code(), absl::StatusCode::kUnavailable) << cut;
  EXPECT_EQ(store->GetParty("BG").status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(AddParties(*store, {"BG"}).ok());
  EXPECT_EQ(store->ListParties()->size(), 3u);
}

}  // namespace
}  // namespace liaison::testing

#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <limits>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "domain/audit_log.h"
#include "domain/merkle.h"
#include "tests/store/store_conformance.h"
#include "tests/testing/held_commit.h"
#include "tests/testing/temp_dir.h"

namespace liaison::testing {
namespace {

using ::testing::HasSubstr;

class SqliteHarness final : public StoreHarness {
 public:
  std::unique_ptr<Store> Open() override {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(path());
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  }
  std::string path() const { return dir_.File("liaison.db"); }

 private:
  TempDir dir_;
};

std::unique_ptr<StoreHarness> MakeSqliteHarness() {
  return std::make_unique<SqliteHarness>();
}

// Named, so that test names do not depend on the factory's address.
std::string HarnessName(
    const ::testing::TestParamInfo<StoreHarnessFactory>& /*info*/) {
  return "File";
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
                         ::testing::Values(&MakeSqliteHarness), HarnessName);
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreWithParties,
                         ::testing::Values(&MakeSqliteHarness), HarnessName);

// Runs SQL on a raw connection to the same file, as an intruder would.
int RawExec(const std::string& path, const std::string& sql,
            std::string* error) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  if (message != nullptr) {
    *error = message;
    sqlite3_free(message);
  }
  sqlite3_close(db);
  return rc;
}

// The first column of the first row of `sql` on a raw connection; -1 if
// none.
int64_t RawCount(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  int64_t count = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    count = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

TEST(SqliteStoreTest, AuditRowsCannotBeUpdatedOrDeleted) {
  SqliteHarness harness;
  {
    std::unique_ptr<Store> store = harness.Open();
    AuditEntry e;
    e.action = "Exchange.WhoAmI";
    e.reason = "original";
    ASSERT_TRUE(store
                    ->Write([&](WriteTransaction& txn) {
                      return StoreAuditLog().Append(txn, e).status();
                    })
                    .ok());
  }
  std::string error;
  EXPECT_NE(
      RawExec(harness.path(),
              "UPDATE audit_log SET reason = 'forged' WHERE seq = 1", &error),
      SQLITE_OK);
  EXPECT_THAT(error, HasSubstr("append-only"));
  EXPECT_NE(RawExec(harness.path(), "DELETE FROM audit_log", &error),
            SQLITE_OK);
  EXPECT_THAT(error, HasSubstr("append-only"));

  std::unique_ptr<Store> store = harness.Open();
  absl::StatusOr<std::vector<AuditEntry>> entries = store->ReadAudit(1, 10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].reason, "original");
}

std::string StoredRoot(Store& store) {
  absl::StatusOr<std::string> root =
      merkle::RootHash(*store.AuditSize(), [&](int level, uint64_t index) {
        return store.ReadAuditNode(level, static_cast<int64_t>(index));
      });
  EXPECT_TRUE(root.ok()) << root.status();
  return root.ok() ? *root : "";
}

absl::Status AppendEntries(Store& store, int count) {
  return store.Write([&](WriteTransaction& txn) -> absl::Status {
    for (int i = 0; i < count; ++i) {
      AuditEntry e;
      e.action = "Exchange.WhoAmI";
      e.reason = absl::StrCat("call ", i);
      e.resources = {absl::StrCat("M", i)};
      absl::StatusOr<int64_t> seq = StoreAuditLog().Append(txn, e);
      if (!seq.ok()) return seq.status();
    }
    return absl::OkStatus();
  });
}

TEST(SqliteStoreTest, TreeAndCheckpointRowsCannotBeUpdatedOrDeleted) {
  SqliteHarness harness;
  {
    std::unique_ptr<Store> store = harness.Open();
    ASSERT_TRUE(AppendEntries(*store, 3).ok());
    AuditCheckpoint c;
    c.tree_size = 3;
    c.root_hash = StoredRoot(*store);
    c.note = "note";
    ASSERT_TRUE(store
                    ->Write([&](WriteTransaction& txn) {
                      return txn.InsertCheckpoint(c);
                    })
                    .ok());
  }
  for (const char* sql : {
           "UPDATE audit_tree SET hash = x'00' WHERE level = 0 AND idx = 0",
           "DELETE FROM audit_tree",
           "UPDATE audit_checkpoints SET note = 'x'",
           "DELETE FROM audit_checkpoints",
           "DELETE FROM audit_resources",
           "UPDATE audit_resources SET seq = 9",
           // REPLACE deletes the old row without firing DELETE triggers.
           "INSERT OR REPLACE INTO audit_log (seq, time_us, principal, party, "
           "role, user_id, action, resources, outcome, code, reason, leaf) "
           "VALUES (1, 0, '', '', '', '', 'forged', '', 'ALLOWED', 0, '', x'')",
           "INSERT OR REPLACE INTO audit_tree (pos, level, idx, hash) "
           "VALUES (0, 0, 0, x'00')",
           // Nodes are added only at the next position (the tree of three
           // leaves has positions 0..3): none skipped, none without one.
           "INSERT INTO audit_tree (pos, level, idx, hash) "
           "VALUES (5, 1, 1, x'00')",
           "INSERT INTO audit_tree (level, idx, hash) VALUES (0, 3, x'00')",
           // The next position, but not as the node that comes next (leaf 3).
           "INSERT INTO audit_tree (pos, level, idx, hash) "
           "VALUES (4, 1, 1, x'00')",
           "INSERT INTO audit_tree (pos, level, idx, hash) "
           "VALUES (4, 0, 4, x'00')",
           "INSERT OR REPLACE INTO audit_checkpoints (tree_size, root, note, "
           "signed_at_us) VALUES (3, x'00', 'forged', 0)",
       }) {
    SCOPED_TRACE(sql);
    std::string error;
    EXPECT_NE(RawExec(harness.path(), sql, &error), SQLITE_OK);
    EXPECT_THAT(error, HasSubstr("append-only"));
  }
}

TEST(SqliteStoreTest, UpgradeBuildsTheTreeOverAnOlderLog) {
  SqliteHarness harness;
  std::string root;
  {
    std::unique_ptr<Store> store = harness.Open();
    ASSERT_TRUE(AppendEntries(*store, 13).ok());
    root = StoredRoot(*store);
  }
  // Take the database back to version 7: the log without its tree.
  std::string error;
  ASSERT_EQ(RawExec(harness.path(),
                    "DROP TABLE audit_tree; DROP TABLE audit_checkpoints; "
                    "DROP TABLE audit_resources; DROP INDEX audit_log_party; "
                    "DROP TRIGGER audit_log_no_replace; "
                    "UPDATE schema_version SET version = 7",
                    &error),
            SQLITE_OK)
      << error;
  std::unique_ptr<Store> store = harness.Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(StoredRoot(*store), root);
  EXPECT_EQ(RawCount(harness.path(),
                     "SELECT COUNT(*) FROM sqlite_schema "
                     "WHERE name = 'audit_tree_by_level'"),
            0);
  AuditQuery query;
  query.resource = "M4";
  EXPECT_EQ(store->ReadAudit(query)->size(), 1u);
  ASSERT_TRUE(AppendEntries(*store, 1).ok());
  EXPECT_EQ(*store->AuditSize(), 14);
}

// Takes the database back to version 9: the tree's nodes keyed by (level,
// index), with that version's guard rails.
constexpr char kTreeByLevel[] =
    "DROP TRIGGER audit_tree_in_order; DROP TRIGGER audit_tree_no_update; "
    "DROP TRIGGER audit_tree_no_delete; "
    "CREATE TABLE old_tree (level INTEGER NOT NULL, idx INTEGER NOT NULL, "
    "hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID; "
    "INSERT INTO old_tree SELECT level, idx, hash FROM audit_tree; "
    "DROP TABLE audit_tree; ALTER TABLE old_tree RENAME TO audit_tree; "
    "CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree "
    "BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END; "
    "CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree "
    "BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END; "
    "CREATE TRIGGER audit_tree_no_replace BEFORE INSERT ON audit_tree "
    "WHEN EXISTS (SELECT 1 FROM audit_tree WHERE level = NEW.level AND "
    "idx = NEW.idx) "
    "BEGIN SELECT RAISE(ABORT, 'audit tree is append-only'); END; "
    "UPDATE schema_version SET version = 9";

TEST(SqliteStoreTest, ATreeNodeIsAdmittedOnlyAsTheOneThatComesNext) {
  SqliteHarness harness;
  {
    std::unique_ptr<Store> store = harness.Open();
    ASSERT_TRUE(AppendEntries(*store, 3).ok());  // positions 0..3
  }
  std::string error;
  // After leaf 2 (a left child) comes leaf 3; it is admitted by hand here.
  ASSERT_EQ(RawExec(harness.path(),
                    "INSERT INTO audit_tree (pos, level, idx, hash) "
                    "VALUES (4, 0, 3, zeroblob(32))",
                    &error),
            SQLITE_OK)
      << error;
  // After leaf 3 (a right child) comes its parent, 1/1, and nothing else.
  for (const char* node :
       {"(5, 0, 4", "(5, 1, 2", "(5, 2, 0", "(5, 1, 0", "(6, 1, 1"}) {
    SCOPED_TRACE(node);
    EXPECT_NE(RawExec(harness.path(),
                      absl::StrCat("INSERT INTO audit_tree (pos, level, idx, "
                                   "hash) VALUES ",
                                   node, ", zeroblob(32))"),
                      &error),
              SQLITE_OK);
    EXPECT_THAT(error, HasSubstr("append-only, in order"));
  }
  EXPECT_EQ(RawExec(harness.path(),
                    "INSERT INTO audit_tree (pos, level, idx, hash) "
                    "VALUES (5, 1, 1, zeroblob(32))",
                    &error),
            SQLITE_OK)
      << error;
}

TEST(SqliteStoreTest, UpgradeKeysTheTreeByPosition) {
  SqliteHarness harness;
  std::string root;
  std::vector<std::string> leaves;
  {
    std::unique_ptr<Store> store = harness.Open();
    ASSERT_TRUE(AppendEntries(*store, 13).ok());
    root = StoredRoot(*store);
    leaves = *store->ReadAuditLeafHashes(1, 100);
  }
  std::string error;
  ASSERT_EQ(RawExec(harness.path(), kTreeByLevel, &error), SQLITE_OK) << error;
  ASSERT_EQ(RawCount(harness.path(), "SELECT version FROM schema_version"), 9);

  std::unique_ptr<Store> store = harness.Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(StoredRoot(*store), root);
  EXPECT_EQ(*store->ReadAuditLeafHashes(1, 100), leaves);
  EXPECT_EQ(*store->ReadAuditLeafHashes(12, 100),
            std::vector<std::string>(leaves.begin() + 11, leaves.end()));
  // 13 leaves make 2 * 13 - popcount(13) = 23 nodes, at positions 0..22.
  EXPECT_EQ(RawCount(harness.path(), "SELECT COUNT(*) FROM audit_tree"), 23);
  EXPECT_EQ(RawCount(harness.path(), "SELECT MAX(pos) FROM audit_tree"), 22);
  EXPECT_EQ(RawCount(harness.path(),
                     "SELECT COUNT(*) FROM sqlite_schema "
                     "WHERE name = 'audit_tree_by_level'"),
            0);
  ASSERT_TRUE(AppendEntries(*store, 3).ok());
  EXPECT_EQ(*store->AuditSize(), 16);
  std::vector<std::string> hashes = *store->ReadAuditLeafHashes(1, 100);
  ASSERT_EQ(hashes.size(), 16u);
  EXPECT_EQ(merkle::RootHash(hashes), StoredRoot(*store));
}

TEST(SqliteStoreTest, UpgradeRefusesATreeThatIsNotTheTreeOfTheLog) {
  // A log of 6 entries: its tree has 10 nodes. Each change to the version 9
  // tree below makes the upgrade fail, naming what is wrong, and leaves the
  // database as it was.
  struct Case {
    const char* change;
    const char* error;
    int64_t nodes_left;
  };
  for (const Case& c : {
           Case{"DELETE FROM audit_tree WHERE level = 1 AND idx = 1",
                "no node 1/1", 9},
           Case{"DELETE FROM audit_tree WHERE level = 0 AND idx = 2",
                "5 leaves in 6 places", 9},
           Case{"INSERT INTO audit_tree VALUES (3, 0, x'00')",
                "1 nodes outside the tree", 11},
           // The last entry's leaf and the node it completed.
           Case{"DELETE FROM audit_tree WHERE (level = 0 AND idx = 5) OR "
                "(level = 1 AND idx = 2)",
                "5 leaves for 6 log entries", 8},
           Case{"DROP TRIGGER audit_tree_no_update; UPDATE audit_tree SET "
                "hash = zeroblob(32) WHERE level = 0 AND idx = 2",
                "leaf 2 is not the hash of log entry 3", 10},
       }) {
    SCOPED_TRACE(c.change);
    SqliteHarness harness;
    {
      std::unique_ptr<Store> store = harness.Open();
      ASSERT_TRUE(AppendEntries(*store, 6).ok());
    }
    std::string error;
    ASSERT_EQ(
        RawExec(harness.path(),
                absl::StrCat(kTreeByLevel,
                             "; DROP TRIGGER audit_tree_no_delete; ", c.change),
                &error),
        SQLITE_OK)
        << error;
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(harness.path());
    EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(store.status().message(), HasSubstr(c.error));
    // Nothing of the upgrade stayed.
    EXPECT_EQ(RawCount(harness.path(), "SELECT version FROM schema_version"),
              9);
    EXPECT_EQ(RawCount(harness.path(), "SELECT COUNT(*) FROM audit_tree"),
              c.nodes_left);
  }
}

TEST(SqliteStoreTest, NodesOutsideAnyTreeAreNotFound) {
  SqliteHarness harness;
  std::unique_ptr<Store> store = harness.Open();
  ASSERT_TRUE(AppendEntries(*store, 3).ok());
  EXPECT_TRUE(store->ReadAuditNode(1, 0).ok());
  for (const auto& [level, index] :
       std::vector<std::pair<int, int64_t>>{{-1, 0},
                                            {63, 0},
                                            {0, -1},
                                            {0, int64_t{1} << 62},
                                            {1, int64_t{1} << 61},
                                            {62, 1},
                                            {0, 3},
                                            {2, 0}}) {
    SCOPED_TRACE(absl::StrCat(level, "/", index));
    EXPECT_EQ(store->ReadAuditNode(level, index).status().code(),
              absl::StatusCode::kNotFound);
  }
  EXPECT_EQ(store->ReadAuditLeafHashes(0, 10)->size(), 3u);
  EXPECT_EQ(store->ReadAuditLeafHashes(3, 10)->size(), 1u);
  EXPECT_TRUE(store->ReadAuditLeafHashes(4, 10)->empty());
  EXPECT_TRUE(
      store->ReadAuditLeafHashes(std::numeric_limits<int64_t>::max(), 10)
          ->empty());
}

TEST(SqliteStoreTest, CopiesAreFoundByTheOriginsIndexWhichHoldsNoOriginals) {
  SqliteHarness harness;
  harness.Open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(harness.path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  // SetHandling's statement: each side of the OR by an index, no scan.
  ASSERT_EQ(sqlite3_prepare_v2(
                db,
                "EXPLAIN QUERY PLAN UPDATE messages SET handling_code = ?, "
                "handling_restriction = ? WHERE id = ? OR "
                "(origin_id = ? AND origin_id != '')",
                -1, &stmt, nullptr),
            SQLITE_OK);
  std::string plan;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    plan += "\n";
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_THAT(plan, HasSubstr("INDEX messages_origin (origin_id=?)"));
  EXPECT_THAT(plan, ::testing::Not(HasSubstr("SCAN")));
  EXPECT_EQ(RawCount(harness.path(),
                     "SELECT COUNT(*) FROM sqlite_schema WHERE name = "
                     "'messages_origin' AND sql LIKE '%WHERE origin_id != %'"),
            1);
}

TEST(SqliteStoreTest, UsesWriteAheadLog) {
  SqliteHarness harness;
  std::unique_ptr<Store> store = harness.Open();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(harness.path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
               "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, RefusesADatabaseFromANewerVersion) {
  SqliteHarness harness;
  harness.Open().reset();
  std::string error;
  ASSERT_EQ(
      RawExec(harness.path(), "UPDATE schema_version SET version = 99", &error),
      SQLITE_OK)
      << error;
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open(harness.path());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("newer"));
}

TEST(SqliteStoreTest, ReopeningKeepsTheSchemaVersion) {
  SqliteHarness harness;
  harness.Open().reset();
  harness.Open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(harness.path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteStore::CurrentSchemaVersion());
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);  // exactly one row
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteStoreTest, UnopenablePathIsUnavailable) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store =
      SqliteStore::Open("/nonexistent-dir/liaison.db");
  EXPECT_EQ(store.status().code(), absl::StatusCode::kUnavailable);
}

TEST(SqliteStoreTest, ASecondWriterIsRefusedWhileTheFirstHasItOpen) {
  SqliteHarness harness;
  std::unique_ptr<Store> first = harness.Open();
  ASSERT_NE(first, nullptr);
  absl::StatusOr<std::unique_ptr<SqliteStore>> second =
      SqliteStore::Open(harness.path());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("in use by another"));
  EXPECT_THAT(second.status().message(), HasSubstr("liaison.db-lock"));

  // Inspection needs no lock and may not write.
  absl::StatusOr<std::unique_ptr<SqliteStore>> reader =
      SqliteStore::OpenReadOnly(harness.path());
  ASSERT_TRUE(reader.ok()) << reader.status();
  Party p;
  p.code = "RO";
  p.name = "Romania";
  ASSERT_TRUE(
      first->Write([&](WriteTransaction& txn) { return txn.InsertParty(p); })
          .ok());
  EXPECT_EQ((*reader)->GetParty("RO")->name, "Romania");
  const absl::Status write = (*reader)->Write(
      [&](WriteTransaction& txn) { return txn.UpdateParty(p); });
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(write.message(), HasSubstr("read-only"));

  first.reset();
  EXPECT_TRUE(SqliteStore::Open(harness.path()).ok());
}

TEST(SqliteStoreTest, ReadOnlyOpeningCreatesNothingAndNeedsACurrentSchema) {
  SqliteHarness harness;
  // A missing file is not created.
  EXPECT_EQ(SqliteStore::OpenReadOnly(harness.path()).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_NE(access(harness.path().c_str(), F_OK), 0);

  // Some other SQLite database.
  std::string error;
  ASSERT_EQ(
      RawExec(harness.path(),
              "PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)", &error),
      SQLITE_OK)
      << error;
  absl::StatusOr<std::unique_ptr<SqliteStore>> other =
      SqliteStore::OpenReadOnly(harness.path());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(other.status().message(), HasSubstr("not a Liaison database"));
  ASSERT_EQ(unlink(harness.path().c_str()), 0);

  harness.Open().reset();
  ASSERT_EQ(
      RawExec(harness.path(), "UPDATE schema_version SET version = 99", &error),
      SQLITE_OK)
      << error;
  absl::StatusOr<std::unique_ptr<SqliteStore>> newer =
      SqliteStore::OpenReadOnly(harness.path());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(newer.status().message(), HasSubstr("newer"));
  ASSERT_EQ(
      RawExec(harness.path(), "UPDATE schema_version SET version = 1", &error),
      SQLITE_OK)
      << error;
  absl::StatusOr<std::unique_ptr<SqliteStore>> old =
      SqliteStore::OpenReadOnly(harness.path());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(old.status().message(), HasSubstr("open it for writing"));
}

// A store on a fresh file for each test.
class FreshSqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(dir_.File("liaison.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }

  TempDir dir_;
  std::unique_ptr<SqliteStore> store_;
};

// Party records and revocation answers are cached (AccessCache); a change
// committed through the store must be what the next read returns.
class SqliteAccessCacheTest : public FreshSqliteStoreTest {
 protected:
  void SetUp() override {
    FreshSqliteStoreTest::SetUp();
    if (HasFatalFailure()) return;
    ro_.code = "RO";
    ro_.name = "Romania";
    ro_.tier = PartyTier::kOperationalPartner;
    ASSERT_TRUE(Put(ro_, /*insert=*/true).ok());
  }

  absl::Status Put(const Party& p, bool insert = false) {
    return store_->Write([&](WriteTransaction& txn) {
      return insert ? txn.InsertParty(p) : txn.UpdateParty(p);
    });
  }

  Party ro_;
};

TEST_F(SqliteAccessCacheTest, AChangeIsReadByTheNextCall) {
  ASSERT_EQ(store_->GetParty("RO")->state, PartyState::kActive);
  Party suspended = ro_;
  suspended.state = PartyState::kSuspended;
  ASSERT_TRUE(Put(suspended).ok());
  EXPECT_EQ(store_->GetParty("RO")->state, PartyState::kSuspended);

  // Not registered, then registered.
  EXPECT_TRUE(absl::IsNotFound(store_->GetParty("HU").status()));
  Party hu;
  hu.code = "HU";
  hu.name = "Hungary";
  ASSERT_TRUE(Put(hu, /*insert=*/true).ok());
  absl::StatusOr<Party> registered = store_->GetParty("HU");
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->name, "Hungary");

  // Not revoked, then revoked by serial and by identity.
  const std::string user = "RO/liaison-officer/ion";
  ASSERT_FALSE(store_->FindRevocation("0A1B", user)->has_value());
  Revocation by_serial;
  by_serial.serial = "0A1B";
  by_serial.reason = "lost";
  by_serial.revoked_by = "admin";
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) {
                    return txn.InsertRevocation(by_serial);
                  })
                  .ok());
  absl::StatusOr<std::optional<Revocation>> found =
      store_->FindRevocation("0A1B", user);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->reason, "lost");
  ASSERT_FALSE(store_->FindRevocation("0C2D", user)->has_value());
  Revocation by_user;
  by_user.user = user;
  by_user.reason = "left the service";
  by_user.revoked_by = "admin";
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) {
                    return txn.InsertRevocation(by_user);
                  })
                  .ok());
  found = store_->FindRevocation("0C2D", user);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->reason, "left the service");
}

TEST_F(SqliteAccessCacheTest, AWriteReadsItsOwnChangesAndARollbackKeepsNone) {
  ASSERT_EQ(store_->GetParty("RO")->state, PartyState::kActive);
  Party suspended = ro_;
  suspended.state = PartyState::kSuspended;
  // Read (and cached) inside the transaction, changed, read again.
  const absl::Status refused =
      store_->Write([&](WriteTransaction& txn) -> absl::Status {
        EXPECT_EQ(txn.GetParty("RO")->state, PartyState::kActive);
        EXPECT_TRUE(txn.UpdateParty(suspended).ok());
        EXPECT_EQ(txn.GetParty("RO")->state, PartyState::kSuspended);
        return absl::FailedPreconditionError("changed my mind");
      });
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_EQ(store_->GetParty("RO")->state, PartyState::kActive);
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    EXPECT_EQ(txn.GetParty("RO")->state, PartyState::kActive);
                    return txn.UpdateParty(suspended);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    EXPECT_EQ(txn.GetParty("RO")->state,
                              PartyState::kSuspended);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(store_->GetParty("RO")->state, PartyState::kSuspended);
}

// Readers racing the changes: whatever they cached while a change was
// committed, a read after the change returned sees it.
TEST_F(SqliteAccessCacheTest, ReadsRacingChangesNeverKeepAStaleRecord) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  // Also when an assertion below ends the test early.
  absl::Cleanup join = [&] {
    stop = true;
    for (std::thread& reader : readers) reader.join();
  };
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        EXPECT_TRUE(store_->GetParty("RO").ok());
      }
    });
  }
  Party p = ro_;
  for (int round = 0; round < 200; ++round) {
    p.state = round % 2 == 0 ? PartyState::kSuspended : PartyState::kActive;
    ASSERT_TRUE(Put(p).ok());
    ASSERT_EQ(store_->GetParty("RO")->state, p.state) << "round " << round;
  }
}

class SqliteGroupCommitTest : public FreshSqliteStoreTest {};

// WriteAsync: `done` runs after the commit that holds the write (its change
// is readable from there), off the caller's thread and off the committer's
// (which has gone on to the next group), in the order the writes were
// queued; a write asked for from a `done` is committed too.
TEST_F(SqliteGroupCommitTest, AsyncWritesAreAnsweredAfterTheirCommit) {
  constexpr int kWrites = 40;
  absl::Mutex mu;
  std::vector<int> answered;
  std::vector<std::thread::id> committed_on;
  int readable = 0;
  absl::BlockingCounter done(kWrites + 1);
  for (int i = 0; i < kWrites; ++i) {
    Party p;
    p.code = absl::StrCat("P", i);
    p.name = p.code;
    store_->WriteAsync(
        [p, &mu, &committed_on](WriteTransaction& txn) {
          {
            absl::MutexLock lock(&mu);
            committed_on.push_back(std::this_thread::get_id());
          }
          return txn.InsertParty(p);
        },
        [&, i, code = p.code](absl::Status status) {
          EXPECT_TRUE(status.ok()) << status;
          const bool stored = store_->GetParty(code).ok();
          {
            absl::MutexLock lock(&mu);
            answered.push_back(i);
            if (stored) ++readable;
            EXPECT_NE(std::this_thread::get_id(), committed_on.front());
          }
          if (i == kWrites - 1) {
            // From a `done`: queued like any other write.
            Party last;
            last.code = "LAST";
            last.name = "Last";
            store_->WriteAsync(
                [last](WriteTransaction& txn) { return txn.InsertParty(last); },
                [&](absl::Status status) {
                  EXPECT_TRUE(status.ok()) << status;
                  done.DecrementCount();
                });
          }
          done.DecrementCount();
        });
  }
  done.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(readable, kWrites);
  ASSERT_EQ(answered.size(), static_cast<size_t>(kWrites));
  for (int i = 0; i < kWrites; ++i) EXPECT_EQ(answered[i], i);
  EXPECT_NE(committed_on.front(), std::this_thread::get_id());
  EXPECT_TRUE(store_->GetParty("LAST").ok());
}

// Writes that arrive while a transaction commits are committed together in
// the next one, each still succeeding or failing on its own (the
// conformance suite checks the outcomes; this checks they were grouped).
TEST_F(SqliteGroupCommitTest, WritesQueuedDuringACommitShareTheNextOne) {
  HeldCommit held(*store_);
  constexpr int kWriters = 16;
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      Party p;
      p.code = absl::StrCat("P", i);
      p.name = p.code;
      EXPECT_TRUE(
          store_
              ->Write([&](WriteTransaction& txn) { return txn.InsertParty(p); })
              .ok());
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  held.Release();
  for (std::thread& writer : writers) writer.join();

  const SqliteStore::WriteStats stats = store_->write_stats();
  EXPECT_EQ(stats.writes, 1 + kWriters);
  // One for the holder, then far fewer than one per queued writer.
  EXPECT_LE(stats.transactions, 1 + kWriters / 2);
  EXPECT_EQ(store_->ListParties()->size(), static_cast<size_t>(kWriters));
}

// Queues a WriteAsync that registers party `code` and must succeed; counts
// the function's runs in `runs` and its answer in `answered`.
void InsertPartyAsync(SqliteStore& store, const std::string& code,
                      std::atomic<int>& runs, absl::BlockingCounter& answered) {
  Party p;
  p.code = code;
  p.name = code;
  store.WriteAsync(
      [p, &runs](WriteTransaction& txn) {
        runs.fetch_add(1);
        return txn.InsertParty(p);
      },
      [&answered](absl::Status status) {
        EXPECT_TRUE(status.ok()) << status;
        answered.DecrementCount();
      });
}

// A group of WriteAsync writes runs without savepoints; one that fails
// has the group rolled back and run again with them, so that it alone is
// undone: those before it run twice and commit once, those after it once.
TEST_F(SqliteGroupCommitTest,
       AFailingAsyncWriteIsUndoneAloneByRerunningTheGroup) {
  HeldCommit held(*store_);

  // Queued while the holder's transaction runs: the next group, all three.
  absl::Mutex mu;
  std::map<std::string, int> runs;
  std::map<std::string, absl::Status> answers;
  absl::BlockingCounter answered(3);
  for (const std::string code : {"PA", "PB", "PC"}) {
    Party p;
    p.code = code;
    p.name = code;
    store_->WriteAsync(
        [p, &mu, &runs](WriteTransaction& txn) -> absl::Status {
          {
            absl::MutexLock lock(&mu);
            ++runs[p.code];
          }
          absl::Status inserted = txn.InsertParty(p);
          if (!inserted.ok() || p.code != "PB") return inserted;
          return absl::FailedPreconditionError("PB refuses after writing");
        },
        [&, code](absl::Status status) {
          {
            absl::MutexLock lock(&mu);
            answers[code] = std::move(status);
          }
          answered.DecrementCount();
        });
  }
  held.Release();
  answered.Wait();

  absl::MutexLock lock(&mu);
  EXPECT_TRUE(answers["PA"].ok()) << answers["PA"];
  EXPECT_EQ(answers["PB"],
            absl::FailedPreconditionError("PB refuses after writing"));
  EXPECT_TRUE(answers["PC"].ok()) << answers["PC"];
  EXPECT_EQ(runs["PA"], 2);
  EXPECT_EQ(runs["PB"], 2);
  EXPECT_EQ(runs["PC"], 1);
  EXPECT_TRUE(store_->GetParty("PA").ok());
  EXPECT_EQ(store_->GetParty("PB").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetParty("PC").ok());
  const SqliteStore::WriteStats stats = store_->write_stats();
  EXPECT_EQ(stats.writes, 4);
  EXPECT_EQ(stats.transactions, 2);
  EXPECT_EQ(stats.reruns, 1);
}

// Without a failure, each function of the group runs once.
TEST_F(SqliteGroupCommitTest, AsyncWritesThatSucceedRunOnce) {
  HeldCommit held(*store_);
  constexpr int kWrites = 8;
  std::atomic<int> runs{0};
  absl::BlockingCounter answered(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    InsertPartyAsync(*store_, absl::StrCat("P", i), runs, answered);
  }
  held.Release();
  answered.Wait();
  EXPECT_EQ(runs.load(), kWrites);
  EXPECT_EQ(store_->write_stats().transactions, 2);
  EXPECT_EQ(store_->write_stats().reruns, 0);
  EXPECT_EQ(store_->ListParties()->size(), static_cast<size_t>(kWrites));
}

// A waiting Write's function runs once: a group that holds one runs with
// savepoints from the start, so a failure there is undone alone, without
// running the group again.
TEST_F(SqliteGroupCommitTest, AGroupWithAWaitingWriteRunsEachFunctionOnce) {
  HeldCommit held(*store_);
  std::atomic<int> runs{0};
  absl::BlockingCounter answered(2);
  InsertPartyAsync(*store_, "PA", runs, answered);
  std::thread waiting([&] {
    Party p;
    p.code = "PB";
    p.name = "PB";
    EXPECT_EQ(store_->Write([&](WriteTransaction& txn) -> absl::Status {
      runs.fetch_add(1);
      absl::Status inserted = txn.InsertParty(p);
      if (!inserted.ok()) return inserted;
      return absl::FailedPreconditionError("PB refuses after writing");
    }),
              absl::FailedPreconditionError("PB refuses after writing"));
  });
  // The waiting Write queues from its own thread; give it time to.
  absl::SleepFor(absl::Milliseconds(300));
  InsertPartyAsync(*store_, "PC", runs, answered);
  held.Release();
  waiting.join();
  answered.Wait();

  EXPECT_EQ(runs.load(), 3);
  const SqliteStore::WriteStats stats = store_->write_stats();
  EXPECT_EQ(stats.transactions, 2);
  EXPECT_EQ(stats.reruns, 0);
  EXPECT_TRUE(store_->GetParty("PA").ok());
  EXPECT_EQ(store_->GetParty("PB").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetParty("PC").ok());
}

}  // namespace
}  // namespace liaison::testing

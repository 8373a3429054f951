#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/store/store_conformance.h"
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

TEST(SqliteStoreTest, AuditRowsCannotBeUpdatedOrDeleted) {
  SqliteHarness harness;
  {
    std::unique_ptr<Store> store = harness.Open();
    AuditEntry e;
    e.action = "Exchange.WhoAmI";
    e.reason = "original";
    ASSERT_TRUE(store
                    ->Write([&](WriteTransaction& txn) {
                      return txn.AppendAudit(e).status();
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

}  // namespace
}  // namespace liaison::testing

#include "store/sqlite/wal_gather.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/temp_dir.h"

namespace liaison::testing {
namespace {

// A connection, closed at the end of the scope.
class Db {
 public:
  Db(const std::string& path, const char* vfs, int more_flags = 0) {
    rc_ = sqlite3_open_v2(
        path.c_str(), &db_,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | more_flags, vfs);
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int open_rc() const { return rc_; }

  // sqlite3_exec's result code; the message in `error()`.
  int Exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    error_ = message != nullptr ? message : "";
    sqlite3_free(message);
    return rc;
  }
  const std::string& error() const { return error_; }

  // The first column of the first row of `sql`, as text ("" if none).
  std::string One(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
  int rc_ = SQLITE_ERROR;
  std::string error_;
};

// The writer's settings as the store's: WAL, synchronous=FULL.
void MakeWriter(Db& db) {
  ASSERT_EQ(db.open_rc(), SQLITE_OK);
  ASSERT_EQ(db.One("PRAGMA journal_mode = WAL"), "wal");
  ASSERT_EQ(db.Exec("PRAGMA synchronous = FULL"), SQLITE_OK);
  ASSERT_EQ(db.Exec("CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, "
                    "v BLOB NOT NULL)"),
            SQLITE_OK)
      << db.error();
}

std::string Insert(int first, int count, int bytes) {
  return absl::StrCat(
      "WITH RECURSIVE n(k) AS (SELECT ", first, " UNION ALL SELECT k + 1 ",
      "FROM n WHERE k < ", first + count - 1,
      ") INSERT INTO t (k, v) SELECT k, randomblob(", bytes, ") FROM n");
}

// A new connection to `path`, on the default VFS, finds `rows` rows and an
// intact database.
void ExpectIntact(const std::string& path, const std::string& rows) {
  Db reopened(path, nullptr);
  EXPECT_EQ(reopened.One("SELECT COUNT(*) FROM t"), rows);
  EXPECT_EQ(reopened.One("PRAGMA integrity_check"), "ok");
}

const char* GatherVfs() {
  absl::StatusOr<const char*> name = WalGatherVfs();
  EXPECT_TRUE(name.ok()) << name.status();
  return name.ok() ? *name : nullptr;
}

TEST(WalGatherTest, ACommitsFramesAreWrittenInOneWrite) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  Db writer(path, GatherVfs());
  MakeWriter(writer);
  const WalGatherCounts before = WalGatherCountsNow();
  // About 50 pages, 200 KiB: 100 frame writes asked for (header and page
  // each), made as two of at most 124 KiB.
  ASSERT_EQ(writer.Exec(Insert(1, 50, 3000)), SQLITE_OK) << writer.error();
  const WalGatherCounts after = WalGatherCountsNow();
  EXPECT_GE(after.writes_asked - before.writes_asked, 100);
  EXPECT_LE(after.writes_made - before.writes_made, 3);

  // Another connection, on the default VFS, reads the commit at once.
  ExpectIntact(path, "50");
}

TEST(WalGatherTest, AWalWithoutPowersafeOverwriteIsNotGathered) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  // SQLite pads such a WAL's commits with frames written after the sync.
  Db writer("file:" + path + "?psow=0", GatherVfs(), SQLITE_OPEN_URI);
  MakeWriter(writer);
  const WalGatherCounts before = WalGatherCountsNow();
  ASSERT_EQ(writer.Exec(Insert(1, 50, 3000)), SQLITE_OK) << writer.error();
  EXPECT_EQ(WalGatherCountsNow().writes_asked, before.writes_asked);
  ExpectIntact(path, "50");
}

TEST(WalGatherTest, EveryCommitIsReadableThroughCheckpointsAndRestarts) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  {
    Db writer(path, GatherVfs());
    MakeWriter(writer);
    // Checkpoints every few commits, so the WAL restarts from its start
    // (a rewrite of its header and first frames) again and again.
    ASSERT_EQ(writer.Exec("PRAGMA wal_autocheckpoint = 20"), SQLITE_OK);
    Db reader(path, nullptr);
    for (int i = 0; i < 200; ++i) {
      ASSERT_EQ(writer.Exec(Insert(i * 5 + 1, 5, 1500)), SQLITE_OK)
          << writer.error();
      ASSERT_EQ(reader.One("SELECT COUNT(*) FROM t"), absl::StrCat(i * 5 + 5))
          << "after commit " << i;
    }
    ASSERT_EQ(writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    ASSERT_EQ(writer.Exec(Insert(1001, 5, 1500)), SQLITE_OK);
  }
  ExpectIntact(path, "1005");
}

TEST(WalGatherTest, SpilledAndRewrittenFramesAndRollbacksStayConsistent) {
  TempDir dir;
  const std::string path = dir.File("t.db");
  {
    Db writer(path, GatherVfs());
    MakeWriter(writer);
    // A cache of 10 pages spills a large transaction into the WAL before
    // its commit (more than the 1 MiB gathered at most), and pages changed
    // again after their spill rewrite frames already written.
    ASSERT_EQ(writer.Exec("PRAGMA cache_size = 10"), SQLITE_OK);
    ASSERT_EQ(writer.Exec("BEGIN; " + Insert(1, 2000, 1500) +
                          "; UPDATE t SET v = randomblob(1400) WHERE k % 3 "
                          "= 0; COMMIT"),
              SQLITE_OK)
        << writer.error();
    ASSERT_EQ(writer.Exec("BEGIN; " + Insert(5001, 2000, 1500) +
                          "; UPDATE t SET v = randomblob(10); ROLLBACK"),
              SQLITE_OK)
        << writer.error();
    ASSERT_EQ(writer.Exec(Insert(9001, 10, 100)), SQLITE_OK);
    Db reader(path, nullptr);
    EXPECT_EQ(reader.One("SELECT COUNT(*) FROM t"), "2010");
    EXPECT_EQ(reader.One("SELECT MIN(length(v)) FROM t WHERE k < 2001"),
              "1400");
  }
  ExpectIntact(path, "2010");
}

// While `fail_errno` is set, every write of the unix VFS fails with it.
std::atomic<int> fail_errno{0};
sqlite3_syscall_ptr real_pwrite = nullptr;
sqlite3_syscall_ptr real_pwrite64 = nullptr;
sqlite3_syscall_ptr real_write = nullptr;

// True (with errno set) if writes are to fail now.
bool FailNow() {
  const int e = fail_errno.load();
  if (e != 0) errno = e;
  return e != 0;
}

using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
ssize_t FailingPwrite(int fd, const void* data, size_t size, off_t offset) {
  return FailNow()
             ? -1
             : reinterpret_cast<PwriteFn>(real_pwrite)(fd, data, size, offset);
}
ssize_t FailingPwrite64(int fd, const void* data, size_t size, off_t offset) {
  return FailNow() ? -1
                   : reinterpret_cast<PwriteFn>(real_pwrite64)(fd, data, size,
                                                               offset);
}
ssize_t FailingWrite(int fd, const void* data, size_t size) {
  using WriteFn = ssize_t (*)(int, const void*, size_t);
  return FailNow() ? -1 : reinterpret_cast<WriteFn>(real_write)(fd, data, size);
}

// Swaps system calls of the unix VFS for a test; TearDown puts SQLite's
// defaults back.
class UnixSyscallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unix_vfs_ = sqlite3_vfs_find("unix");
    ASSERT_NE(unix_vfs_, nullptr);
  }
  void TearDown() override {
    if (unix_vfs_ != nullptr) {
      unix_vfs_->xSetSystemCall(unix_vfs_, nullptr, nullptr);  // defaults
    }
  }

  // Puts `replacement` in place of the system call `name`; returns the call
  // it replaced.
  template <typename Fn>
  sqlite3_syscall_ptr Swap(const char* name, Fn replacement) {
    const sqlite3_syscall_ptr real = unix_vfs_->xGetSystemCall(unix_vfs_, name);
    EXPECT_EQ(unix_vfs_->xSetSystemCall(
                  unix_vfs_, name,
                  reinterpret_cast<sqlite3_syscall_ptr>(replacement)),
              SQLITE_OK)
        << name;
    return real;
  }

  sqlite3_vfs* unix_vfs_ = nullptr;
  TempDir dir_;
};

// Puts the failing writes in the unix VFS for a test, and takes them out.
class FailingWritesTest : public UnixSyscallsTest {
 protected:
  void SetUp() override {
    UnixSyscallsTest::SetUp();
    if (HasFatalFailure()) return;
    real_pwrite = Swap("pwrite", FailingPwrite);
    real_pwrite64 = Swap("pwrite64", FailingPwrite64);
    real_write = Swap("write", FailingWrite);
  }
  void TearDown() override {
    fail_errno = 0;
    UnixSyscallsTest::TearDown();
  }
};

TEST_F(FailingWritesTest, AWriteErrorFailsTheCommitAndLosesNothingCommitted) {
  const std::string path = dir_.File("t.db");
  {
    Db writer(path, GatherVfs());
    MakeWriter(writer);
    ASSERT_EQ(writer.Exec(Insert(1, 20, 1000)), SQLITE_OK);
    // The frames are gathered without error; the sync of the commit
    // writes them, fails, and fails the commit.
    ASSERT_EQ(writer.Exec("BEGIN; " + Insert(101, 20, 1000)), SQLITE_OK);
    fail_errno = EIO;
    const int rc = writer.Exec("COMMIT");
    fail_errno = 0;
    EXPECT_EQ(rc & 0xff, SQLITE_IOERR) << rc << " " << writer.error();
    writer.Exec("ROLLBACK");
    // The connection goes on: the failed transaction is not there, the next
    // one is.
    ASSERT_EQ(writer.Exec(Insert(201, 20, 1000)), SQLITE_OK) << writer.error();
    EXPECT_EQ(writer.One("SELECT COUNT(*) FROM t"), "40");
  }
  Db reopened(path, nullptr);
  EXPECT_EQ(reopened.One("SELECT COUNT(*) FROM t WHERE k <= 20 OR k > 200"),
            "40");
  EXPECT_EQ(reopened.One("SELECT COUNT(*) FROM t WHERE k BETWEEN 101 AND 120"),
            "0");
  EXPECT_EQ(reopened.One("PRAGMA integrity_check"), "ok");
}

TEST_F(FailingWritesTest, AFullDiskInsideATransactionLosesNoGatheredFrame) {
  const std::string path = dir_.File("t.db");
  {
    Db writer(path, GatherVfs());
    MakeWriter(writer);
    ASSERT_EQ(writer.Exec("PRAGMA cache_size = 10"), SQLITE_OK);
    // Spilled frames of this transaction are gathered, not yet written.
    ASSERT_EQ(writer.Exec("BEGIN; " + Insert(1, 300, 1500)), SQLITE_OK)
        << writer.error();
    // A full disk while a statement reads those pages back and spills
    // more: the statement fails (SQLITE_FULL rolls back the statement
    // only), and the frames gathered before it must not be lost with it.
    fail_errno = ENOSPC;
    const int rc = writer.Exec("UPDATE t SET v = randomblob(1490); " +
                               Insert(1001, 600, 1500));
    fail_errno = 0;
    EXPECT_EQ(rc, SQLITE_FULL) << writer.error();
    // The transaction goes on and commits what it holds: every frame it
    // wrote reaches the file at the commit's sync.
    ASSERT_EQ(writer.Exec("COMMIT"), SQLITE_OK) << writer.error();
    EXPECT_EQ(writer.One("SELECT COUNT(*) FROM t"), "300");
  }
  Db reopened(path, nullptr);
  EXPECT_EQ(reopened.One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(reopened.One("SELECT COUNT(*) FROM t"), "300");
  EXPECT_EQ(reopened.One("SELECT MIN(length(v)) || ' ' || MAX(length(v)) "
                         "FROM t"),
            "1500 1500");
}

std::atomic<int> ftruncates{0};
sqlite3_syscall_ptr real_ftruncate = nullptr;

int CountingFtruncate(int fd, off_t size) {
  ftruncates.fetch_add(1);
  using FtruncateFn = int (*)(int, off_t);
  return reinterpret_cast<FtruncateFn>(real_ftruncate)(fd, size);
}

// Counts the unix VFS's ftruncate calls during a test.
class CountedTruncatesTest : public UnixSyscallsTest {
 protected:
  void SetUp() override {
    UnixSyscallsTest::SetUp();
    if (HasFatalFailure()) return;
    real_ftruncate = Swap("ftruncate", CountingFtruncate);
  }

  // Runs checkpoints after commits that grow the database and after
  // commits that only rewrite its pages, and returns the ftruncate calls
  // they made.
  int TruncatesOfCheckpoints(const char* vfs) {
    const std::string path = dir_.File(absl::StrCat("t", ++files_, ".db"));
    Db writer(path, vfs);
    MakeWriter(writer);
    const int before = ftruncates.load();
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(writer.Exec(Insert(i * 20 + 1, 20, 1500)), SQLITE_OK)
          << writer.error();
      EXPECT_EQ(writer.Exec("PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
      EXPECT_EQ(writer.Exec("UPDATE t SET v = randomblob(1500)"), SQLITE_OK)
          << writer.error();
      EXPECT_EQ(writer.Exec("PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
    }
    const int made = ftruncates.load() - before;
    EXPECT_EQ(writer.One("SELECT COUNT(*) FROM t"), "100");
    return made;
  }

  int files_ = 0;
};

TEST_F(CountedTruncatesTest, CheckpointsDoNotTruncateToTheSizeTheFileHas) {
  // The unix VFS alone truncates the database file after each checkpoint.
  EXPECT_GE(TruncatesOfCheckpoints(nullptr), 10);
  EXPECT_EQ(TruncatesOfCheckpoints(GatherVfs()), 0);
}

TEST_F(CountedTruncatesTest, ADatabaseThatShrinksIsTruncated) {
  const std::string path = dir_.File("shrinks.db");
  {
    Db writer(path, GatherVfs());
    MakeWriter(writer);
    ASSERT_EQ(writer.Exec(Insert(1, 400, 1500)), SQLITE_OK) << writer.error();
    ASSERT_EQ(writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
    const int before = ftruncates.load();
    ASSERT_EQ(writer.Exec("DELETE FROM t WHERE k > 10; VACUUM"), SQLITE_OK)
        << writer.error();
    // PASSIVE leaves the WAL's size alone: the truncate is the database's.
    ASSERT_EQ(writer.Exec("PRAGMA wal_checkpoint(PASSIVE)"), SQLITE_OK);
    EXPECT_GE(ftruncates.load() - before, 1);
    const std::string pages = writer.One("PRAGMA page_count");
    const std::string page_size = writer.One("PRAGMA page_size");
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, std::stoll(pages) * std::stoll(page_size));
    EXPECT_LT(std::stoll(pages), 100);
  }
  ExpectIntact(path, "10");
}

TEST(WalGatherTest, ABaseThatIsNotRegisteredIsRefused) {
  absl::StatusOr<const char*> name =
      RegisterWalGatherVfs("liaison-wal-gather-test", "no-such-vfs");
  EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace liaison::testing

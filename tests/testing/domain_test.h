// A fixture for domain tests: a fresh SQLite store in a temp dir, a fake
// clock and the audit log, with a roster registered.
#ifndef LIAISON_TESTS_TESTING_DOMAIN_TEST_H_
#define LIAISON_TESTS_TESTING_DOMAIN_TEST_H_

#include <gtest/gtest.h>

#include <memory>

#include "absl/strings/string_view.h"
#include "domain/audit_log.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/temp_dir.h"

namespace liaison::testing {

class DomainTest : public ::testing::Test {
 protected:
  // Opens the store and registers `roster` (deploy/parties.example format).
  void OpenWithRoster(absl::string_view roster) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(dir_.File("liaison.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
    absl::StatusOr<std::vector<Party>> parties = ParseRoster(roster);
    ASSERT_TRUE(parties.ok()) << parties.status();
    ASSERT_TRUE(SeedRoster(*store_, audit_, clock_, *parties).ok());
  }

  TempDir dir_;
  FakeClock clock_;
  StoreAuditLog audit_;
  std::unique_ptr<SqliteStore> store_;
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_DOMAIN_TEST_H_

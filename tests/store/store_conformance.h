// The contract every Store implementation keeps. An implementation's test
// instantiates the suite with a harness factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformanceTest,
//                            ::testing::Values(&MakeSqliteHarness));
#ifndef LIAISON_TESTS_STORE_STORE_CONFORMANCE_H_
#define LIAISON_TESTS_STORE_STORE_CONFORMANCE_H_

#include <gtest/gtest.h>

#include <memory>

#include "domain/store.h"

namespace liaison::testing {

// Owns the storage behind a store (a file, a database) for one test.
class StoreHarness {
 public:
  virtual ~StoreHarness() = default;
  // Opens the same, initially empty, storage; called again after the
  // previous store was destroyed, to check that writes persisted.
  virtual std::unique_ptr<Store> Open() = 0;
};

using StoreHarnessFactory = std::unique_ptr<StoreHarness> (*)();

class StoreConformanceTest
    : public ::testing::TestWithParam<StoreHarnessFactory> {
 protected:
  void SetUp() override;
  // Closes and reopens the store on the same storage.
  void Reopen();

  std::unique_ptr<StoreHarness> harness_;
  std::unique_ptr<Store> store_;
};

// The same contract, on a store holding parties HU, RO, BG and XOB.
class StoreWithParties : public StoreConformanceTest {
 protected:
  void SetUp() override;
  absl::Status Insert(const Message& m);
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_STORE_STORE_CONFORMANCE_H_

#ifndef LIAISON_TESTS_TESTING_HELD_COMMIT_H_
#define LIAISON_TESTS_TESTING_HELD_COMMIT_H_

#include <gtest/gtest.h>

#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "domain/store.h"

namespace liaison::testing {

// Holds a store's writer inside a Write that waits until Release (or
// destruction), so that the writes queued meanwhile are committed after it,
// together: a group commit the test arranges.
class HeldCommit {
 public:
  explicit HeldCommit(Store& store)
      : holder_([this, &store] {
          EXPECT_TRUE(store
                          .Write([this](WriteTransaction&) {
                            holding_.Notify();
                            release_.WaitForNotification();
                            return absl::OkStatus();
                          })
                          .ok());
        }) {
    holding_.WaitForNotification();
  }
  ~HeldCommit() { Release(); }
  HeldCommit(const HeldCommit&) = delete;
  HeldCommit& operator=(const HeldCommit&) = delete;

  // Lets the held Write commit and waits until it has.
  void Release() {
    if (!holder_.joinable()) return;
    release_.Notify();
    holder_.join();
  }

 private:
  absl::Notification holding_;
  absl::Notification release_;
  std::thread holder_;
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_HELD_COMMIT_H_

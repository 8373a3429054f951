#include "common/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace liaison {
namespace {

// Every thread takes a task: four tasks that each wait for all four to have
// started finish only if four threads run them at once.
TEST(WorkerPoolTest, RunsTasksOnAllItsThreadsAtOnce) {
  WorkerPool pool(4);
  EXPECT_EQ(pool.size(), 4);
  absl::Mutex mu;
  int started = 0;
  absl::BlockingCounter finished(4);
  for (int i = 0; i < 4; ++i) {
    pool.Run([&] {
      absl::MutexLock lock(&mu);
      ++started;
      mu.Await(absl::Condition(
          +[](int* n) { return *n == 4; }, &started));
      finished.DecrementCount();
    });
  }
  finished.Wait();
}

// What was queued before destruction runs, even while every thread is busy
// as destruction begins.
TEST(WorkerPoolTest, DestructionRunsWhatWasQueued) {
  std::atomic<int> ran{0};
  absl::Notification release;
  auto pool = std::make_unique<WorkerPool>(1);
  pool->Run([&] {
    release.WaitForNotification();
    ++ran;
  });
  for (int i = 0; i < 10; ++i) pool->Run([&] { ++ran; });
  // Released while the destructor below already waits for the thread.
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(50));
    release.Notify();
  });
  pool.reset();
  releaser.join();
  EXPECT_EQ(ran, 11);
}

TEST(WorkerPoolTest, HasAtLeastOneThread) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  absl::Notification done;
  pool.Run([&] { done.Notify(); });
  done.WaitForNotification();
}

}  // namespace
}  // namespace liaison

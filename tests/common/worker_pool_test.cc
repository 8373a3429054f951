#include "common/worker_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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

// Operators tell the pool's threads apart in `top -H` by their names, cut
// to the 15 characters Linux keeps. Each task waits for the other, so the
// two run on both threads.
TEST(WorkerPoolTest, NamesItsThreads) {
  WorkerPool pool(2, "a-name-longer-than-fifteen");
  absl::Mutex mu;
  std::vector<std::string> names;
  absl::BlockingCounter named(2);
  for (int i = 0; i < 2; ++i) {
    pool.Run([&] {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof(name));
      absl::MutexLock lock(&mu);
      names.push_back(name);
      // Fails rather than hangs if one thread ran both.
      EXPECT_TRUE(mu.AwaitWithTimeout(
          absl::Condition(
              +[](std::vector<std::string>* n) { return n->size() == 2; },
              &names),
          absl::Seconds(10)));
      named.DecrementCount();
    });
  }
  named.Wait();
  absl::MutexLock lock(&mu);
  EXPECT_THAT(names,
              testing::ElementsAre("a-name-longer-t", "a-name-longer-t"));
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

// Checks that ThreadSanitizer sees absl::Mutex, CondVar and Notification in
// this build (deploy/sanitizers/tsan_absl_sync.cc), so that the suite passing
// under TSan means something:
//
//   tsan_absl_sync_check synchronised   # data handed over through each
//                                       # primitive: must run clean
//   tsan_absl_sync_check racy           # the same writes without a lock:
//                                       # TSan must report a data race
//
// Two threads started one after the other and never joined in between are
// unordered for TSan, so the race is reported on every run, not by timing.
#include <cstdio>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

// Written by one thread and read by another, through each primitive.
int guarded = 0;

void WritesUnderMutex() {
  absl::Mutex mu;
  auto add = [&] {
    absl::MutexLock lock(&mu);
    ++guarded;
  };
  std::thread a(add), b(add);
  a.join();
  b.join();
}

void WritesUnderReaderAndWriterLocks() {
  absl::Mutex mu;
  std::thread writer([&] {
    absl::MutexLock lock(&mu);
    ++guarded;
  });
  std::thread reader([&] {
    absl::ReaderMutexLock lock(&mu);
    std::printf("read %d\n", guarded);
  });
  writer.join();
  reader.join();
}

void HandsOverWithAwait() {
  absl::Mutex mu;
  bool ready = false;
  std::thread producer([&] {
    absl::MutexLock lock(&mu);
    ++guarded;
    ready = true;
  });
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&ready));
    ++guarded;
  }
  producer.join();
}

void HandsOverWithCondVar() {
  absl::Mutex mu;
  absl::CondVar cv;
  bool ready = false;
  std::thread producer([&] {
    absl::MutexLock lock(&mu);
    ++guarded;
    ready = true;
    cv.Signal();
  });
  {
    absl::MutexLock lock(&mu);
    while (!ready) cv.Wait(&mu);
    ++guarded;
  }
  producer.join();
}

void HandsOverWithNotification() {
  absl::Notification done;
  std::thread producer([&] {
    ++guarded;
    done.Notify();
  });
  done.WaitForNotification();
  ++guarded;
  producer.join();
}

void Races() {
  auto add = [] { ++guarded; };
  std::thread a(add), b(add);
  a.join();
  b.join();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "synchronised") == 0) {
    WritesUnderMutex();
    WritesUnderReaderAndWriterLocks();
    HandsOverWithAwait();
    HandsOverWithCondVar();
    HandsOverWithNotification();
    std::printf("synchronised: %d\n", guarded);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "racy") == 0) {
    Races();
    std::printf("racy: %d\n", guarded);
    return 0;
  }
  std::fprintf(stderr, "usage: %s synchronised|racy\n", argv[0]);
  return 2;
}

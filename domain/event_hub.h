// Wakes subscribers when events were committed, so live delivery needs no
// busy polling. Holds no events: subscribers read them from the store, so
// memory does not grow with slow subscribers. Thread-safe.
#ifndef LIAISON_DOMAIN_EVENT_HUB_H_
#define LIAISON_DOMAIN_EVENT_HUB_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace liaison {

class EventHub {
 public:
  // After a commit that appended events (or changed who may read them).
  void Notify() {
    absl::MutexLock lock(&mu_);
    ++generation_;
  }

  // The current generation, to wait from.
  uint64_t Generation() {
    absl::MutexLock lock(&mu_);
    return generation_;
  }

  // Returns when the generation moved past `seen` or after `timeout`.
  void WaitPast(uint64_t seen, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto moved = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return generation_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&moved), timeout);
  }

 private:
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_EVENT_HUB_H_

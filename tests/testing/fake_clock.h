// A Clock that moves only when told. Thread-safe.
#ifndef LIAISON_TESTS_TESTING_FAKE_CLOCK_H_
#define LIAISON_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace liaison::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1790000000))
      : now_(start) {}

  // liaison::Clock
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }

  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_FAKE_CLOCK_H_

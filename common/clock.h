// Time source for code that must be testable without sleeping.
#ifndef LIAISON_COMMON_CLOCK_H_
#define LIAISON_COMMON_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace liaison {

// Domain code never calls absl::Now(); it is handed a Clock. Implementations
// are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace liaison

#endif  // LIAISON_COMMON_CLOCK_H_

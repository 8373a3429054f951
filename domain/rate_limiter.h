// Calls per second per principal (issue 7's limits): a token bucket per
// caller identity, so that one user or a runaway national system cannot
// starve the others. Thread-safe.
#ifndef LIAISON_DOMAIN_RATE_LIMITER_H_
#define LIAISON_DOMAIN_RATE_LIMITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "domain/model.h"

namespace liaison {

struct RateLimit {
  // Sustained calls per second per principal; 0 turns the limit off.
  double per_second = 50;
  // Calls a principal may make at once after being idle.
  int burst = 100;
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  RateLimiter(const Clock& clock, RateLimit limit)
      : clock_(clock), limit_(limit) {}

  struct Verdict {
    // OK, or RESOURCE_EXHAUSTED naming the limit.
    absl::Status status;
    // Whether this refusal is to be audited: the first of a principal in
    // each second is, and says how many went unaudited since the last (so
    // that a flood costs one audit entry per second, not one per call).
    bool audit = false;
  };

  // Takes one call of `entry.principal`; `entry` is the call's audit entry
  // as far as it is known, kept to record refusals that are not audited
  // one by one.
  Verdict Take(const AuditEntry& entry);

  // Entries recording the refusals not audited one by one, for each user
  // whose last recorded refusal is a second old or more: one entry per
  // user, with the count. Forgets users idle for long (their bucket would
  // be full anyway).
  std::vector<AuditEntry> TakeUnaudited();

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time refilled;
    absl::Time audited;  // Of the last recorded refusal.
    int64_t unaudited = 0;
    AuditEntry pending;  // The latest refusal not recorded.
  };

  std::string Describe() const;

  const Clock& clock_;
  const RateLimit limit_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_RATE_LIMITER_H_

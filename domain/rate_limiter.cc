#include "domain/rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace liaison {

RateLimiter::Verdict RateLimiter::Take(absl::string_view principal) {
  if (limit_.per_second <= 0) return {};
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto [it, added] = buckets_.try_emplace(principal);
  Bucket& b = it->second;
  if (added) {
    b.tokens = limit_.burst;
    b.refilled = now;
    b.audited = absl::InfinitePast();
  }
  const double elapsed = absl::ToDoubleSeconds(now - b.refilled);
  b.tokens = std::min<double>(
      limit_.burst, b.tokens + std::max(0.0, elapsed) * limit_.per_second);
  b.refilled = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {};
  }
  Verdict v;
  const double wait = (1 - b.tokens) / limit_.per_second;
  std::string message = absl::StrFormat(
      "rate limit: at most %g calls per second per user (burst %d, "
      "--rate-limit); retry in %.0f ms",
      limit_.per_second, limit_.burst, 1000 * wait);
  if (now - b.audited >= absl::Seconds(1)) {
    v.audit = true;
    if (b.unaudited > 0) {
      absl::StrAppend(&message, " (", b.unaudited,
                      " more calls refused since the last recorded refusal)");
    }
    b.audited = now;
    b.unaudited = 0;
  } else {
    ++b.unaudited;
  }
  v.status = absl::ResourceExhaustedError(message);
  return v;
}

}  // namespace liaison

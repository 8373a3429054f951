#include "domain/rate_limiter.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace liaison {

std::string RateLimiter::Describe() const {
  return absl::StrFormat(
      "at most %g calls per second per user (burst %d, --rate-limit)",
      limit_.per_second, limit_.burst);
}

RateLimiter::Verdict RateLimiter::Take(const AuditEntry& entry) {
  if (limit_.per_second <= 0) return {};
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  auto [it, added] = buckets_.try_emplace(entry.principal);
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
  std::string message = absl::StrFormat("rate limit: %s; retry in %.0f ms",
                                        Describe(), 1000 * wait);
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
    b.pending = entry;
  }
  v.status = absl::ResourceExhaustedError(message);
  return v;
}

std::vector<AuditEntry> RateLimiter::TakeUnaudited() {
  std::vector<AuditEntry> entries;
  if (limit_.per_second <= 0) return entries;
  const absl::Time now = clock_.Now();
  absl::MutexLock lock(&mu_);
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Bucket& b = it->second;
    if (b.unaudited > 0 && now - b.audited >= absl::Seconds(1)) {
      AuditEntry e = b.pending;
      e.time = absl::FromUnixMicros(absl::ToUnixMicros(now));
      e.outcome = AuditOutcome::kRejected;
      e.code = absl::StatusCode::kResourceExhausted;
      e.reason =
          absl::StrCat(b.unaudited, " calls refused by the rate limit (",
                       Describe(), ") since ",
                       absl::FormatTime("%Y-%m-%d %H:%M:%E3SZ", b.audited,
                                        absl::UTCTimeZone()),
                       ", recorded together; the last is this entry's action");
      entries.push_back(std::move(e));
      b.unaudited = 0;
      b.audited = now;
    }
    if (b.unaudited == 0 && now - b.refilled > absl::Minutes(10)) {
      buckets_.erase(it++);
    } else {
      ++it;
    }
  }
  return entries;
}

}  // namespace liaison

// Statistics on requests and cases (the indicators SELEC and Directive (EU)
// 2023/977 Art. 18 ask for): requests sent and received, answered, refused
// by reason, overdue, by party, by urgency, by month; cases opened and
// closed. Only counts: never contents.
//
// Thread-safe.
#ifndef LIAISON_DOMAIN_REPORTS_H_
#define LIAISON_DOMAIN_REPORTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "domain/audit_log.h"
#include "domain/call_gate.h"
#include "domain/model.h"
#include "domain/store.h"

namespace liaison {

// Counts over request copies (one request to three parties is three).
struct RequestCounts {
  int64_t total = 0;
  int64_t urgent = 0;
  int64_t routine = 0;
  int64_t open = 0;
  int64_t acknowledged = 0;
  int64_t answered = 0;
  int64_t refused = 0;
  int64_t overdue = 0;  // OPEN or ACKNOWLEDGED past due at `as_of`.
  std::map<std::string, int64_t> refused_by_reason;

  void Add(const RequestRow& row, absl::Time as_of);
  bool operator==(const RequestCounts& other) const;
};

struct Statistics {
  absl::Time from;
  absl::Time to;
  absl::Time as_of;
  std::string party;  // Empty: every party (HQ only).
  RequestCounts sent;
  RequestCounts received;
  // By the other party of each copy (for one party), or by party (all).
  std::map<std::string, RequestCounts> sent_by_party;
  std::map<std::string, RequestCounts> received_by_party;
  // By the month the request was sent, "YYYY-MM" (UTC).
  std::map<std::string, RequestCounts> by_month;
  int64_t cases_opened = 0;
  int64_t cases_closed = 0;
};

// Pure: the statistics of `rows` for `party` (empty for all parties).
Statistics ComputeStatistics(const std::vector<RequestRow>& rows,
                             const std::string& party, absl::Time as_of);

class ReportService {
 public:
  // All references must outlive the service.
  ReportService(Store& store, AuditLog& audit, const Clock& clock)
      : store_(store), gate_(store, audit, clock) {}

  // Figures for requests sent in [from, to). Officers and focal points get
  // their own party's; HQ admins and auditors any party's or, with an empty
  // `party`, everyone's. INVALID_ARGUMENT for an empty or reversed window
  // or a malformed party; PERMISSION_DENIED for another party's figures.
  absl::StatusOr<Statistics> GetStatistics(const Caller& caller,
                                           absl::Time from, absl::Time to,
                                           const std::string& party);

  // Applies `limiter` (calls per second per user) to this service's calls.
  void set_rate_limiter(RateLimiter* limiter) {
    gate_.set_rate_limiter(limiter);
  }

 private:
  Store& store_;
  CallGate gate_;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_REPORTS_H_

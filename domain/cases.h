// Cases: joint investigations and regional operations (design §3). A case
// has an owner party and participant parties; the owner manages who takes
// part, message owners attach their messages, and every current member
// reads the case's messages under its own status. Observers take no part.
//
// Every call is judged by the policy and audited; changes are one
// transaction with their audit entry. Thread-safe.
#ifndef LIAISON_DOMAIN_CASES_H_
#define LIAISON_DOMAIN_CASES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "domain/audit_log.h"
#include "domain/call_gate.h"
#include "domain/exchange.h"
#include "domain/message_id.h"
#include "domain/model.h"
#include "domain/store.h"

namespace liaison {

struct CaseView {
  Case details;
  // The attached messages as the caller's party may see them (summaries;
  // withheld where its status no longer allows reading).
  std::vector<MessageView> thread;
};

class CaseService {
 public:
  static constexpr size_t kMaxTitle = 200;
  static constexpr size_t kMaxParticipants = 32;

  // All references must outlive the service.
  CaseService(Store& store, AuditLog& audit, const Clock& clock)
      : store_(store), gate_(store, audit, clock), ids_(clock) {}

  // Each returns the statuses documented in cases.proto and appends exactly
  // one audit entry.
  absl::StatusOr<Case> OpenCase(const Caller& caller, const std::string& title,
                                const std::vector<std::string>& participants);
  absl::StatusOr<Case> AddParticipant(const Caller& caller,
                                      const std::string& case_id,
                                      const std::string& party);
  absl::StatusOr<Case> RemoveParticipant(const Caller& caller,
                                         const std::string& case_id,
                                         const std::string& party);
  absl::StatusOr<Case> AttachMessage(const Caller& caller,
                                     const std::string& case_id,
                                     const std::string& message_id);
  absl::StatusOr<Case> CloseCase(const Caller& caller,
                                 const std::string& case_id);
  absl::StatusOr<CaseView> GetCase(const Caller& caller,
                                   const std::string& case_id);
  absl::StatusOr<std::vector<Case>> ListCases(const Caller& caller);

  // Applies `limiter` (calls per second per user) to this service's calls.
  void set_rate_limiter(RateLimiter* limiter) {
    gate_.set_rate_limiter(limiter);
  }

 private:
  // Inside a transaction: the case if the caller's party is a member (else
  // NOT_FOUND, as for a missing case), and for `owner_only` changes the
  // caller's party must own it and it must be open.
  absl::StatusOr<Case> MemberCase(WriteTransaction& txn, const Call& call,
                                  const std::string& case_id, bool owner_only);
  // A party that may take part: registered, active, not an observer.
  static absl::Status CheckParticipant(WriteTransaction& txn,
                                       const std::string& party);
  // One owner-only change of the participants.
  absl::StatusOr<Case> ChangeParticipant(const Caller& caller, Action action,
                                         const std::string& case_id,
                                         const std::string& party, bool add);

  Store& store_;
  CallGate gate_;
  MessageIdGenerator ids_;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_CASES_H_

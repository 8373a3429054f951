// Party administration and certificate revocation by HQ admins (design §1,
// §2, §4). Every change is one transaction: the party record, its status
// history entry (who, when, why) and the audit entry commit together, and
// the very next call of the party's users is judged by the new status.
//
// Thread-safe: the store serialises writes.
#ifndef LIAISON_DOMAIN_ADMIN_H_
#define LIAISON_DOMAIN_ADMIN_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "domain/audit_log.h"
#include "domain/call_gate.h"
#include "domain/model.h"
#include "domain/store.h"
#include "domain/validation.h"

namespace liaison {

struct RegisterPartyCommand {
  std::string code;
  std::string name;
  Choice<PartyTier> tier;
  Choice<Classification> ceiling;
  bool agreement_in_force = false;
  std::string reason;
};

struct RevokeCommand {
  // Exactly one of these: a certificate serial (hex) or PARTY/role/user.
  std::string serial;
  std::string user;
  std::string reason;
};

struct PartyDetails {
  Party party;
  std::vector<PartyChange> history;  // Oldest first.
};

class AdminService {
 public:
  static constexpr size_t kMaxReason = 500;  // characters
  static constexpr size_t kMaxName = 200;    // characters

  // All references must outlive the service.
  AdminService(Store& store, AuditLog& audit, const Clock& clock)
      : store_(store), audit_(audit), gate_(store, audit, clock) {}

  // Each returns the statuses documented in admin.proto and appends exactly
  // one audit entry.
  absl::StatusOr<Party> RegisterParty(const Caller& caller,
                                      const RegisterPartyCommand& command);
  absl::StatusOr<Party> SetPartyTier(const Caller& caller,
                                     const std::string& code,
                                     Choice<PartyTier> tier,
                                     const std::string& reason);
  absl::StatusOr<Party> SetCeiling(const Caller& caller,
                                   const std::string& code,
                                   Choice<Classification> ceiling,
                                   const std::string& reason);
  absl::StatusOr<Party> SetAgreement(const Caller& caller,
                                     const std::string& code, bool in_force,
                                     const std::string& reason);
  absl::StatusOr<Party> SuspendParty(const Caller& caller,
                                     const std::string& code,
                                     const std::string& reason);
  absl::StatusOr<Party> ReinstateParty(const Caller& caller,
                                       const std::string& code,
                                       const std::string& reason);
  absl::StatusOr<std::vector<Party>> ListParties(const Caller& caller);
  absl::StatusOr<PartyDetails> GetParty(const Caller& caller,
                                        const std::string& code);
  absl::StatusOr<Revocation> RevokeCertificate(const Caller& caller,
                                               const RevokeCommand& command);
  absl::StatusOr<std::vector<Revocation>> ListRevocations(const Caller& caller);

  // Applies `limiter` (calls per second per user) to this service's calls.
  void set_rate_limiter(RateLimiter* limiter) {
    gate_.set_rate_limiter(limiter);
  }

 private:
  // Changes the party `code` as `mutate` says, in one transaction with its
  // history and audit entry. `mutate` edits the party and returns the
  // changes made ({change, from, to}), or FAILED_PRECONDITION /
  // INVALID_ARGUMENT to refuse.
  using Mutation =
      absl::FunctionRef<absl::StatusOr<std::vector<PartyChange>>(Party& party)>;
  // `field_check` is the outcome of checking the change's own field (tier,
  // ceiling), so that a malformed request is refused before any lookup.
  absl::StatusOr<Party> Change(const Caller& caller, Action action,
                               const std::string& code,
                               const absl::Status& field_check,
                               const std::string& reason, Mutation mutate);

  Store& store_;
  AuditLog& audit_;
  CallGate gate_;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_ADMIN_H_

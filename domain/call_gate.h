// The entrance every call passes: authentication outcome, revocation, the
// caller's party as registered now, the principal-level policy, and the
// audit entry that records what became of the call. Shared by the services
// so that no call path can skip the policy or the audit log.
//
// Thread-safe (holds only references).
#ifndef LIAISON_DOMAIN_CALL_GATE_H_
#define LIAISON_DOMAIN_CALL_GATE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/identity.h"
#include "domain/audit_log.h"
#include "domain/model.h"
#include "domain/policy.h"
#include "domain/rate_limiter.h"
#include "domain/store.h"

namespace liaison {

// Who is calling: the identity verified from the client certificate, or why
// the certificate carries no usable identity (UNAUTHENTICATED).
using Caller = absl::StatusOr<Identity>;

// One call in progress.
struct Call {
  Identity identity;
  Party party;  // As registered when the call began.
  Action action = Action::kWhoAmI;
  AuditEntry entry;  // Filled in as the call proceeds; appended once.
};

// A refusal decided but not yet recorded.
struct PendingRefusal {
  explicit PendingRefusal(absl::Status status, std::string audit_reason = "",
                          bool record = true)
      : status(std::move(status)),
        audit_reason(std::move(audit_reason)),
        record(record) {}

  absl::Status status;
  // Replaces the status message in the log, for refusals that hide the real
  // reason from the caller (see CallGate::Refuse).
  std::string audit_reason;
  // False for the refusal of a flood, which the rate limiter records in
  // bulk (CallGate::RecordRateLimited), not one by one.
  bool record;
};

// What the gate decided about a call, before a refusal is recorded.
struct Admission {
  Call call;
  std::optional<PendingRefusal> refusal;  // None: the call may proceed.
};

class CallGate {
 public:
  // All references must outlive the gate.
  CallGate(Store& store, AuditLog& audit, const Clock& clock)
      : store_(store), audit_(audit), clock_(clock) {}

  // Calls beyond `limiter`'s rate are refused (RESOURCE_EXHAUSTED) before
  // anything else is read. Null: no limit. Must outlive the gate.
  void set_rate_limiter(RateLimiter* limiter) { limiter_ = limiter; }

  // Authenticates, applies the rate limit, checks revocation and the
  // principal-level policy. On refusal records it and returns the error.
  absl::StatusOr<Call> Begin(const Caller& caller, Action action);
  // Records the rate-limit refusals that were not recorded one by one (see
  // RateLimiter::TakeUnaudited); called about once a second by the server.
  absl::Status RecordRateLimited();

  // As Begin, for a call answered later (gRPC's callback API), never
  // waiting for a commit: a refusal is returned with the call, not
  // recorded; pass both to RefuseAsync.
  Admission BeginAsync(const Caller& caller, Action action);

  // As Begin, without taking from the rate limit: for judging a call in
  // progress again (a live stream's rounds).
  absl::StatusOr<Call> Rejudge(const Caller& caller, Action action);

  // Records a refused or failed call and returns `status` (or UNAVAILABLE if
  // even the refusal cannot be recorded). `audit_reason` overrides the
  // status message in the log, for refusals that hide the real reason.
  absl::Status Refuse(Call& call, absl::Status status,
                      std::string audit_reason = "");

  // As Refuse, without waiting for the entry to be committed: `done` gets
  // the status to return, on the store's thread (Store::WriteAsync) or on
  // this one.
  void RefuseAsync(Call call, PendingRefusal refusal,
                   absl::AnyInvocable<void(absl::Status)> done);

  // Records an allowed call that changed nothing (a read); UNAVAILABLE if it
  // cannot be recorded, in which case nothing may be returned to the caller.
  // `also` runs in the same transaction as the entry (for example a read
  // receipt): both are stored or neither.
  absl::Status RecordAllowed(
      Call& call, std::vector<std::string> resources,
      absl::FunctionRef<absl::Status(WriteTransaction&)> also =
          [](WriteTransaction&) { return absl::OkStatus(); });

  // Records a call whose request could not be decoded at the edge (for
  // example a string field that is not UTF-8) and returns the refusal:
  // INVALID_ARGUMENT, or the caller's own refusal if it may not call at all.
  absl::Status RejectUndecodable(const Caller& caller, Action action,
                                 absl::string_view detail);
  // As RejectUndecodable, without waiting for the entry to be committed:
  // `done` gets the refusal (see RefuseAsync). For stores that serve
  // without waiting (Store::ServesWithoutWaiting).
  void RejectUndecodableAsync(const Caller& caller, Action action,
                              absl::string_view detail,
                              absl::AnyInvocable<void(absl::Status)> done);

  // Inside a change's transaction: judges the caller's party and
  // certificate again as committed now, so that a suspension or revocation
  // committed since Begin applies to this very change.
  absl::Status Recheck(WriteTransaction& txn, const Call& call);

  // Runs `write` in one transaction with the call's audit entry (ALLOWED),
  // after Recheck.
  // If `write` refuses (returns an error), whatever it wrote is rolled back
  // and the refusal is recorded on its own; a storage fault becomes
  // UNAVAILABLE ("nothing changed").
  absl::Status WriteAudited(
      Call& call, absl::FunctionRef<absl::Status(WriteTransaction& txn)> write);

  // Marks `call.entry` with `outcome_of` (OK: allowed) for appending inside
  // the caller's own transaction.
  static void Settle(Call& call, const absl::Status& outcome_of);

  // Now, at the microsecond precision that is stored.
  absl::Time Now() const;

 private:
  absl::Status AppendEntry(const Call& call, absl::string_view consequence);
  // Settle for a refusal, with Refuse's `audit_reason`.
  static void SettleRefusal(Call& call, const absl::Status& status,
                            std::string audit_reason);
  absl::StatusOr<Call> Judge(const Caller& caller, Action action,
                             bool take_from_limit);
  Admission Examine(const Caller& caller, Action action, bool take_from_limit);

  Store& store_;
  AuditLog& audit_;
  const Clock& clock_;
  RateLimiter* limiter_ = nullptr;
};

// ALLOWED, DENIED, REJECTED or FAILED for a status code.
AuditOutcome OutcomeFor(absl::StatusCode code);

}  // namespace liaison

#endif  // LIAISON_DOMAIN_CALL_GATE_H_

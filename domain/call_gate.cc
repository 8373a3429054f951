#include "domain/call_gate.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace liaison {

AuditOutcome OutcomeFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return AuditOutcome::kAllowed;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return AuditOutcome::kDenied;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDeadlineExceeded:
      return AuditOutcome::kFailed;
    default:
      return AuditOutcome::kRejected;
  }
}

absl::Time CallGate::Now() const {
  return absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now()));
}

absl::StatusOr<Call> CallGate::Begin(const Caller& caller, Action action) {
  return Judge(caller, action, /*take_from_limit=*/true);
}

absl::StatusOr<Call> CallGate::Rejudge(const Caller& caller, Action action) {
  return Judge(caller, action, /*take_from_limit=*/false);
}

absl::StatusOr<Call> CallGate::Judge(const Caller& caller, Action action,
                                     bool take_from_limit) {
  Admission admission = Examine(caller, action, take_from_limit);
  if (!admission.refusal.has_value()) return std::move(admission.call);
  if (!admission.refusal->record) return admission.refusal->status;
  return Refuse(admission.call, std::move(admission.refusal->status));
}

Admission CallGate::BeginAsync(const Caller& caller, Action action) {
  return Examine(caller, action, /*take_from_limit=*/true);
}

Admission CallGate::Examine(const Caller& caller, Action action,
                            bool take_from_limit) {
  Admission verdict;
  Call& call = verdict.call;
  call.action = action;
  call.entry.time = Now();
  call.entry.action = std::string(ActionName(action));
  if (!caller.ok()) {
    verdict.refusal =
        PendingRefusal{absl::UnauthenticatedError(caller.status().message())};
    return verdict;
  }
  call.identity = *caller;
  call.entry.principal = call.identity.spiffe_id;
  call.entry.party = call.identity.party;
  call.entry.role = std::string(RoleName(call.identity.role));
  call.entry.user_id = call.identity.user_id;
  if (take_from_limit && limiter_ != nullptr) {
    RateLimiter::Verdict limited = limiter_->Take(call.entry);
    if (!limited.status.ok()) {
      // A flood is recorded once a second per user, with its count.
      verdict.refusal = PendingRefusal{std::move(limited.status), "",
                                       /*record=*/limited.audit};
      return verdict;
    }
  }

  absl::StatusOr<std::optional<Revocation>> revocation =
      store_.FindRevocation(call.identity.serial_hex, call.identity.Path());
  if (!revocation.ok()) {
    verdict.refusal = PendingRefusal{revocation.status()};
    return verdict;
  }
  absl::StatusOr<Party> party = store_.GetParty(call.identity.party);
  if (!party.ok() && !absl::IsNotFound(party.status())) {
    verdict.refusal = PendingRefusal{party.status()};
    return verdict;
  }
  if (party.ok()) call.party = *party;
  PolicyInput input;
  input.principal = call.identity;
  input.party = party.ok() ? &call.party : nullptr;
  input.revocation = revocation->has_value() ? &**revocation : nullptr;
  input.action = action;
  const Decision decision = Decide(input);
  if (!decision.allowed()) {
    verdict.refusal =
        PendingRefusal{absl::Status(decision.code, decision.reason)};
  }
  return verdict;
}

absl::Status CallGate::RecordRateLimited() {
  if (limiter_ == nullptr) return absl::OkStatus();
  const std::vector<AuditEntry> entries = limiter_->TakeUnaudited();
  if (entries.empty()) return absl::OkStatus();
  return store_.Write([&](WriteTransaction& txn) -> absl::Status {
    for (const AuditEntry& e : entries) {
      LIAISON_RETURN_IF_ERROR(audit_.Append(txn, e).status());
    }
    return absl::OkStatus();
  });
}

absl::Status CallGate::Recheck(WriteTransaction& txn, const Call& call) {
  absl::StatusOr<Party> party = txn.GetParty(call.identity.party);
  if (!party.ok() && !absl::IsNotFound(party.status())) return party.status();
  LIAISON_ASSIGN_OR_RETURN(
      std::optional<Revocation> revocation,
      txn.FindRevocation(call.identity.serial_hex, call.identity.Path()));
  PolicyInput input;
  input.principal = call.identity;
  input.party = party.ok() ? &*party : nullptr;
  input.revocation = revocation.has_value() ? &*revocation : nullptr;
  input.action = call.action;
  const Decision decision = Decide(input);
  if (!decision.allowed()) return absl::Status(decision.code, decision.reason);
  return absl::OkStatus();
}

absl::Status CallGate::WriteAudited(
    Call& call, absl::FunctionRef<absl::Status(WriteTransaction& txn)> write) {
  const absl::Status written =
      store_.Write([&](WriteTransaction& txn) -> absl::Status {
        LIAISON_RETURN_IF_ERROR(Recheck(txn, call));
        LIAISON_RETURN_IF_ERROR(write(txn));
        Settle(call, absl::OkStatus());
        return audit_.Append(txn, call.entry).status();
      });
  if (written.ok()) return absl::OkStatus();
  if (IsOutcomeUnknown(written)) {
    return Refuse(call, absl::UnavailableError(
                            "the connection to the database broke while the "
                            "change was committed: it may or may not have "
                            "been stored; check before repeating it"));
  }
  if (OutcomeFor(written.code()) == AuditOutcome::kFailed) {
    return Refuse(
        call, absl::UnavailableError("the change could not be stored; nothing "
                                     "changed, retry later"));
  }
  return Refuse(call, written);
}

void CallGate::Settle(Call& call, const absl::Status& outcome_of) {
  call.entry.outcome = OutcomeFor(outcome_of.code());
  call.entry.code = outcome_of.code();
  if (!outcome_of.ok()) call.entry.reason = std::string(outcome_of.message());
}

namespace {

// Nothing happens without an audit entry: a storage fault is reported, so
// that the client retries once the log can be written again.
absl::Status Unrecorded(const absl::Status& recorded,
                        absl::string_view consequence) {
  return absl::UnavailableError(
      absl::StrCat("the server cannot record this call (", recorded.message(),
                   "); ", consequence, ", retry later"));
}

}  // namespace

absl::Status CallGate::AppendEntry(const Call& call,
                                   absl::string_view consequence) {
  const absl::Status recorded = store_.Write([&](WriteTransaction& txn) {
    return audit_.Append(txn, call.entry).status();
  });
  if (!recorded.ok()) return Unrecorded(recorded, consequence);
  return absl::OkStatus();
}

void CallGate::SettleRefusal(Call& call, const absl::Status& status,
                             std::string audit_reason) {
  Settle(call, status);
  if (!audit_reason.empty()) {
    call.entry.outcome = AuditOutcome::kDenied;
    call.entry.reason = std::move(audit_reason);
  }
}

absl::Status CallGate::Refuse(Call& call, absl::Status status,
                              std::string audit_reason) {
  SettleRefusal(call, status, std::move(audit_reason));
  LIAISON_RETURN_IF_ERROR(AppendEntry(
      call, absl::StrCat("the call was refused: ", status.message())));
  return status;
}

void CallGate::RefuseAsync(Call call, PendingRefusal refusal,
                           absl::AnyInvocable<void(absl::Status)> done) {
  if (!refusal.record) {
    done(std::move(refusal.status));
    return;
  }
  SettleRefusal(call, refusal.status, std::move(refusal.audit_reason));
  store_.WriteAsync(
      [this, entry = std::move(call.entry)](WriteTransaction& txn) {
        return audit_.Append(txn, entry).status();
      },
      [status = std::move(refusal.status),
       done = std::move(done)](absl::Status recorded) mutable {
        if (!recorded.ok()) {
          done(Unrecorded(recorded, absl::StrCat("the call was refused: ",
                                                 status.message())));
          return;
        }
        done(std::move(status));
      });
}

absl::Status CallGate::RecordAllowed(
    Call& call, std::vector<std::string> resources,
    absl::FunctionRef<absl::Status(WriteTransaction&)> also) {
  Settle(call, absl::OkStatus());
  call.entry.resources = std::move(resources);
  const absl::Status recorded = store_.Write([&](WriteTransaction& txn) {
    LIAISON_RETURN_IF_ERROR(also(txn));
    return audit_.Append(txn, call.entry).status();
  });
  if (!recorded.ok()) return Unrecorded(recorded, "nothing was disclosed");
  return absl::OkStatus();
}

namespace {

absl::Status Undecodable(absl::string_view detail) {
  return absl::InvalidArgumentError(
      absl::StrCat("the request could not be decoded (", detail,
                   "); text fields must be valid UTF-8"));
}

}  // namespace

absl::Status CallGate::RejectUndecodable(const Caller& caller, Action action,
                                         absl::string_view detail) {
  LIAISON_ASSIGN_OR_RETURN(Call call, Begin(caller, action));
  return Refuse(call, Undecodable(detail));
}

void CallGate::RejectUndecodableAsync(
    const Caller& caller, Action action, absl::string_view detail,
    absl::AnyInvocable<void(absl::Status)> done) {
  Admission admission = BeginAsync(caller, action);
  RefuseAsync(std::move(admission.call),
              admission.refusal.has_value()
                  ? *std::move(admission.refusal)
                  : PendingRefusal(Undecodable(detail)),
              std::move(done));
}

}  // namespace liaison

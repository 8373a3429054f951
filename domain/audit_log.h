// Where the domain records what happened (design §6).
#ifndef LIAISON_DOMAIN_AUDIT_LOG_H_
#define LIAISON_DOMAIN_AUDIT_LOG_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "domain/model.h"
#include "domain/store.h"

namespace liaison {

// Appends entries inside the store transaction of the change they record, so
// a change and its entry commit together or not at all.
class AuditLog {
 public:
  virtual ~AuditLog() = default;

  // Returns the entry's position (1-based). Errors are the store's.
  virtual absl::StatusOr<int64_t> Append(WriteTransaction& txn,
                                         const AuditEntry& entry) = 0;
};

// The audit log kept in the Store's append-only audit table, one row per
// entry with its deterministic leaf encoding.
class StoreAuditLog final : public AuditLog {
 public:
  // liaison::AuditLog
  absl::StatusOr<int64_t> Append(WriteTransaction& txn,
                                 const AuditEntry& entry) override {
    return txn.AppendAudit(entry);
  }
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_AUDIT_LOG_H_

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

// The audit log kept in the Store: one append-only row per entry, and the
// Merkle tree over the entries' leaves (RFC 9162) as stored complete
// subtrees, so an append reads and writes O(log n) nodes.
class StoreAuditLog final : public AuditLog {
 public:
  // liaison::AuditLog
  absl::StatusOr<int64_t> Append(WriteTransaction& txn,
                                 const AuditEntry& entry) override;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_AUDIT_LOG_H_

#include "domain/audit_log.h"

#include "common/status_macros.h"
#include "domain/merkle.h"

namespace liaison {

absl::StatusOr<int64_t> StoreAuditLog::Append(WriteTransaction& txn,
                                              const AuditEntry& entry) {
  LIAISON_ASSIGN_OR_RETURN(const int64_t size, txn.AuditSize());
  LIAISON_ASSIGN_OR_RETURN(
      std::vector<merkle::Node> nodes,
      merkle::NodesForAppend(
          static_cast<uint64_t>(size), merkle::LeafHash(EncodeAuditLeaf(entry)),
          [&txn](int level, uint64_t index) {
            return txn.AuditNode(level, static_cast<int64_t>(index));
          }));
  return txn.AppendAudit(entry, nodes);
}

}  // namespace liaison

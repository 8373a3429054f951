// The roster of parties a new deployment starts with (`--parties=FILE`).
//
// File format, one party per line; `#` starts a comment; fields separated by
// spaces or tabs, the name is the rest of the line:
//   CODE  TIER  CEILING  AGREEMENT  NAME...
// TIER is MEMBER_STATE, OPERATIONAL_PARTNER or OBSERVER; CEILING a
// classification; AGREEMENT `in-force`, `lapsed` or `-` (not applicable).
// Every party starts ACTIVE.
#ifndef LIAISON_DOMAIN_ROSTER_H_
#define LIAISON_DOMAIN_ROSTER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "domain/audit_log.h"
#include "domain/model.h"
#include "domain/store.h"

namespace liaison {

// INVALID_ARGUMENT naming the line and field for any malformed line or a
// duplicate code.
absl::StatusOr<std::vector<Party>> ParseRoster(absl::string_view text);

// Registers `parties` in one audited transaction if the store has no parties
// yet; returns how many were registered (0 if the store already had some).
absl::StatusOr<int> SeedRoster(Store& store, AuditLog& audit,
                               const Clock& clock,
                               const std::vector<Party>& parties);

}  // namespace liaison

#endif  // LIAISON_DOMAIN_ROSTER_H_

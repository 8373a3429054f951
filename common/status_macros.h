// Early-return helpers for absl::Status, which this Abseil (20220623) lacks.
#ifndef LIAISON_COMMON_STATUS_MACROS_H_
#define LIAISON_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LIAISON_STATUS_CONCAT_INNER_(a, b) a##b
#define LIAISON_STATUS_CONCAT_(a, b) LIAISON_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define LIAISON_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status liaison_status_ = (expr);           \
    if (!liaison_status_.ok()) return liaison_status_; \
  } while (0)

// `LIAISON_ASSIGN_OR_RETURN(auto x, F());` declares or assigns `x` from the
// value of an absl::StatusOr, or returns its status from the enclosing
// function.
#define LIAISON_ASSIGN_OR_RETURN(lhs, rexpr) \
  LIAISON_ASSIGN_OR_RETURN_IMPL_(            \
      LIAISON_STATUS_CONCAT_(liaison_statusor_, __LINE__), lhs, rexpr)

#define LIAISON_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // LIAISON_COMMON_STATUS_MACROS_H_

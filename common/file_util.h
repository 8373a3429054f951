// Small filesystem helpers shared by server, client and tools.
#ifndef LIAISON_COMMON_FILE_UTIL_H_
#define LIAISON_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison {

// Reads a whole file. NOT_FOUND if it does not exist, PERMISSION_DENIED if it
// cannot be opened, FAILED_PRECONDITION if it is larger than `max_bytes`.
absl::StatusOr<std::string> ReadFile(absl::string_view path,
                                     size_t max_bytes = 64 << 20);

}  // namespace liaison

#endif  // LIAISON_COMMON_FILE_UTIL_H_

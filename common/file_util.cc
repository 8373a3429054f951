#include "common/file_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace liaison {

absl::StatusOr<std::string> ReadFile(absl::string_view path, size_t max_bytes) {
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) {
    const int err = errno;
    const std::string what =
        absl::StrCat("cannot open ", path, ": ", std::strerror(err));
    return err == ENOENT ? absl::NotFoundError(what)
                         : absl::PermissionDeniedError(what);
  }
  std::string data;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof(buffer)) || in.gcount() > 0) {
    data.append(buffer, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is larger than ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat("error reading ", path));
  }
  return data;
}

}  // namespace liaison

// Command-line flags are documented with dashes (--data-dir); Abseil flag
// names are identifiers (data_dir). Programs accept both.
#ifndef LIAISON_COMMON_FLAG_NAMES_H_
#define LIAISON_COMMON_FLAG_NAMES_H_

#include <string>
#include <vector>

namespace liaison {

// `argv` with dashes in flag names (before any '=') turned into
// underscores; values, positional arguments and everything after "--" are
// kept as they are.
std::vector<std::string> NormalizeFlagNames(int argc, char** argv);

}  // namespace liaison

#endif  // LIAISON_COMMON_FLAG_NAMES_H_

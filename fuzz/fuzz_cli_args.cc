// Fuzz target: the `liaison` command line (arguments split at NUL bytes),
// with no environment: everything up to connecting is exercised, nothing
// connects.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "client/cli.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args =
      absl::StrSplit(input, absl::ByChar('\0'), absl::SkipEmpty());
  // Never write files, never wait on the network: output paths go nowhere
  // and any connection is refused at once.
  for (std::string& arg : args) {
    if (arg.rfind("--out", 0) == 0) arg = "--out=/dev/null";
    if (arg.rfind("--server", 0) == 0) arg = "--server=127.0.0.1:1";
  }
  std::ostringstream out;
  std::ostringstream err;
  (void)liaison::client::RunCli(
      args, out, err,
      [](const std::string&) -> std::optional<std::string> {
        return std::nullopt;
      },
      false);
  return 0;
}

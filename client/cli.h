// The `liaison` command line as a library: main() only wires argv, the
// environment and the standard streams to RunCli, and tests run commands
// in-process against a real server.
#ifndef LIAISON_CLIENT_CLI_H_
#define LIAISON_CLIENT_CLI_H_

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace liaison::client {

// Exit codes of `liaison`, documented in `liaison --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,      // The server refused or failed the call.
  kExitUsage = 2,        // Bad command line.
  kExitLocal = 3,        // A local file (certificate, key, body) is unusable.
  kExitUnavailable = 4,  // Server unreachable or busy; safe to retry.
};

// Looks up an environment variable; injectable so tests never touch the
// process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The real process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

// Runs one invocation; `args` excludes the program name. Output goes to
// `out`, diagnostics to `err`. Returns an ExitCode.
// `interactive`: `err` is a terminal, so long transfers show progress.
int RunCli(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err, const EnvLookup& env = ProcessEnv,
           bool interactive = false);

}  // namespace liaison::client

#endif  // LIAISON_CLIENT_CLI_H_

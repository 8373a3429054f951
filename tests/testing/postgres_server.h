// A throwaway PostgreSQL server for the tests of one process: a new cluster
// (initdb) in a fresh directory under TMPDIR, started on a free loopback
// port with fsync off, reachable as the superuser `liaison` without a
// password. Destruction stops it and removes the directory; a watchdog
// process does the same if the test process dies first (a crash, a ctest
// timeout), so no server outlives its test.
//
// The server binaries come from /usr/lib/postgresql/<version>/bin (Debian's
// `postgresql` package; deploy/install-deps.sh installs it). initdb and
// postgres refuse to run as root: as root, they run as the `postgres`
// system user, which then owns the directory. initdb is the slow part, and
// ctest starts a process per test: where the build defines
// LIAISON_POSTGRES_TEMPLATE_DIR, the first process keeps a copy of its
// fresh cluster there and later ones start from a copy of it.
//
// Not thread-safe, but for Query.
#ifndef LIAISON_TESTS_TESTING_POSTGRES_SERVER_H_
#define LIAISON_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace liaison::testing {

class PostgresServer {
 public:
  // Creates and starts a server. FAILED_PRECONDITION if the binaries or
  // the postgres user (when root) are missing; INTERNAL, with the command
  // and server logs, if it does not start.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();

  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgresql://liaison@127.0.0.1:PORT/DATABASE
  std::string Url(absl::string_view database) const;

  // Creates a new, empty database and returns its name (t_1, t_2, ...).
  absl::StatusOr<std::string> CreateDatabase();

  // Runs `sql` (one or more statements, no parameters) on `database` as
  // the superuser, on a connection of its own; returns the rows of the
  // last statement as text. The error's message is PostgreSQL's.
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(
      absl::string_view database, const std::string& sql) const;

  // The server's log so far.
  std::string Log() const;

 private:
  PostgresServer() = default;

  std::string bin_dir_;
  std::string dir_;  // Holds data/, the socket and the logs.
  int port_ = 0;
  bool running_ = false;
  int next_database_ = 1;
  // The watchdog's end of the pipe closes when this process ends.
  int watchdog_pipe_ = -1;
  pid_t watchdog_pid_ = -1;
};

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_POSTGRES_SERVER_H_

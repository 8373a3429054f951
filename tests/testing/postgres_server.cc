#include "tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace liaison::testing {
namespace {

// Whom the server's commands run as: this process's user, or the postgres
// system user when this process is root.
struct ServerUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

absl::StatusOr<ServerUser> FindServerUser() {
  ServerUser user;
  if (geteuid() != 0) return user;
  const struct passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    return absl::FailedPreconditionError(
        "running as root, and there is no `postgres` user to run the "
        "PostgreSQL server as (install the postgresql package: "
        "deploy/install-deps.sh)");
  }
  user.switch_user = true;
  user.uid = pw->pw_uid;
  user.gid = pw->pw_gid;
  return user;
}

// The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl.
absl::StatusOr<std::string> FindBinDir() {
  namespace fs = std::filesystem;
  std::vector<std::pair<int, std::string>> found;
  std::error_code error;
  for (fs::directory_iterator it("/usr/lib/postgresql", error), end;
       !error && it != end; it.increment(error)) {
    const fs::path bin = it->path() / "bin";
    int version = 0;
    if (absl::SimpleAtoi(it->path().filename().string(), &version) &&
        fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl")) {
      found.emplace_back(version, bin.string());
    }
  }
  if (found.empty()) {
    return absl::FailedPreconditionError(
        "no PostgreSQL server binaries (initdb, pg_ctl) in "
        "/usr/lib/postgresql/*/bin: install the postgresql package "
        "(deploy/install-deps.sh)");
  }
  std::sort(found.begin(), found.end());
  return found.back().second;
}

// Where a fresh cluster made by `bin_dir`'s initdb is kept between test
// processes, or "" for nowhere. Named by the server's major version: a
// cluster is tied to it.
std::string TemplateDir(const std::string& bin_dir) {
#ifdef LIAISON_POSTGRES_TEMPLATE_DIR
  return absl::StrCat(
      LIAISON_POSTGRES_TEMPLATE_DIR, "-",
      std::filesystem::path(bin_dir).parent_path().filename().string());
#else
  (void)bin_dir;
  return "";
#endif
}

// In a child just forked: becomes `user` if asked. Only async-signal-safe
// calls.
void BecomeServerUser(const ServerUser& user) {
  if (user.switch_user && (setgroups(0, nullptr) != 0 ||
                           setgid(user.gid) != 0 || setuid(user.uid) != 0)) {
    _exit(126);
  }
}

// Runs `argv` to completion as `user`, its output appended to `log`.
// Returns its exit code (128 + signal if killed, -1 if it could not fork).
int Run(const std::vector<std::string>& argv, const std::string& log,
        const ServerUser& user) {
  // Everything the child needs is prepared before fork: between fork and
  // exec a child of a threaded process may not allocate.
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    const int in = open("/dev/null", O_RDONLY);
    const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) _exit(125);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    BecomeServerUser(user);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A loopback port nobody listens on right now.
absl::StatusOr<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  const bool ok =
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0;
  close(fd);
  if (!ok) return absl::InternalError("no free loopback port");
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  LIAISON_ASSIGN_OR_RETURN(server->bin_dir_, FindBinDir());
  LIAISON_ASSIGN_OR_RETURN(const ServerUser user, FindServerUser());

  const char* base = std::getenv("TMPDIR");
  std::string dir =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
      "/liaison-pg-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp failed for ", dir));
  }
  server->dir_ = dir;
  if (user.switch_user && chown(dir.c_str(), user.uid, user.gid) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot give ", dir, " to the postgres user"));
  }
  const std::string data = dir + "/data";
  const std::string pg_ctl = server->bin_dir_ + "/pg_ctl";

  // The watchdog: a shell waiting for the end of this process (its stdin,
  // a pipe whose other end only this process holds: close-on-exec keeps
  // it from the server), which then stops the server and removes the
  // directory. In a session of its own, so that a Ctrl-C aimed at the test
  // does not take it down too.
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError("pipe2 failed");
  std::vector<std::string> watchdog_args = {
      "/bin/sh",
      "-c",
      "cat >/dev/null; \"$0\" -D \"$1\" -m immediate -w stop; rm -rf \"$2\"",
      pg_ctl,
      data,
      dir};
  std::vector<char*> watchdog_argv;
  for (std::string& arg : watchdog_args) watchdog_argv.push_back(arg.data());
  watchdog_argv.push_back(nullptr);
  const pid_t watchdog = fork();
  if (watchdog < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError("fork failed");
  }
  if (watchdog == 0) {
    const int null = open("/dev/null", O_RDWR);
    if (null < 0) _exit(125);
    dup2(fds[0], STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    setsid();
    BecomeServerUser(user);
    execv(watchdog_argv[0], watchdog_argv.data());
    _exit(127);
  }
  close(fds[0]);
  server->watchdog_pipe_ = fds[1];
  server->watchdog_pid_ = watchdog;

  const std::string commands_log = dir + "/commands.log";
  const std::string server_log = dir + "/server.log";
  // initdb takes most of the start-up time (about 1.8 s of 2.2 s here), and
  // ctest starts a process, hence a server, per test: the first process of
  // a build keeps a copy of its fresh cluster, later ones copy that.
  const std::string cache = TemplateDir(server->bin_dir_);
  const std::string copy = "/bin/cp";
  bool initialised = false;
  if (!cache.empty() &&
      std::filesystem::exists(std::filesystem::path(cache) / "PG_VERSION")) {
    // As this process's user: cp -a keeps the owner (postgres when root).
    initialised = Run({copy, "-a", cache, data}, commands_log, {}) == 0;
    if (!initialised) {
      std::error_code ignored;
      std::filesystem::remove_all(data, ignored);
    }
  }
  if (!initialised) {
    if (Run({server->bin_dir_ + "/initdb", "-D", data, "-A", "trust", "-U",
             "liaison", "--no-sync", "-E", "UTF8", "--locale=C",
             "--no-instructions"},
            commands_log, user) != 0) {
      return absl::InternalError(
          absl::StrCat("initdb failed:\n", ReadFile(commands_log)));
    }
    if (!cache.empty()) {
      // Whole or not at all: copied aside, then renamed into place (by one
      // process; the others' copies are dropped).
      const std::string aside = absl::StrCat(cache, ".tmp-", getpid());
      std::error_code ignored;
      if (Run({copy, "-a", data, aside}, commands_log, {}) != 0 ||
          rename(aside.c_str(), cache.c_str()) != 0) {
        std::filesystem::remove_all(aside, ignored);
      }
    }
  }
  // A port found free may be taken before the server binds it: try again
  // on another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    LIAISON_ASSIGN_OR_RETURN(const int port, FreePort());
    const std::string options =
        absl::StrCat("-c listen_addresses=127.0.0.1 -p ", port, " -k '", dir,
                     "' -c fsync=off -c full_page_writes=off");
    if (Run({pg_ctl, "-D", data, "-l", server_log, "-o", options, "-w", "-t",
             "60", "start"},
            commands_log, user) == 0) {
      server->port_ = port;
      server->running_ = true;
      return server;
    }
  }
  return absl::InternalError(absl::StrCat(
      "PostgreSQL did not start.\n--- commands ---\n", ReadFile(commands_log),
      "--- server log ---\n", ReadFile(server_log)));
}

PostgresServer::~PostgresServer() {
  if (running_) {
    absl::StatusOr<ServerUser> user = FindServerUser();
    if (user.ok()) {
      Run({bin_dir_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w",
           "stop"},
          dir_ + "/commands.log", *user);
    }
  }
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  if (watchdog_pipe_ >= 0) {
    close(watchdog_pipe_);  // The watchdog finds nothing left to do.
    waitpid(watchdog_pid_, nullptr, 0);
  }
}

std::string PostgresServer::Url(absl::string_view database) const {
  return absl::StrCat("postgresql://liaison@127.0.0.1:", port_, "/", database);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase() {
  const std::string name = absl::StrCat("t_", next_database_++);
  LIAISON_RETURN_IF_ERROR(
      Query("postgres", absl::StrCat("CREATE DATABASE ", name)).status());
  return name;
}

absl::StatusOr<std::vector<std::vector<std::string>>> PostgresServer::Query(
    absl::string_view database, const std::string& sql) const {
  const std::string conninfo =
      absl::StrCat("host=127.0.0.1 port=", port_,
                   " user=liaison dbname=", database, " connect_timeout=10");
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
      PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexec(conn.get(), sql.c_str()), &PQclear);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return absl::UnknownError(PQresultErrorMessage(result.get()));
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(result.get()); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(result.get()); ++j) {
      row.push_back(PQgetvalue(result.get(), i, j));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string PostgresServer::Log() const {
  return ReadFile(dir_ + "/server.log");
}

}  // namespace liaison::testing

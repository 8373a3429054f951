// liaisond as a child process, for tests that signal, kill and restart it.
#ifndef LIAISON_TESTS_TESTING_LIAISOND_PROCESS_H_
#define LIAISON_TESTS_TESTING_LIAISOND_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/client.h"

namespace liaison::testing {

// A liaisond child process (the binary at LIAISOND_PATH, given by the test's
// CMake target) with its stdout and stderr captured. Killed with SIGKILL on
// destruction if still running.
class Liaisond {
 public:
  explicit Liaisond(std::vector<std::string> args);
  ~Liaisond();
  Liaisond(const Liaisond&) = delete;
  Liaisond& operator=(const Liaisond&) = delete;

  // Reads output until the readiness line; returns the port, or 0 if the
  // process ended first (output() then says why).
  int WaitReady();
  // Sends `signal` and returns the exit status (as from waitpid).
  int Stop(int signal);
  // Waits for the process to end; returns the exit status.
  int Wait();
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  bool exited_ = false;
  std::string output_;
};

// The flags of a liaisond on `data_dir` with the shared test PKI, the
// example roster and the audit key, listening on a free port.
std::vector<std::string> LiaisondFlags(const std::string& data_dir);

// The port of the plaintext health listener (--health-listen) that a
// liaisond's output announces, 0 if none.
int HealthPort(const std::string& output);

// A unary call over plaintext to 127.0.0.1:`port` with an empty request;
// the response's bytes in `response` when it succeeds.
grpc::Status PlaintextCall(int port, const std::string& method,
                           std::string* response);

// grpc.health.v1.Health/Check on the plaintext health port: SERVING,
// NOT_SERVING, or an error.
absl::StatusOr<std::string> HealthStatus(int port);

// A client of the server on localhost:`port` as PARTY/ROLE/USER.
std::unique_ptr<client::Client> ConnectAs(int port, const std::string& party,
                                          const std::string& role,
                                          const std::string& user);

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_LIAISOND_PROCESS_H_

#include "tests/testing/liaisond_process.h"

#include <grpcpp/generic/generic_stub.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <regex>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_pki.h"

namespace liaison::testing {

Liaisond::Liaisond(std::vector<std::string> args) {
  int out[2];
  if (pipe(out) != 0) std::abort();
  pid_ = fork();
  if (pid_ == 0) {
    // Killed with the test if it dies first (an ASSERT that aborts, a ctest
    // timeout): no liaisond outlives its test. (Tied to the forking thread:
    // tests start their servers from the test's own thread.)
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    std::string binary = LIAISOND_PATH;
    argv.push_back(binary.data());
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  fd_ = out[0];
}

Liaisond::~Liaisond() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  close(fd_);
}

int Liaisond::WaitReady() {
  const std::regex ready("liaisond listening on 127\\.0\\.0\\.1:([0-9]+)\n");
  char buffer[4096];
  while (true) {
    std::smatch match;
    if (std::regex_search(output_, match, ready)) {
      return std::stoi(match[1]);
    }
    const ssize_t n = read(fd_, buffer, sizeof(buffer));
    if (n <= 0) return 0;
    output_.append(buffer, static_cast<size_t>(n));
  }
}

int Liaisond::Stop(int signal) {
  kill(pid_, signal);
  return Wait();
}

int Liaisond::Wait() {
  int status = 0;
  waitpid(pid_, &status, 0);
  exited_ = true;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd_, buffer, sizeof(buffer))) > 0) {
    output_.append(buffer, static_cast<size_t>(n));
  }
  return status;
}

std::vector<std::string> LiaisondFlags(const std::string& data_dir) {
  TestPki& pki = TestPki::Shared();
  return {"--listen=127.0.0.1:0",
          absl::StrCat("--data-dir=", data_dir),
          absl::StrCat("--tls-cert=", pki.server_cert()),
          absl::StrCat("--tls-key=", pki.server_key()),
          absl::StrCat("--tls-ca=", pki.ca()),
          "--trust-domain=selec.test",
          absl::StrCat("--parties=", SourcePath("deploy/parties.example")),
          absl::StrCat("--audit-key=", pki.audit_key())};
}

int HealthPort(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(
          output, m,
          std::regex("health checking \\(plaintext\\) on port (\\d+)"))) {
    return 0;
  }
  return std::stoi(m[1]);
}

grpc::Status PlaintextCall(int port, const std::string& method,
                           std::string* response) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer reply;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, method, {}, &request, &reply,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      done_cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  done_cv.wait(lock, [&] { return done; });
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    if (!reply.Dump(&slices).ok()) return grpc::Status(grpc::INTERNAL, "dump");
    response->clear();
    for (const grpc::Slice& slice : slices) {
      response->append(reinterpret_cast<const char*>(slice.begin()),
                       slice.size());
    }
  }
  return status;
}

absl::StatusOr<std::string> HealthStatus(int port) {
  std::string response;
  const grpc::Status status =
      PlaintextCall(port, "/grpc.health.v1.Health/Check", &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("health check: ", status.error_message()));
  }
  // HealthCheckResponse{status}: field 1, varint (1 SERVING, 2 NOT_SERVING).
  if (response == std::string("\x08\x01", 2)) return std::string("SERVING");
  if (response == std::string("\x08\x02", 2)) {
    return std::string("NOT_SERVING");
  }
  return absl::InternalError("health check: unexpected response");
}

std::unique_ptr<client::Client> ConnectAs(int port, const std::string& party,
                                          const std::string& role,
                                          const std::string& user) {
  TestPki& pki = TestPki::Shared();
  const CertPaths cert = pki.Issue(party, role, user);
  client::ClientOptions options;
  options.server = absl::StrCat("localhost:", port);
  options.ca = pki.ca();
  options.cert = cert.cert;
  options.key = cert.key;
  absl::StatusOr<std::unique_ptr<client::Client>> c =
      client::Client::Connect(options);
  if (!c.ok()) std::abort();
  return std::move(c).value();
}

}  // namespace liaison::testing

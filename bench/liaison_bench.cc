// liaison-bench: what durable messaging costs against bare gRPC (issue 7).
//
// In one run, on one machine, over the same mutual TLS:
//   - the baseline: a bare gRPC echo service (bench/echo.proto) that does no
//     work of its own, with requests and responses the size of SendMessage's;
//   - liaisond's durable Exchange.SendMessage: policy, store, audit entry,
//     committed with synchronous=FULL before it is acknowledged;
// each driven by 1, 8 and 32 concurrent callers (a channel each), printing
// calls per second, p50/p99/p999 latency, server CPU per call and the ratio
// send/echo, with echo and send alternating in slices within each round.
// Then the time from a send to its delivery on a live Subscribe
// stream, and inbox paging with 10^4 and 10^6 messages stored.
//
// Both servers run as their own processes (liaisond from the build, the echo
// server as this program with --serve-echo); the callers run here, so client
// and servers share the machine's cores, as the figures in
// docs/performance.md say.
//
//   liaison-bench [--callers=1,8,32] [--duration=5s] [--warmup=1s] [--rounds=3]
//                 [--slices=5] [--inbox-sizes=10000,1000000] [--dir=/tmp]
//                 [--target=HOST:PORT --pki=DIR]
//                 [--store=postgres://... --replicas=N]
//
// With --store, liaisond runs on that PostgreSQL database, as N replicas
// (callers spread over them; the delivery sample sends through the first
// and subscribes on the last).
#include <grpcpp/grpcpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/echo.grpc.pb.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/flag_names.h"
#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "domain/audit_log.h"
#include "domain/message_id.h"
#include "domain/model.h"
#include "domain/roster.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "store/open_store.h"

ABSL_FLAG(std::string, callers, "1,8,32", "concurrent callers per point");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(5), "measured time a point");
ABSL_FLAG(int32_t, rounds, 3,
          "rounds of echo then send at each caller count (the machine's "
          "noise shows between them; medians are printed)");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1),
          "unmeasured time before the first slice of echo and of send in "
          "each round (later slices: 100 ms, or less if this is less)");
ABSL_FLAG(int32_t, slices, 5,
          "each round alternates echo and send this many times, --duration "
          "divided among them (at least 100 ms a slice), so that both meet "
          "the machine in the same state; 1: echo for --duration, then "
          "send");
ABSL_FLAG(int32_t, body_bytes, 1024, "body of each message sent");
ABSL_FLAG(std::string, inbox_sizes, "10000,1000000",
          "stored messages at which inbox paging is timed; empty: skip");
ABSL_FLAG(int32_t, delivery_samples, 200,
          "messages timed from send to delivery on a live stream; 0: skip");
ABSL_FLAG(std::string, dir, "/tmp",
          "where the run's directory (data, PKI) is made; removed at the end");
ABSL_FLAG(bool, keep, false, "keep the run's directory");
ABSL_FLAG(std::string, pki, "",
          "a PKI made by certs/dev-pki.sh (default: made in --dir)");
ABSL_FLAG(std::string, target, "",
          "HOST:PORT of a running liaisond (its CA in --pki, rate limit "
          "off) instead of starting one; inbox paging is then skipped");
ABSL_FLAG(
    std::string, store, "",
    "a PostgreSQL URL: start --replicas liaisond processes on it (callers "
    "spread over them) instead of one on SQLite; inbox paging is then "
    "skipped");
ABSL_FLAG(int32_t, replicas, 1, "liaisond processes to start with --store");
ABSL_FLAG(std::string, liaisond, LIAISOND_PATH, "the liaisond binary");
ABSL_FLAG(bool, serve_echo, false,
          "internal: serve the echo baseline with --pki and print its port");

namespace liaison::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

absl::Status Run(const std::string& command) {
  const std::string quiet = command + " >/dev/null 2>&1";
  if (std::system(quiet.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("command failed: ", command));
  }
  return absl::OkStatus();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// A development PKI (certs/dev-pki.sh) and the bench's client certificates.
struct Pki {
  std::string dir;
  std::string File(const std::string& name) const {
    return absl::StrCat(dir, "/", name);
  }
  TlsFiles Server() const {
    return {File("server.crt"), File("server.key"), File("ca.crt")};
  }
  // PARTY/ROLE/bench's certificate, issued on first use.
  absl::StatusOr<TlsFiles> User(const std::string& party,
                                const std::string& role) const {
    const std::string name = absl::StrCat(party, "-", role, "-bench");
    if (!Exists(File(name + ".crt"))) {
      LIAISON_RETURN_IF_ERROR(
          Run(absl::StrCat("bash ", Quote(LIAISON_SOURCE_DIR "/certs/issue.sh"),
                           " ", Quote(dir), " ", party, " ", role, " bench")));
    }
    return TlsFiles{File(name + ".crt"), File(name + ".key"), File("ca.crt")};
  }
};

absl::StatusOr<Pki> PreparePki(const std::string& dir) {
  Pki pki{dir};
  if (!Exists(pki.File("ca.crt"))) {
    LIAISON_RETURN_IF_ERROR(
        Run(absl::StrCat("bash ", Quote(LIAISON_SOURCE_DIR "/certs/dev-pki.sh"),
                         " ", Quote(dir))));
  }
  return pki;
}

// A server process with its output read through a pipe; killed if still
// running when destroyed.
class Child {
 public:
  static absl::StatusOr<std::unique_ptr<Child>> Start(
      const std::string& binary, std::vector<std::string> args) {
    // Built before fork(): the child of a threaded process may only make
    // async-signal-safe calls (no allocation) until it execs.
    std::string program = binary;
    std::vector<char*> argv;
    argv.push_back(program.data());
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2];
    if (pipe(out) != 0) return absl::InternalError("pipe failed");
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
      close(out[0]);
      close(out[1]);
      return absl::InternalError("fork failed");
    }
    if (pid == 0) {
      // Dies with the benchmark: a liaison-bench that is killed leaves no
      // server running on its data directory or its port. (The signal is
      // sent when the thread that forked ends: this is the main thread.)
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(out[1], STDOUT_FILENO);
      dup2(out[1], STDERR_FILENO);
      close(out[0]);
      close(out[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    return std::unique_ptr<Child>(new Child(pid, out[0]));
  }

  ~Child() {
    if (!exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
  }

  // The first group of `ready` once the output matches it.
  absl::StatusOr<std::string> WaitFor(const std::regex& ready,
                                      absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (true) {
      std::smatch match;
      if (std::regex_search(output_, match, ready)) return match[1].str();
      pollfd p{fd_, POLLIN, 0};
      const int ms = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now())));
      char buffer[4096];
      if (poll(&p, 1, ms) <= 0) {
        return absl::DeadlineExceededError(
            absl::StrCat("not ready in time; output:\n", output_));
      }
      const ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n <= 0) {
        return absl::UnavailableError(
            absl::StrCat("ended before it was ready; output:\n", output_));
      }
      output_.append(buffer, static_cast<size_t>(n));
    }
  }

  // Sends SIGTERM and waits; true if the process exited 0.
  bool Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

  // User plus system CPU time the process has used so far.
  absl::Duration CpuTime() const {
    std::ifstream in(absl::StrCat("/proc/", pid_, "/stat"));
    std::string line;
    std::getline(in, line);
    // Fields after the command name, which ends with the last ')'.
    const size_t close_paren = line.rfind(')');
    if (close_paren == std::string::npos) return absl::ZeroDuration();
    std::vector<std::string> fields =
        absl::StrSplit(line.substr(close_paren + 2), ' ');
    int64_t utime = 0, stime = 0;
    if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
        !absl::SimpleAtoi(fields[12], &stime)) {
      return absl::ZeroDuration();
    }
    return absl::Seconds(static_cast<double>(utime + stime) /
                         static_cast<double>(sysconf(_SC_CLK_TCK)));
  }

 private:
  Child(pid_t pid, int fd) : pid_(pid), fd_(fd) {}

  const pid_t pid_;
  const int fd_;
  bool exited_ = false;
  std::string output_;
};

// --serve-echo: the baseline server, as liaisond would serve it.
class EchoService final : public Echo::Service {
  grpc::Status Echo(grpc::ServerContext*, const EchoRequest* request,
                    EchoResponse* response) override {
    const size_t n =
        std::min(request->payload().size(),
                 static_cast<size_t>(std::max(0, request->reply_bytes())));
    response->set_payload(request->payload().substr(0, n));
    return grpc::Status::OK;
  }
};

int ServeEcho(const Pki& pki) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
      MakeServerCredentials(pki.Server());
  if (!credentials.ok()) {
    std::cerr << "echo: " << credentials.status() << "\n";
    return 1;
  }
  EchoService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
  builder.RegisterService(&service);
  // gRPC's default threading, its best for handlers that never block:
  // liaisond keeps more handler threads (server/liaison_server.cc) because
  // its handlers wait for their commit; that setting makes this echo slower
  // (docs/performance.md), so it is not used for the baseline.
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return 1;
  std::cout << "echo listening on 127.0.0.1:" << port << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown();
  return 0;
}

// A channel of its own (not shared with other callers' channels).
absl::StatusOr<std::shared_ptr<grpc::Channel>> NewChannel(
    const std::string& address, const TlsFiles& files) {
  LIAISON_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> creds,
                           MakeChannelCredentials(files));
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(address, creds, args);
}

// The CPU time of this process: the callers, all threads.
absl::Duration SelfCpuTime() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

// The machine's CPU time summed over its cores, from /proc/stat's first
// line: busy is user, nice, system, irq and softirq time; steal is time the
// hypervisor gave a waiting virtual core to something else (no work done
// here); all adds idle and iowait to both.
struct MachineCpu {
  absl::Duration busy;
  absl::Duration steal;
  absl::Duration all;
};

MachineCpu ReadMachineCpu() {
  std::ifstream in("/proc/stat");
  std::string line;
  std::getline(in, line);  // "cpu  user nice system idle iowait irq ..."
  std::vector<std::string> fields =
      absl::StrSplit(line, ' ', absl::SkipEmpty());
  MachineCpu cpu;
  const double tick = 1.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  // Fields 1-8; guest time (9, 10) is already counted in user and nice.
  for (size_t i = 1; i < fields.size() && i <= 8; ++i) {
    int64_t ticks = 0;
    if (!absl::SimpleAtoi(fields[i], &ticks)) continue;
    const absl::Duration d = absl::Seconds(static_cast<double>(ticks) * tick);
    cpu.all += d;
    if (i == 8) {
      cpu.steal += d;
    } else if (i != 4 && i != 5) {
      cpu.busy += d;
    }
  }
  return cpu;
}

// Latencies of one load point.
struct LoadResult {
  int64_t calls = 0;
  int64_t errors = 0;
  std::string first_error;
  double seconds = 0;
  absl::Duration server_cpu;
  absl::Duration client_cpu;
  bool servers_measured = false;
  MachineCpu machine;
  std::vector<double> micros;

  double Qps() const { return seconds > 0 ? calls / seconds : 0; }
  double PercentileMs(double p) {
    if (micros.empty()) return 0;
    std::sort(micros.begin(), micros.end());
    const size_t i =
        std::min(micros.size() - 1, static_cast<size_t>(p * micros.size()));
    return micros[i] / 1000.0;
  }
  double CpuPerCallUs() const { return PerCallUs(server_cpu); }
  double PerCallUs(absl::Duration d) const {
    return calls > 0 ? absl::ToDoubleMicroseconds(d) / calls : 0;
  }
  // Where the machine's CPU went over the window, per call: the servers
  // (not measured with --target: then in "other" if it runs here), the
  // callers (this process), the other (kernel threads, interrupts, any
  // other process, such as PostgreSQL with --store), and the shares left
  // idle and stolen by the hypervisor.
  std::string CpuBreakdown() const {
    const absl::Duration other = machine.busy - server_cpu - client_cpu;
    auto share = [this](absl::Duration d) {
      return machine.all > absl::ZeroDuration()
                 ? 100.0 * absl::FDivDuration(d, machine.all)
                 : 0.0;
    };
    const std::string server =
        servers_measured
            ? absl::StrFormat("server %3.0f + ", PerCallUs(server_cpu))
            : "";
    return absl::StrFormat(
        "%scallers %3.0f + other %3.0f = %3.0f us; idle %2.0f%%, steal "
        "%2.0f%%",
        server, PerCallUs(client_cpu), PerCallUs(other),
        PerCallUs(machine.busy),
        share(machine.all - machine.busy - machine.steal),
        share(machine.steal));
  }
};

// Adds `part`, a later slice of the same point, to `total`.
void Merge(LoadResult& total, const LoadResult& part) {
  total.calls += part.calls;
  total.errors += part.errors;
  if (total.first_error.empty()) total.first_error = part.first_error;
  total.seconds += part.seconds;
  total.server_cpu += part.server_cpu;
  total.client_cpu += part.client_cpu;
  total.servers_measured = part.servers_measured;
  total.machine.busy += part.machine.busy;
  total.machine.steal += part.machine.steal;
  total.machine.all += part.machine.all;
  total.micros.insert(total.micros.end(), part.micros.begin(),
                      part.micros.end());
}

using CallFn = std::function<absl::Status()>;

// Runs `callers` threads, each calling its own CallFn back to back; counts
// the calls that end within the measured window after `warmup`.
LoadResult RunLoad(const std::vector<CallFn>& calls, absl::Duration warmup,
                   absl::Duration duration,
                   const std::vector<Child*>& servers) {
  auto server_cpu = [&servers] {
    absl::Duration sum;
    for (const Child* server : servers) sum += server->CpuTime();
    return sum;
  };
  LoadResult result;
  const SteadyClock::time_point start =
      SteadyClock::now() + std::chrono::milliseconds(50);
  const SteadyClock::time_point measure_from =
      start + absl::ToChronoMicroseconds(warmup);
  const SteadyClock::time_point measure_to =
      measure_from + absl::ToChronoMicroseconds(duration);
  absl::Mutex mu;
  std::vector<std::thread> threads;
  for (const CallFn& call : calls) {
    threads.emplace_back([&, call] {
      std::vector<double> mine;
      int64_t errors = 0;
      std::string first_error;
      std::this_thread::sleep_until(start);
      while (true) {
        const SteadyClock::time_point t0 = SteadyClock::now();
        if (t0 >= measure_to) break;
        const absl::Status status = call();
        const SteadyClock::time_point t1 = SteadyClock::now();
        // Calls that end in the window count, those begun before it too:
        // counting only calls that begin and end in it would drop about one
        // per caller at each edge, the slower ones most, and short slices
        // would favour the faster calls (the echo).
        if (t1 < measure_from || t1 > measure_to) continue;
        if (!status.ok()) {
          if (errors++ == 0) first_error = status.ToString();
          continue;
        }
        mine.push_back(
            std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
      absl::MutexLock lock(&mu);
      result.micros.insert(result.micros.end(), mine.begin(), mine.end());
      result.errors += errors;
      if (result.first_error.empty()) result.first_error = first_error;
    });
  }
  std::this_thread::sleep_until(measure_from);
  const absl::Duration cpu_before = server_cpu();
  const absl::Duration client_before = SelfCpuTime();
  const MachineCpu machine_before = ReadMachineCpu();
  std::this_thread::sleep_until(measure_to);
  const absl::Duration cpu_after = server_cpu();
  const absl::Duration client_after = SelfCpuTime();
  const MachineCpu machine_after = ReadMachineCpu();
  for (std::thread& t : threads) t.join();
  result.calls = static_cast<int64_t>(result.micros.size());
  result.seconds = absl::ToDoubleSeconds(duration);
  result.server_cpu = cpu_after - cpu_before;
  result.client_cpu = client_after - client_before;
  result.servers_measured = !servers.empty();
  result.machine = {machine_after.busy - machine_before.busy,
                    machine_after.steal - machine_before.steal,
                    machine_after.all - machine_before.all};
  return result;
}

// The message every sender sends: ROUTINE, UNCLASSIFIED, H0.
v1::SendMessageRequest SendTemplate(const std::string& to, int body_bytes) {
  v1::SendMessageRequest r;
  r.add_recipients(to);
  r.set_kind(v1::MESSAGE_KIND_SPONTANEOUS);
  r.set_subject("Benchmark: vehicle seen crossing at Nadlac");
  r.set_body(std::string(static_cast<size_t>(body_bytes), 'x'));
  r.set_priority(v1::PRIORITY_ROUTINE);
  r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
  r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
  return r;
}

std::string Ms(double ms) { return absl::StrFormat("%.2f", ms); }

// Everything one run needs to reach the servers.
struct Setup {
  Pki pki;
  // The liaisond replicas; callers are spread over them in turn.
  std::vector<std::string> liaison_addresses;
  std::string echo_address;
  std::vector<Child*> liaisonds;  // Empty with --target.
  Child* echo = nullptr;
  int body_bytes = 1024;
};

// Idempotency keys of the senders: one series per run, point and caller.
std::string SendKey(const std::string& run, int point, int caller, int64_t i) {
  return absl::StrFormat("bench-%s-%02d-%03d-%010d", run, point, caller, i);
}

absl::StatusOr<std::vector<CallFn>> EchoCallers(const Setup& setup, int n,
                                                const std::string& run) {
  LIAISON_ASSIGN_OR_RETURN(TlsFiles files,
                           setup.pki.User("RO", "liaison-officer"));
  v1::SendMessageRequest send = SendTemplate("HU", setup.body_bytes);
  send.set_idempotency_key(SendKey(run, n, 0, 0));
  v1::SendMessageResponse reply;
  reply.set_message_id("01M8A0JVYA5W2Y9FDFSG8YF8DM");
  reply.mutable_created_at()->set_seconds(1764000000);
  reply.mutable_created_at()->set_nanos(123456000);
  EchoRequest request;
  request.set_payload(std::string(send.ByteSizeLong(), 'e'));
  request.set_reply_bytes(static_cast<int32_t>(reply.ByteSizeLong()) - 2);
  std::vector<CallFn> calls;
  for (int i = 0; i < n; ++i) {
    LIAISON_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                             NewChannel(setup.echo_address, files));
    std::shared_ptr<Echo::Stub> stub = Echo::NewStub(channel);
    calls.push_back([stub, request]() {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
      EchoResponse response;
      return FromGrpcStatus(stub->Echo(&context, request, &response));
    });
  }
  return calls;
}

absl::StatusOr<std::vector<CallFn>> SendCallers(const Setup& setup, int n,
                                                const std::string& run) {
  LIAISON_ASSIGN_OR_RETURN(TlsFiles files,
                           setup.pki.User("RO", "liaison-officer"));
  const v1::SendMessageRequest request = SendTemplate("HU", setup.body_bytes);
  std::vector<CallFn> calls;
  for (int i = 0; i < n; ++i) {
    LIAISON_ASSIGN_OR_RETURN(
        std::shared_ptr<grpc::Channel> channel,
        NewChannel(setup.liaison_addresses[i % setup.liaison_addresses.size()],
                   files));
    std::shared_ptr<v1::Exchange::Stub> stub = v1::Exchange::NewStub(channel);
    auto counter = std::make_shared<int64_t>(0);
    auto mine = std::make_shared<v1::SendMessageRequest>(request);
    calls.push_back([stub, mine, counter, run, n, i]() {
      v1::SendMessageRequest& request = *mine;
      request.set_idempotency_key(SendKey(run, n, i, (*counter)++));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
      v1::SendMessageResponse response;
      return FromGrpcStatus(stub->SendMessage(&context, request, &response));
    });
  }
  return calls;
}

// Waits until a server answers on every caller's channel.
absl::Status WarmUp(const std::vector<CallFn>& calls) {
  for (const CallFn& call : calls) {
    absl::Status status;
    for (int attempt = 0; attempt < 50; ++attempt) {
      status = call();
      if (status.ok()) break;
      absl::SleepFor(absl::Milliseconds(100));
    }
    LIAISON_RETURN_IF_ERROR(status);
  }
  return absl::OkStatus();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

absl::Status Throughput(const Setup& setup, const std::vector<int>& callers,
                        int rounds, int slices, absl::Duration warmup,
                        absl::Duration duration) {
  std::cout << "\n== Throughput: durable Exchange.SendMessage against a bare "
               "gRPC echo, same mTLS, "
            << absl::FormatDuration(duration) << " a point, " << rounds
            << " rounds of echo then send";
  if (slices > 1) {
    std::cout << ", each alternating them " << slices << " times ("
              << absl::FormatDuration(duration / slices) << " a slice)";
  }
  std::cout << "\n";
  std::cout << absl::StrFormat(
      "%-8s | %-47s | %-47s | %s\n", "callers",
      "echo: calls/s  p50 ms  p99 ms  p999 ms  cpu/call",
      "send: calls/s  p50 ms  p99 ms  p999 ms  cpu/call", "send/echo");
  const std::string run = absl::StrCat(absl::ToUnixMillis(absl::Now()));
  std::vector<std::string> summary;
  for (int n : callers) {
    LIAISON_ASSIGN_OR_RETURN(std::vector<CallFn> echo,
                             EchoCallers(setup, n, run));
    LIAISON_ASSIGN_OR_RETURN(std::vector<CallFn> send,
                             SendCallers(setup, n, run));
    LIAISON_RETURN_IF_ERROR(WarmUp(echo));
    LIAISON_RETURN_IF_ERROR(WarmUp(send));
    std::vector<double> echo_qps, send_qps, ratios;
    for (int round = 0; round < rounds; ++round) {
      // The first slice of each waits out --warmup; the callers of later
      // ones start again (RunLoad joins them), so 100 ms of lead-in lets
      // their calls fill the servers again before the window opens.
      LoadResult e, s;
      for (int slice = 0; slice < slices; ++slice) {
        const absl::Duration lead_in =
            slice == 0 ? warmup : std::min(warmup, absl::Milliseconds(100));
        Merge(e, RunLoad(echo, lead_in, duration / slices, {setup.echo}));
        Merge(s, RunLoad(send, lead_in, duration / slices, setup.liaisonds));
      }
      auto row = [](LoadResult& r) {
        return absl::StrFormat("%13.0f  %6s  %6s  %7s  %5.0f us", r.Qps(),
                               Ms(r.PercentileMs(0.5)),
                               Ms(r.PercentileMs(0.99)),
                               Ms(r.PercentileMs(0.999)), r.CpuPerCallUs());
      };
      const double ratio = e.Qps() > 0 ? s.Qps() / e.Qps() : 0;
      std::cout << absl::StrFormat("%-8d | %-47s | %-47s | %.2f\n", n, row(e),
                                   row(s), ratio);
      std::cout << absl::StrFormat(
          "  cpu/call  echo: %s\n            send: %s\n", e.CpuBreakdown(),
          s.CpuBreakdown());
      for (const LoadResult* r : {&e, &s}) {
        if (r->errors > 0) {
          // A point with failed calls measures something else.
          return absl::InternalError(absl::StrCat(
              r->errors, " calls failed, the first: ", r->first_error));
        }
      }
      echo_qps.push_back(e.Qps());
      send_qps.push_back(s.Qps());
      ratios.push_back(ratio);
    }
    summary.push_back(absl::StrFormat(
        "callers=%-3d echo %6.0f/s  send %6.0f/s  send/echo %.2f", n,
        Median(echo_qps), Median(send_qps), Median(ratios)));
  }
  std::cout << "cpu/call: the server process's user+system CPU time over the "
               "measured window, divided by the calls completed (the "
               "kernel's own writeback threads are not counted); the "
               "lines under it split the whole machine's CPU per call "
               "(/proc/stat): the server, the callers (this program), the "
               "other (kernel threads, interrupts, any other process), and "
               "the shares left idle and stolen by the hypervisor\n"
            << "medians of the rounds:\n";
  for (const std::string& line : summary) std::cout << "  " << line << "\n";
  return absl::OkStatus();
}

// Time from the start of a send to the event on the recipient's live stream.
absl::Status Delivery(const Setup& setup, int samples) {
  LIAISON_ASSIGN_OR_RETURN(TlsFiles sender_files,
                           setup.pki.User("RO", "liaison-officer"));
  LIAISON_ASSIGN_OR_RETURN(TlsFiles receiver_files,
                           setup.pki.User("BG", "focal-point"));
  LIAISON_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> sender_channel,
      NewChannel(setup.liaison_addresses.front(), sender_files));
  LIAISON_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> receiver_channel,
      NewChannel(setup.liaison_addresses.back(), receiver_files));
  std::unique_ptr<v1::Exchange::Stub> sender =
      v1::Exchange::NewStub(sender_channel);
  std::unique_ptr<v1::Exchange::Stub> receiver =
      v1::Exchange::NewStub(receiver_channel);

  // The receiver's latest event, so that the stream starts after it.
  int64_t cursor = 0;
  {
    grpc::ClientContext context;
    v1::SubscribeRequest request;
    request.set_cursor(0);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(500));
    std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
        receiver->Subscribe(&context, request);
    v1::Event event;
    while (reader->Read(&event)) cursor = event.seq();
  }

  absl::Mutex mu;
  std::map<std::string, SteadyClock::time_point> arrived;  // Guarded by mu.
  grpc::ClientContext stream_context;
  v1::SubscribeRequest subscribe;
  subscribe.set_cursor(cursor);
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader =
      receiver->Subscribe(&stream_context, subscribe);
  std::thread listener([&] {
    v1::Event event;
    while (reader->Read(&event)) {
      const SteadyClock::time_point now = SteadyClock::now();
      if (event.kind() != "MESSAGE") continue;
      absl::MutexLock lock(&mu);
      arrived.emplace(event.message_id(), now);
    }
  });

  v1::SendMessageRequest request = SendTemplate("BG", setup.body_bytes);
  const std::string run = absl::StrCat(absl::ToUnixMicros(absl::Now()));
  std::vector<std::pair<std::string, SteadyClock::time_point>> sent;
  absl::Status failed;
  // The first message only proves the stream is live; it is not timed.
  for (int i = 0; i <= samples && failed.ok(); ++i) {
    request.set_idempotency_key(absl::StrCat("bench-delivery-", run, "-", i));
    grpc::ClientContext context;
    v1::SendMessageResponse response;
    const SteadyClock::time_point t0 = SteadyClock::now();
    const grpc::Status status =
        sender->SendMessage(&context, request, &response);
    if (!status.ok()) {
      failed = FromGrpcStatus(status);
      break;
    }
    if (i == 0) {
      absl::MutexLock lock(&mu);
      auto delivered = [&] { return arrived.count(response.message_id()) > 0; };
      if (!mu.AwaitWithTimeout(absl::Condition(&delivered),
                               absl::Seconds(10))) {
        failed = absl::DeadlineExceededError("no delivery on the stream");
      }
      continue;
    }
    sent.emplace_back(response.message_id(), t0);
    absl::SleepFor(absl::Milliseconds(5));
  }
  // Let the last deliveries arrive.
  const absl::Time wait_until = absl::Now() + absl::Seconds(5);
  while (absl::Now() < wait_until) {
    {
      absl::MutexLock lock(&mu);
      if (arrived.size() >= sent.size() + 1) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  stream_context.TryCancel();
  listener.join();
  LIAISON_RETURN_IF_ERROR(failed);

  LoadResult latency;
  int64_t missing = 0;
  {
    absl::MutexLock lock(&mu);
    for (const auto& [id, t0] : sent) {
      auto it = arrived.find(id);
      if (it == arrived.end()) {
        ++missing;
        continue;
      }
      latency.micros.push_back(
          std::chrono::duration<double, std::micro>(it->second - t0).count());
    }
  }
  std::cout << "\n== Delivery: send start to MESSAGE event on the recipient's "
               "open Subscribe stream (idle server, one message every 5 ms)\n";
  std::cout << absl::StrFormat(
      "%d messages: p50 %s ms  p99 %s ms  max %s ms; %d not delivered\n",
      latency.micros.size(), Ms(latency.PercentileMs(0.5)),
      Ms(latency.PercentileMs(0.99)), Ms(latency.PercentileMs(1.0)), missing);
  return absl::OkStatus();
}

// Stores messages RO -> TR, `next`.. `to` - 1, in large transactions through
// the store's own write path (message, recipient, delivery event).
absl::Status SeedInbox(Store& store, int64_t next, int64_t to, int body_bytes) {
  SystemClock clock;
  MessageIdGenerator ids(clock);
  constexpr int64_t kPerTransaction = 10000;
  while (next < to) {
    const int64_t end = std::min(to, next + kPerTransaction);
    LIAISON_RETURN_IF_ERROR(store.Write([&](WriteTransaction& txn) {
      for (int64_t i = next; i < end; ++i) {
        Message m;
        m.id = ids.Next();
        m.idempotency_key = absl::StrCat("seed-", i);
        m.sender_party = "RO";
        m.sender_user = "seed";
        m.sender_role = Role::kLiaisonOfficer;
        m.recipients.push_back(Recipient{});
        m.recipients.back().party = "TR";
        m.subject = absl::StrCat("Seeded message ", i);
        m.body = std::string(static_cast<size_t>(body_bytes), 'x');
        m.created_at = clock.Now();
        m.content_digest = ContentDigest(m);
        LIAISON_RETURN_IF_ERROR(txn.InsertMessage(m));
        LIAISON_RETURN_IF_ERROR(txn.AppendEvent(
            {0, "TR", "MESSAGE", m.id, "SPONTANEOUS from RO", m.created_at}));
      }
      return absl::OkStatus();
    }));
    next = end;
  }
  return absl::OkStatus();
}

// `store`: --data-dir=DIR or --store=URL.
std::vector<std::string> LiaisondFlags(const Pki& pki,
                                       const std::string& store) {
  return {"--listen=127.0.0.1:0", store,
          absl::StrCat("--tls-cert=", pki.File("server.crt")),
          absl::StrCat("--tls-key=", pki.File("server.key")),
          absl::StrCat("--tls-ca=", pki.File("ca.crt")),
          absl::StrCat("--audit-key=", pki.File("audit-signing.key")),
          "--trust-domain=selec.test",
          "--parties=" LIAISON_SOURCE_DIR "/deploy/parties.example",
          // Load, not admission, is measured.
          "--rate-limit=0"};
}

absl::StatusOr<std::unique_ptr<Child>> StartLiaisond(const Pki& pki,
                                                     const std::string& store,
                                                     std::string& address) {
  LIAISON_ASSIGN_OR_RETURN(
      std::unique_ptr<Child> child,
      Child::Start(absl::GetFlag(FLAGS_liaisond), LiaisondFlags(pki, store)));
  LIAISON_ASSIGN_OR_RETURN(
      const std::string port,
      child->WaitFor(
          std::regex("liaisond listening on 127\\.0\\.0\\.1:([0-9]+)\n"),
          absl::Seconds(60)));
  address = absl::StrCat("127.0.0.1:", port);
  return child;
}

// Pages through TR's inbox as its officer would, at each stored size.
absl::Status InboxPaging(const Pki& pki, const std::string& dir,
                         std::vector<int64_t> sizes, int body_bytes) {
  std::sort(sizes.begin(), sizes.end());
  const std::string data_dir = absl::StrCat(dir, "/inbox");
  mkdir(data_dir.c_str(), 0700);
  LIAISON_ASSIGN_OR_RETURN(TlsFiles files, pki.User("TR", "liaison-officer"));
  std::cout << "\n== Inbox paging: TR's inbox holding N messages "
               "(ListInbox, newest first, through the page tokens)\n";
  int64_t stored = 0;
  for (int64_t size : sizes) {
    {
      LIAISON_ASSIGN_OR_RETURN(
          std::unique_ptr<Store> store,
          OpenStore(absl::StrCat("sqlite:", data_dir, "/liaison.db")));
      if (stored == 0) {
        StoreAuditLog audit;
        SystemClock clock;
        LIAISON_ASSIGN_OR_RETURN(
            std::string text,
            ReadFile(LIAISON_SOURCE_DIR "/deploy/parties.example"));
        LIAISON_ASSIGN_OR_RETURN(std::vector<Party> roster, ParseRoster(text));
        LIAISON_RETURN_IF_ERROR(
            SeedRoster(*store, audit, clock, roster).status());
      }
      const absl::Time seed_start = absl::Now();
      LIAISON_RETURN_IF_ERROR(SeedInbox(*store, stored, size, body_bytes));
      std::cout << absl::StrFormat(
          "seeded %d messages in %.1f s\n", size - stored,
          absl::ToDoubleSeconds(absl::Now() - seed_start));
      stored = size;
    }
    std::string address;
    LIAISON_ASSIGN_OR_RETURN(
        std::unique_ptr<Child> server,
        StartLiaisond(pki, absl::StrCat("--data-dir=", data_dir), address));
    LIAISON_ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                             NewChannel(address, files));
    std::unique_ptr<v1::Exchange::Stub> stub = v1::Exchange::NewStub(channel);
    auto list = [&](int page_size, const std::string& token,
                    v1::ListInboxResponse& response) -> absl::Status {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(60));
      v1::ListInboxRequest request;
      request.set_page_size(page_size);
      request.set_page_token(token);
      return FromGrpcStatus(stub->ListInbox(&context, request, &response));
    };
    // Walk every page of 500, twice: the first listing records the delivery
    // receipts of what it shows; the second finds them recorded.
    for (int walk = 0; walk < 2; ++walk) {
      LoadResult pages;
      int64_t listed = 0;
      std::string token;
      const SteadyClock::time_point start = SteadyClock::now();
      do {
        v1::ListInboxResponse response;
        const SteadyClock::time_point t0 = SteadyClock::now();
        LIAISON_RETURN_IF_ERROR(list(500, token, response));
        pages.micros.push_back(
            std::chrono::duration<double, std::micro>(SteadyClock::now() - t0)
                .count());
        listed += response.messages_size();
        token = response.next_page_token();
      } while (!token.empty());
      const double total =
          std::chrono::duration<double>(SteadyClock::now() - start).count();
      const double first = pages.micros.front() / 1000;
      const double last = pages.micros.back() / 1000;
      std::cout << absl::StrFormat(
          "N=%-8d %s walk: %d pages of 500 (%d messages) in %.2f s; page p50 "
          "%s ms  p99 %s ms; first page %s ms, last (oldest) page %s ms\n",
          size, walk == 0 ? "first" : "second", pages.micros.size(), listed,
          total, Ms(pages.PercentileMs(0.5)), Ms(pages.PercentileMs(0.99)),
          Ms(first), Ms(last));
      if (listed != size) {
        return absl::InternalError(
            absl::StrCat("listed ", listed, " of ", size, " stored messages"));
      }
    }
    LoadResult first_pages;
    for (int i = 0; i < 200; ++i) {
      v1::ListInboxResponse response;
      const SteadyClock::time_point t0 = SteadyClock::now();
      LIAISON_RETURN_IF_ERROR(list(50, "", response));
      first_pages.micros.push_back(
          std::chrono::duration<double, std::micro>(SteadyClock::now() - t0)
              .count());
    }
    std::cout << absl::StrFormat(
        "N=%-8d first page of 50, 200 times: p50 %s ms  p99 %s ms\n", size,
        Ms(first_pages.PercentileMs(0.5)), Ms(first_pages.PercentileMs(0.99)));
    if (!server->Stop()) return absl::InternalError("liaisond did not exit 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> ParseList(const std::string& text) {
  std::vector<int64_t> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", part, "' is not a positive number"));
    }
    values.push_back(v);
  }
  return values;
}

int Bench(const std::string& self, const std::string& dir,
          const std::string& pki_dir, const std::vector<int64_t>& callers,
          int slices, const std::vector<int64_t>& sizes);

int Main(const std::string& self) {
  if (absl::GetFlag(FLAGS_serve_echo)) {
    return ServeEcho(Pki{absl::GetFlag(FLAGS_pki)});
  }

  absl::StatusOr<std::vector<int64_t>> callers =
      ParseList(absl::GetFlag(FLAGS_callers));
  absl::StatusOr<std::vector<int64_t>> sizes =
      ParseList(absl::GetFlag(FLAGS_inbox_sizes));
  for (const absl::Status& s : {callers.status(), sizes.status()}) {
    if (!s.ok()) {
      std::cerr << "liaison-bench: " << s.message() << "\n";
      return 2;
    }
  }
  const int slices = absl::GetFlag(FLAGS_slices);
  if (slices < 1) {
    std::cerr << "liaison-bench: --slices=" << slices
              << " is not a count of slices (1: no alternation)\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_duration) / slices < absl::Milliseconds(100)) {
    std::cerr << "liaison-bench: --duration="
              << absl::FormatDuration(absl::GetFlag(FLAGS_duration))
              << " in --slices=" << slices
              << " is less than 100ms a slice; the calls in flight at each "
                 "switch would weigh too much\n";
    return 2;
  }
  // On tmpfs an fsync does nothing, and "durable" would mean nothing.
  struct statfs fs;
  constexpr long kTmpfsMagic = 0x01021994;
  if (statfs(absl::GetFlag(FLAGS_dir).c_str(), &fs) == 0 &&
      static_cast<long>(fs.f_type) == kTmpfsMagic) {
    std::cerr << "liaison-bench: " << absl::GetFlag(FLAGS_dir)
              << " is a tmpfs, where fsync does nothing; give --dir on a "
                 "disk\n";
    return 2;
  }
  std::string dir =
      absl::StrCat(absl::GetFlag(FLAGS_dir), "/liaison-bench.XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    std::cerr << "liaison-bench: cannot make a directory in "
              << absl::GetFlag(FLAGS_dir) << "\n";
    return 1;
  }
  const std::string pki_dir = absl::GetFlag(FLAGS_pki).empty()
                                  ? absl::StrCat(dir, "/pki")
                                  : absl::GetFlag(FLAGS_pki);
  mkdir(pki_dir.c_str(), 0700);
  const int code = Bench(self, dir, pki_dir, *callers, slices, *sizes);
  if (!absl::GetFlag(FLAGS_keep)) {
    Run(absl::StrCat("rm -rf ", Quote(dir))).IgnoreError();
  }
  return code;
}

int Bench(const std::string& self, const std::string& dir,
          const std::string& pki_dir, const std::vector<int64_t>& callers,
          int slices, const std::vector<int64_t>& sizes) {
  absl::StatusOr<Pki> pki = PreparePki(pki_dir);
  if (!pki.ok()) {
    std::cerr << "liaison-bench: " << pki.status().message() << "\n";
    return 1;
  }
  Setup setup;
  setup.pki = *pki;
  setup.body_bytes = absl::GetFlag(FLAGS_body_bytes);

  std::cout << absl::StrFormat(
      "liaison-bench: %d cores (client and servers share them), message body "
      "%d bytes, data in %s\n",
      std::thread::hardware_concurrency(), setup.body_bytes, dir);
  absl::StatusOr<std::unique_ptr<Child>> echo =
      Child::Start(self, {"--serve-echo", absl::StrCat("--pki=", pki_dir)});
  absl::StatusOr<std::string> echo_port =
      echo.ok()
          ? (*echo)->WaitFor(
                std::regex("echo listening on 127\\.0\\.0\\.1:([0-9]+)\n"),
                absl::Seconds(30))
          : echo.status();
  if (!echo_port.ok()) {
    std::cerr << "liaison-bench: echo server: " << echo_port.status() << "\n";
    return 1;
  }
  setup.echo = echo->get();
  setup.echo_address = absl::StrCat("127.0.0.1:", *echo_port);

  std::vector<std::unique_ptr<Child>> liaisonds;
  const std::string store = absl::GetFlag(FLAGS_store);
  if (absl::GetFlag(FLAGS_target).empty()) {
    const std::string data_dir = absl::StrCat(dir, "/send");
    mkdir(data_dir.c_str(), 0700);
    const int replicas = store.empty() ? 1 : absl::GetFlag(FLAGS_replicas);
    for (int i = 0; i < replicas; ++i) {
      std::string address;
      absl::StatusOr<std::unique_ptr<Child>> started =
          StartLiaisond(setup.pki,
                        store.empty() ? absl::StrCat("--data-dir=", data_dir)
                                      : absl::StrCat("--store=", store),
                        address);
      if (!started.ok()) {
        std::cerr << "liaison-bench: liaisond: " << started.status() << "\n";
        return 1;
      }
      setup.liaison_addresses.push_back(address);
      setup.liaisonds.push_back(started->get());
      liaisonds.push_back(*std::move(started));
    }
    if (!store.empty()) {
      std::cout << "liaison-bench: " << replicas
                << " liaisond replica(s) on PostgreSQL; cpu/call counts "
                   "liaisond only, not PostgreSQL\n";
    }
  } else {
    setup.liaison_addresses.push_back(absl::GetFlag(FLAGS_target));
  }

  std::vector<int> caller_counts(callers.begin(), callers.end());
  absl::Status status = Throughput(
      setup, caller_counts, std::max(1, absl::GetFlag(FLAGS_rounds)), slices,
      absl::GetFlag(FLAGS_warmup), absl::GetFlag(FLAGS_duration));
  if (status.ok() && absl::GetFlag(FLAGS_delivery_samples) > 0) {
    status = Delivery(setup, absl::GetFlag(FLAGS_delivery_samples));
  }
  for (const std::unique_ptr<Child>& liaisond : liaisonds) {
    if (!liaisond->Stop() && status.ok()) {
      status = absl::InternalError("liaisond did not exit 0 on SIGTERM");
    }
  }
  (*echo)->Stop();
  if (status.ok() && !liaisonds.empty() && store.empty() && !sizes.empty()) {
    status = InboxPaging(setup.pki, dir, sizes, setup.body_bytes);
  }
  if (!status.ok()) {
    std::cerr << "liaison-bench: " << status << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace liaison::bench

int main(int argc, char** argv) {
  // As liaisond does (server/main.cc): the echo baseline and the load
  // generator do not pay for Debian Abseil's lock-order checking either.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(
      "liaison-bench [--callers=1,8,32] [--duration=5s] [--warmup=1s] "
      "[--rounds=3] [--slices=5] [--inbox-sizes=10000,1000000] "
      "[--delivery-samples=200] [--dir=/tmp] "
      "[--target=HOST:PORT --pki=DIR] [--store=postgres://... --replicas=N]");
  std::vector<std::string> args = liaison::NormalizeFlagNames(argc, argv);
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  absl::ParseCommandLine(static_cast<int>(pointers.size()), pointers.data());
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return 1;
  return liaison::bench::Main(std::string(self, static_cast<size_t>(n)));
}

// liaison_commit_bench: the durable send's storage path alone, in one
// process, without gRPC or TLS (issue 7; docs/performance.md).
//
// N caller threads each send RO -> HU through ExchangeService's
// SendMessageAsync (the path the gRPC handler takes: gate, policy,
// idempotency, message, recipient, event, audit entry with its Merkle nodes,
// group commit with synchronous=FULL), one after the other, on a fresh
// SQLite store. For each N it prints sends per second, the process's CPU per
// send, the CPU per send of everything but the callers (the store's
// committer and finishing threads), the mean group size and the groups run
// twice. The callers' own CPU (the gate's reads, building the message) is
// measured per thread and left out of the second figure, which is the one
// that changes when the commit path does; it moves far less from run to run
// on a shared machine than a rate does. (A caller's CPU is counted from its
// first send in the measured window to its last, which may end just after
// the window: at most one send's worth per caller.)
//
//   liaison_commit_bench [--callers=1,8,32] [--duration=3s] [--dir=/tmp]
#include <sqlite3.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "domain/audit_log.h"
#include "domain/exchange.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"

ABSL_FLAG(std::vector<std::string>, callers,
          std::vector<std::string>({"1", "8", "32"}),
          "concurrent callers, one point each");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(3), "measured time a point");
ABSL_FLAG(absl::Duration, warmup, absl::Milliseconds(500),
          "unmeasured time before each point");
ABSL_FLAG(std::string, dir, "/tmp", "where the stores are made (and removed)");
ABSL_FLAG(int32_t, body_bytes, 1024, "message body size");

namespace liaison {
namespace {

absl::Duration ProcessCpu() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return absl::DurationFromTimeval(usage.ru_utime) +
         absl::DurationFromTimeval(usage.ru_stime);
}

absl::Duration ThreadCpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return absl::DurationFromTimespec(ts);
}

Identity Officer(const std::string& party) {
  Identity id;
  id.party = party;
  id.role = Role::kLiaisonOfficer;
  id.user_id = "bench";
  id.trust_domain = "selec.test";
  id.spiffe_id = absl::StrCat("spiffe://selec.test/party/", party, "/",
                              RoleName(id.role), "/", id.user_id);
  id.serial_hex = absl::AsciiStrToUpper(HexEncode(id.user_id));
  return id;
}

SendCommand Send(const std::string& key, int body_bytes) {
  SendCommand c;
  c.recipients = {"HU"};
  c.kind = MessageKind::kRequest;
  c.priority = Priority::kRoutine;
  c.content.idempotency_key = key;
  c.content.subject = "Vehicle check";
  c.content.body = std::string(static_cast<size_t>(body_bytes), 'b');
  c.content.classification = Classification::kUnclassified;
  c.content.handling_code = HandlingCode::kH0;
  return c;
}

struct Point {
  int64_t sends = 0;
  absl::Duration elapsed;
  absl::Duration process_cpu;
  absl::Duration callers_cpu;
  SqliteStore::WriteStats stats;
};

absl::StatusOr<Point> Measure(const std::string& dir, int callers,
                              int body_bytes) {
  const std::string path = absl::StrCat(dir, "/liaison-commit-bench.db");
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) {
    std::remove(absl::StrCat(path, suffix).c_str());
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  if (!store.ok()) return store.status();
  SystemClock clock;
  StoreAuditLog audit;
  absl::StatusOr<std::string> roster_text =
      ReadFile(LIAISON_SOURCE_DIR "/deploy/parties.example");
  if (!roster_text.ok()) return roster_text.status();
  absl::StatusOr<std::vector<Party>> roster = ParseRoster(*roster_text);
  if (!roster.ok()) return roster.status();
  absl::StatusOr<int> seeded = SeedRoster(**store, audit, clock, *roster);
  if (!seeded.ok()) return seeded.status();
  ExchangeService exchange(**store, audit, clock);
  const Caller officer = Officer("RO");

  enum Phase { kWarmup, kMeasured, kStop };
  std::atomic<int> phase{kWarmup};
  std::atomic<int64_t> sends{0};
  std::atomic<int64_t> failures{0};
  std::vector<absl::Duration> caller_cpu(static_cast<size_t>(callers));
  std::vector<std::thread> threads;
  absl::Notification started;
  for (int i = 0; i < callers; ++i) {
    threads.emplace_back([&, i] {
      started.WaitForNotification();
      absl::Duration at_start;
      bool counting = false;
      for (int64_t n = 0;; ++n) {
        const int now = phase.load();
        if (now == kStop) break;
        if (now == kMeasured && !counting) {
          counting = true;
          at_start = ThreadCpu();
        }
        absl::Notification answered;
        absl::StatusOr<SendResult> answer;
        exchange.SendMessageAsync(
            officer, Send(absl::StrFormat("c%03d-%010d", i, n), body_bytes),
            [&](absl::StatusOr<SendResult> result) {
              answer = std::move(result);
              answered.Notify();
            });
        answered.WaitForNotification();
        if (!answer.ok()) ++failures;
        if (counting && phase.load() == kMeasured) ++sends;
      }
      if (counting) caller_cpu[static_cast<size_t>(i)] = ThreadCpu() - at_start;
    });
  }
  started.Notify();
  absl::SleepFor(absl::GetFlag(FLAGS_warmup));
  const SqliteStore::WriteStats stats_before = (*store)->write_stats();
  const absl::Duration cpu_before = ProcessCpu();
  const absl::Time start = absl::Now();
  phase = kMeasured;
  absl::SleepFor(absl::GetFlag(FLAGS_duration));
  phase = kStop;
  const absl::Time end = absl::Now();
  const absl::Duration cpu_after = ProcessCpu();
  const SqliteStore::WriteStats stats_after = (*store)->write_stats();
  for (std::thread& t : threads) t.join();
  if (failures > 0) {
    return absl::InternalError(absl::StrCat(failures.load(), " sends failed"));
  }

  Point p;
  p.sends = sends.load();
  p.elapsed = end - start;
  p.process_cpu = cpu_after - cpu_before;
  for (const absl::Duration& d : caller_cpu) p.callers_cpu += d;
  p.stats.writes = stats_after.writes - stats_before.writes;
  p.stats.transactions = stats_after.transactions - stats_before.transactions;
  p.stats.reruns = stats_after.reruns - stats_before.reruns;
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm", "-lock"}) {
    std::remove(absl::StrCat(path, suffix).c_str());
  }
  return p;
}

int Main() {
  const int body_bytes = absl::GetFlag(FLAGS_body_bytes);
  std::cout << absl::StrFormat(
      "liaison_commit_bench: %d cores, body %d bytes, %s a point, store in "
      "%s\n",
      std::thread::hardware_concurrency(), body_bytes,
      absl::FormatDuration(absl::GetFlag(FLAGS_duration)),
      absl::GetFlag(FLAGS_dir));
  std::cout << "callers | sends/s | process cpu/send | store threads "
               "cpu/send | sends/group | groups run twice\n";
  for (const std::string& text : absl::GetFlag(FLAGS_callers)) {
    int callers = 0;
    if (!absl::SimpleAtoi(text, &callers) || callers < 1) {
      std::cerr << "--callers: not a positive number: " << text << "\n";
      return 2;
    }
    absl::StatusOr<Point> p =
        Measure(absl::GetFlag(FLAGS_dir), callers, body_bytes);
    if (!p.ok()) {
      std::cerr << "callers=" << callers << ": " << p.status() << "\n";
      return 1;
    }
    const double sends = static_cast<double>(std::max<int64_t>(p->sends, 1));
    std::cout << absl::StrFormat(
        "%7d | %7.0f | %13.0f us | %19.0f us | %11.1f | %d\n", callers,
        static_cast<double>(p->sends) / absl::ToDoubleSeconds(p->elapsed),
        absl::ToDoubleMicroseconds(p->process_cpu) / sends,
        absl::ToDoubleMicroseconds(p->process_cpu - p->callers_cpu) / sends,
        static_cast<double>(p->stats.writes) /
            static_cast<double>(std::max<int64_t>(p->stats.transactions, 1)),
        p->stats.reruns);
  }
  return 0;
}

}  // namespace
}  // namespace liaison

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "liaison_commit_bench [--callers=1,8,32] [--duration=3s] [--dir=/tmp]");
  absl::ParseCommandLine(argc, argv);
  // As liaisond runs (server/main.cc): no lock-order checks, no SQLite
  // allocation statistics.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  return liaison::Main();
}

// liaisond: the Liaison server. Flags are read here, once, into
// ServerOptions; everything else lives in LiaisonServer.
#include <signal.h>
#include <sqlite3.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/flag_names.h"
#include "server/liaison_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7443",
          "HOST:PORT to listen on; port 0 picks a free port");
ABSL_FLAG(std::string, health_listen, "",
          "HOST:PORT of a plaintext listener serving only gRPC health "
          "checking (SERVING while the store answers), for load balancers "
          "and Kubernetes probes; empty: none");
ABSL_FLAG(std::string, store, "",
          "where the data is kept: sqlite:DIR (the embedded database "
          "DIR/liaison.db) or postgres://USER@HOST:PORT/DATABASE?... "
          "(libpq's URL; put the password in PGPASSWORD or a passfile, "
          "not here: the command line is visible to every local user)");
ABSL_FLAG(std::string, data_dir, "",
          "directory of the SQLite database (the same as --store=sqlite:DIR)");
ABSL_FLAG(std::string, tls_cert, "", "server certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "server private key (PEM)");
ABSL_FLAG(std::string, tls_ca, "",
          "CA certificate(s) that client certificates must chain to (PEM)");
ABSL_FLAG(absl::Duration, tls_reload_interval, absl::Minutes(1),
          "how often --tls-cert, --tls-key and --tls-ca are read again "
          "(rotation without a restart; at least 1s)");
ABSL_FLAG(std::string, trust_domain, "selec.test",
          "trust domain of accepted client identities");
ABSL_FLAG(std::string, crl, "",
          "PEM CRL file of the CA; certificates it lists are refused (reread "
          "when the file changes)");
ABSL_FLAG(absl::Duration, urgent_deadline, absl::Hours(8),
          "time from receipt to answer an URGENT request");
ABSL_FLAG(absl::Duration, routine_deadline, absl::Hours(7 * 24),
          "time from receipt to answer a ROUTINE request");
ABSL_FLAG(int64_t, max_attachment_size, int64_t{64} << 20,
          "largest attachment accepted, in bytes");
ABSL_FLAG(int64_t, max_request_size, int64_t{4} << 20,
          "largest request message accepted, in bytes");
ABSL_FLAG(int64_t, max_recipients, 32, "recipients per message");
ABSL_FLAG(int64_t, max_attachments, 20, "attachments per message");
ABSL_FLAG(int64_t, max_streams_per_party, 16,
          "open Subscribe streams per party");
ABSL_FLAG(double, rate_limit, 50,
          "calls per second per user (certificate identity); 0 turns it off");
ABSL_FLAG(int64_t, rate_burst, 100,
          "calls a user may make at once after being idle");
ABSL_FLAG(std::string, audit_key, "",
          "the audit checkpoint signing key (certs/audit-key.sh writes "
          "audit-signing.key)");
ABSL_FLAG(absl::Duration, checkpoint_interval, absl::Seconds(10),
          "sign an audit checkpoint when the log has grown and this long has "
          "passed since the last one");
ABSL_FLAG(int64_t, checkpoint_entries, 1000,
          "... or when this many entries were appended since the last one");
ABSL_FLAG(std::string, parties, "",
          "roster file loaded into an empty store (see "
          "deploy/parties.example)");

int main(int argc, char** argv) {
  // Debian builds Abseil without NDEBUG, so every absl::Mutex lock (gRPC's
  // too) would check lock order against one process-wide graph; that is a
  // debugging aid, which tests keep and a serving process does not pay for.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // SQLite's allocation statistics take one process-wide mutex per
  // allocation; liaisond reads none of them.
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  absl::SetProgramUsageMessage(
      "liaisond --store=sqlite:DIR|postgres://...|--data-dir=DIR --tls-cert=F "
      "--tls-key=F "
      "--tls-ca=F "
      "--audit-key=F [--listen=HOST:PORT] [--health-listen=HOST:PORT] "
      "[--trust-domain=D] "
      "[--parties=FILE] [--crl=FILE] [--urgent-deadline=8h] "
      "[--routine-deadline=168h] [--checkpoint-interval=10s] "
      "[--checkpoint-entries=1000]");
  std::vector<std::string> args = liaison::NormalizeFlagNames(argc, argv);
  std::vector<char*> arg_pointers;
  for (std::string& arg : args) arg_pointers.push_back(arg.data());
  absl::ParseCommandLine(static_cast<int>(arg_pointers.size()),
                         arg_pointers.data());

  liaison::server::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.health_listen = absl::GetFlag(FLAGS_health_listen);
  options.store = absl::GetFlag(FLAGS_store);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_reload_interval = absl::GetFlag(FLAGS_tls_reload_interval);
  options.trust_domain = absl::GetFlag(FLAGS_trust_domain);
  options.parties_file = absl::GetFlag(FLAGS_parties);
  options.crl_file = absl::GetFlag(FLAGS_crl);
  options.urgent_deadline = absl::GetFlag(FLAGS_urgent_deadline);
  options.routine_deadline = absl::GetFlag(FLAGS_routine_deadline);
  options.max_attachment_bytes = absl::GetFlag(FLAGS_max_attachment_size);
  options.audit_key_file = absl::GetFlag(FLAGS_audit_key);
  options.max_request_bytes = absl::GetFlag(FLAGS_max_request_size);
  options.max_recipients = absl::GetFlag(FLAGS_max_recipients);
  options.max_attachments = absl::GetFlag(FLAGS_max_attachments);
  options.max_streams_per_party = absl::GetFlag(FLAGS_max_streams_per_party);
  options.rate_limit = absl::GetFlag(FLAGS_rate_limit);
  options.rate_burst = absl::GetFlag(FLAGS_rate_burst);
  options.checkpoint_interval = absl::GetFlag(FLAGS_checkpoint_interval);
  options.checkpoint_entries = absl::GetFlag(FLAGS_checkpoint_entries);

  // Signals are taken synchronously by this thread; block them before any
  // gRPC thread starts so that none of those receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  liaison::SystemClock clock;
  absl::StatusOr<std::unique_ptr<liaison::server::LiaisonServer>> server =
      liaison::server::LiaisonServer::Start(options, clock);
  if (!server.ok()) {
    std::cerr << "liaisond: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "liaisond: audit checkpoints verify with "
            << (*server)->audit_verifier_key() << "\n";
  if ((*server)->health_port() != 0) {
    std::cout << "liaisond health checking (plaintext) on port "
              << (*server)->health_port() << std::endl;
  }
  std::cout << "liaisond listening on " << (*server)->address() << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "liaisond: " << (received == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", draining in-flight calls\n";
  (*server)->Shutdown(absl::Seconds(10));
  (*server)->Wait();
  std::cerr << "liaisond: stopped\n";
  return 0;
}

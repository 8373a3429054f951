#include "server/liaison_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/thread_name.h"
#include "common/tls.h"
#include "domain/roster.h"
#include "server/decode_failure_interceptor.h"
#include "store/open_store.h"

namespace liaison::server {
namespace {

// Threads for handlers that wait for their store: gRPC's synchronous
// handlers (each waits for its commit) and, with a store whose reads wait,
// the waiting pool.
constexpr int kHandlerThreads = 64;

absl::Status EnsureDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--data-dir=", dir,
                   " is not a usable directory: ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<LiaisonServer>> LiaisonServer::Start(
    const ServerOptions& options, const Clock& clock) {
  LIAISON_RETURN_IF_ERROR(options.Validate());
  LIAISON_ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::ServerCredentials> credentials,
      MakeServerCredentials({options.tls_cert, options.tls_key, options.tls_ca},
                            options.tls_reload_interval));
  std::unique_ptr<LiaisonServer> server(new LiaisonServer());
  if (options.UsesPostgres()) {
    LIAISON_ASSIGN_OR_RETURN(server->store_, OpenStore(options.store));
  } else {
    const std::string data_dir = options.SqliteDirectory();
    LIAISON_RETURN_IF_ERROR(EnsureDirectory(data_dir));
    LIAISON_ASSIGN_OR_RETURN(
        server->store_,
        OpenStore(absl::StrCat("sqlite:", data_dir, "/liaison.db")));
  }
  server->audit_ = std::make_unique<StoreAuditLog>();
  if (!options.parties_file.empty()) {
    LIAISON_ASSIGN_OR_RETURN(std::string text, ReadFile(options.parties_file));
    LIAISON_ASSIGN_OR_RETURN(std::vector<Party> roster, ParseRoster(text));
    LIAISON_ASSIGN_OR_RETURN(
        int seeded,
        SeedRoster(*server->store_, *server->audit_, clock, roster));
    if (seeded == 0) {
      std::cerr << "liaisond: store already has parties; "
                << options.parties_file << " not loaded\n";
    }
  }
  if (options.crl_file.empty()) {
    server->peers_ = std::make_unique<PeerIdentifier>(options.trust_domain);
  } else {
    LIAISON_ASSIGN_OR_RETURN(
        server->peers_,
        PeerIdentifier::WithCrl(options.trust_domain, options.crl_file,
                                options.tls_ca));
  }
  server->gate_ =
      std::make_unique<CallGate>(*server->store_, *server->audit_, clock);
  ExchangeLimits limits;
  limits.max_recipients = static_cast<size_t>(options.max_recipients);
  limits.max_attachment_bytes = options.max_attachment_bytes;
  limits.max_attachments_per_message = options.max_attachments;
  limits.max_streams_per_party =
      static_cast<int>(options.max_streams_per_party);
  server->exchange_ = std::make_unique<ExchangeService>(
      *server->store_, *server->audit_, clock,
      DeadlineOptions{options.urgent_deadline, options.routine_deadline},
      SubscriptionOptions{}, limits);
  // Replicas on one database: a message sent through another liaisond
  // reaches subscribers here at once, not at their next recheck.
  ExchangeService* exchange = server->exchange_.get();
  server->store_->WatchCommits([exchange] { exchange->WakeSubscribers(); });
  server->admin_ =
      std::make_unique<AdminService>(*server->store_, *server->audit_, clock);
  // With a store whose reads and commits wait (PostgreSQL), SendMessage
  // runs on threads of its own: as many as the synchronous methods may use
  // (MAX_POLLERS below), plenty for the store's pools (8 read and 4 write
  // connections).
  if (!server->store_->ServesWithoutWaiting()) {
    server->waiting_pool_ =
        std::make_unique<WorkerPool>(kHandlerThreads, "store-waiting");
  }
  server->exchange_handler_ = std::make_unique<ExchangeHandler>(
      *server->exchange_, *server->peers_, server->waiting_pool_.get());
  server->admin_handler_ =
      std::make_unique<AdminHandler>(*server->admin_, *server->peers_);
  server->cases_ =
      std::make_unique<CaseService>(*server->store_, *server->audit_, clock);
  server->cases_handler_ =
      std::make_unique<CasesHandler>(*server->cases_, *server->peers_);
  server->reports_ =
      std::make_unique<ReportService>(*server->store_, *server->audit_, clock);
  server->reports_handler_ =
      std::make_unique<ReportsHandler>(*server->reports_, *server->peers_);
  LIAISON_ASSIGN_OR_RETURN(std::string key_text,
                           ReadFile(options.audit_key_file));
  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(key_text);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--audit-key=", options.audit_key_file, ": ",
                     signer.status().message()));
  }
  server->checkpointer_ = std::make_unique<Checkpointer>(
      *server->store_, MakeNoteCheckpointSigner(*std::move(signer)), clock,
      CheckpointOptions{options.checkpoint_interval,
                        options.checkpoint_entries});
  server->audit_service_ = std::make_unique<AuditService>(
      *server->store_, *server->audit_, clock, *server->checkpointer_);
  server->audit_handler_ =
      std::make_unique<AuditHandler>(*server->audit_service_, *server->peers_);

  server->rate_limiter_ = std::make_unique<RateLimiter>(
      clock,
      RateLimit{options.rate_limit, static_cast<int>(options.rate_burst)});
  RateLimiter* limiter = server->rate_limiter_.get();
  server->gate_->set_rate_limiter(limiter);
  server->exchange_->set_rate_limiter(limiter);
  server->admin_->set_rate_limiter(limiter);
  server->cases_->set_rate_limiter(limiter);
  server->reports_->set_rate_limiter(limiter);
  server->audit_service_->set_rate_limiter(limiter);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.RegisterService(server->exchange_handler_.get());
  builder.RegisterService(server->admin_handler_.get());
  builder.RegisterService(server->cases_handler_.get());
  builder.RegisterService(server->reports_handler_.get());
  builder.RegisterService(server->audit_handler_.get());
  // The largest valid request (a 1 MiB body plus headers) fits well below
  // this; larger ones are refused by gRPC with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_request_bytes));
  // Handlers wait for their group commit; with gRPC's default of at most
  // two idle pollers, every finished call ended its thread and the next one
  // started a new thread. Keep enough threads to serve callers waiting on
  // a commit.
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kHandlerThreads);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<DecodeFailureInterceptorFactory>(
      *server->gate_, *server->peers_, server->waiting_pool_.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen));
  }
  if (!options.health_listen.empty()) {
    // Nothing but the health service (enabled above for every server) and
    // reflection: no Liaison service is reachable without mutual TLS.
    grpc::ServerBuilder health;
    health.AddListeningPort(options.health_listen,
                            grpc::InsecureServerCredentials(),
                            &server->health_port_);
    server->health_server_ = health.BuildAndStart();
    if (server->health_server_ == nullptr || server->health_port_ == 0) {
      return absl::UnavailableError(absl::StrCat(
          "cannot listen on ", options.health_listen, " (--health-listen)"));
    }
  }
  server->address_ = absl::StrCat(
      options.listen.substr(0, options.listen.rfind(':')), ":", server->port_);
  // Often enough to notice `checkpoint_entries` soon after they are there.
  const absl::Duration period =
      std::clamp(options.checkpoint_interval / 4, absl::Milliseconds(10),
                 absl::Milliseconds(500));
  LiaisonServer* raw = server.get();
  server->checkpoint_thread_ =
      std::thread([raw, period] { raw->SignCheckpoints(period); });
  NameThread(server->checkpoint_thread_, "audit-signer");
  return server;
}

void LiaisonServer::SignCheckpoints(absl::Duration period) {
  std::string last_error;
  do {
    UpdateHealth();
    // Rate-limit refusals of a flood, recorded together once a second.
    const absl::Status recorded = gate_->RecordRateLimited();
    if (!recorded.ok()) {
      std::cerr << "liaisond: cannot record rate-limited calls: " << recorded
                << "\n";
    }
    absl::StatusOr<std::optional<AuditCheckpoint>> signed_now =
        checkpointer_->SignIfDue();
    // Report a failure once, not on every tick.
    const std::string error =
        signed_now.ok() ? "" : signed_now.status().ToString();
    if (!error.empty() && error != last_error) {
      std::cerr << "liaisond: cannot sign an audit checkpoint: " << error
                << "\n";
    }
    last_error = error;
  } while (!stop_checkpoints_.WaitForNotificationWithTimeout(period));
}

void LiaisonServer::UpdateHealth() {
  const absl::StatusOr<int64_t> size = store_->AuditSize();
  if (size.ok() == serving_) return;
  serving_ = size.ok();
  if (!serving_) {
    std::cerr << "liaisond: store unavailable, health NOT_SERVING: "
              << size.status() << "\n";
  } else {
    std::cerr << "liaisond: store available again, health SERVING\n";
  }
  for (grpc::Server* s : {server_.get(), health_server_.get()}) {
    if (s != nullptr && s->GetHealthCheckService() != nullptr) {
      s->GetHealthCheckService()->SetServingStatus(serving_);
    }
  }
}

void LiaisonServer::StopCheckpoints() {
  if (!checkpoint_thread_.joinable()) return;
  if (!stop_checkpoints_.HasBeenNotified()) stop_checkpoints_.Notify();
  checkpoint_thread_.join();
}

LiaisonServer::~LiaisonServer() {
  Shutdown(absl::ZeroDuration());
  Wait();
  StopCheckpoints();
  // The store outlives the services its callback reaches.
  if (store_ != nullptr) store_->WatchCommits(nullptr);
}

void LiaisonServer::Shutdown(absl::Duration grace) {
  // Subscriptions never finish by themselves: end them so that draining
  // waits only for real in-flight calls.
  if (exchange_ != nullptr) exchange_->StopSubscriptions();
  // Load balancers and probes see NOT_SERVING on the health listener while
  // calls drain; it closes (ending Watch streams) once they have.
  if (health_server_ != nullptr &&
      health_server_->GetHealthCheckService() != nullptr) {
    health_server_->GetHealthCheckService()->SetServingStatus(false);
  }
  if (server_ != nullptr)
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  if (health_server_ != nullptr)
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
  StopCheckpoints();
  // Cover the log's tail, so that parties can check the last calls too.
  if (checkpointer_ != nullptr) {
    absl::StatusOr<AuditCheckpoint> last = checkpointer_->SignNow();
    if (!last.ok() &&
        last.status().code() != absl::StatusCode::kFailedPrecondition) {
      std::cerr << "liaisond: cannot sign the last audit checkpoint: "
                << last.status() << "\n";
    }
  }
}

void LiaisonServer::Wait() {
  if (server_ != nullptr) server_->Wait();
  if (health_server_ != nullptr) health_server_->Wait();
}

}  // namespace liaison::server

// A running liaisond: store, domain services and the gRPC server over mutual
// TLS, with health checking and reflection. main.cc and the end-to-end tests
// both start the server through this class.
#ifndef LIAISON_SERVER_LIAISON_SERVER_H_
#define LIAISON_SERVER_LIAISON_SERVER_H_

#include <grpcpp/server.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "domain/admin.h"
#include "domain/audit.h"
#include "domain/audit_log.h"
#include "domain/call_gate.h"
#include "domain/cases.h"
#include "domain/exchange.h"
#include "domain/rate_limiter.h"
#include "domain/reports.h"
#include "domain/store.h"
#include "server/admin_handler.h"
#include "server/audit_handler.h"
#include "server/cases_handler.h"
#include "server/exchange_handler.h"
#include "server/peer_identity.h"
#include "server/reports_handler.h"
#include "server/server_options.h"

namespace liaison::server {

class LiaisonServer {
 public:
  // Validates `options`, opens the store in the data directory, loads the
  // roster into an empty store, and starts serving. `clock` must outlive
  // the server. Errors: INVALID_ARGUMENT (options, roster), the store's
  // errors, UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<LiaisonServer>> Start(
      const ServerOptions& options, const Clock& clock);

  ~LiaisonServer();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // HOST:PORT with the bound port.
  const std::string& address() const { return address_; }
  // The port of the plaintext health listener, 0 if there is none.
  int health_port() const { return health_port_; }

  // The audit checkpoint verifier key ("name+keyid+base64").
  std::string audit_verifier_key() const {
    return checkpointer_->VerifierKey();
  }

  // Stops accepting calls, lets in-flight calls finish for up to `grace`,
  // then cancels what remains, and signs a last checkpoint. Idempotent.
  void Shutdown(absl::Duration grace);
  // Blocks until the server has shut down.
  void Wait();

 private:
  LiaisonServer() = default;
  // Until stopped: signs checkpoints as CheckpointOptions say, and records
  // rate-limited calls not yet recorded.
  void SignCheckpoints(absl::Duration period);
  void StopCheckpoints();
  // Reports SERVING on both listeners' health services while the store
  // answers a read, NOT_SERVING while it does not.
  void UpdateHealth();

  // Declared in dependency order: the gRPC server goes first on
  // destruction, then what its handlers use.
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<PeerIdentifier> peers_;
  std::unique_ptr<RateLimiter> rate_limiter_;
  std::unique_ptr<CallGate> gate_;
  std::unique_ptr<ExchangeService> exchange_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<CaseService> cases_;
  std::unique_ptr<ReportService> reports_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<AuditService> audit_service_;
  // For a store whose reads and commits wait (Store::ServesWithoutWaiting
  // false): the calls served with gRPC's callback API run there instead of
  // on gRPC's threads. Null otherwise. Destroyed after the server, before
  // the services its tasks use.
  std::unique_ptr<WorkerPool> waiting_pool_;
  std::unique_ptr<ExchangeHandler> exchange_handler_;
  std::unique_ptr<AdminHandler> admin_handler_;
  std::unique_ptr<CasesHandler> cases_handler_;
  std::unique_ptr<ReportsHandler> reports_handler_;
  std::unique_ptr<AuditHandler> audit_handler_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  absl::Notification stop_checkpoints_;
  std::thread checkpoint_thread_;
  int port_ = 0;
  int health_port_ = 0;
  bool serving_ = true;  // Last status reported; checkpoint thread only.
  std::string address_;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_LIAISON_SERVER_H_

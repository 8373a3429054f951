// Everything liaisond needs to start; read once from flags in main.cc.
#ifndef LIAISON_SERVER_SERVER_OPTIONS_H_
#define LIAISON_SERVER_SERVER_OPTIONS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace liaison::server {

struct ServerOptions {
  // HOST:PORT to listen on; port 0 picks a free port.
  std::string listen = "127.0.0.1:7443";
  // HOST:PORT of a second, plaintext listener that serves only gRPC health
  // checking (grpc.health.v1.Health; reflection too, as gRPC attaches it to
  // every server): for load balancers and Kubernetes probes, which cannot
  // present a client certificate. It reports SERVING while the store
  // answers. Empty: none.
  std::string health_listen;
  // Where the data is kept: `store` is a store URL, `sqlite:DIR` for the
  // embedded SQLite database DIR/liaison.db (DIR created, mode 0700, if
  // missing). `data_dir` DIR is the same as `sqlite:DIR`; give one of them.
  std::string store;
  std::string data_dir;
  // PEM files: the server's certificate and key, and the CA that issues
  // client certificates.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  // How often the three TLS files are read again (certificate and CA
  // rotation without a restart).
  absl::Duration tls_reload_interval = absl::Minutes(1);
  // Trust domain of the client identities this server accepts.
  std::string trust_domain = "selec.test";
  // Roster loaded into an empty store (see domain/roster.h); optional.
  std::string parties_file;
  // PEM CRL(s) of the CA, for certificates revoked at the CA; optional.
  // Reread when the file changes.
  std::string crl_file;
  // How long recipients have to answer requests, from receipt.
  absl::Duration urgent_deadline = absl::Hours(8);
  absl::Duration routine_deadline = absl::Hours(7 * 24);
  // Largest attachment accepted, in bytes.
  int64_t max_attachment_bytes = int64_t{64} << 20;
  // Limits; a call over one gets RESOURCE_EXHAUSTED naming it.
  int64_t max_request_bytes = int64_t{4} << 20;  // one gRPC message
  int64_t max_recipients = 32;
  int64_t max_attachments = 20;        // per message
  int64_t max_streams_per_party = 16;  // open Subscribe streams
  double rate_limit = 50;              // calls/s per user; 0: off
  int64_t rate_burst = 100;
  // The audit log's checkpoint signing key: a note private key file
  // ("PRIVATE+KEY+...", made by certs/audit-key.sh). Its name is the
  // checkpoints' origin line.
  std::string audit_key_file;
  // A checkpoint is signed when the log has grown and this long has passed
  // since the latest, or this many entries were appended; and on demand.
  absl::Duration checkpoint_interval = absl::Seconds(10);
  int64_t checkpoint_entries = 1000;

  // INVALID_ARGUMENT naming the first missing or malformed option.
  absl::Status Validate() const;

  // Whether `store` is a PostgreSQL URL (postgres:// or postgresql://).
  bool UsesPostgres() const;
  // The SQLite data directory of a valid `store` or `data_dir`; empty on
  // PostgreSQL.
  std::string SqliteDirectory() const;
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_SERVER_OPTIONS_H_

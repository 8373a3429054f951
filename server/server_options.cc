#include "server/server_options.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace liaison::server {
namespace {

constexpr absl::string_view kSqliteScheme = "sqlite:";
constexpr absl::string_view kPostgresScheme = "postgres://";
constexpr absl::string_view kPostgresqlScheme = "postgresql://";

// OK if `value` (of --`flag`) is HOST:PORT.
absl::Status CheckHostPort(absl::string_view flag, const std::string& value) {
  const size_t colon = value.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(value.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "='", value,
                     "' is not HOST:PORT (port 0 picks a free one)"));
  }
  return absl::OkStatus();
}

}  // namespace

bool ServerOptions::UsesPostgres() const {
  return absl::StartsWith(store, kPostgresScheme) ||
         absl::StartsWith(store, kPostgresqlScheme);
}

std::string ServerOptions::SqliteDirectory() const {
  if (UsesPostgres()) return "";
  return store.empty() ? data_dir
                       : std::string(store.substr(kSqliteScheme.size()));
}

absl::Status ServerOptions::Validate() const {
  LIAISON_RETURN_IF_ERROR(CheckHostPort("listen", listen));
  if (!health_listen.empty()) {
    LIAISON_RETURN_IF_ERROR(CheckHostPort("health-listen", health_listen));
  }
  if (store.empty() == data_dir.empty()) {
    return absl::InvalidArgumentError(
        "give where the data is kept: --store=sqlite:DIR, "
        "--store=postgres://... or --data-dir=DIR (one of them)");
  }
  const bool sqlite = absl::StartsWith(store, kSqliteScheme) &&
                      store.size() > kSqliteScheme.size();
  if (!store.empty() && !sqlite && !UsesPostgres()) {
    // Only the scheme is quoted: a URL may carry a password.
    return absl::InvalidArgumentError(absl::StrCat(
        "--store: '", store.substr(0, store.find(':')),
        ":' is not a store this liaisond has (expected sqlite:DIR or "
        "postgres://USER@HOST:PORT/DATABASE)"));
  }
  if (tls_cert.empty() || tls_key.empty() || tls_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert, --tls-key and --tls-ca are all required (mutual TLS is "
        "the only way in)");
  }
  if (tls_reload_interval < absl::Seconds(1)) {
    return absl::InvalidArgumentError(
        "--tls-reload-interval must be at least 1s");
  }
  if (urgent_deadline <= absl::ZeroDuration() ||
      routine_deadline <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "--urgent-deadline and --routine-deadline must be positive durations "
        "(e.g. 8h, 168h)");
  }
  if (max_attachment_bytes < 0) {
    return absl::InvalidArgumentError(
        "--max-attachment-size must be 0 or more bytes");
  }
  // The largest valid request (a 1 MiB body, 32 recipients, headers) must
  // fit in one message.
  if (max_request_bytes < (int64_t{1} << 20) + (64 << 10) ||
      max_request_bytes > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError(
        "--max-request-size must be between 1.0625 MiB (a full message) and "
        "1 GiB");
  }
  if (max_recipients < 1 || max_recipients > 1000 || max_attachments < 0 ||
      max_attachments > 100000 || max_streams_per_party < 1 ||
      max_streams_per_party > 100000) {
    return absl::InvalidArgumentError(
        "--max-recipients must be 1 to 1000, --max-attachments 0 to 100000 "
        "and --max-streams-per-party 1 to 100000");
  }
  if (!std::isfinite(rate_limit) || rate_limit < 0 || rate_limit > 1e6 ||
      rate_burst < 1 || rate_burst > 1000000) {
    return absl::InvalidArgumentError(
        "--rate-limit must be 0 (off) to 1000000 calls per second and "
        "--rate-burst 1 to 1000000");
  }
  if (audit_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--audit-key is required: the key that signs audit checkpoints "
        "(make one with certs/audit-key.sh)");
  }
  if (checkpoint_interval <= absl::ZeroDuration() || checkpoint_entries < 1) {
    return absl::InvalidArgumentError(
        "--checkpoint-interval must be a positive duration and "
        "--checkpoint-entries at least 1");
  }
  if (trust_domain.empty()) {
    return absl::InvalidArgumentError("--trust-domain is required");
  }
  for (char c : trust_domain) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '.' &&
        c != '-' && c != '_') {
      return absl::InvalidArgumentError(absl::StrCat(
          "--trust-domain='", trust_domain,
          "' may contain only lower-case letters, digits, '.', '-' and '_'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace liaison::server

#include "server/server_options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace liaison::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ServerOptions Valid() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = "/tmp/x";
  o.tls_cert = "s.crt";
  o.tls_key = "s.key";
  o.tls_ca = "ca.crt";
  o.audit_key_file = "audit-signing.key";
  return o;
}

TEST(ServerOptionsTest, ValidOptionsPass) {
  EXPECT_TRUE(Valid().Validate().ok());
  ServerOptions o = Valid();
  o.listen = "[::1]:7443";
  EXPECT_TRUE(o.Validate().ok());
}

TEST(ServerOptionsTest, StoreUrlOrDataDirNameTheSqliteDirectory) {
  ServerOptions o = Valid();
  EXPECT_EQ(o.SqliteDirectory(), "/tmp/x");
  o.data_dir.clear();
  o.store = "sqlite:/var/lib/liaison";
  ASSERT_TRUE(o.Validate().ok());
  EXPECT_EQ(o.SqliteDirectory(), "/var/lib/liaison");
  EXPECT_FALSE(o.UsesPostgres());
}

TEST(ServerOptionsTest, PostgresUrlsAreStores) {
  ServerOptions o = Valid();
  o.data_dir.clear();
  for (const char* url : {"postgres://liaison@db:5432/liaison",
                          "postgresql://liaison@db/liaison?sslmode=require"}) {
    o.store = url;
    EXPECT_TRUE(o.Validate().ok()) << url;
    EXPECT_TRUE(o.UsesPostgres()) << url;
    EXPECT_EQ(o.SqliteDirectory(), "") << url;
  }
}

TEST(ServerOptionsTest, AnUnknownStoreIsRefusedWithoutQuotingItsUrl) {
  ServerOptions o = Valid();
  o.data_dir.clear();
  o.store = "mysql://liaison:s3cret@db/liaison";
  const absl::Status status = o.Validate();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'mysql:'"));
  EXPECT_THAT(status.message(), HasSubstr("postgres://"));
  EXPECT_THAT(status.message(), Not(HasSubstr("s3cret")));
}

TEST(ServerOptionsTest, NamesTheBadOption) {
  struct Case {
    void (*mutate)(ServerOptions&);
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {[](ServerOptions& o) { o.listen = "localhost"; }, "--listen"},
           {[](ServerOptions& o) { o.listen = ":7443"; }, "--listen"},
           {[](ServerOptions& o) { o.listen = "h:70000"; }, "--listen"},
           {[](ServerOptions& o) { o.listen = "h:x"; }, "--listen"},
           {[](ServerOptions& o) { o.data_dir.clear(); }, "--data-dir"},
           {[](ServerOptions& o) { o.store = "sqlite:/tmp/y"; }, "one of them"},
           {[](ServerOptions& o) {
              o.data_dir.clear();
              o.store = "sqlite:";
            },
            "--store"},
           {[](ServerOptions& o) {
              o.data_dir.clear();
              o.store = "mysql://h/db";
            },
            "expected sqlite:DIR"},
           {[](ServerOptions& o) { o.tls_key.clear(); }, "--tls-key"},
           {[](ServerOptions& o) { o.tls_ca.clear(); }, "mutual TLS"},
           {[](ServerOptions& o) { o.trust_domain.clear(); }, "--trust-domain"},
           {[](ServerOptions& o) { o.trust_domain = "Selec/Test"; },
            "--trust-domain"},
           {[](ServerOptions& o) { o.urgent_deadline = absl::ZeroDuration(); },
            "--urgent-deadline"},
           {[](ServerOptions& o) { o.audit_key_file.clear(); }, "--audit-key"},
           {[](ServerOptions& o) {
              o.checkpoint_interval = absl::ZeroDuration();
            },
            "--checkpoint-interval"},
           {[](ServerOptions& o) { o.checkpoint_entries = 0; },
            "--checkpoint-entries"},
           {[](ServerOptions& o) { o.rate_limit = std::nan(""); },
            "--rate-limit"},
           {[](ServerOptions& o) { o.rate_burst = int64_t{1} << 32; },
            "--rate-burst"},
           {[](ServerOptions& o) { o.max_request_bytes = 1000; },
            "--max-request-size"},
           {[](ServerOptions& o) { o.max_streams_per_party = 0; },
            "--max-streams-per-party"},
       }) {
    ServerOptions o = Valid();
    c.mutate(o);
    SCOPED_TRACE(c.message);
    EXPECT_EQ(o.Validate().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(o.Validate().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace liaison::server

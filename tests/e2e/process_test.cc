// liaisond as a real process: readiness line, restart on the same data
// directory, SIGKILL right after an acknowledged send, SIGTERM drain, bad
// flags.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/audit_verify.h"
#include "client/client.h"
#include "common/file_util.h"
#include "common/signed_note.h"
#include "store/open_store.h"
#include "tests/testing/liaisond_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::Liaisond;
using testing::TempDir;
using testing::TestPki;

class ProcessTest : public ::testing::Test {
 protected:
  std::vector<std::string> Flags() const {
    return testing::LiaisondFlags(data_.path());
  }

  static std::unique_ptr<client::Client> Connect(
      int port, const std::string& party,
      const std::string& role = "liaison-officer") {
    return testing::ConnectAs(port, party, role, "proc");
  }

  static v1::SendMessageRequest Request(const std::string& key) {
    v1::SendMessageRequest r;
    r.add_recipients("HU");
    r.set_idempotency_key(key);
    r.set_kind(v1::MESSAGE_KIND_SPONTANEOUS);
    r.set_subject("Durable");
    r.set_body("Acknowledged means stored.");
    r.set_priority(v1::PRIORITY_ROUTINE);
    r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
    r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
    return r;
  }

  TempDir data_;
};

TEST_F(ProcessTest, PrintsReadinessAndDrainsOnSigterm) {
  Liaisond server(Flags());
  const int port = server.WaitReady();
  ASSERT_GT(port, 0) << server.output();
  auto ro = Connect(port, "RO");
  ASSERT_TRUE(ro->WhoAmI().ok());
  // An idle open channel would keep the server's graceful GOAWAY waiting.
  ro.reset();
  const int status = server.Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status)) << server.output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << server.output();
  EXPECT_THAT(server.output(), HasSubstr("draining"));
}

TEST_F(ProcessTest, HealthListenerServesOnlyHealthCheckingInPlaintext) {
  std::vector<std::string> flags = Flags();
  flags.push_back("--health-listen=127.0.0.1:0");
  Liaisond server(flags);
  ASSERT_GT(server.WaitReady(), 0) << server.output();
  const int health_port = testing::HealthPort(server.output());
  ASSERT_GT(health_port, 0) << server.output();

  // HealthCheckResponse{status: SERVING}: field 1, varint 1.
  std::string response;
  grpc::Status status = testing::PlaintextCall(
      health_port, "/grpc.health.v1.Health/Check", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response, std::string("\x08\x01", 2));

  // No Liaison service answers there, with or without a certificate.
  status = testing::PlaintextCall(health_port, "/liaison.v1.Exchange/WhoAmI",
                                  &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << status.error_message();

  EXPECT_EQ(WEXITSTATUS(server.Stop(SIGTERM)), 0) << server.output();
}

TEST_F(ProcessTest, SigintAlsoExitsCleanly) {
  Liaisond server(Flags());
  ASSERT_GT(server.WaitReady(), 0) << server.output();
  const int status = server.Stop(SIGINT);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ProcessTest, AcknowledgedMessagesSurviveSigkill) {
  std::vector<std::string> ids;
  for (int round = 0; round < 3; ++round) {
    Liaisond server(Flags());
    const int port = server.WaitReady();
    ASSERT_GT(port, 0) << server.output();
    auto ro = Connect(port, "RO");
    absl::StatusOr<v1::SendMessageResponse> sent =
        ro->SendMessage(Request(absl::StrCat("kill-", round)));
    ASSERT_TRUE(sent.ok()) << sent.status();
    ids.push_back(sent->message_id());
    // Killed the instant the acknowledgement arrived: no chance to flush.
    const int status = server.Stop(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status));
  }
  Liaisond server(Flags());
  const int port = server.WaitReady();
  ASSERT_GT(port, 0) << server.output();
  auto hu = Connect(port, "HU");
  for (const std::string& id : ids) {
    absl::StatusOr<v1::Message> message = hu->GetMessage(id);
    ASSERT_TRUE(message.ok()) << id << ": " << message.status();
    EXPECT_EQ(message->body(), "Acknowledged means stored.");
  }
  // A retry after the crash is recognised, not stored twice.
  auto ro = Connect(port, "RO");
  absl::StatusOr<v1::SendMessageResponse> retry =
      ro->SendMessage(Request("kill-0"));
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->message_id(), ids[0]);
  ro.reset();
  hu.reset();
  server.Stop(SIGTERM);

  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenStore(absl::StrCat("sqlite:", data_.File("liaison.db")));
  ASSERT_TRUE(store.ok());
  absl::StatusOr<std::vector<AuditEntry>> audit = (*store)->ReadAudit(1, 1000);
  ASSERT_TRUE(audit.ok());
  int sends = 0;
  for (const AuditEntry& e : *audit) {
    if (e.action == "Exchange.SendMessage" &&
        e.outcome == AuditOutcome::kAllowed) {
      ++sends;
    }
  }
  EXPECT_EQ(sends, 4);  // three sends and the recognised retry
  EXPECT_EQ((*store)->ListOutbox("RO", 100, std::nullopt)->size(), 3u);
}

// The audit tree and its checkpoints carry on across SIGKILL: every later
// checkpoint extends the earlier ones, and the whole log still verifies.
TEST_F(ProcessTest, AuditLogStaysVerifiableAcrossSigkill) {
  absl::StatusOr<std::string> vkey = ReadFile(TestPki::Shared().audit_vkey());
  ASSERT_TRUE(vkey.ok());
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(*vkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  std::vector<client::CheckedCheckpoint> kept;
  for (int round = 0; round < 3; ++round) {
    Liaisond server(Flags());
    const int port = server.WaitReady();
    ASSERT_GT(port, 0) << server.output();
    auto ro = Connect(port, "RO");
    auto auditor = Connect(port, "HQ", "auditor");
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          ro->SendMessage(Request(absl::StrCat("audit-", round, "-", i))).ok());
    }
    absl::StatusOr<v1::GetCheckpointResponse> c = auditor->GetCheckpoint(true);
    ASSERT_TRUE(c.ok()) << c.status();
    absl::StatusOr<client::CheckedCheckpoint> checked =
        client::CheckCheckpoint(c->checkpoint().note(), *verifier);
    ASSERT_TRUE(checked.ok()) << checked.status();
    if (!kept.empty()) {
      absl::StatusOr<v1::ConsistencyProof> proof = auditor->GetConsistencyProof(
          kept.back().body.size, checked->body.size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(client::CheckConsistency(
                      kept.back(), *checked,
                      {proof->hashes().begin(), proof->hashes().end()})
                      .ok())
          << "round " << round;
    }
    kept.push_back(*std::move(checked));
    // More calls after the checkpoint, then no chance to flush or sign.
    ASSERT_TRUE(ro->SendMessage(Request(absl::StrCat("tail-", round))).ok());
    ASSERT_TRUE(WIFSIGNALED(server.Stop(SIGKILL)));
  }
  Liaisond server(Flags());
  const int port = server.WaitReady();
  ASSERT_GT(port, 0) << server.output();
  auto auditor = Connect(port, "HQ", "auditor");
  std::stringstream file;
  ASSERT_TRUE(auditor
                  ->ExportAudit(0,
                                [&](const v1::ExportChunk& chunk) {
                                  if (chunk.has_header()) {
                                    file << *client::ExportLine(chunk.header())
                                         << "\n";
                                  }
                                  for (const auto& entry : chunk.entries()) {
                                    file << *client::ExportLine(entry) << "\n";
                                  }
                                  return absl::OkStatus();
                                })
                  .ok());
  std::vector<std::string> notes;
  for (const client::CheckedCheckpoint& c : kept) notes.push_back(c.note);
  const client::ExportReport report =
      client::VerifyExport(file, *verifier, notes);
  EXPECT_TRUE(report.ok) << absl::StrJoin(report.problems, "\n");
  EXPECT_GE(report.checkpoints_checked, 3);
  // The entries written after each checkpoint, right before SIGKILL, are
  // in the log too.
  EXPECT_GT(report.checkpoint.body.size, kept.back().body.size + 1);
}

TEST_F(ProcessTest, ASecondLiaisondOnTheSameDataIsRefused) {
  Liaisond first(Flags());
  const int port = first.WaitReady();
  ASSERT_GT(port, 0) << first.output();
  Liaisond second(Flags());
  EXPECT_EQ(second.WaitReady(), 0) << second.output();
  const int status = second.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(second.output(), HasSubstr("is in use by another process"));
  // The first one serves on, undisturbed.
  auto ro = Connect(port, "RO");
  EXPECT_TRUE(ro->WhoAmI().ok());
  ro.reset();
  EXPECT_EQ(WEXITSTATUS(first.Stop(SIGTERM)), 0) << first.output();
}

TEST_F(ProcessTest, RefusesToStartWithBadOptions) {
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<std::string> missing_ca = Flags();
  missing_ca[4] = "--tls-ca=/nonexistent/ca.crt";
  std::vector<std::string> bad_listen = Flags();
  bad_listen[0] = "--listen=nowhere";
  std::vector<std::string> bad_roster = Flags();
  bad_roster[6] = absl::StrCat("--parties=", TestPki::Shared().ca());
  std::vector<std::string> bad_audit_key = Flags();
  bad_audit_key[7] = absl::StrCat("--audit-key=", TestPki::Shared().ca());
  std::vector<std::string> no_audit_key = Flags();
  no_audit_key.pop_back();
  std::vector<std::string> bad_health_listen = Flags();
  bad_health_listen.push_back("--health-listen=7444");
  for (const Case& c : std::vector<Case>{
           {missing_ca, "/nonexistent/ca.crt"},
           {bad_listen, "--listen='nowhere'"},
           {bad_roster, "roster line 1"},
           {bad_audit_key, "--audit-key="},
           {no_audit_key, "--audit-key is required"},
           {bad_health_listen, "--health-listen='7444' is not HOST:PORT"},
           {{"--data-dir=/tmp"}, "--tls-cert, --tls-key and --tls-ca"},
       }) {
    SCOPED_TRACE(c.message);
    Liaisond server(c.flags);
    EXPECT_EQ(server.WaitReady(), 0);
    const int status = server.Wait();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1);
    EXPECT_THAT(server.output(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace liaison

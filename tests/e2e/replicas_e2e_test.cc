// Several liaisond processes on one PostgreSQL database, as behind a load
// balancer: what one replica stores, every other serves; what one decides
// (a suspension), every other enforces on the next call; concurrent work
// through different replicas keeps one message per idempotency key and one
// verifiable audit log; losing a replica loses nothing it acknowledged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/audit_verify.h"
#include "client/client.h"
#include "common/file_util.h"
#include "common/signed_note.h"
#include "tests/testing/liaisond_process.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/test_pki.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::Liaisond;
using testing::PostgresServer;
using testing::TestPki;

class ReplicasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<PostgresServer>> started =
        PostgresServer::Start();
    // Missing binaries are a broken setup, not a reason to skip.
    ASSERT_TRUE(started.ok()) << started.status();
    postgres_ = std::move(started).value();
    absl::StatusOr<std::string> database = postgres_->CreateDatabase();
    ASSERT_TRUE(database.ok()) << database.status();
    url_ = postgres_->Url(*database);
  }

  // The flags of a replica on the test database.
  std::vector<std::string> Flags() const {
    std::vector<std::string> flags = testing::LiaisondFlags("");
    for (std::string& flag : flags) {
      if (absl::StartsWith(flag, "--data-dir=")) {
        flag = absl::StrCat("--store=", url_);
      }
    }
    return flags;
  }

  // Starts `n` replicas at once (as a deployment does) and waits until all
  // serve.
  std::vector<std::unique_ptr<Liaisond>> StartReplicas(int n) {
    std::vector<std::unique_ptr<Liaisond>> replicas;
    for (int i = 0; i < n; ++i) {
      replicas.push_back(std::make_unique<Liaisond>(Flags()));
    }
    for (auto& replica : replicas) {
      ports_.push_back(replica->WaitReady());
      EXPECT_GT(ports_.back(), 0) << replica->output();
    }
    return replicas;
  }

  static std::unique_ptr<client::Client> Connect(
      int port, const std::string& party,
      const std::string& role = "liaison-officer") {
    return testing::ConnectAs(port, party, role, "replica");
  }

  static v1::SendMessageRequest Request(const std::string& key,
                                        const std::string& to = "HU") {
    v1::SendMessageRequest r;
    r.add_recipients(to);
    r.set_idempotency_key(key);
    r.set_kind(v1::MESSAGE_KIND_SPONTANEOUS);
    r.set_subject("Across replicas");
    r.set_body(absl::StrCat("Stored once, served everywhere: ", key));
    r.set_priority(v1::PRIORITY_ROUTINE);
    r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
    r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
    return r;
  }

  std::unique_ptr<PostgresServer> postgres_;
  std::string url_;
  std::vector<int> ports_;
};

TEST_F(ReplicasTest, ReplicasStartingTogetherOnANewDatabaseAllServe) {
  // All three find the database empty: one migrates and seeds the roster,
  // the others wait for it and use it.
  auto replicas = StartReplicas(3);
  ASSERT_EQ(ports_.size(), 3u);
  for (int port : ports_) {
    absl::StatusOr<v1::WhoAmIResponse> me = Connect(port, "RO")->WhoAmI();
    ASSERT_TRUE(me.ok()) << me.status();
  }
  // The roster was registered once.
  absl::StatusOr<std::vector<std::vector<std::string>>> seeded =
      postgres_->Query(url_.substr(url_.rfind('/') + 1),
                       "SELECT count(*) FROM party_changes WHERE code = 'RO'");
  ASSERT_TRUE(seeded.ok()) << seeded.status();
  EXPECT_EQ((*seeded)[0][0], "1");
}

// That the wake-up comes at once, not at the subscriber's recheck, is shown
// by PostgresStoreTest.CommitsOfAnotherStoreAreAnnounced; here, the stream
// across processes and its cursor.
TEST_F(ReplicasTest, ASubscriberOnOneReplicaGetsWhatIsSentThroughAnother) {
  auto replicas = StartReplicas(2);
  ASSERT_EQ(ports_.size(), 2u);
  auto ro_on_a = Connect(ports_[0], "RO");
  auto hu_on_b = Connect(ports_[1], "HU");

  absl::Mutex mu;
  std::vector<v1::Event> events;
  absl::Notification subscribed;
  std::thread subscriber([&] {
    subscribed.Notify();
    const absl::Status ended = hu_on_b->Subscribe(
        0,
        [&](const v1::Event& event) {
          absl::MutexLock lock(&mu);
          events.push_back(event);
          return event.kind() != "MESSAGE";  // stop at the first message
        },
        absl::Seconds(60));
    EXPECT_TRUE(ended.ok()) << ended;
  });
  subscribed.WaitForNotification();

  absl::StatusOr<v1::SendMessageResponse> sent =
      ro_on_a->SendMessage(Request("live-1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  subscriber.join();
  {
    absl::MutexLock lock(&mu);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().kind(), "MESSAGE");
    EXPECT_EQ(events.back().message_id(), sent->message_id());
  }
  // B serves the message A stored, and A's outbox lists it once.
  absl::StatusOr<v1::Message> read = hu_on_b->GetMessage(sent->message_id());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->body(), HasSubstr("live-1"));

  // Resuming on the other replica from the cursor: no gap, no duplicate.
  int64_t cursor;
  {
    absl::MutexLock lock(&mu);
    cursor = events.back().seq();
  }
  ASSERT_TRUE(ro_on_a->SendMessage(Request("live-2")).ok());
  auto hu_on_a = Connect(ports_[0], "HU");
  std::vector<v1::Event> resumed;
  ASSERT_TRUE(hu_on_a
                  ->Subscribe(
                      cursor,
                      [&](const v1::Event& event) {
                        resumed.push_back(event);
                        return event.kind() != "MESSAGE";
                      },
                      absl::Seconds(60))
                  .ok());
  ASSERT_FALSE(resumed.empty());
  EXPECT_GT(resumed.front().seq(), cursor);
  EXPECT_EQ(resumed.back().kind(), "MESSAGE");
  EXPECT_NE(resumed.back().message_id(), sent->message_id());
}

TEST_F(ReplicasTest, SuspensionAndRevocationThroughOneReplicaApplyAtTheOthers) {
  auto replicas = StartReplicas(3);
  ASSERT_EQ(ports_.size(), 3u);
  auto ro_on_b = Connect(ports_[1], "RO");
  auto ro_on_c = Connect(ports_[2], "RO");
  ASSERT_TRUE(ro_on_b->WhoAmI().ok());  // channels open before the change
  ASSERT_TRUE(ro_on_c->WhoAmI().ok());

  v1::SuspendPartyRequest suspend;
  suspend.set_code("RO");
  suspend.set_reason("audit of data protection breach");
  absl::StatusOr<v1::Party> suspended =
      Connect(ports_[0], "HQ", "admin")->SuspendParty(suspend);
  ASSERT_TRUE(suspended.ok()) << suspended.status();

  for (client::Client* ro : {ro_on_b.get(), ro_on_c.get()}) {
    absl::StatusOr<v1::SendMessageResponse> refused =
        ro->SendMessage(Request("after-suspension"));
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(refused.status().message(), HasSubstr("suspended"));
  }

  // A revocation through C: HU's officer is refused at A and B next call.
  auto hu_on_a = testing::ConnectAs(ports_[0], "HU", "liaison-officer", "eva");
  auto hu_on_b = testing::ConnectAs(ports_[1], "HU", "liaison-officer", "eva");
  ASSERT_TRUE(hu_on_a->WhoAmI().ok());
  ASSERT_TRUE(hu_on_b->WhoAmI().ok());
  v1::RevokeCertificateRequest revoke;
  revoke.set_user("HU/liaison-officer/eva");
  revoke.set_reason("laptop stolen");
  absl::StatusOr<v1::Revocation> revoked =
      Connect(ports_[2], "HQ", "admin")->RevokeCertificate(revoke);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  for (client::Client* hu : {hu_on_a.get(), hu_on_b.get()}) {
    absl::StatusOr<v1::WhoAmIResponse> refused = hu->WhoAmI();
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated)
        << refused.status();
    EXPECT_THAT(refused.status().message(), HasSubstr("revoked"));
  }
}

TEST_F(ReplicasTest, OneIdempotencyKeyThroughEveryReplicaStoresOneMessage) {
  auto replicas = StartReplicas(3);
  ASSERT_EQ(ports_.size(), 3u);
  constexpr int kCallersPerReplica = 3;
  absl::Notification go;
  absl::Mutex mu;
  std::set<std::string> ids;
  std::vector<std::thread> callers;
  for (int port : ports_) {
    for (int i = 0; i < kCallersPerReplica; ++i) {
      callers.emplace_back([&, port] {
        auto ro = Connect(port, "RO");
        go.WaitForNotification();
        absl::StatusOr<v1::SendMessageResponse> sent =
            ro->SendMessage(Request("one-key"));
        ASSERT_TRUE(sent.ok()) << sent.status();
        absl::MutexLock lock(&mu);
        ids.insert(sent->message_id());
      });
    }
  }
  go.Notify();
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ids.size(), 1u);
  absl::StatusOr<v1::ListOutboxResponse> outbox =
      Connect(ports_[2], "RO")->ListOutbox(v1::ListOutboxRequest());
  ASSERT_TRUE(outbox.ok()) << outbox.status();
  EXPECT_EQ(outbox->messages_size(), 1);
}

// On PostgreSQL, whose reads and commits wait, SendMessage and the record
// of an undecodable request run on liaisond's own threads instead of gRPC's
// callback threads: answered and audited as on SQLite.
TEST_F(ReplicasTest, SendsAndUndecodableRequestsAreAnsweredAndAudited) {
  auto replicas = StartReplicas(1);
  ASSERT_EQ(ports_.size(), 1u);
  auto ro = Connect(ports_[0], "RO");
  absl::StatusOr<v1::SendMessageResponse> sent = ro->SendMessage(Request("k1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  absl::StatusOr<v1::SendMessageResponse> refused =
      ro->SendMessage(Request("k2", "ZZ"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kNotFound)
      << refused.status();
  // subject (field 4) not UTF-8.
  const grpc::Status undecodable = testing::CallRaw(
      absl::StrCat("localhost:", ports_[0]), "/liaison.v1.Exchange/SendMessage",
      std::string("\x22\x03\xc3\x28\x41", 5));
  EXPECT_EQ(undecodable.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << undecodable.error_message();
  EXPECT_THAT(undecodable.error_message(),
              HasSubstr("the request could not be decoded"));

  absl::StatusOr<std::vector<std::vector<std::string>>> last =
      postgres_->Query(url_.substr(url_.rfind('/') + 1),
                       "SELECT action, outcome FROM audit_log "
                       "ORDER BY seq DESC LIMIT 3");
  ASSERT_TRUE(last.ok()) << last.status();
  ASSERT_EQ(last->size(), 3u);
  for (const std::vector<std::string>& row : *last) {
    EXPECT_EQ(row[0], "Exchange.SendMessage");
  }
  EXPECT_EQ((*last)[0][1], "REJECTED");  // Undecodable.
  EXPECT_EQ((*last)[1][1], "REJECTED");  // Unknown recipient.
  EXPECT_EQ((*last)[2][1], "ALLOWED");
}

// A request's state moves once, whichever replicas its answers reach: HU's
// officers answer the same request with different replies through two
// replicas at once; exactly one reply is stored and the others are refused.
TEST_F(ReplicasTest, ConcurrentAnswersThroughDifferentReplicasAnswerOnce) {
  auto replicas = StartReplicas(2);
  ASSERT_EQ(ports_.size(), 2u);
  v1::SendMessageRequest ask = Request("question");
  ask.set_kind(v1::MESSAGE_KIND_REQUEST);
  absl::StatusOr<v1::SendMessageResponse> asked =
      Connect(ports_[0], "RO")->SendMessage(ask);
  ASSERT_TRUE(asked.ok()) << asked.status();

  constexpr int kAnswersPerReplica = 3;
  absl::Notification go;
  absl::Mutex mu;
  std::vector<std::string> stored;
  std::vector<absl::Status> refused;
  std::vector<std::thread> officers;
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < kAnswersPerReplica; ++i) {
      officers.emplace_back([&, r, i] {
        auto hu = Connect(ports_[r], "HU");
        v1::ReplyRequest reply;
        reply.set_request_id(asked->message_id());
        reply.set_idempotency_key(absl::StrCat("answer-", r, "-", i));
        reply.set_body(absl::StrCat("Answer ", r, "-", i));
        reply.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
        reply.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
        go.WaitForNotification();
        absl::StatusOr<v1::ReplyResponse> answered = hu->Reply(reply);
        absl::MutexLock lock(&mu);
        if (answered.ok()) {
          stored.push_back(answered->message_id());
        } else {
          refused.push_back(answered.status());
        }
      });
    }
  }
  go.Notify();
  for (std::thread& t : officers) t.join();
  ASSERT_EQ(stored.size(), 1u);
  ASSERT_EQ(refused.size(), 2u * kAnswersPerReplica - 1);
  for (const absl::Status& status : refused) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  }
  // RO sees the request answered by that reply, and only that reply.
  absl::StatusOr<v1::Message> request =
      Connect(ports_[1], "RO")->GetMessage(asked->message_id());
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_EQ(request->recipients_size(), 1);
  EXPECT_EQ(request->recipients(0).request_state(), v1::REQUEST_STATE_ANSWERED);
  EXPECT_EQ(request->recipients(0).reply_id(), stored[0]);
  absl::StatusOr<v1::ListInboxResponse> inbox =
      Connect(ports_[1], "RO")->ListInbox(v1::ListInboxRequest());
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  EXPECT_EQ(inbox->messages_size(), 1);
}

TEST_F(ReplicasTest, TheAuditLogVerifiesAfterConcurrentLoadAcrossReplicas) {
  auto replicas = StartReplicas(2);
  ASSERT_EQ(ports_.size(), 2u);
  absl::StatusOr<std::string> vkey = ReadFile(TestPki::Shared().audit_vkey());
  ASSERT_TRUE(vkey.ok());
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(*vkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();

  constexpr int kCallersPerReplica = 3;
  constexpr int kSendsPerCaller = 15;
  std::vector<std::thread> callers;
  std::vector<std::string> notes;
  absl::Mutex mu;
  for (int r = 0; r < 2; ++r) {
    for (int i = 0; i < kCallersPerReplica; ++i) {
      callers.emplace_back([&, r, i] {
        auto ro = Connect(ports_[r], "RO");
        auto auditor = Connect(ports_[r], "HQ", "auditor");
        for (int k = 0; k < kSendsPerCaller; ++k) {
          ASSERT_TRUE(
              ro->SendMessage(Request(absl::StrCat("load-", r, "-", i, "-", k)))
                  .ok());
          if (k % 5 == 4) {
            // Checkpoints signed by either replica, mid-load.
            absl::StatusOr<v1::GetCheckpointResponse> c =
                auditor->GetCheckpoint(true);
            ASSERT_TRUE(c.ok()) << c.status();
            absl::MutexLock lock(&mu);
            notes.push_back(c->checkpoint().note());
          }
        }
      });
    }
  }
  for (std::thread& t : callers) t.join();

  auto auditor = Connect(ports_[1], "HQ", "auditor");
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
  // Every checkpoint either replica signed is a prefix of the one log.
  const client::ExportReport report =
      client::VerifyExport(file, *verifier, notes);
  EXPECT_TRUE(report.ok) << absl::StrJoin(report.problems, "\n");
  EXPECT_GE(report.checkpoints_checked, 2 * kCallersPerReplica);
  EXPECT_GE(report.checkpoint.body.size,
            2 * kCallersPerReplica * kSendsPerCaller);
}

TEST_F(ReplicasTest, LosingAReplicaLosesNothingItAcknowledged) {
  auto replicas = StartReplicas(2);
  ASSERT_EQ(ports_.size(), 2u);
  std::atomic<bool> killed{false};
  absl::Mutex mu;
  std::vector<std::string> acknowledged;
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i) {
    callers.emplace_back([&, i] {
      auto ro = Connect(ports_[0], "RO");
      for (int k = 0; !killed && k < 1000; ++k) {
        absl::StatusOr<v1::SendMessageResponse> sent =
            ro->SendMessage(Request(absl::StrCat("kill-", i, "-", k)));
        if (!sent.ok()) continue;  // the replica died under this call
        absl::MutexLock lock(&mu);
        acknowledged.push_back(sent->message_id());
      }
    });
  }
  // Let some sends through (a minute at most), then SIGKILL the replica
  // mid-load.
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  while (absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
    absl::MutexLock lock(&mu);
    if (acknowledged.size() >= 30) break;
  }
  const int status = replicas[0]->Stop(SIGKILL);
  killed = true;
  for (std::thread& t : callers) t.join();
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GE(acknowledged.size(), 30u) << replicas[0]->output();

  // The surviving replica serves every acknowledged message, once.
  auto hu = Connect(ports_[1], "HU");
  for (const std::string& id : acknowledged) {
    absl::StatusOr<v1::Message> m = hu->GetMessage(id);
    EXPECT_TRUE(m.ok()) << id << ": " << m.status();
  }
  std::set<std::string> listed;
  v1::ListOutboxRequest page;
  page.set_page_size(500);  // the most a page holds
  auto ro = Connect(ports_[1], "RO");
  do {
    absl::StatusOr<v1::ListOutboxResponse> outbox = ro->ListOutbox(page);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    for (const v1::MessageSummary& m : outbox->messages()) {
      EXPECT_TRUE(listed.insert(m.id()).second) << "listed twice: " << m.id();
    }
    page.set_page_token(outbox->next_page_token());
  } while (!page.page_token().empty());
  for (const std::string& id : acknowledged) {
    EXPECT_TRUE(listed.count(id) == 1) << id;
  }
}

// Kubernetes' readiness and the load balancer's check follow the database:
// a replica that cannot reach it says NOT_SERVING on --health-listen, and
// SERVING again once it can.
TEST_F(ReplicasTest, HealthFollowsTheDatabase) {
  std::vector<std::string> flags = Flags();
  flags.push_back("--health-listen=127.0.0.1:0");
  flags.push_back("--checkpoint-interval=400ms");  // health checked each 100 ms
  Liaisond replica(flags);
  ASSERT_GT(replica.WaitReady(), 0) << replica.output();
  const int health = testing::HealthPort(replica.output());
  ASSERT_GT(health, 0) << replica.output();
  auto health_becomes = [&](const std::string& want) {
    // Only against a hang: the status follows within a check period.
    const absl::Time give_up = absl::Now() + absl::Minutes(1);
    absl::StatusOr<std::string> status;
    do {
      status = testing::HealthStatus(health);
      if (status.ok() && *status == want) return true;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < give_up);
    ADD_FAILURE() << "health is not " << want << ": "
                  << (status.ok() ? *status : status.status().ToString());
    return false;
  };
  ASSERT_TRUE(health_becomes("SERVING"));

  // The database refuses this replica's connections and ends the open ones.
  const std::string database = url_.substr(url_.rfind('/') + 1);
  ASSERT_TRUE(postgres_
                  ->Query("postgres",
                          absl::StrCat("ALTER DATABASE ", database,
                                       " ALLOW_CONNECTIONS false; "
                                       "SELECT pg_terminate_backend(pid) FROM "
                                       "pg_stat_activity WHERE datname = '",
                                       database, "'"))
                  .ok());
  EXPECT_TRUE(health_becomes("NOT_SERVING"));

  ASSERT_TRUE(postgres_
                  ->Query("postgres", absl::StrCat("ALTER DATABASE ", database,
                                                   " ALLOW_CONNECTIONS true"))
                  .ok());
  EXPECT_TRUE(health_becomes("SERVING"));
  EXPECT_EQ(WEXITSTATUS(replica.Stop(SIGTERM)), 0) << replica.output();
  EXPECT_THAT(replica.output(), HasSubstr("health NOT_SERVING"));
  EXPECT_THAT(replica.output(), HasSubstr("health SERVING"));
}

}  // namespace
}  // namespace liaison

// Acknowledged means stored, under load: senders keep sending while liaisond
// is killed with SIGKILL at random moments and restarted, cycle after
// cycle. Afterwards every acknowledged message and its audit entry is
// there, no message is stored twice, and the audit log verifies against
// every checkpoint kept along the way.
//
// LIAISON_CRASH_CYCLES (default 10) and LIAISON_CRASH_SEED (default: from
// the clock, printed) make longer or repeatable runs.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/audit_verify.h"
#include "common/file_util.h"
#include "common/signed_note.h"
#include "tests/testing/liaisond_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_pki.h"

namespace liaison {
namespace {

using testing::ConnectAs;
using testing::Liaisond;

// Durability under load, not admission: no rate limit.
std::vector<std::string> Flags(const std::string& data_dir) {
  std::vector<std::string> flags = testing::LiaisondFlags(data_dir);
  flags.push_back("--rate-limit=0");
  return flags;
}

int64_t EnvOr(const char* name, int64_t fallback) {
  const char* value = std::getenv(name);
  int64_t n = 0;
  return value != nullptr && absl::SimpleAtoi(value, &n) ? n : fallback;
}

v1::SendMessageRequest Request(const std::string& key) {
  v1::SendMessageRequest r;
  r.add_recipients("HU");
  r.set_idempotency_key(key);
  r.set_kind(v1::MESSAGE_KIND_SPONTANEOUS);
  r.set_subject(key);
  r.set_body("Acknowledged means stored.");
  r.set_priority(v1::PRIORITY_ROUTINE);
  r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
  r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
  return r;
}

// What the senders learnt: key -> id for acknowledged sends, and the keys
// whose fate is unknown (in flight when the server died).
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acknowledged;
  std::set<std::string> in_doubt;

  void Acknowledge(const std::string& key, const std::string& id) {
    std::lock_guard<std::mutex> lock(mu);
    auto [it, added] = acknowledged.emplace(key, id);
    EXPECT_EQ(it->second, id) << "key " << key << " acknowledged twice with "
                              << "different ids";
    in_doubt.erase(key);
  }
};

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> vkey =
        ReadFile(testing::TestPki::Shared().audit_vkey());
    ASSERT_TRUE(vkey.ok());
    absl::StatusOr<NoteVerifier> verifier =
        NoteVerifier::FromVerifierKey(*vkey);
    ASSERT_TRUE(verifier.ok());
    verifier_.emplace(*std::move(verifier));
  }

  // Retries every send in doubt: each must now be acknowledged, as the one
  // already stored (replayed) or as stored now, never twice.
  void Settle(client::Client& ro) {
    const std::set<std::string> keys = ledger_.in_doubt;
    for (const std::string& key : keys) {
      absl::StatusOr<v1::SendMessageResponse> sent =
          ro.SendMessage(Request(key));
      ASSERT_TRUE(sent.ok()) << key << ": " << sent.status();
      ledger_.Acknowledge(key, sent->message_id());
    }
  }

  // Keeps a fresh checkpoint, after checking that it extends the last kept.
  void KeepCheckpoint(client::Client& auditor) {
    absl::StatusOr<v1::GetCheckpointResponse> c = auditor.GetCheckpoint(true);
    ASSERT_TRUE(c.ok()) << c.status();
    absl::StatusOr<client::CheckedCheckpoint> checked =
        client::CheckCheckpoint(c->checkpoint().note(), *verifier_);
    ASSERT_TRUE(checked.ok()) << checked.status();
    if (!kept_.empty() && kept_.back().body.size < checked->body.size) {
      absl::StatusOr<v1::ConsistencyProof> proof = auditor.GetConsistencyProof(
          kept_.back().body.size, checked->body.size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(client::CheckConsistency(
                      kept_.back(), *checked,
                      {proof->hashes().begin(), proof->hashes().end()})
                      .ok());
    }
    kept_.push_back(*std::move(checked));
  }

  // Sends as RO, keys `prefix`-N, until `stop` or a call fails; returns
  // how the last call ended (OK if stopped). A failed call's key stays in
  // doubt.
  absl::StatusCode SendUntilRefused(int port, const std::string& prefix,
                                    std::atomic<int>& next_key,
                                    const std::atomic<bool>& stop) {
    auto ro = ConnectAs(port, "RO", "liaison-officer", prefix);
    while (!stop) {
      const std::string key = absl::StrCat(prefix, "-", next_key++);
      {
        std::lock_guard<std::mutex> lock(ledger_.mu);
        ledger_.in_doubt.insert(key);
      }
      absl::StatusOr<v1::SendMessageResponse> sent =
          ro->SendMessage(Request(key));
      if (!sent.ok()) return sent.status().code();
      ledger_.Acknowledge(key, sent->message_id());
    }
    return absl::StatusCode::kOk;
  }

  size_t Acknowledged() {
    std::lock_guard<std::mutex> lock(ledger_.mu);
    return ledger_.acknowledged.size();
  }

  // Waits (at most 10 s) until at least `count` sends are acknowledged.
  void WaitForAcknowledged(size_t count) {
    for (int i = 0; i < 2000 && Acknowledged() < count; ++i) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  testing::TempDir data_;
  Ledger ledger_;
  std::optional<NoteVerifier> verifier_;
  std::vector<client::CheckedCheckpoint> kept_;
};

TEST_F(CrashTest, NothingAcknowledgedIsLostAcrossRandomKills) {
  const int64_t cycles = EnvOr("LIAISON_CRASH_CYCLES", 10);
  const int64_t seed =
      EnvOr("LIAISON_CRASH_SEED", absl::ToUnixNanos(absl::Now()));
  std::cout << "crash test: " << cycles
            << " cycles, LIAISON_CRASH_SEED=" << seed << "\n";
  std::mt19937_64 random(static_cast<uint64_t>(seed));
  std::atomic<int> next_key{0};
  constexpr int kSenders = 4;
  for (int64_t cycle = 0; cycle < cycles; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    Liaisond server(Flags(data_.path()));
    const int port = server.WaitReady();
    ASSERT_GT(port, 0) << server.output();
    {
      auto ro = ConnectAs(port, "RO", "liaison-officer", "crash");
      Settle(*ro);
      auto auditor = ConnectAs(port, "HQ", "auditor", "crash");
      KeepCheckpoint(*auditor);
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int t = 0; t < kSenders; ++t) {
      senders.emplace_back(
          [&, port] { SendUntilRefused(port, "crash", next_key, stop); });
    }
    // Let the senders get going (some sends acknowledged in this cycle),
    // then kill at a random moment.
    const size_t before = Acknowledged();
    WaitForAcknowledged(before + 1);
    absl::SleepFor(absl::Milliseconds(random() % 300));
    const int status = server.Stop(SIGKILL);
    stop = true;
    for (std::thread& sender : senders) sender.join();
    // Killed by us, not ended by anything else (a sanitizer's abort).
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << server.output();
    EXPECT_GT(Acknowledged(), before)
        << "no send was acknowledged in this cycle";
  }

  Liaisond server(Flags(data_.path()));
  const int port = server.WaitReady();
  ASSERT_GT(port, 0) << server.output();
  auto ro = ConnectAs(port, "RO", "liaison-officer", "crash");
  Settle(*ro);
  ASSERT_TRUE(ledger_.in_doubt.empty());
  std::cout << "crash test: " << ledger_.acknowledged.size()
            << " messages acknowledged across " << cycles << " kills\n";
  ASSERT_GT(ledger_.acknowledged.size(), static_cast<size_t>(cycles));

  // Every acknowledged message is there for its recipient...
  auto hu = ConnectAs(port, "HU", "liaison-officer", "crash");
  for (const auto& [key, id] : ledger_.acknowledged) {
    absl::StatusOr<v1::Message> message = hu->GetMessage(id);
    ASSERT_TRUE(message.ok())
        << key << " -> " << id << ": " << message.status();
    EXPECT_EQ(message->subject(), key);
  }
  // ... and stored once: the outbox holds one message per key.
  std::map<std::string, int> stored;
  v1::ListOutboxRequest page;
  page.set_page_size(500);
  while (true) {
    absl::StatusOr<v1::ListOutboxResponse> outbox = ro->ListOutbox(page);
    ASSERT_TRUE(outbox.ok()) << outbox.status();
    for (const v1::MessageSummary& m : outbox->messages()) ++stored[m.id()];
    if (outbox->next_page_token().empty()) break;
    page.set_page_token(outbox->next_page_token());
  }
  EXPECT_EQ(stored.size(), ledger_.acknowledged.size());
  for (const auto& [id, count] : stored) EXPECT_EQ(count, 1) << id;

  // The audit log has every send and verifies against every checkpoint
  // kept between the kills.
  auto auditor = ConnectAs(port, "HQ", "auditor", "crash");
  KeepCheckpoint(*auditor);
  std::stringstream file;
  std::set<std::string> audited_sends;
  ASSERT_TRUE(
      auditor
          ->ExportAudit(0,
                        [&](const v1::ExportChunk& chunk) {
                          if (chunk.has_header()) {
                            file << *client::ExportLine(chunk.header()) << "\n";
                          }
                          for (const v1::ExportedEntry& e : chunk.entries()) {
                            file << *client::ExportLine(e) << "\n";
                            const v1::AuditRecord& r = e.record();
                            // The entry of the call that stored the
                            // message (a retry's names it too, but says so).
                            if (r.action() == "Exchange.SendMessage" &&
                                r.outcome() == "ALLOWED" &&
                                r.resources_size() > 0 &&
                                r.reason().find("retry") == std::string::npos) {
                              audited_sends.insert(r.resources(0));
                            }
                          }
                          return absl::OkStatus();
                        })
          .ok());
  for (const auto& [key, id] : ledger_.acknowledged) {
    EXPECT_TRUE(audited_sends.count(id)) << "no audit entry for " << id;
  }
  std::vector<std::string> notes;
  for (const client::CheckedCheckpoint& c : kept_) notes.push_back(c.note);
  const client::ExportReport report =
      client::VerifyExport(file, *verifier_, notes);
  EXPECT_TRUE(report.ok) << absl::StrJoin(report.problems, "\n");
  ro.reset();
  hu.reset();
  auditor.reset();
  const int status = server.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server.output();
}

// SIGTERM under the same load: calls in flight finish and are kept, new
// calls are refused, and liaisond exits 0.
TEST_F(CrashTest, SigtermUnderLoadFinishesWorkRefusesNewCallsAndExitsZero) {
  Liaisond server(Flags(data_.path()));
  const int port = server.WaitReady();
  ASSERT_GT(port, 0) << server.output();
  std::atomic<int> next_key{0};
  std::vector<absl::StatusCode> ends(4, absl::StatusCode::kOk);
  const std::atomic<bool> never{false};
  std::vector<std::thread> senders;
  for (size_t t = 0; t < ends.size(); ++t) {
    senders.emplace_back([&, t, port] {
      ends[t] = SendUntilRefused(port, "term", next_key, never);
    });
  }
  WaitForAcknowledged(50);
  const int status = server.Stop(SIGTERM);
  for (std::thread& sender : senders) sender.join();
  ASSERT_TRUE(WIFEXITED(status)) << server.output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << server.output();
  EXPECT_THAT(server.output(), ::testing::HasSubstr("draining"));
  // Every sender was turned away once the server stopped taking calls:
  // UNAVAILABLE, or CANCELLED for a call gRPC had received but not yet
  // handed to Liaison (both safe to retry with the same idempotency key).
  for (absl::StatusCode end : ends) {
    EXPECT_TRUE(end == absl::StatusCode::kUnavailable ||
                end == absl::StatusCode::kCancelled)
        << absl::StatusCodeToString(end);
  }
  // What was acknowledged is there; what was in flight is there at most
  // once.
  Liaisond again(Flags(data_.path()));
  const int again_port = again.WaitReady();
  ASSERT_GT(again_port, 0) << again.output();
  auto ro = ConnectAs(again_port, "RO", "liaison-officer", "term");
  Settle(*ro);
  auto hu = ConnectAs(again_port, "HU", "liaison-officer", "term");
  for (const auto& [key, id] : ledger_.acknowledged) {
    absl::StatusOr<v1::Message> message = hu->GetMessage(id);
    ASSERT_TRUE(message.ok()) << key << ": " << message.status();
  }
  ro.reset();
  hu.reset();
  const int again_status = again.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(again_status) && WEXITSTATUS(again_status) == 0);
}

}  // namespace
}  // namespace liaison

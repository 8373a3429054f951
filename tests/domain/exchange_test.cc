#include "domain/exchange.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "domain/message_id.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/faulty_store.h"
#include "tests/testing/held_commit.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::ElementsAre;
using testing::FakeClock;
using testing::FaultyStore;
using ::testing::HasSubstr;
using testing::HeldCommit;
using ::testing::Not;
using testing::TempDir;

constexpr char kRoster[] = R"(
RO  MEMBER_STATE         SECRET        -         Romania
HU  MEMBER_STATE         SECRET        -         Hungary
BG  MEMBER_STATE         RESTRICTED    -         Bulgaria
HQ  MEMBER_STATE         SECRET        -         Headquarters
XOB OBSERVER             UNCLASSIFIED  -         Observer
)";

using testing::TestIdentity;

SendCommand Request(std::vector<std::string> to, const std::string& key) {
  SendCommand c;
  c.recipients = std::move(to);
  c.kind = MessageKind::kRequest;
  c.priority = Priority::kRoutine;
  c.content.idempotency_key = key;
  c.content.subject = "Vehicle check";
  c.content.body = "Please check plate B-123-XYZ.";
  c.content.classification = Classification::kUnclassified;
  c.content.handling_code = HandlingCode::kH0;
  return c;
}

class ExchangeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SqliteStore>> base =
        SqliteStore::Open(dir_.File("liaison.db"));
    ASSERT_TRUE(base.ok()) << base.status();
    store_ = std::make_unique<FaultyStore>(std::move(base).value());
    absl::StatusOr<std::vector<Party>> roster = ParseRoster(kRoster);
    ASSERT_TRUE(roster.ok()) << roster.status();
    ASSERT_EQ(*SeedRoster(*store_, audit_, clock_, *roster), 5);
    exchange_ = std::make_unique<ExchangeService>(*store_, audit_, clock_);
  }

  // The audit entries appended since the last call.
  std::vector<AuditEntry> NewAudit() {
    absl::StatusOr<std::vector<AuditEntry>> entries =
        store_->ReadAudit(audit_seen_ + 1, 1000);
    EXPECT_TRUE(entries.ok());
    audit_seen_ += static_cast<int64_t>(entries->size());
    return *entries;
  }

  TempDir dir_;
  FakeClock clock_;
  StoreAuditLog audit_;
  std::unique_ptr<FaultyStore> store_;
  std::unique_ptr<ExchangeService> exchange_;
  int64_t audit_seen_ = 1;  // Entry 1 records the roster.
};

TEST_F(ExchangeServiceTest, RosterSeedingIsAudited) {
  absl::StatusOr<std::vector<AuditEntry>> first = store_->ReadAudit(1, 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].action, "Server.SeedRoster");
  EXPECT_THAT((*first)[0].resources,
              ElementsAre("RO", "HU", "BG", "HQ", "XOB"));
  // A second seeding does nothing.
  EXPECT_EQ(*SeedRoster(*store_, audit_, clock_,
                        *ParseRoster("AL MEMBER_STATE SECRET - Albania")),
            0);
  EXPECT_EQ(store_->GetParty("AL").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ExchangeServiceTest, SendReadReplyIsAuditedStepByStep) {
  absl::StatusOr<SendResult> sent =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_FALSE(sent->replayed);
  EXPECT_TRUE(IsValidMessageId(sent->message_id));
  EXPECT_EQ(sent->created_at, clock_.Now());
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "Exchange.SendMessage");
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kAllowed);
  EXPECT_EQ(audit[0].principal,
            "spiffe://selec.test/party/RO/liaison-officer/u1");
  EXPECT_THAT(audit[0].resources, ElementsAre(sent->message_id, "HU"));
  // Never the body or subject.
  EXPECT_EQ(EncodeAuditLeaf(audit[0]).find("B-123"), std::string::npos);
  EXPECT_EQ(EncodeAuditLeaf(audit[0]).find("Vehicle"), std::string::npos);

  absl::StatusOr<MessageView> read =
      exchange_->GetMessage(TestIdentity("HU"), sent->message_id);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->message.body, "Please check plate B-123-XYZ.");
  EXPECT_EQ(read->message.idempotency_key, "");  // Only the sender sees it.
  EXPECT_EQ(read->message.FindRecipient("HU")->request_state,
            RequestState::kOpen);
  audit = NewAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].action, "Exchange.GetMessage");
  EXPECT_THAT(audit[0].resources, ElementsAre(sent->message_id));

  clock_.Advance(absl::Minutes(5));
  ReplyCommand reply;
  reply.request_id = sent->message_id;
  reply.content = Request({}, "r1").content;
  reply.content.subject.clear();
  reply.content.body = "Registered to a rental company.";
  absl::StatusOr<SendResult> replied =
      exchange_->Reply(TestIdentity("HU"), reply);
  ASSERT_TRUE(replied.ok()) << replied.status();
  EXPECT_GT(replied->message_id, sent->message_id);  // Time-ordered ids.

  absl::StatusOr<MessageView> request =
      exchange_->GetMessage(TestIdentity("RO"), sent->message_id);
  ASSERT_TRUE(request.ok());
  const Recipient* hu = request->message.FindRecipient("HU");
  EXPECT_EQ(hu->request_state, RequestState::kAnswered);
  EXPECT_EQ(hu->reply_id, replied->message_id);
  EXPECT_EQ(hu->answered_at, clock_.Now());
  EXPECT_EQ(request->message.idempotency_key, "k1");

  absl::StatusOr<MessageView> answer =
      exchange_->GetMessage(TestIdentity("RO"), replied->message_id);
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(answer->message.kind, MessageKind::kReply);
  EXPECT_EQ(answer->message.subject, "Re: Vehicle check");
  EXPECT_EQ(answer->message.in_reply_to, sent->message_id);
  EXPECT_EQ(answer->message.sender_party, "HU");
}

TEST_F(ExchangeServiceTest, UnauthenticatedCallsAreRefusedAndAudited) {
  const Caller nobody =
      absl::UnauthenticatedError("client certificate has no URI SAN identity");
  absl::StatusOr<WhoAmIResult> who = exchange_->WhoAmI(nobody);
  EXPECT_EQ(who.status().code(), absl::StatusCode::kUnauthenticated);
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(audit[0].principal, "");
  EXPECT_THAT(audit[0].reason, HasSubstr("no URI SAN"));
}

TEST_F(ExchangeServiceTest, HiddenMessagesLookMissingButAreAuditedTruly) {
  absl::StatusOr<SendResult> sent =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k1"));
  ASSERT_TRUE(sent.ok());
  NewAudit();
  absl::StatusOr<MessageView> hidden =
      exchange_->GetMessage(TestIdentity("BG"), sent->message_id);
  absl::StatusOr<MessageView> missing =
      exchange_->GetMessage(TestIdentity("BG"), "01M89Q1WQSCHQJ90CTMDR6HJ7B");
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(hidden.status().message(),
            absl::StrCat("message ", sent->message_id, " not found"));
  EXPECT_EQ(missing.status().message(),
            "message 01M89Q1WQSCHQJ90CTMDR6HJ7B not found");
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kDenied);
  EXPECT_THAT(audit[0].reason, HasSubstr("BG is neither the sender"));
  EXPECT_EQ(audit[1].outcome, AuditOutcome::kRejected);
}

TEST_F(ExchangeServiceTest, IdempotentRetryAndConflictingReuse) {
  absl::StatusOr<SendResult> first =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "same"));
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Seconds(3));
  // Another officer of the same party retrying the same content.
  absl::StatusOr<SendResult> retry = exchange_->SendMessage(
      TestIdentity("RO", Role::kFocalPoint, "nfp"), Request({"HU"}, "same"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->message_id, first->message_id);
  EXPECT_EQ(retry->created_at, first->created_at);

  SendCommand changed = Request({"HU"}, "same");
  changed.content.body = "Different body";
  absl::StatusOr<SendResult> conflict =
      exchange_->SendMessage(TestIdentity("RO"), changed);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(conflict.status().message(), HasSubstr(first->message_id));

  // Another party may use the same key.
  EXPECT_TRUE(
      exchange_->SendMessage(TestIdentity("HU"), Request({"RO"}, "same")).ok());
  EXPECT_EQ(store_->ListOutbox("RO", 10, std::nullopt)->size(), 1u);
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 4u);
  EXPECT_THAT(audit[1].reason, HasSubstr("retry"));
  EXPECT_EQ(audit[2].outcome, AuditOutcome::kRejected);
  EXPECT_EQ(audit[2].code, absl::StatusCode::kAlreadyExists);
}

TEST_F(ExchangeServiceTest, ConcurrentRetriesStoreOneMessage) {
  constexpr int kThreads = 8;
  std::vector<std::string> ids(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<SendResult> sent =
          exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "racing"));
      EXPECT_TRUE(sent.ok()) << sent.status();
      if (sent.ok()) ids[i] = sent->message_id;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_EQ(store_->ListOutbox("RO", 100, std::nullopt)->size(), 1u);
  EXPECT_EQ(NewAudit().size(), static_cast<size_t>(kThreads));
}

TEST_F(ExchangeServiceTest, AllOrNothingSendNamesTheRecipientAndRule) {
  SendCommand c = Request({"HU", "XOB"}, "k");
  c.content.contains_personal_data = true;
  absl::StatusOr<SendResult> sent =
      exchange_->SendMessage(TestIdentity("RO"), c);
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(sent.status().message(),
              HasSubstr("XOB is an observer and may not receive personal"));
  EXPECT_TRUE(store_->ListInbox("HU", 10, std::nullopt)->empty());
  EXPECT_TRUE(store_->ListOutbox("RO", 10, std::nullopt)->empty());
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kDenied);
  EXPECT_THAT(audit[0].reason, HasSubstr("XOB"));
  // The same key is free afterwards: nothing was stored under it.
  c.recipients = {"HU"};
  EXPECT_TRUE(exchange_->SendMessage(TestIdentity("RO"), c).ok());
}

TEST_F(ExchangeServiceTest, StorageFailureAcknowledgesNothing) {
  store_->fail_writes = true;
  absl::StatusOr<SendResult> sent =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k"));
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sent.status().message(), HasSubstr("retry"));
  store_->fail_writes = false;
  EXPECT_TRUE(store_->ListOutbox("RO", 10, std::nullopt)->empty());
  EXPECT_TRUE(NewAudit().empty());
  // The retry with the same key goes through once storage is back.
  sent = exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k"));
  ASSERT_TRUE(sent.ok());
  EXPECT_FALSE(sent->replayed);
}

// SendMessageAsync (what the gRPC handler calls): the same answers and
// audit entries as SendMessage, delivered by the store's committer thread.
class ExchangeServiceAsyncTest : public ExchangeServiceTest {
 protected:
  absl::StatusOr<SendResult> SendAsync(const Caller& caller,
                                       const SendCommand& command) {
    absl::Notification answered;
    absl::StatusOr<SendResult> answer;
    exchange_->SendMessageAsync(caller, command,
                                [&](absl::StatusOr<SendResult> result) {
                                  answer = std::move(result);
                                  answered.Notify();
                                });
    answered.WaitForNotification();
    return answer;
  }
};

TEST_F(ExchangeServiceAsyncTest, AnswersAndAuditsAsTheWaitingSend) {
  absl::StatusOr<SendResult> sent =
      SendAsync(TestIdentity("RO"), Request({"HU"}, "k"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_FALSE(sent->replayed);
  EXPECT_EQ(store_->ListInbox("HU", 10, std::nullopt)->size(), 1u);
  absl::StatusOr<SendResult> again =
      SendAsync(TestIdentity("RO"), Request({"HU"}, "k"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->message_id, sent->message_id);

  // Refused by the policy inside the transaction.
  SendCommand personal = Request({"HU", "XOB"}, "k2");
  personal.content.contains_personal_data = true;
  EXPECT_EQ(SendAsync(TestIdentity("RO"), personal).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Malformed: refused before any transaction, recorded without waiting.
  SendCommand empty = Request({}, "k3");
  absl::StatusOr<SendResult> malformed = SendAsync(TestIdentity("RO"), empty);
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  // Not authenticated: refused at the gate.
  EXPECT_EQ(
      SendAsync(absl::UnauthenticatedError("no URI SAN"), Request({"HU"}, "k4"))
          .status()
          .code(),
      absl::StatusCode::kUnauthenticated);

  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 5u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kAllowed);
  EXPECT_EQ(audit[0].resources.front(), sent->message_id);
  EXPECT_EQ(audit[1].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(audit[1].reason, HasSubstr("retry"));
  EXPECT_EQ(audit[2].outcome, AuditOutcome::kDenied);
  EXPECT_THAT(audit[2].reason, HasSubstr("XOB"));
  EXPECT_EQ(audit[3].outcome, AuditOutcome::kRejected);
  EXPECT_EQ(audit[4].outcome, AuditOutcome::kDenied);
  for (const AuditEntry& e : audit) EXPECT_EQ(e.action, "Exchange.SendMessage");
}

// The store may run a send's transaction function twice (Store::WriteAsync:
// a group of them is rolled back when one fails, and run again): the
// second run starts over, so each send is stored, audited and answered
// once, as if it had run once.
TEST_F(ExchangeServiceAsyncTest, ASendRunTwiceIsStoredAndAuditedOnce) {
  NewAudit();
  HeldCommit held(*store_);

  // Queued behind the holder, so committed as one group: a send, its
  // retry, a write that fails after writing, and another send.
  absl::BlockingCounter answered(4);
  std::vector<absl::StatusOr<SendResult>> answers(3);
  auto send = [&](int i, const std::string& key) {
    exchange_->SendMessageAsync(TestIdentity("RO"), Request({"HU"}, key),
                                [&, i](absl::StatusOr<SendResult> result) {
                                  answers[i] = std::move(result);
                                  answered.DecrementCount();
                                });
  };
  send(0, "k1");
  send(1, "k1");
  absl::Status failed;
  store_->WriteAsync(
      [](WriteTransaction& txn) -> absl::Status {
        Party p;
        p.code = "XX";
        p.name = "Written, then failed";
        absl::Status inserted = txn.InsertParty(p);
        if (!inserted.ok()) return inserted;
        return absl::InternalError("failed after writing");
      },
      [&](absl::Status status) {
        failed = std::move(status);
        answered.DecrementCount();
      });
  send(2, "k2");
  held.Release();
  answered.Wait();

  EXPECT_EQ(failed, absl::InternalError("failed after writing"));
  EXPECT_EQ(store_->GetParty("XX").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(answers[0].ok()) << answers[0].status();
  ASSERT_TRUE(answers[1].ok()) << answers[1].status();
  ASSERT_TRUE(answers[2].ok()) << answers[2].status();
  EXPECT_FALSE(answers[0]->replayed);
  EXPECT_TRUE(answers[1]->replayed);
  EXPECT_EQ(answers[1]->message_id, answers[0]->message_id);
  EXPECT_FALSE(answers[2]->replayed);
  EXPECT_EQ(store_->ListInbox("HU", 10, std::nullopt)->size(), 2u);

  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(audit[0].resources, ElementsAre(answers[0]->message_id, "HU"));
  EXPECT_TRUE(audit[0].reason.empty()) << audit[0].reason;
  EXPECT_EQ(audit[1].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(audit[1].resources, ElementsAre(answers[0]->message_id, "HU"));
  EXPECT_THAT(audit[1].reason, HasSubstr("retry"));
  EXPECT_EQ(audit[2].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(audit[2].resources, ElementsAre(answers[2]->message_id, "HU"));
}

// A rerun may see another state than the run before it (Store::WriteAsync),
// so each run of a send starts over. Here the first run finds the key used
// already, for other content (a refusal) or for the same (a retry); that
// run is rolled back, and the one that counts stores the message as new.
TEST_F(ExchangeServiceAsyncTest, ASendRerunStartsOver) {
  absl::StatusOr<SendResult> first =
      SendAsync(TestIdentity("RO"), Request({"HU"}, "k0"));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Message> stored = store_->GetMessage(first->message_id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  MessageIdGenerator ids(clock_);
  for (const bool same_content : {false, true}) {
    SCOPED_TRACE(same_content ? "a retry first" : "a refusal first");
    const std::string key = same_content ? "k2" : "k1";
    Message earlier = *stored;
    earlier.id = ids.Next();
    earlier.idempotency_key = key;
    if (!same_content) earlier.content_digest = "other content";
    store_->rehearse = [earlier](WriteTransaction& txn) {
      return txn.InsertMessage(earlier);
    };
    NewAudit();
    absl::StatusOr<SendResult> sent =
        SendAsync(TestIdentity("RO"), Request({"HU"}, key));
    ASSERT_TRUE(sent.ok()) << sent.status();
    EXPECT_FALSE(sent->replayed);
    EXPECT_NE(sent->message_id, earlier.id);
    EXPECT_EQ(store_->GetMessage(earlier.id).status().code(),
              absl::StatusCode::kNotFound);
    EXPECT_TRUE(store_->GetMessage(sent->message_id).ok());
    std::vector<AuditEntry> audit = NewAudit();
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0].outcome, AuditOutcome::kAllowed);
    EXPECT_EQ(audit[0].code, absl::StatusCode::kOk);
    EXPECT_TRUE(audit[0].reason.empty()) << audit[0].reason;
    EXPECT_THAT(audit[0].resources, ElementsAre(sent->message_id, "HU"));
  }
}

// Neither the message nor any refusal holds the calling thread (a gRPC
// callback thread serving other calls) while it is committed: refusals at
// the gate, of the fields and of a follow-up are recorded through
// WriteAsync, with the reason the waiting send records.
TEST_F(ExchangeServiceAsyncTest, NothingWaitsForACommit) {
  ASSERT_TRUE(store_->ServesWithoutWaiting());
  absl::StatusOr<SendResult> sent =
      SendAsync(TestIdentity("RO"), Request({"HU"}, "k1"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  absl::StatusOr<SendResult> private_one =
      SendAsync(TestIdentity("HU"), Request({"BG"}, "k2"));
  ASSERT_TRUE(private_one.ok()) << private_one.status();
  ASSERT_TRUE(store_
                  ->Write([](WriteTransaction& txn) -> absl::Status {
                    absl::StatusOr<Party> bg = txn.GetParty("BG");
                    if (!bg.ok()) return bg.status();
                    bg->state = PartyState::kSuspended;
                    return txn.UpdateParty(*bg);
                  })
                  .ok());
  NewAudit();
  store_->waiting_writes = 0;

  // A follow-up within the exchange goes through.
  SendCommand follow_up = Request({"RO"}, "k3");
  follow_up.in_reply_to = sent->message_id;
  absl::StatusOr<SendResult> followed =
      SendAsync(TestIdentity("HU"), follow_up);
  ASSERT_TRUE(followed.ok()) << followed.status();
  // To a party that took no part in it: refused.
  SendCommand outside = Request({"HQ"}, "k4");
  outside.in_reply_to = sent->message_id;
  absl::StatusOr<SendResult> refused = SendAsync(TestIdentity("HU"), outside);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("HQ"));
  // Following a message RO may not read: NOT_FOUND, as for a missing one;
  // the log keeps the real reason.
  SendCommand hidden = Request({"HU"}, "k5");
  hidden.in_reply_to = private_one->message_id;
  absl::StatusOr<SendResult> unseen = SendAsync(TestIdentity("RO"), hidden);
  EXPECT_EQ(unseen.status().code(), absl::StatusCode::kNotFound);
  // A malformed id.
  SendCommand malformed = Request({"HU"}, "k6");
  malformed.in_reply_to = "not-an-id";
  EXPECT_EQ(SendAsync(TestIdentity("RO"), malformed).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A suspended party is refused at the gate.
  absl::StatusOr<SendResult> suspended =
      SendAsync(TestIdentity("BG"), Request({"HU"}, "k7"));
  EXPECT_EQ(suspended.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(suspended.status().message(), HasSubstr("suspended"));

  EXPECT_EQ(store_->waiting_writes, 0);
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 5u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(audit[0].resources,
              ElementsAre(followed->message_id, sent->message_id, "RO"));
  EXPECT_EQ(audit[1].outcome, AuditOutcome::kRejected);
  EXPECT_THAT(audit[1].reason, HasSubstr("HQ"));
  EXPECT_EQ(audit[2].outcome, AuditOutcome::kDenied);
  EXPECT_THAT(audit[2].reason, Not(HasSubstr("not found")));
  EXPECT_THAT(audit[2].resources, ElementsAre(private_one->message_id));
  EXPECT_EQ(audit[3].outcome, AuditOutcome::kRejected);
  EXPECT_EQ(audit[4].outcome, AuditOutcome::kDenied);
  EXPECT_EQ(audit[4].party, "BG");
  for (const AuditEntry& e : audit) EXPECT_EQ(e.action, "Exchange.SendMessage");
}

// A flood beyond the rate limit is refused at once and recorded in bulk
// (RecordRateLimited), not one entry per call.
TEST_F(ExchangeServiceAsyncTest, AFloodIsRefusedWithoutAnEntryPerCall) {
  RateLimiter limiter(clock_, RateLimit{1, 1});
  exchange_->set_rate_limiter(&limiter);
  ASSERT_TRUE(SendAsync(TestIdentity("RO"), Request({"HU"}, "k1")).ok());
  NewAudit();
  store_->waiting_writes = 0;
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(SendAsync(TestIdentity("RO"), Request({"HU"}, absl::StrCat(i)))
                  .status()
                  .code(),
              absl::StatusCode::kResourceExhausted);
  }
  EXPECT_EQ(store_->waiting_writes, 0);
  // The first refusal in a second is recorded at once; the others later,
  // together (RecordRateLimited).
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].code, absl::StatusCode::kResourceExhausted);
  exchange_->set_rate_limiter(nullptr);
}

// The commit fails on the store's thread; the refusal is recorded from
// there without waiting on that same thread.
TEST_F(ExchangeServiceAsyncTest, AFailedCommitIsRecordedAndNothingSent) {
  store_->fail_next_writes = 1;
  absl::StatusOr<SendResult> sent =
      SendAsync(TestIdentity("RO"), Request({"HU"}, "k"));
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sent.status().message(), HasSubstr("nothing was sent"));
  EXPECT_TRUE(store_->ListOutbox("RO", 10, std::nullopt)->empty());
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kFailed);
  EXPECT_THAT(audit[0].reason, HasSubstr("could not be stored"));

  // When the refusal cannot be recorded either, that is the answer.
  store_->fail_next_writes = 2;
  sent = SendAsync(TestIdentity("RO"), Request({"HU"}, "k"));
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sent.status().message(), HasSubstr("cannot record this call"));
  EXPECT_TRUE(NewAudit().empty());

  // The retry with the same key goes through once storage is back.
  sent = SendAsync(TestIdentity("RO"), Request({"HU"}, "k"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_FALSE(sent->replayed);
}

TEST_F(ExchangeServiceAsyncTest, ConcurrentSendsAreAllAnswered) {
  constexpr int kSends = 64;
  absl::Mutex mu;
  int ok = 0;
  absl::BlockingCounter answered(kSends);
  for (int i = 0; i < kSends; ++i) {
    exchange_->SendMessageAsync(TestIdentity("RO"),
                                Request({"HU"}, absl::StrCat("k", i)),
                                [&](absl::StatusOr<SendResult> result) {
                                  {
                                    absl::MutexLock lock(&mu);
                                    if (result.ok()) ++ok;
                                  }
                                  answered.DecrementCount();
                                });
  }
  answered.Wait();
  EXPECT_EQ(ok, kSends);
  EXPECT_EQ(store_->ListOutbox("RO", 100, std::nullopt)->size(),
            static_cast<size_t>(kSends));
  // One entry per call, each naming its own message.
  std::vector<AuditEntry> audit = NewAudit();
  ASSERT_EQ(audit.size(), static_cast<size_t>(kSends));
  std::set<std::string> messages;
  for (const AuditEntry& e : audit) {
    EXPECT_EQ(e.outcome, AuditOutcome::kAllowed);
    messages.insert(e.resources.front());
  }
  EXPECT_EQ(messages.size(), static_cast<size_t>(kSends));
}

TEST_F(ExchangeServiceTest, AnUnknownCommitOutcomeIsNotCalledANonSend) {
  store_->lose_commit_outcomes = true;
  absl::StatusOr<SendResult> sent =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k"));
  store_->lose_commit_outcomes = false;
  EXPECT_EQ(sent.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(sent.status().message(), HasSubstr("may or may not"));
  EXPECT_THAT(sent.status().message(), Not(HasSubstr("nothing was sent")));
  // It was stored; the retry with the same key finds it.
  sent = exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_TRUE(sent->replayed);
  EXPECT_EQ(store_->ListOutbox("RO", 10, std::nullopt)->size(), 1u);
}

TEST_F(ExchangeServiceTest, NoReadWithoutAnAuditEntry) {
  absl::StatusOr<SendResult> sent =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU"}, "k"));
  ASSERT_TRUE(sent.ok());
  store_->fail_writes = true;
  absl::StatusOr<MessageView> read =
      exchange_->GetMessage(TestIdentity("HU"), sent->message_id);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(read.status().message(), HasSubstr("nothing was disclosed"));
  absl::StatusOr<MessagePage> inbox =
      exchange_->ListInbox(TestIdentity("HU"), {});
  EXPECT_EQ(inbox.status().code(), absl::StatusCode::kUnavailable);
  // A refusal that cannot be recorded is reported as a fault too.
  absl::StatusOr<MessageView> hidden =
      exchange_->GetMessage(TestIdentity("BG"), sent->message_id);
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(ExchangeServiceTest, ListingWithholdsWhatThePartyMayNoLongerRead) {
  // A personal-data message already held by XOB (say, from before it became
  // an observer), written directly to the store.
  Message m;
  m.id = "01M89Q1WQSCHQJ90CTMDR6HJ7B";
  m.idempotency_key = "k";
  m.content_digest = "d";
  m.sender_party = "RO";
  m.sender_user = "u1";
  m.recipients.emplace_back();
  m.recipients.back().party = "XOB";
  m.kind = MessageKind::kSpontaneous;
  m.subject = "Names of suspects";
  m.body = "secret body";
  m.contains_personal_data = true;
  m.created_at = clock_.Now();
  ASSERT_TRUE(
      store_->Write([&](WriteTransaction& txn) { return txn.InsertMessage(m); })
          .ok());
  absl::StatusOr<MessagePage> inbox =
      exchange_->ListInbox(TestIdentity("XOB"), {});
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->messages.size(), 1u);
  EXPECT_EQ(inbox->messages[0].message.subject, "");
  EXPECT_EQ(inbox->messages[0].message.body, "");
  EXPECT_THAT(inbox->messages[0].withheld_reason,
              HasSubstr("XOB is an observer and may not read personal data"));
  absl::StatusOr<MessageView> read =
      exchange_->GetMessage(TestIdentity("XOB"), m.id);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(read.status().message(), HasSubstr("observer"));
}

TEST_F(ExchangeServiceTest, ReplyRules) {
  SendCommand warning = Request({"HU"}, "w");
  warning.kind = MessageKind::kWarning;
  absl::StatusOr<SendResult> w =
      exchange_->SendMessage(TestIdentity("RO"), warning);
  ASSERT_TRUE(w.ok());
  absl::StatusOr<SendResult> r =
      exchange_->SendMessage(TestIdentity("RO"), Request({"HU", "BG"}, "r"));
  ASSERT_TRUE(r.ok());

  ReplyCommand reply;
  reply.content = Request({}, "x").content;
  reply.request_id = w->message_id;
  EXPECT_EQ(exchange_->Reply(TestIdentity("HU"), reply).status().code(),
            absl::StatusCode::kFailedPrecondition);
  reply.request_id = r->message_id;
  absl::StatusOr<SendResult> own = exchange_->Reply(TestIdentity("RO"), reply);
  EXPECT_EQ(own.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(own.status().message(), HasSubstr("only its recipients"));
  ASSERT_TRUE(exchange_->Reply(TestIdentity("HU"), reply).ok());
  reply.content.idempotency_key = "y";
  absl::StatusOr<SendResult> twice =
      exchange_->Reply(TestIdentity("HU"), reply);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.status().message(), HasSubstr("already answered"));
  // BG's copy is still open and answerable, tracked on its own.
  reply.content.idempotency_key = "z";
  ASSERT_TRUE(exchange_->Reply(TestIdentity("BG"), reply).ok());
  // A BG reply above the RESTRICTED ceiling of BG is refused.
  absl::StatusOr<SendResult> third =
      exchange_->SendMessage(TestIdentity("RO"), Request({"BG"}, "r3"));
  ASSERT_TRUE(third.ok());
  reply.request_id = third->message_id;
  reply.content.idempotency_key = "q";
  reply.content.classification = Classification::kSecret;
  absl::StatusOr<SendResult> above =
      exchange_->Reply(TestIdentity("BG"), reply);
  EXPECT_EQ(above.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(above.status().message(), HasSubstr("BG may not send SECRET"));
}

TEST(MessageIdGeneratorTest, IdsIncreaseEvenWhenTheClockStandsStillOrGoesBack) {
  FakeClock clock;
  MessageIdGenerator ids(clock);
  std::string last = ids.Next();
  EXPECT_TRUE(IsValidMessageId(last));
  for (int i = 0; i < 1000; ++i) {
    if (i == 500) clock.Advance(-absl::Seconds(10));
    const std::string next = ids.Next();
    EXPECT_TRUE(IsValidMessageId(next)) << next;
    EXPECT_GT(next, last);
    last = next;
  }
  FakeClock later(clock.Now() + absl::Hours(1));
  MessageIdGenerator other(later);
  EXPECT_GT(other.Next(), last);
}

TEST(MessageIdTest, Syntax) {
  EXPECT_TRUE(IsValidMessageId("01M89Q1WQSCHQJ90CTMDR6HJ7B"));
  EXPECT_FALSE(IsValidMessageId(""));
  EXPECT_FALSE(IsValidMessageId("01M89Q1WQSCHQJ90CTMDR6HJ7"));
  EXPECT_FALSE(IsValidMessageId("01m89Q1WQSCHQJ90CTMDR6HJ7B"));
  EXPECT_FALSE(IsValidMessageId("01M89Q1WQSCHQJ90CTMDR6HJ7U"));  // no U
  EXPECT_FALSE(IsValidMessageId("81M89Q1WQSCHQJ90CTMDR6HJ7B"));  // > 128 bits
}

}  // namespace
}  // namespace liaison

// Live delivery in the domain: events in order, resume from a cursor with no
// gap or duplicate, slow subscribers dropped, suspension ends the stream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "domain/admin.h"
#include "domain/exchange.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/domain_test.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

// Collects events; the subscriber "leaves" after `stop_after` of them.
class CollectingSink final : public EventSink {
 public:
  explicit CollectingSink(size_t stop_after) : stop_after_(stop_after) {}

  bool Send(const Event& event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(event);
    return events_.size() < stop_after_;
  }
  bool Cancelled() const override {
    absl::MutexLock lock(&mu_);
    return cancelled_ || events_.size() >= stop_after_;
  }
  void Cancel() {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
  }
  std::vector<Event> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  const size_t stop_after_;
  mutable absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

class SubscribeTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    OpenWithRoster(R"(
HQ MEMBER_STATE SECRET - Headquarters
RO MEMBER_STATE SECRET - Romania
HU MEMBER_STATE SECRET - Hungary
)");
    SubscriptionOptions options;
    options.max_backlog = 5;
    options.recheck = absl::Milliseconds(20);
    ExchangeLimits limits;
    limits.max_streams_per_party = 2;
    exchange_ = std::make_unique<ExchangeService>(
        *store_, audit_, clock_, DeadlineOptions{}, options, limits);
  }

  std::string Send(const std::string& key, MessageKind kind) {
    SendCommand c;
    c.recipients = {"HU"};
    c.kind = kind;
    c.priority = Priority::kRoutine;
    c.content.idempotency_key = key;
    c.content.subject = "s";
    c.content.body = "b";
    c.content.classification = Classification::kUnclassified;
    c.content.handling_code = HandlingCode::kH0;
    absl::StatusOr<SendResult> sent =
        exchange_->SendMessage(TestIdentity("RO"), c);
    EXPECT_TRUE(sent.ok()) << sent.status();
    return sent->message_id;
  }

  std::unique_ptr<ExchangeService> exchange_;
};

TEST_F(SubscribeTest, DeliversLiveAndResumesWithoutGapOrDuplicate) {
  CollectingSink hu(3);
  CollectingSink ro(2);
  absl::Status hu_end;
  absl::Status ro_end;
  std::thread hu_thread(
      [&] { hu_end = exchange_->Subscribe(TestIdentity("HU"), 0, hu); });
  std::thread ro_thread(
      [&] { ro_end = exchange_->Subscribe(TestIdentity("RO"), 0, ro); });
  const std::string request = Send("a", MessageKind::kRequest);
  ASSERT_TRUE(exchange_->AcknowledgeRequest(TestIdentity("HU"), request).ok());
  ASSERT_TRUE(exchange_->GetMessage(TestIdentity("HU"), request).ok());
  Send("b", MessageKind::kWarning);
  Send("c", MessageKind::kSpontaneous);
  hu_thread.join();
  ro_thread.join();
  EXPECT_TRUE(hu_end.ok()) << hu_end;
  EXPECT_TRUE(ro_end.ok()) << ro_end;

  const std::vector<Event> hu_events = hu.events();
  ASSERT_EQ(hu_events.size(), 3u);
  EXPECT_EQ(hu_events[0].kind, "MESSAGE");
  EXPECT_EQ(hu_events[0].message_id, request);
  EXPECT_EQ(hu_events[0].detail, "REQUEST from RO");
  const std::vector<Event> ro_events = ro.events();
  ASSERT_EQ(ro_events.size(), 2u);
  EXPECT_EQ(ro_events[0].detail, "HU ACKNOWLEDGED");
  EXPECT_EQ(ro_events[1].detail, "HU read");

  // Resume after the second event: the third comes again, nothing before.
  CollectingSink resumed(1);
  ASSERT_TRUE(
      exchange_->Subscribe(TestIdentity("HU"), hu_events[1].seq, resumed).ok());
  ASSERT_EQ(resumed.events().size(), 1u);
  EXPECT_EQ(resumed.events()[0].seq, hu_events[2].seq);
  EXPECT_GT(hu_events[1].seq, hu_events[0].seq);
  EXPECT_GT(hu_events[2].seq, hu_events[1].seq);
}

TEST_F(SubscribeTest, ASlowSubscriberIsDroppedAndToldWhereToResume) {
  for (int i = 0; i < 7; ++i) Send(absl::StrCat("k", i), MessageKind::kWarning);
  CollectingSink late(100);
  const absl::Status end = exchange_->Subscribe(TestIdentity("HU"), 0, late);
  EXPECT_EQ(end.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(end.message(), HasSubstr("more than 5 events behind; resume "
                                       "from cursor 0"));
  EXPECT_TRUE(late.events().empty());
  // Within the limit it catches up.
  const int64_t third = *store_->LastEventSeq("HU") - 3;
  CollectingSink close(3);
  EXPECT_TRUE(exchange_->Subscribe(TestIdentity("HU"), third, close).ok());
  EXPECT_EQ(close.events().size(), 3u);
}

TEST_F(SubscribeTest, OtherPartiesEventsDoNotCountAsBacklog) {
  // Many events for RO (HU's messages to it), one for HU.
  for (int i = 0; i < 9; ++i) {
    SendCommand c;
    c.recipients = {"RO"};
    c.kind = MessageKind::kWarning;
    c.priority = Priority::kRoutine;
    c.content.idempotency_key = absl::StrCat("to-ro-", i);
    c.content.subject = "s";
    c.content.body = "b";
    c.content.classification = Classification::kUnclassified;
    c.content.handling_code = HandlingCode::kH0;
    ASSERT_TRUE(exchange_->SendMessage(TestIdentity("HU"), c).ok());
  }
  Send("one", MessageKind::kWarning);
  CollectingSink hu(1);
  EXPECT_TRUE(exchange_->Subscribe(TestIdentity("HU"), 0, hu).ok());
  ASSERT_EQ(hu.events().size(), 1u);
  EXPECT_EQ(hu.events()[0].party, "HU");
}

TEST_F(SubscribeTest, SuspensionEndsTheStreamAtOnce) {
  CollectingSink hu(100);
  absl::Status end;
  std::thread stream(
      [&] { end = exchange_->Subscribe(TestIdentity("HU"), 0, hu); });
  Send("x", MessageKind::kWarning);
  AdminService admin(*store_, audit_, clock_);
  absl::SleepFor(absl::Milliseconds(50));
  ASSERT_TRUE(admin
                  .SuspendParty(TestIdentity("HQ", Role::kAdmin, "sec"), "HU",
                                "investigation")
                  .ok());
  stream.join();
  EXPECT_EQ(end.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(end.message(), HasSubstr("party HU is suspended"));
  EXPECT_EQ(exchange_->Subscribe(TestIdentity("HU"), -1, hu).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SubscribeTest, APartyHasAtMostItsLimitOfOpenStreams) {
  CollectingSink first(100);
  CollectingSink second(100);
  std::thread a(
      [&] { (void)exchange_->Subscribe(TestIdentity("HU"), 0, first); });
  std::thread b([&] {
    (void)exchange_->Subscribe(TestIdentity("HU", Role::kFocalPoint), 0,
                               second);
  });
  // Wait until both streams are open (each records its start).
  for (int i = 0; i < 500; ++i) {
    AuditQuery query;
    query.party = "HU";
    if (store_->ReadAudit(query)->size() >= 2) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  CollectingSink third(100);
  const absl::Status refused =
      exchange_->Subscribe(TestIdentity("HU"), 0, third);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(),
              HasSubstr("party HU already has 2 open event streams"));
  EXPECT_THAT(refused.message(), HasSubstr("--max-streams-per-party"));
  // Other parties are not affected.
  CollectingSink ro(1);
  absl::Status ro_end;
  std::thread c(
      [&] { ro_end = exchange_->Subscribe(TestIdentity("RO"), 0, ro); });
  first.Cancel();
  a.join();
  // A place is free again.
  CollectingSink again(1);
  std::thread d(
      [&] { (void)exchange_->Subscribe(TestIdentity("HU"), 0, again); });
  Send("x", MessageKind::kWarning);  // an event for HU ends `again`
  d.join();
  EXPECT_EQ(again.events().size(), 1u);
  second.Cancel();
  b.join();
  ro.Cancel();
  c.join();
  EXPECT_TRUE(ro_end.ok()) << ro_end;
}

TEST_F(SubscribeTest, ANegativeCursorIsRefused) {
  CollectingSink sink(1);
  EXPECT_EQ(exchange_->Subscribe(TestIdentity("HU"), -1, sink).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace liaison

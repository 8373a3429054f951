// Calls per second per user: a burst, then the sustained rate; refusals
// name the limit, are audited once a second with a count, and leave other
// users alone.
#include "domain/rate_limiter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/call_gate.h"
#include "domain/exchange.h"
#include "tests/testing/domain_test.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

AuditEntry By(const std::string& user) {
  AuditEntry e;
  e.principal = user;
  e.action = "Exchange.ListInbox";
  return e;
}

TEST(RateLimiterTest, BurstThenSustainedRate) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{2, 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take(By("ana")).status.ok());
  RateLimiter::Verdict refused = limiter.Take(By("ana"));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status.message(),
              HasSubstr("at most 2 calls per second per user (burst 3, "
                        "--rate-limit); retry in 500 ms"));
  EXPECT_TRUE(refused.audit);
  // Within the same second further refusals are counted, not audited.
  EXPECT_FALSE(limiter.Take(By("ana")).audit);
  EXPECT_FALSE(limiter.Take(By("ana")).audit);
  // Another user is not affected.
  EXPECT_TRUE(limiter.Take(By("ion")).status.ok());
  clock.Advance(absl::Milliseconds(500));  // one call's worth
  EXPECT_TRUE(limiter.Take(By("ana")).status.ok());
  clock.Advance(absl::Milliseconds(500));
  EXPECT_TRUE(limiter.Take(By("ana")).status.ok());
  refused = limiter.Take(By("ana"));
  EXPECT_TRUE(refused.audit);
  EXPECT_THAT(refused.status.message(),
              HasSubstr("(2 more calls refused since the last recorded "
                        "refusal)"));
  // Idle long enough, the burst is back, and no more than it.
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take(By("ana")).status.ok());
  EXPECT_FALSE(limiter.Take(By("ana")).status.ok());
}

TEST(RateLimiterTest, RefusalsNotRecordedOneByOneAreRecordedTogether) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{1, 1});
  EXPECT_TRUE(limiter.Take(By("ana")).status.ok());
  EXPECT_TRUE(limiter.Take(By("ana")).audit);  // the first refusal
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(limiter.Take(By("ana")).audit);
  EXPECT_TRUE(limiter.TakeUnaudited().empty());  // not a second yet
  clock.Advance(absl::Seconds(1));
  std::vector<AuditEntry> together = limiter.TakeUnaudited();
  ASSERT_EQ(together.size(), 1u);
  EXPECT_EQ(together[0].principal, "ana");
  EXPECT_EQ(together[0].action, "Exchange.ListInbox");
  EXPECT_EQ(together[0].code, absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(together[0].reason,
              HasSubstr("40 calls refused by the rate limit"));
  EXPECT_TRUE(limiter.TakeUnaudited().empty());  // recorded once
}

TEST(RateLimiterTest, ZeroTurnsItOff) {
  testing::FakeClock clock;
  RateLimiter limiter(clock, RateLimit{0, 1});
  for (int i = 0; i < 1000; ++i)
    EXPECT_TRUE(limiter.Take(By("ana")).status.ok());
}

class RateLimitedCallsTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    OpenWithRoster(R"(
RO MEMBER_STATE SECRET - Romania
HU MEMBER_STATE SECRET - Hungary
)");
    exchange_ = std::make_unique<ExchangeService>(*store_, audit_, clock_);
    exchange_->set_rate_limiter(&limiter_);
  }

  RateLimiter limiter_{clock_, RateLimit{1, 2}};
  std::unique_ptr<ExchangeService> exchange_;
};

TEST_F(RateLimitedCallsTest, RefusalsAreAuditedOncePerSecondPerUser) {
  const PageQuery page;
  ASSERT_TRUE(exchange_->ListInbox(TestIdentity("RO"), page).ok());
  ASSERT_TRUE(exchange_->ListInbox(TestIdentity("RO"), page).ok());
  const int64_t before = *store_->AuditSize();
  absl::StatusOr<MessagePage> refused =
      exchange_->ListInbox(TestIdentity("RO"), page);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("--rate-limit"));
  ASSERT_EQ(*store_->AuditSize(), before + 1);
  const AuditEntry entry = store_->ReadAudit(before + 1, 1)->front();
  EXPECT_EQ(entry.code, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(entry.principal, TestIdentity("RO").spiffe_id);
  // A flood within the second adds nothing to the log...
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(exchange_->ListInbox(TestIdentity("RO"), page).ok());
  }
  EXPECT_EQ(*store_->AuditSize(), before + 1);
  // ... while another user of the same party is served.
  EXPECT_TRUE(
      exchange_->ListInbox(TestIdentity("RO", Role::kFocalPoint), page).ok());
  // Stopped flooding: the server records the rest together.
  clock_.Advance(absl::Seconds(1));
  CallGate gate(*store_, audit_, clock_);
  gate.set_rate_limiter(&limiter_);
  const int64_t flushed = *store_->AuditSize() + 1;
  ASSERT_TRUE(gate.RecordRateLimited().ok());
  ASSERT_EQ(*store_->AuditSize(), flushed);
  const AuditEntry together = store_->ReadAudit(flushed, 1)->front();
  EXPECT_EQ(together.principal, TestIdentity("RO").spiffe_id);
  EXPECT_THAT(together.reason, HasSubstr("50 calls refused by the rate limit"));
  // Or, flooding on, with the next refusal recorded.
  EXPECT_TRUE(exchange_->ListInbox(TestIdentity("RO"), page).ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(exchange_->ListInbox(TestIdentity("RO"), page).ok());
  }
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(exchange_->ListInbox(TestIdentity("RO"), page).ok());
  refused = exchange_->ListInbox(TestIdentity("RO"), page);
  EXPECT_THAT(refused.status().message(), HasSubstr("(3 more calls refused"));
}

}  // namespace
}  // namespace liaison

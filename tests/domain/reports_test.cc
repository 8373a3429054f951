#include "domain/reports.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace liaison {
namespace {

using ::testing::Pair;
using ::testing::UnorderedElementsAre;

absl::Time Day(int month, int day) {
  return absl::FromCivil(absl::CivilDay(2026, month, day), absl::UTCTimeZone());
}

RequestRow Row(const char* from, const char* to, RequestState state,
               Priority priority, absl::Time sent,
               std::optional<RefusalReason> reason = std::nullopt) {
  RequestRow r;
  r.sender = from;
  r.recipient = to;
  r.state = state;
  r.priority = priority;
  r.sent_at = sent;
  r.due_at = sent + (priority == Priority::kUrgent ? absl::Hours(8)
                                                   : absl::Hours(168));
  r.refusal_reason = reason;
  return r;
}

const std::vector<RequestRow>& Rows() {
  static const auto* rows = new std::vector<RequestRow>{
      Row("RO", "HU", RequestState::kAnswered, Priority::kUrgent, Day(1, 5)),
      Row("RO", "BG", RequestState::kRefused, Priority::kRoutine, Day(1, 5),
          RefusalReason::kNationalLaw),
      Row("RO", "HU", RequestState::kOpen, Priority::kRoutine, Day(2, 1)),
      Row("HU", "RO", RequestState::kAcknowledged, Priority::kUrgent,
          Day(2, 20)),
      Row("BG", "HU", RequestState::kRefused, Priority::kRoutine, Day(2, 21),
          RefusalReason::kOther),
  };
  return *rows;
}

TEST(ComputeStatisticsTest, OnePartysFigures) {
  // As of 1 March: the routine request of 1 February is overdue (7 days),
  // and so is HU's urgent one of 20 February (8 hours).
  const Statistics s = ComputeStatistics(Rows(), "RO", Day(3, 1));
  EXPECT_EQ(s.sent.total, 3);
  EXPECT_EQ(s.sent.urgent, 1);
  EXPECT_EQ(s.sent.routine, 2);
  EXPECT_EQ(s.sent.answered, 1);
  EXPECT_EQ(s.sent.refused, 1);
  EXPECT_EQ(s.sent.open, 1);
  EXPECT_EQ(s.sent.overdue, 1);
  EXPECT_THAT(s.sent.refused_by_reason,
              UnorderedElementsAre(Pair("NATIONAL_LAW", 1)));
  EXPECT_EQ(s.received.total, 1);
  EXPECT_EQ(s.received.acknowledged, 1);
  EXPECT_EQ(s.received.overdue, 1);
  EXPECT_EQ(s.sent_by_party.at("HU").total, 2);
  EXPECT_EQ(s.sent_by_party.at("BG").refused, 1);
  EXPECT_EQ(s.received_by_party.at("HU").total, 1);
  EXPECT_EQ(s.by_month.at("2026-01").total, 2);
  EXPECT_EQ(s.by_month.at("2026-02").total, 1);
  EXPECT_EQ(s.by_month.count("2026-03"), 0u);
}

TEST(ComputeStatisticsTest, EveryParty) {
  const Statistics s = ComputeStatistics(Rows(), "", Day(1, 6));
  EXPECT_EQ(s.sent.total, 5);
  EXPECT_EQ(s.received.total, 5);
  EXPECT_EQ(s.sent_by_party.at("RO").total, 3);
  EXPECT_EQ(s.received_by_party.at("HU").total, 3);
  EXPECT_EQ(s.sent.refused_by_reason.at("OTHER"), 1);
  EXPECT_EQ(s.sent.overdue, 0);  // nothing due yet on 6 January
  EXPECT_TRUE(ComputeStatistics({}, "RO", Day(1, 1)).sent == RequestCounts{});
}

}  // namespace
}  // namespace liaison

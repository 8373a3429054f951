#include "domain/roster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/file_util.h"
#include "tests/testing/test_pki.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;

TEST(RosterTest, ExampleRosterHasEveryMemberStateHqAndEachTier) {
  absl::StatusOr<std::string> text =
      ReadFile(testing::SourcePath("deploy/parties.example"));
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<std::vector<Party>> parties = ParseRoster(*text);
  ASSERT_TRUE(parties.ok()) << parties.status();
  std::set<std::string> codes;
  std::set<PartyTier> tiers;
  for (const Party& p : *parties) {
    codes.insert(p.code);
    tiers.insert(p.tier);
    if (p.tier != PartyTier::kMemberState) {
      EXPECT_THAT(p.name, HasSubstr("fictitious")) << p.code;
    }
    EXPECT_EQ(p.state, PartyState::kActive);
  }
  for (const char* code : {"HQ", "AL", "BA", "BG", "HR", "MK", "GR", "HU", "MD",
                           "ME", "RO", "RS", "TR"}) {
    EXPECT_EQ(codes.count(code), 1u) << code;
  }
  EXPECT_EQ(tiers.size(), 3u);
}

TEST(RosterTest, ParsesFieldsAndNamesWithSpaces) {
  absl::StatusOr<std::vector<Party>> parties = ParseRoster(
      "# comment\n\nXOP  OPERATIONAL_PARTNER CONFIDENTIAL in-force  A  B (x)  "
      "# trailing\n");
  ASSERT_TRUE(parties.ok()) << parties.status();
  ASSERT_EQ(parties->size(), 1u);
  const Party& p = (*parties)[0];
  EXPECT_EQ(p.code, "XOP");
  EXPECT_EQ(p.name, "A  B (x)");
  EXPECT_EQ(p.tier, PartyTier::kOperationalPartner);
  EXPECT_EQ(p.ceiling, Classification::kConfidential);
  EXPECT_TRUE(p.agreement_in_force);
}

TEST(RosterTest, RejectsMalformedLinesNamingTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"RO MEMBER_STATE SECRET -", "line 1: expected"},
           {"\nro MEMBER_STATE SECRET - Romania", "line 2: 'ro'"},
           {"RO MEMBER SECRET - Romania", "unknown tier 'MEMBER'"},
           {"RO MEMBER_STATE TOP - Romania", "unknown classification"},
           {"RO MEMBER_STATE SECRET yes Romania", "in-force, lapsed or -"},
           {"RO MEMBER_STATE SECRET - A\nRO MEMBER_STATE SECRET - B",
            "listed twice"},
           {"# nothing\n", "no parties"},
           {"XO OBSERVER SECRET - Observer", "observer must be UNCLASSIFIED"},
           {"RO MEMBER_STATE SECRET in-force Romania",
            "operational partners only"},
       }) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<std::vector<Party>> parties = ParseRoster(c.text);
    EXPECT_EQ(parties.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parties.status().message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace liaison

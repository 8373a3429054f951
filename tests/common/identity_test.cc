#include "common/identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace liaison {
namespace {

using ::testing::HasSubstr;

TEST(ParseSpiffeIdTest, AcceptsEveryRole) {
  struct Case {
    const char* uri;
    Role role;
  };
  for (const Case& c : std::vector<Case>{
           {"spiffe://selec.test/party/RO/liaison-officer/ion",
            Role::kLiaisonOfficer},
           {"spiffe://selec.test/party/HU/focal-point/nfp-system",
            Role::kFocalPoint},
           {"spiffe://selec.test/party/HQ/admin/sec.1", Role::kAdmin},
           {"spiffe://selec.test/party/HQ/auditor/dpo_2", Role::kAuditor},
       }) {
    SCOPED_TRACE(c.uri);
    absl::StatusOr<Identity> id = ParseSpiffeId(c.uri, "selec.test");
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->role, c.role);
    EXPECT_EQ(id->spiffe_id, c.uri);
    EXPECT_EQ(id->trust_domain, "selec.test");
  }
  absl::StatusOr<Identity> id = ParseSpiffeId(
      "spiffe://selec.test/party/RO/liaison-officer/ion", "selec.test");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->party, "RO");
  EXPECT_EQ(id->user_id, "ion");
}

TEST(ParseSpiffeIdTest, RefusesMalformedIdentitiesAsUnauthenticated) {
  struct Case {
    const char* uri;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"https://selec.test/party/RO/liaison-officer/ion", "spiffe://"},
           {"spiffe://other.test/party/RO/liaison-officer/ion",
            "trust domain 'other.test'"},
           {"spiffe://selec.test/party/RO/chief/ion", "unknown role 'chief'"},
           {"spiffe://selec.test/party/ro/liaison-officer/ion",
            "malformed party"},
           {"spiffe://selec.test/party/RO/liaison-officer/", "malformed user"},
           {"spiffe://selec.test/party/RO/liaison-officer/a b",
            "malformed user"},
           {"spiffe://selec.test/party/RO/liaison-officer", "not of the form"},
           {"spiffe://selec.test/party/RO/liaison-officer/ion/x",
            "not of the form"},
           {"spiffe://selec.test/parties/RO/liaison-officer/ion",
            "not of the form"},
           {"spiffe://SELEC.TEST/party/RO/liaison-officer/ion", "trust domain"},
           {"", "spiffe://"},
       }) {
    SCOPED_TRACE(c.uri);
    absl::StatusOr<Identity> id = ParseSpiffeId(c.uri, "selec.test");
    EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_THAT(id.status().message(), HasSubstr(c.message));
  }
}

TEST(IdentityFromUriSansTest, RequiresExactlyOne) {
  EXPECT_THAT(IdentityFromUriSans({}, "selec.test").status().message(),
              HasSubstr("no URI SAN"));
  absl::StatusOr<Identity> two =
      IdentityFromUriSans({"spiffe://selec.test/party/RO/liaison-officer/a",
                           "spiffe://selec.test/party/HU/liaison-officer/b"},
                          "selec.test");
  EXPECT_EQ(two.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(two.status().message(), HasSubstr("2 URI SANs"));
  EXPECT_TRUE(
      IdentityFromUriSans({"spiffe://selec.test/party/RO/liaison-officer/a"},
                          "selec.test")
          .ok());
}

TEST(PartyCodeTest, Syntax) {
  EXPECT_TRUE(IsValidPartyCode("RO"));
  EXPECT_TRUE(IsValidPartyCode("HQ"));
  EXPECT_TRUE(IsValidPartyCode("XOP2"));
  EXPECT_FALSE(IsValidPartyCode("R"));
  EXPECT_FALSE(IsValidPartyCode("ro"));
  EXPECT_FALSE(IsValidPartyCode("2RO"));
  EXPECT_FALSE(IsValidPartyCode("R-O"));
  EXPECT_FALSE(IsValidPartyCode("ABCDEFGHIJKLMNOPQ"));
}

}  // namespace
}  // namespace liaison

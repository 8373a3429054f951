#include "domain/admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/faulty_store.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::ElementsAre;
using testing::FakeClock;
using testing::FaultyStore;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

using testing::TestIdentity;

const Identity kAdmin = TestIdentity("HQ", Role::kAdmin, "sec");

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store =
        SqliteStore::Open(dir_.File("liaison.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::make_unique<FaultyStore>(std::move(store).value());
    ASSERT_TRUE(SeedRoster(*store_, audit_, clock_, *ParseRoster(R"(
HQ  MEMBER_STATE         SECRET        -         Headquarters
RO  MEMBER_STATE         SECRET        -         Romania
XOP OPERATIONAL_PARTNER  CONFIDENTIAL  in-force  Partner
XOB OBSERVER             UNCLASSIFIED  -         Observer
)"))
                    .ok());
    admin_ = std::make_unique<AdminService>(*store_, audit_, clock_);
  }

  TempDir dir_;
  FakeClock clock_;
  StoreAuditLog audit_;
  std::unique_ptr<FaultyStore> store_;
  std::unique_ptr<AdminService> admin_;
};

TEST_F(AdminServiceTest, ChangesRecordWhoWhenWhyInOneTransaction) {
  clock_.Advance(absl::Hours(1));
  absl::StatusOr<Party> changed = admin_->SetPartyTier(
      kAdmin, "XOP", PartyTier::kObserver, "strategic cooperation only");
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(changed->tier, PartyTier::kObserver);
  EXPECT_EQ(changed->ceiling, Classification::kUnclassified);
  EXPECT_FALSE(changed->agreement_in_force);
  EXPECT_EQ(*store_->GetParty("XOP"), *changed);

  absl::StatusOr<PartyDetails> details = admin_->GetParty(kAdmin, "XOP");
  ASSERT_TRUE(details.ok());
  ASSERT_EQ(details->history.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(details->history[i].time, clock_.Now());
    EXPECT_EQ(details->history[i].changed_by, kAdmin.spiffe_id);
    EXPECT_EQ(details->history[i].reason, "strategic cooperation only");
  }
  EXPECT_EQ(details->history[1].change, "TIER");
  EXPECT_EQ(details->history[2].change, "CEILING");
  EXPECT_EQ(details->history[2].from, "CONFIDENTIAL");
  EXPECT_EQ(details->history[3].change, "AGREEMENT");

  absl::StatusOr<std::vector<AuditEntry>> audit = store_->ReadAudit(2, 10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].action, "Admin.SetPartyTier");
  EXPECT_EQ((*audit)[0].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT((*audit)[0].reason,
              HasSubstr("TIER OPERATIONAL_PARTNER -> OBSERVER; CEILING "));
  EXPECT_EQ((*audit)[1].action, "Admin.GetParty");
}

TEST_F(AdminServiceTest, RefusalsChangeNothingAndAreAudited) {
  const Identity officer = TestIdentity("RO", Role::kLiaisonOfficer, "ion");
  absl::StatusOr<Party> denied =
      admin_->SuspendParty(officer, "XOB", "I do not like them");
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->GetParty("XOB")->state, PartyState::kActive);
  absl::StatusOr<Party> twice = admin_->SuspendParty(kAdmin, "XOB", "breach");
  ASSERT_TRUE(twice.ok());
  twice = admin_->SuspendParty(kAdmin, "XOB", "breach again");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->ListPartyChanges("XOB")->size(), 2u);

  std::vector<AuditEntry> audit = *store_->ReadAudit(2, 10);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kDenied);
  EXPECT_THAT(audit[0].reason, HasSubstr("only HQ admins"));
  EXPECT_EQ(audit[1].outcome, AuditOutcome::kAllowed);
  EXPECT_EQ(audit[2].outcome, AuditOutcome::kRejected);
  EXPECT_THAT(audit[2].reason, HasSubstr("already suspended"));
}

TEST_F(AdminServiceTest, RevocationAppliesToTheNextCall) {
  const Identity officer = TestIdentity("RO", Role::kLiaisonOfficer, "ion");
  CallGate gate(*store_, audit_, clock_);
  ASSERT_TRUE(gate.Begin(officer, Action::kWhoAmI).ok());
  RevokeCommand by_serial;
  by_serial.serial = officer.serial_hex;
  by_serial.reason = "lost";
  absl::StatusOr<Revocation> revoked =
      admin_->RevokeCertificate(kAdmin, by_serial);
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(revoked->serial, officer.serial_hex);
  absl::StatusOr<Call> refused = gate.Begin(officer, Action::kWhoAmI);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(refused.status().message(), HasSubstr("revoked by HQ: lost"));
  // Another user of the same party, with another certificate, goes on.
  EXPECT_TRUE(gate.Begin(TestIdentity("RO", Role::kLiaisonOfficer, "maria"),
                         Action::kWhoAmI)
                  .ok());
  absl::StatusOr<std::vector<Revocation>> all = admin_->ListRevocations(kAdmin);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(*all, ElementsAre(*revoked));
}

TEST_F(AdminServiceTest, AStorageFailureChangesNothing) {
  const int64_t audit = *store_->AuditSize();
  store_->fail_writes = true;
  absl::StatusOr<Party> suspended = admin_->SuspendParty(kAdmin, "RO", "audit");
  EXPECT_EQ(suspended.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(suspended.status().message(), HasSubstr("nothing changed"));
  store_->fail_writes = false;
  EXPECT_EQ(store_->GetParty("RO")->state, PartyState::kActive);
  EXPECT_EQ(store_->ListPartyChanges("RO")->size(), 1u);
  EXPECT_EQ(*store_->AuditSize(), audit);
}

TEST_F(AdminServiceTest, AnUnknownCommitOutcomeIsNotCalledNoChange) {
  store_->lose_commit_outcomes = true;
  absl::StatusOr<Party> suspended = admin_->SuspendParty(kAdmin, "RO", "audit");
  store_->lose_commit_outcomes = false;
  EXPECT_EQ(suspended.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(suspended.status().message(), HasSubstr("may or may not"));
  EXPECT_THAT(suspended.status().message(), Not(HasSubstr("nothing changed")));
  // It was in fact stored: the admin must look before repeating it.
  EXPECT_EQ(store_->GetParty("RO")->state, PartyState::kSuspended);
}

TEST_F(AdminServiceTest, AdminsCannotRevokeThemselves) {
  for (RevokeCommand command : {RevokeCommand{kAdmin.serial_hex, "", "oops"},
                                RevokeCommand{"", "HQ/admin/sec", "oops"}}) {
    absl::StatusOr<Revocation> revoked =
        admin_->RevokeCertificate(kAdmin, command);
    EXPECT_EQ(revoked.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(revoked.status().message(), HasSubstr("another HQ admin"));
  }
  // Another admin may.
  RevokeCommand by_user{"", "HQ/admin/sec", "left the secretariat"};
  ASSERT_TRUE(admin_
                  ->RevokeCertificate(TestIdentity("HQ", Role::kAdmin, "chief"),
                                      by_user)
                  .ok());
  absl::StatusOr<std::vector<Party>> locked_out = admin_->ListParties(kAdmin);
  EXPECT_EQ(locked_out.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(locked_out.status().message(),
              HasSubstr("identity HQ/admin/sec was revoked by HQ: left the "
                        "secretariat"));
}

TEST_F(AdminServiceTest, AgreementAndCeilingRules) {
  EXPECT_TRUE(admin_->SetAgreement(kAdmin, "XOP", false, "expired").ok());
  EXPECT_EQ(admin_->SetAgreement(kAdmin, "XOP", false, "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(admin_->SetAgreement(kAdmin, "XOP", true, "renewed").ok());
  EXPECT_EQ(admin_->SetAgreement(kAdmin, "RO", true, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      admin_->SetCeiling(kAdmin, "XOP", Classification::kSecret, "cleared")
          .ok());
  EXPECT_EQ(admin_->SetCeiling(kAdmin, "XOB", Classification::kRestricted, "x")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(admin_
                ->SetCeiling(kAdmin, "XOB",
                             Choice<Classification>(std::nullopt, 42), "x")
                .status()
                .message(),
            "classification_ceiling 42 is not a known value (UNCLASSIFIED, "
            "RESTRICTED, CONFIDENTIAL or SECRET)");
}

}  // namespace
}  // namespace liaison

// Party administration over real mutual TLS: every change takes effect on
// the next call of the affected users, without restart or reconnect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "common/tls.h"
#include "common/x509.h"
#include "liaison/v1/admin.grpc.pb.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "liaison/v1/reports.grpc.pb.h"
#include "tests/testing/requests.h"
#include "tests/testing/test_server.h"

namespace liaison {
namespace {

using testing::CertPaths;
using ::testing::HasSubstr;
using testing::TestPki;
using testing::TestServer;

v1::SendMessageRequest Request(
    std::vector<std::string> to, const std::string& key, bool personal,
    v1::Classification classification = v1::CLASSIFICATION_UNCLASSIFIED) {
  v1::SendMessageRequest r = testing::NewSendRequest(
      to, key, v1::MESSAGE_KIND_SPONTANEOUS, "Network of document forgers",
      "Names and addresses of three suspects.");
  r.set_classification(classification);
  r.set_contains_personal_data(personal);
  return r;
}

class AdminE2eTest : public ::testing::Test {
 protected:
  AdminE2eTest()
      : admin_(AdminStub(TestPki::Shared().Issue("HQ", "admin", "sec"))) {}

  std::unique_ptr<v1::Admin::Stub> AdminStub(const CertPaths& cert) {
    return v1::Admin::NewStub(server_.ChannelFor(cert));
  }

  grpc::Status Suspend(const std::string& code, const std::string& reason,
                       v1::Party* party = nullptr) {
    grpc::ClientContext context;
    v1::SuspendPartyRequest request;
    request.set_code(code);
    request.set_reason(reason);
    v1::Party ignored;
    return admin_->SuspendParty(&context, request,
                                party != nullptr ? party : &ignored);
  }
  grpc::Status Reinstate(const std::string& code, const std::string& reason) {
    grpc::ClientContext context;
    v1::ReinstatePartyRequest request;
    request.set_code(code);
    request.set_reason(reason);
    v1::Party party;
    return admin_->ReinstateParty(&context, request, &party);
  }
  grpc::Status SetTier(const std::string& code, v1::PartyTier tier,
                       const std::string& reason, v1::Party* party) {
    grpc::ClientContext context;
    v1::SetPartyTierRequest request;
    request.set_code(code);
    request.set_tier(tier);
    request.set_reason(reason);
    return admin_->SetPartyTier(&context, request, party);
  }
  grpc::Status SetAgreement(const std::string& code, bool in_force) {
    grpc::ClientContext context;
    v1::SetAgreementRequest request;
    request.set_code(code);
    request.set_in_force(in_force);
    request.set_reason("agreement review");
    v1::Party party;
    return admin_->SetAgreement(&context, request, &party);
  }
  grpc::Status Revoke(const std::string& serial, const std::string& user) {
    grpc::ClientContext context;
    v1::RevokeCertificateRequest request;
    if (!serial.empty()) request.set_serial(serial);
    if (!user.empty()) request.set_user(user);
    request.set_reason("laptop stolen");
    v1::Revocation revocation;
    return admin_->RevokeCertificate(&context, request, &revocation);
  }
  v1::PartyDetails Details(const std::string& code) {
    grpc::ClientContext context;
    v1::GetPartyRequest request;
    request.set_code(code);
    v1::PartyDetails details;
    EXPECT_TRUE(admin_->GetParty(&context, request, &details).ok());
    return details;
  }
  static grpc::Status WhoAmI(v1::Exchange::Stub& stub) {
    grpc::ClientContext context;
    v1::WhoAmIResponse response;
    return stub.WhoAmI(&context, v1::WhoAmIRequest(), &response);
  }
  static grpc::Status Send(v1::Exchange::Stub& stub,
                           const v1::SendMessageRequest& request,
                           std::string* id = nullptr) {
    grpc::ClientContext context;
    v1::SendMessageResponse response;
    grpc::Status status = stub.SendMessage(&context, request, &response);
    if (id != nullptr) *id = response.message_id();
    return status;
  }
  static grpc::Status Get(v1::Exchange::Stub& stub, const std::string& id) {
    grpc::ClientContext context;
    v1::GetMessageRequest request;
    request.set_message_id(id);
    v1::Message message;
    return stub.GetMessage(&context, request, &message);
  }
  // Audit entries with `action`, oldest first.
  std::vector<AuditEntry> AuditOf(const std::string& action) {
    std::vector<AuditEntry> found;
    const std::vector<AuditEntry> all =
        *server_.OpenStore()->ReadAudit(1, 100000);
    for (const AuditEntry& e : all) {
      if (e.action == action) found.push_back(e);
    }
    return found;
  }

  TestServer server_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

TEST_F(AdminE2eTest,
       SuspensionTakesEffectOnTheNextCallAndReinstatementLiftsIt) {
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  auto hu = server_.Stub("HU", "liaison-officer", "anna");
  ASSERT_TRUE(WhoAmI(*ro).ok());  // mid-session: the channel stays open

  v1::Party suspended;
  ASSERT_TRUE(
      Suspend("RO", "audit of data protection breach", &suspended).ok());
  EXPECT_EQ(suspended.state(), v1::PARTY_STATE_SUSPENDED);

  const grpc::Status refused = WhoAmI(*ro);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(refused.error_message(), HasSubstr("party RO is suspended"));
  const grpc::Status to_ro = Send(*hu, Request({"RO"}, "to-ro", false));
  EXPECT_EQ(to_ro.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(to_ro.error_message(), HasSubstr("recipient RO is suspended"));

  ASSERT_TRUE(Reinstate("RO", "breach remedied").ok());
  EXPECT_TRUE(WhoAmI(*ro).ok());
  EXPECT_TRUE(Send(*hu, Request({"RO"}, "to-ro", false)).ok());

  // The history says who, what, when and why.
  const v1::PartyDetails details = Details("RO");
  ASSERT_EQ(details.history_size(), 3);
  EXPECT_EQ(details.history(0).change(), "REGISTERED");
  EXPECT_EQ(details.history(1).change(), "SUSPENDED");
  EXPECT_EQ(details.history(1).reason(), "audit of data protection breach");
  EXPECT_EQ(details.history(1).changed_by(),
            "spiffe://selec.test/party/HQ/admin/sec");
  EXPECT_GT(details.history(1).time().seconds(), 0);
  EXPECT_EQ(details.history(2).change(), "REINSTATED");
  EXPECT_EQ(details.history(2).from(), "SUSPENDED");
  EXPECT_EQ(details.history(2).to(), "ACTIVE");

  // And the audit log has each change and the denials it caused.
  std::vector<AuditEntry> suspends = AuditOf("Admin.SuspendParty");
  ASSERT_EQ(suspends.size(), 1u);
  EXPECT_EQ(suspends[0].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(suspends[0].reason,
              HasSubstr("SUSPENDED ACTIVE -> SUSPENDED: audit of data"));
  EXPECT_THAT(suspends[0].resources, ::testing::ElementsAre("RO"));
  std::vector<AuditEntry> whoami = AuditOf("Exchange.WhoAmI");
  ASSERT_EQ(whoami.size(), 3u);
  EXPECT_EQ(whoami[1].outcome, AuditOutcome::kDenied);
  EXPECT_THAT(whoami[1].reason, HasSubstr("RO is suspended"));
  EXPECT_EQ(AuditOf("Admin.ReinstateParty").size(), 1u);
}

TEST_F(AdminE2eTest, DowngradeToObserverWithholdsWhatWasReceivedBefore) {
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  auto partner = server_.Stub("XOP", "liaison-officer", "op");
  std::string id;
  ASSERT_TRUE(
      Send(*ro, Request({"XOP"}, "pd", true, v1::CLASSIFICATION_CONFIDENTIAL),
           &id)
          .ok());
  ASSERT_TRUE(Get(*partner, id).ok());

  v1::Party party;
  ASSERT_TRUE(SetTier("XOP", v1::PARTY_TIER_OBSERVER,
                      "cooperation scaled back to strategic level", &party)
                  .ok());
  EXPECT_EQ(party.tier(), v1::PARTY_TIER_OBSERVER);
  EXPECT_EQ(party.classification_ceiling(), v1::CLASSIFICATION_UNCLASSIFIED);
  EXPECT_FALSE(party.agreement_in_force());

  const grpc::Status read = Get(*partner, id);
  EXPECT_EQ(read.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(read.error_message(),
              HasSubstr("XOP is an observer and may not read personal data"));
  grpc::ClientContext context;
  v1::ListInboxResponse inbox;
  ASSERT_TRUE(
      partner->ListInbox(&context, v1::ListInboxRequest(), &inbox).ok());
  ASSERT_EQ(inbox.messages_size(), 1);
  EXPECT_EQ(inbox.messages(0).subject(), "");
  EXPECT_THAT(inbox.messages(0).withheld_reason(), HasSubstr("observer"));

  // The tier change lowered the ceiling and ended the agreement, each on
  // record.
  const v1::PartyDetails details = Details("XOP");
  std::vector<std::string> changes;
  for (const auto& c : details.history()) changes.push_back(c.change());
  EXPECT_THAT(changes, ::testing::ElementsAre("REGISTERED", "TIER", "CEILING",
                                              "AGREEMENT"));
  EXPECT_EQ(details.history(1).from(), "OPERATIONAL_PARTNER");
  EXPECT_EQ(details.history(1).to(), "OBSERVER");
}

TEST_F(AdminE2eTest, LapsedAgreementStopsPersonalDataBothWays) {
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  auto partner = server_.Stub("XOP", "focal-point", "nfp");
  ASSERT_TRUE(Send(*ro, Request({"XOP"}, "before", true)).ok());
  ASSERT_TRUE(SetAgreement("XOP", false).ok());

  const grpc::Status to_partner = Send(*ro, Request({"XOP"}, "to", true));
  EXPECT_EQ(to_partner.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(to_partner.error_message(),
              HasSubstr("XOP's cooperation agreement is not in force"));
  const grpc::Status from_partner =
      Send(*partner, Request({"RO"}, "from", true));
  EXPECT_EQ(from_partner.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(from_partner.error_message(), HasSubstr("not in force"));
  // Non-personal exchange goes on.
  EXPECT_TRUE(Send(*partner, Request({"RO"}, "strategic", false)).ok());

  ASSERT_TRUE(SetAgreement("XOP", true).ok());
  EXPECT_TRUE(Send(*ro, Request({"XOP"}, "to", true)).ok());

  std::vector<std::string> changes;
  const v1::PartyDetails details = Details("XOP");
  for (const auto& c : details.history()) {
    changes.push_back(absl::StrCat(c.change(), " ", c.from(), " -> ", c.to(),
                                   ": ", c.reason()));
  }
  EXPECT_THAT(changes, ::testing::ElementsAre(
                           ::testing::StartsWith("REGISTERED"),
                           "AGREEMENT in force -> lapsed: agreement review",
                           "AGREEMENT lapsed -> in force: agreement review"));
  EXPECT_EQ(AuditOf("Admin.SetAgreement").size(), 2u);
}

TEST_F(AdminE2eTest, RevokedCertificateIsRefusedWhileOthersOfThePartyWork) {
  TestPki& pki = TestPki::Shared();
  const CertPaths stolen = pki.Issue("RO", "liaison-officer", "stolen");
  auto thief = server_.StubWith(stolen, pki.ca());
  auto colleague = server_.Stub("RO", "liaison-officer", "colleague");
  ASSERT_TRUE(WhoAmI(*thief).ok());

  const std::string serial =
      ParseCertificatePem(*ReadFile(stolen.cert))->serial_hex;
  // Serials are accepted in any case and with leading zeros.
  ASSERT_TRUE(
      Revoke(absl::StrCat("00", absl::AsciiStrToLower(serial)), "").ok());
  const grpc::Status refused = WhoAmI(*thief);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("certificate serial " + serial + " was revoked by HQ"));
  EXPECT_THAT(refused.error_message(), HasSubstr("laptop stolen"));
  EXPECT_TRUE(WhoAmI(*colleague).ok());

  // By identity: every certificate of that user.
  auto nfp = server_.Stub("RO", "focal-point", "nfp-gateway");
  ASSERT_TRUE(WhoAmI(*nfp).ok());
  ASSERT_TRUE(Revoke("", "RO/focal-point/nfp-gateway").ok());
  EXPECT_EQ(WhoAmI(*nfp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(WhoAmI(*colleague).ok());

  // Twice is ALREADY_EXISTS; both are listed.
  EXPECT_EQ(Revoke(serial, "").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  grpc::ClientContext context;
  v1::ListRevocationsResponse list;
  ASSERT_TRUE(
      admin_->ListRevocations(&context, v1::ListRevocationsRequest(), &list)
          .ok());
  ASSERT_EQ(list.revocations_size(), 2);
  EXPECT_EQ(list.revocations(0).serial(), serial);
  EXPECT_EQ(list.revocations(1).user(), "RO/focal-point/nfp-gateway");
  EXPECT_EQ(list.revocations(1).revoked_by(),
            "spiffe://selec.test/party/HQ/admin/sec");
  EXPECT_EQ(AuditOf("Admin.RevokeCertificate").size(), 3u);
}

TEST_F(AdminE2eTest, OnlyHqAdminsAdminister) {
  TestPki& pki = TestPki::Shared();
  struct Case {
    CertPaths cert;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {pki.Issue("RO", "liaison-officer", "ion"),
            "only HQ admins administer"},
           {pki.Issue("RO", "focal-point", "nfp"), "only HQ admins"},
           {pki.Issue("HQ", "liaison-officer", "duty"), "only HQ admins"},
           {pki.Issue("HQ", "auditor", "dpo"), "only HQ admins"},
           {pki.Issue("RO", "admin", "rogue"), "exists only in party HQ"},
       }) {
    SCOPED_TRACE(c.cert.cert);
    auto stub = AdminStub(c.cert);
    grpc::ClientContext list_context;
    v1::ListPartiesResponse parties;
    const grpc::Status list =
        stub->ListParties(&list_context, v1::ListPartiesRequest(), &parties);
    EXPECT_EQ(list.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(list.error_message(), HasSubstr(c.message));
    grpc::ClientContext suspend_context;
    v1::SuspendPartyRequest request;
    request.set_code("HU");
    request.set_reason("coup");
    v1::Party party;
    EXPECT_EQ(
        stub->SuspendParty(&suspend_context, request, &party).error_code(),
        grpc::StatusCode::PERMISSION_DENIED);
  }
  EXPECT_EQ(Details("HU").party().state(), v1::PARTY_STATE_ACTIVE);
  // The admin lists every party of the roster.
  grpc::ClientContext context;
  v1::ListPartiesResponse parties;
  ASSERT_TRUE(
      admin_->ListParties(&context, v1::ListPartiesRequest(), &parties).ok());
  EXPECT_EQ(parties.parties_size(), 16);
  EXPECT_EQ(AuditOf("Admin.ListParties").size(), 6u);
}

TEST_F(AdminE2eTest, RegisterThenUseAtOnce) {
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  auto newcomer = server_.Stub("XNP", "focal-point", "nfp");
  EXPECT_EQ(WhoAmI(*newcomer).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext context;
  v1::RegisterPartyRequest request;
  request.set_code("XNP");
  request.set_name("New Partner (fictitious)");
  request.set_tier(v1::PARTY_TIER_OPERATIONAL_PARTNER);
  request.set_classification_ceiling(v1::CLASSIFICATION_RESTRICTED);
  request.set_agreement_in_force(true);
  request.set_reason("Council decision 12/2026");
  v1::Party party;
  ASSERT_TRUE(admin_->RegisterParty(&context, request, &party).ok());
  EXPECT_EQ(party.state(), v1::PARTY_STATE_ACTIVE);
  EXPECT_TRUE(WhoAmI(*newcomer).ok());
  EXPECT_TRUE(Send(*ro, Request({"XNP"}, "welcome", true,
                                v1::CLASSIFICATION_RESTRICTED))
                  .ok());
  const v1::PartyDetails details = Details("XNP");
  ASSERT_EQ(details.history_size(), 1);
  EXPECT_EQ(details.history(0).to(),
            "OPERATIONAL_PARTNER, ceiling RESTRICTED, agreement in force, "
            "ACTIVE");
  EXPECT_EQ(details.history(0).reason(), "Council decision 12/2026");
  const std::vector<AuditEntry> audit = AuditOf("Admin.RegisterParty");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].principal, "spiffe://selec.test/party/HQ/admin/sec");
  EXPECT_THAT(audit[0].resources, ::testing::ElementsAre("XNP"));
  EXPECT_THAT(audit[0].reason, HasSubstr("Council decision 12/2026"));
}

TEST_F(AdminE2eTest, MalformedAndRefusedChangesGetPreciseCodes) {
  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string message;
  };
  auto register_party = [this](std::string code, v1::PartyTier tier,
                               v1::Classification ceiling, bool agreement,
                               std::string reason) {
    return [=]() {
      grpc::ClientContext context;
      v1::RegisterPartyRequest request;
      request.set_code(code);
      request.set_name("Test party");
      request.set_tier(tier);
      request.set_classification_ceiling(ceiling);
      request.set_agreement_in_force(agreement);
      request.set_reason(reason);
      v1::Party party;
      return admin_->RegisterParty(&context, request, &party);
    };
  };
  auto set_tier = [this](std::string code, v1::PartyTier tier,
                         std::string reason) {
    return [=]() {
      v1::Party party;
      return SetTier(code, tier, reason, &party);
    };
  };
  auto ceiling = [this](std::string code, v1::Classification c) {
    return [=]() {
      grpc::ClientContext context;
      v1::SetCeilingRequest request;
      request.set_code(code);
      request.set_classification_ceiling(c);
      request.set_reason("review");
      v1::Party party;
      return admin_->SetCeiling(&context, request, &party);
    };
  };
  const auto ms = v1::PARTY_TIER_MEMBER_STATE;
  const auto obs = v1::PARTY_TIER_OBSERVER;
  const auto secret = v1::CLASSIFICATION_SECRET;
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const auto kPrecondition = grpc::StatusCode::FAILED_PRECONDITION;
  const std::vector<Case> cases = {
      {"unknown tier", set_tier("RS", static_cast<v1::PartyTier>(9), "x"),
       kInvalid, "tier 9 is not a known value"},
      {"unspecified tier", set_tier("RS", v1::PARTY_TIER_UNSPECIFIED, "x"),
       kInvalid, "tier is required"},
      {"empty reason", set_tier("RS", obs, ""), kInvalid, "reason is required"},
      {"blank reason", [this] { return Suspend("RS", "   "); }, kInvalid,
       "reason is blank"},
      {"bad party code", set_tier("rs", obs, "x"), kInvalid,
       "code 'rs' is not a party code"},
      {"unknown party", set_tier("ZZ", obs, "x"), grpc::StatusCode::NOT_FOUND,
       "party ZZ is not registered"},
      {"duplicate register", register_party("RO", ms, secret, false, "again"),
       grpc::StatusCode::ALREADY_EXISTS, "party RO is already registered"},
      {"register observer above UNCLASSIFIED",
       register_party("XQ", obs, secret, false, "x"), kInvalid,
       "observer must be UNCLASSIFIED"},
      {"register member state with agreement",
       register_party("XQ", ms, secret, true, "x"), kInvalid,
       "operational partners only"},
      {"register without name",
       [this] {
         grpc::ClientContext context;
         v1::RegisterPartyRequest request;
         request.set_code("XQ");
         request.set_tier(v1::PARTY_TIER_MEMBER_STATE);
         request.set_classification_ceiling(v1::CLASSIFICATION_SECRET);
         request.set_reason("x");
         v1::Party party;
         return admin_->RegisterParty(&context, request, &party);
       },
       kInvalid, "name is required"},
      {"same tier", set_tier("RS", ms, "x"), kPrecondition,
       "RS is already MEMBER_STATE"},
      {"HQ tier", set_tier("HQ", obs, "x"), kPrecondition,
       "HQ must remain a member state"},
      {"suspend HQ", [this] { return Suspend("HQ", "x"); }, kPrecondition,
       "HQ cannot be suspended"},
      {"reinstate active", [this] { return Reinstate("RS", "x"); },
       kPrecondition, "RS is not suspended"},
      {"agreement of a member state",
       [this] { return SetAgreement("RS", false); }, kPrecondition,
       "only operational partners have a cooperation agreement"},
      {"observer ceiling", ceiling("XOB", v1::CLASSIFICATION_RESTRICTED),
       kPrecondition, "observers are limited to UNCLASSIFIED"},
      {"revoke nothing", [this] { return Revoke("", ""); }, kInvalid,
       "exactly one of serial"},
      {"revoke bad serial", [this] { return Revoke("xyz", ""); }, kInvalid,
       "not a certificate serial"},
      {"revoke bad user", [this] { return Revoke("", "RO/chief/x"); }, kInvalid,
       "is not PARTY/ROLE/USER"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t audit = *server_.OpenStore()->AuditSize();
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(*server_.OpenStore()->AuditSize(), audit + 1);
  }
  // Nothing changed: RS's history holds only its registration.
  EXPECT_EQ(Details("RS").history_size(), 1);
  EXPECT_EQ(Details("RS").party().tier(), v1::PARTY_TIER_MEMBER_STATE);
  grpc::ClientContext context;
  v1::ListRevocationsResponse list;
  ASSERT_TRUE(
      admin_->ListRevocations(&context, v1::ListRevocationsRequest(), &list)
          .ok());
  EXPECT_EQ(list.revocations_size(), 0);
}

TEST_F(AdminE2eTest, CeilingChangeAppliesToTheNextSend) {
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  ASSERT_TRUE(
      Send(*ro, Request({"BG"}, "s1", false, v1::CLASSIFICATION_SECRET)).ok());
  grpc::ClientContext context;
  v1::SetCeilingRequest request;
  request.set_code("BG");
  request.set_classification_ceiling(v1::CLASSIFICATION_RESTRICTED);
  request.set_reason("accreditation expired");
  v1::Party party;
  ASSERT_TRUE(admin_->SetCeiling(&context, request, &party).ok());
  const grpc::Status status =
      Send(*ro, Request({"BG"}, "s2", false, v1::CLASSIFICATION_SECRET));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("recipient BG may not receive SECRET information "
                        "(its ceiling is RESTRICTED)"));
  const v1::PartyDetails details = Details("BG");
  ASSERT_EQ(details.history_size(), 2);
  EXPECT_EQ(details.history(1).change(), "CEILING");
  EXPECT_EQ(details.history(1).from(), "SECRET");
  EXPECT_EQ(details.history(1).to(), "RESTRICTED");
  EXPECT_EQ(details.history(1).reason(), "accreditation expired");
  const std::vector<AuditEntry> audit = AuditOf("Admin.SetCeiling");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].outcome, AuditOutcome::kAllowed);
  EXPECT_THAT(audit[0].reason, HasSubstr("CEILING SECRET -> RESTRICTED: "
                                         "accreditation expired"));
}

TEST_F(AdminE2eTest, GetStatisticsScopes) {
  auto stub = [this](const std::string& party, const std::string& role) {
    return v1::Reports::NewStub(
        server_.ChannelFor(TestPki::Shared().Issue(party, role, "stats")));
  };
  auto get = [](v1::Reports::Stub& reports, int64_t from, int64_t to,
                const std::string& party, v1::Statistics* out) {
    grpc::ClientContext context;
    v1::StatisticsRequest request;
    request.mutable_from()->set_seconds(from);
    request.mutable_to()->set_seconds(to);
    request.set_party(party);
    return reports.GetStatistics(&context, request, out);
  };
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  ASSERT_TRUE(Send(*ro, Request({"HU", "BG"}, "stats", false)).ok());
  // Requests only: that was SPONTANEOUS; send a request too.
  v1::SendMessageRequest request = Request({"HU"}, "stats-req", false);
  request.set_kind(v1::MESSAGE_KIND_REQUEST);
  ASSERT_TRUE(Send(*ro, request).ok());
  const int64_t now = absl::ToUnixSeconds(absl::Now());

  v1::Statistics stats;
  ASSERT_TRUE(get(*stub("RO", "focal-point"), 0, now + 10, "", &stats).ok());
  EXPECT_EQ(stats.party(), "RO");
  EXPECT_EQ(stats.sent().total(), 1);
  EXPECT_EQ(stats.sent().open(), 1);
  ASSERT_TRUE(get(*stub("HQ", "auditor"), 0, now + 10, "", &stats).ok());
  EXPECT_EQ(stats.party(), "");
  EXPECT_EQ(stats.received_by_party().at("HU").total(), 1);
  ASSERT_TRUE(get(*stub("HQ", "admin"), 0, now + 10, "HU", &stats).ok());
  EXPECT_EQ(stats.received().total(), 1);

  const grpc::Status other =
      get(*stub("BG", "liaison-officer"), 0, now + 10, "RO", &stats);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  const grpc::Status empty =
      get(*stub("RO", "liaison-officer"), 0, 0, "", &stats);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(Suspend("BG", "audit").ok());
  EXPECT_EQ(
      get(*stub("BG", "liaison-officer"), 0, now + 10, "", &stats).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(AuditOf("Reports.GetStatistics").size(), 6u);
}

TEST_F(AdminE2eTest, SubscribeStreamsEndWhenThePartyIsSuspended) {
  auto hu = server_.Stub("HU", "liaison-officer", "anna");
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  std::unique_ptr<grpc::ClientReader<v1::Event>> stream =
      hu->Subscribe(&context, request);
  auto ro = server_.Stub("RO", "liaison-officer", "ion");
  std::string id;
  ASSERT_TRUE(Send(*ro, Request({"HU"}, "live", false), &id).ok());
  v1::Event event;
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_EQ(event.kind(), "MESSAGE");
  EXPECT_EQ(event.message_id(), id);
  EXPECT_GT(event.seq(), 0);

  ASSERT_TRUE(Suspend("HU", "compromised terminal").ok());
  EXPECT_FALSE(stream->Read(&event));
  const grpc::Status end = stream->Finish();
  EXPECT_EQ(end.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(end.error_message(), HasSubstr("party HU is suspended"));
  // The end of the stream is audited like any refusal.
  const std::vector<AuditEntry> subscribe = AuditOf("Exchange.Subscribe");
  ASSERT_EQ(subscribe.size(), 2u);
  EXPECT_EQ(subscribe[1].outcome, AuditOutcome::kDenied);
}

TEST(CrlTest, CertificatesRevokedAtTheCaAreRefusedFromTheNextCall) {
  TestPki& pki = TestPki::Shared();
  const CertPaths lost = pki.Issue("HU", "liaison-officer", "lost");
  const CertPaths kept = pki.Issue("HU", "liaison-officer", "kept");
  const std::string crl = absl::StrCat(pki.dir(), "/crl.pem");
  testing::RunOrDie(absl::StrCat("bash ", testing::SourcePath("certs/crl.sh"),
                                 " ", pki.dir()));
  TestServer server(crl);
  auto lost_stub = server.StubWith(lost, pki.ca());
  auto kept_stub = server.StubWith(kept, pki.ca());
  grpc::ClientContext first;
  v1::WhoAmIResponse who;
  ASSERT_TRUE(lost_stub->WhoAmI(&first, v1::WhoAmIRequest(), &who).ok());

  // The CA revokes it; the server rereads the changed CRL on the next call.
  testing::RunOrDie(absl::StrCat("bash ", testing::SourcePath("certs/crl.sh"),
                                 " ", pki.dir(), " ", lost.cert));
  grpc::ClientContext second;
  const grpc::Status refused =
      lost_stub->WhoAmI(&second, v1::WhoAmIRequest(), &who);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(refused.error_message(),
              HasSubstr("revoked by the certificate authority"));
  grpc::ClientContext third;
  EXPECT_TRUE(kept_stub->WhoAmI(&third, v1::WhoAmIRequest(), &who).ok());
  // The refusal is audited like any other, naming whose certificate it was.
  const std::vector<AuditEntry> audit = *server.OpenStore()->ReadAudit(1, 1000);
  EXPECT_EQ(audit.back().action, "Exchange.WhoAmI");
  EXPECT_EQ(audit.back().outcome, AuditOutcome::kAllowed);
  const AuditEntry& denial = audit[audit.size() - 2];
  EXPECT_EQ(denial.outcome, AuditOutcome::kDenied);
  EXPECT_EQ(denial.principal,
            "spiffe://selec.test/party/HU/liaison-officer/lost");
  EXPECT_THAT(denial.reason, HasSubstr("(CRL)"));
}

TEST(CrlTest, ACrlFromAnotherCaStopsTheServerFromStarting) {
  std::unique_ptr<TestPki> other = TestPki::Create("selec.test");
  testing::RunOrDie(absl::StrCat("bash ", testing::SourcePath("certs/crl.sh"),
                                 " ", other->dir()));
  testing::TempDir data;
  TestPki& pki = TestPki::Shared();
  server::ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.data_dir = data.path();
  options.tls_cert = pki.server_cert();
  options.tls_key = pki.server_key();
  options.tls_ca = pki.ca();
  options.audit_key_file = pki.audit_key();
  options.crl_file = absl::StrCat(other->dir(), "/crl.pem");
  SystemClock clock;
  absl::StatusOr<std::unique_ptr<server::LiaisonServer>> server =
      server::LiaisonServer::Start(options, clock);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(),
              HasSubstr("not signed by the configured CA"));
}

}  // namespace
}  // namespace liaison

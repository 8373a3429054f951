#include "domain/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace liaison {
namespace {

using ::testing::HasSubstr;

Party MakeParty(const std::string& code, PartyTier tier, Classification ceiling,
                bool agreement = false,
                PartyState state = PartyState::kActive) {
  Party p;
  p.code = code;
  p.name = code;
  p.tier = tier;
  p.ceiling = ceiling;
  p.agreement_in_force = agreement;
  p.state = state;
  return p;
}

const std::map<std::string, Party>& Parties() {
  static const auto* parties = new std::map<std::string, Party>{
      {"RO", MakeParty("RO", PartyTier::kMemberState, Classification::kSecret)},
      {"HU", MakeParty("HU", PartyTier::kMemberState, Classification::kSecret)},
      {"HQ", MakeParty("HQ", PartyTier::kMemberState, Classification::kSecret)},
      {"BG",
       MakeParty("BG", PartyTier::kMemberState, Classification::kRestricted)},
      {"SU", MakeParty("SU", PartyTier::kMemberState, Classification::kSecret,
                       false, PartyState::kSuspended)},
      {"OP", MakeParty("OP", PartyTier::kOperationalPartner,
                       Classification::kConfidential, true)},
      {"LP", MakeParty("LP", PartyTier::kOperationalPartner,
                       Classification::kConfidential, false)},
      {"OB",
       MakeParty("OB", PartyTier::kObserver, Classification::kUnclassified)},
      {"OS",
       MakeParty("OS", PartyTier::kObserver, Classification::kUnclassified,
                 false, PartyState::kSuspended)},
  };
  return *parties;
}

struct Row {
  const char* name;
  const char* party;  // Caller's party; "??" is unregistered.
  Role role;
  Action action;
  // For message actions: sender, recipient, classification, personal data.
  const char* sender;
  const char* recipient;
  Classification classification;
  bool personal;
  absl::StatusCode code;
  const char* reason;    // Substring of the reason; "" when allowed.
  bool revoked = false;  // HQ revoked the caller's certificate.
};

constexpr auto U = Classification::kUnclassified;
constexpr auto R = Classification::kRestricted;
constexpr auto C = Classification::kConfidential;
constexpr auto S = Classification::kSecret;
constexpr auto kOk = absl::StatusCode::kOk;
constexpr auto kDenied = absl::StatusCode::kPermissionDenied;
constexpr auto kHidden = absl::StatusCode::kNotFound;
constexpr auto kUnauthenticated = absl::StatusCode::kUnauthenticated;
constexpr auto AD = Role::kAdmin;
constexpr auto AU = Role::kAuditor;
constexpr auto LO = Role::kLiaisonOfficer;
constexpr auto FP = Role::kFocalPoint;

// The decision table: one row per (caller, action, message) case.
const std::vector<Row>& Table() {
  static const auto* rows = new std::vector<Row>{
      // Principal checks, whatever the action.
      {"unregistered party", "??", LO, Action::kWhoAmI, "", "", U, false,
       kDenied, "not registered"},
      {"suspended party whoami", "SU", LO, Action::kWhoAmI, "", "", U, false,
       kDenied, "SU is suspended"},
      {"suspended party inbox", "SU", FP, Action::kListInbox, "", "", U, false,
       kDenied, "suspended"},
      {"suspended observer", "OS", LO, Action::kListOutbox, "", "", U, false,
       kDenied, "suspended"},
      {"admin outside HQ", "RO", Role::kAdmin, Action::kWhoAmI, "", "", U,
       false, kDenied, "only in party HQ"},
      {"auditor outside HQ", "HU", Role::kAuditor, Action::kWhoAmI, "", "", U,
       false, kDenied, "only in party HQ"},
      {"HQ admin whoami", "HQ", Role::kAdmin, Action::kWhoAmI, "", "", U, false,
       kOk, ""},
      {"HQ admin inbox", "HQ", Role::kAdmin, Action::kListInbox, "", "", U,
       false, kDenied, "may not send or read message contents"},
      {"HQ auditor send", "HQ", Role::kAuditor, Action::kSendMessage, "HQ",
       "RO", U, false, kDenied, "may not send or read message contents"},
      {"HQ admin read", "HQ", Role::kAdmin, Action::kGetMessage, "RO", "HQ", U,
       false, kDenied, "message contents"},
      {"officer whoami", "RO", LO, Action::kWhoAmI, "", "", U, false, kOk, ""},
      {"focal point inbox", "RO", FP, Action::kListInbox, "", "", U, false, kOk,
       ""},
      {"observer outbox", "OB", LO, Action::kListOutbox, "", "", U, false, kOk,
       ""},
      // Sending: member states.
      {"MS to MS secret personal", "RO", LO, Action::kSendMessage, "RO", "HU",
       S, true, kOk, ""},
      {"MS to MS above ceiling", "RO", LO, Action::kSendMessage, "RO", "BG", C,
       false, kDenied, "recipient BG may not receive CONFIDENTIAL"},
      {"MS to MS at ceiling", "RO", FP, Action::kSendMessage, "RO", "BG", R,
       true, kOk, ""},
      {"MS to suspended", "RO", LO, Action::kSendMessage, "RO", "SU", U, false,
       kDenied, "recipient SU is suspended"},
      {"sender above own ceiling", "BG", LO, Action::kSendMessage, "BG", "RO",
       S, false, kDenied, "BG may not send SECRET"},
      // Sending: operational partners.
      {"MS to partner personal", "RO", LO, Action::kSendMessage, "RO", "OP", C,
       true, kOk, ""},
      {"MS to partner above ceiling", "RO", LO, Action::kSendMessage, "RO",
       "OP", S, false, kDenied, "ceiling is CONFIDENTIAL"},
      {"MS to lapsed partner personal", "RO", LO, Action::kSendMessage, "RO",
       "LP", U, true, kDenied, "LP's cooperation agreement is not in force"},
      {"MS to lapsed partner non-personal", "RO", LO, Action::kSendMessage,
       "RO", "LP", R, false, kOk, ""},
      {"partner to MS personal", "OP", FP, Action::kSendMessage, "OP", "HU", R,
       true, kOk, ""},
      {"lapsed partner sends personal", "LP", LO, Action::kSendMessage, "LP",
       "HU", U, true, kDenied, "LP's cooperation agreement is not in force"},
      // Sending: observers.
      {"MS to observer unclassified", "RO", LO, Action::kSendMessage, "RO",
       "OB", U, false, kOk, ""},
      {"MS to observer personal", "RO", LO, Action::kSendMessage, "RO", "OB", U,
       true, kDenied,
       "recipient OB is an observer and may not receive "
       "personal data"},
      {"MS to observer restricted", "RO", LO, Action::kSendMessage, "RO", "OB",
       R, false, kDenied, "UNCLASSIFIED only"},
      {"observer sends unclassified", "OB", LO, Action::kSendMessage, "OB",
       "RO", U, false, kOk, ""},
      {"observer sends personal", "OB", LO, Action::kSendMessage, "OB", "RO", U,
       true, kDenied, "OB is an observer and may not send personal data"},
      {"observer sends confidential", "OB", FP, Action::kSendMessage, "OB",
       "RO", C, false, kDenied, "may not send CONFIDENTIAL"},
      // Reading.
      {"sender reads", "RO", LO, Action::kGetMessage, "RO", "HU", S, true, kOk,
       ""},
      {"recipient reads", "HU", FP, Action::kGetMessage, "RO", "HU", S, true,
       kOk, ""},
      {"third party hidden", "BG", LO, Action::kGetMessage, "RO", "HU", U,
       false, kHidden, "neither the sender nor a recipient"},
      {"observer third party hidden", "OB", LO, Action::kGetMessage, "RO", "HU",
       U, false, kHidden, "neither"},
      {"observer reads own unclassified", "OB", LO, Action::kGetMessage, "RO",
       "OB", U, false, kOk, ""},
      {"observer reads personal held earlier", "OB", LO, Action::kGetMessage,
       "RO", "OB", U, true, kDenied,
       "OB is an observer and may not read "
       "personal data"},
      {"recipient above its ceiling now", "BG", LO, Action::kGetMessage, "RO",
       "BG", S, false, kDenied, "BG may not read SECRET"},
      {"lapsed partner reads personal", "LP", LO, Action::kGetMessage, "RO",
       "LP", U, true, kDenied, "agreement is not in force"},
      {"partner reads personal", "OP", LO, Action::kGetMessage, "RO", "OP", C,
       true, kOk, ""},
      // Replying: read the request, then deliver to its sender.
      {"recipient replies", "HU", LO, Action::kReply, "RO", "HU", U, true, kOk,
       ""},
      {"third party replies", "BG", LO, Action::kReply, "RO", "HU", U, false,
       kHidden, "neither"},
      {"observer replies personal", "OB", LO, Action::kReply, "RO", "OB", U,
       true, kDenied, "observer"},
      {"partner reads at its ceiling", "OP", LO, Action::kGetMessage, "RO",
       "OP", C, false, kOk, ""},
      {"partner reads above its ceiling", "OP", FP, Action::kGetMessage, "RO",
       "OP", S, false, kDenied, "OP may not read SECRET"},
      {"lapsed partner sends non-personal", "LP", LO, Action::kSendMessage,
       "LP", "RO", R, false, kOk, ""},
      {"suspended party reads its own message", "SU", LO, Action::kGetMessage,
       "SU", "RO", U, false, kDenied, "suspended"},
      // Administration: HQ admins only, never message contents.
      {"HQ admin registers", "HQ", AD, Action::kRegisterParty, "", "", U, false,
       kOk, ""},
      {"HQ admin suspends", "HQ", AD, Action::kSuspendParty, "", "", U, false,
       kOk, ""},
      {"HQ admin revokes", "HQ", AD, Action::kRevokeCertificate, "", "", U,
       false, kOk, ""},
      {"HQ admin lists revocations", "HQ", AD, Action::kListRevocations, "", "",
       U, false, kOk, ""},
      {"officer registers", "RO", LO, Action::kRegisterParty, "", "", U, false,
       kDenied, "only HQ admins administer parties"},
      {"focal point sets tier", "RO", FP, Action::kSetPartyTier, "", "", U,
       false, kDenied, "RO/focal-point may not"},
      {"HQ officer lists parties", "HQ", LO, Action::kListParties, "", "", U,
       false, kDenied, "only HQ admins"},
      {"HQ auditor suspends", "HQ", AU, Action::kSuspendParty, "", "", U, false,
       kDenied, "HQ/auditor may not"},
      {"observer reads a party", "OB", LO, Action::kGetParty, "", "", U, false,
       kDenied, "only HQ admins"},
      {"admin outside HQ administers", "RO", AD, Action::kListParties, "", "",
       U, false, kDenied, "exists only in party HQ"},
      // Audit: any active party checks the log; the scope is the service's.
      {"HQ auditor exports the log", "HQ", AU, Action::kExportAudit, "", "", U,
       false, kOk, ""},
      {"officer asks for a checkpoint", "RO", LO, Action::kGetCheckpoint, "",
       "", U, false, kOk, ""},
      {"observer lists accesses", "OB", FP, Action::kListAccesses, "", "", U,
       false, kOk, ""},
      {"suspended party lists its audit entries", "SU", FP,
       Action::kListAuditEntries, "", "", U, false, kDenied, "suspended"},
      {"auditor outside HQ exports", "RO", AU, Action::kExportAudit, "", "", U,
       false, kDenied, "exists only in party HQ"},
      // Revoked certificates, before anything else.
      {"revoked officer", "RO", LO, Action::kWhoAmI, "", "", U, false,
       kUnauthenticated, "was revoked by HQ: key compromised", true},
      {"revoked admin", "HQ", AD, Action::kSuspendParty, "", "", U, false,
       kUnauthenticated, "revoked", true},
      {"revoked on suspended party", "SU", LO, Action::kListInbox, "", "", U,
       false, kUnauthenticated, "revoked", true},
      {"HQ admin sets ceiling", "HQ", AD, Action::kSetCeiling, "", "", U, false,
       kOk, ""},
      {"HQ admin sets agreement", "HQ", AD, Action::kSetAgreement, "", "", U,
       false, kOk, ""},
      {"HQ admin reinstates", "HQ", AD, Action::kReinstateParty, "", "", U,
       false, kOk, ""},
      {"HQ admin lists parties", "HQ", AD, Action::kListParties, "", "", U,
       false, kOk, ""},
      {"HQ admin shows a party", "HQ", AD, Action::kGetParty, "", "", U, false,
       kOk, ""},
      {"HQ admin whoami is not message contents", "HQ", AD, Action::kWhoAmI, "",
       "", U, false, kOk, ""},
      // Replies go back to the requester as it is now.
      {"reply to a suspended requester", "HU", LO, Action::kReply, "SU", "HU",
       U, false, kDenied, "recipient SU is suspended"},
      {"reply with personal data to a lapsed requester", "HU", LO,
       Action::kReply, "LP", "HU", U, true, kDenied,
       "recipient LP's cooperation agreement is not in force"},
      {"reply above an observer requester", "HU", LO, Action::kReply, "OB",
       "HU", R, false, kDenied, "recipient OB is an observer"},
  };
  return *rows;
}

TEST(PolicyTest, DecisionTable) {
  ASSERT_GE(Table().size(), 55u);
  for (const Row& row : Table()) {
    SCOPED_TRACE(row.name);
    PolicyInput in;
    in.principal.party = row.party;
    in.principal.role = row.role;
    in.principal.user_id = "u";
    auto it = Parties().find(row.party);
    in.party = it == Parties().end() ? nullptr : &it->second;
    in.action = row.action;
    Revocation revocation;
    revocation.serial = "5EC1A1";
    revocation.reason = "key compromised";
    if (row.revoked) in.revocation = &revocation;
    in.principal.serial_hex = "5EC1A1";
    MessageFacts facts;
    facts.sender_party = row.sender;
    if (*row.recipient != '\0') facts.recipient_parties = {row.recipient};
    facts.classification = row.classification;
    facts.contains_personal_data = row.personal;
    if (*row.sender != '\0') {
      switch (row.action) {
        case Action::kGetMessage:
          in.message = &facts;
          break;
        case Action::kReply:
          // The reply carries the same properties back to the sender.
          in.request = &facts;
          in.message = &facts;
          in.recipient = &Parties().at(row.sender);
          break;
        case Action::kSendMessage:
          in.message = &facts;
          in.recipient = &Parties().at(row.recipient);
          break;
        default:
          break;
      }
    }
    const Decision d = Decide(in);
    EXPECT_EQ(d.code, row.code) << d.reason;
    EXPECT_THAT(d.reason, HasSubstr(row.reason));
    EXPECT_EQ(d.allowed(), row.code == kOk);
  }
}

TEST(PolicyTest, OnlyHqAuditorsSeeTheWholeAuditLog) {
  Identity who;
  who.party = "HQ";
  who.role = Role::kAuditor;
  EXPECT_TRUE(SeesWholeAuditLog(who));
  who.role = Role::kAdmin;
  EXPECT_FALSE(SeesWholeAuditLog(who));
  who.party = "RO";
  who.role = Role::kAuditor;
  EXPECT_FALSE(SeesWholeAuditLog(who));
  who.role = Role::kFocalPoint;
  EXPECT_FALSE(SeesWholeAuditLog(who));
}

TEST(PolicyTest, RevocationsNameWhatWasRevoked) {
  PolicyInput in;
  in.principal.party = "RO";
  in.principal.serial_hex = "ABC";
  in.party = &Parties().at("RO");
  Revocation by_user;
  by_user.user = "RO/liaison-officer/u";
  by_user.reason = "left the service";
  in.revocation = &by_user;
  EXPECT_EQ(Decide(in).reason,
            "identity RO/liaison-officer/u was revoked by HQ: left the "
            "service");
  in.revocation = nullptr;
  in.principal.revoked_by_ca = true;
  const Decision at_ca = Decide(in);
  EXPECT_EQ(at_ca.code, absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(at_ca.reason,
            "certificate serial ABC was revoked by the certificate authority "
            "(CRL)");
}

TEST(PolicyTest, PrincipalOnlyJudgementAllowsActiveOfficers) {
  PolicyInput in;
  in.principal.party = "RO";
  in.principal.role = Role::kLiaisonOfficer;
  in.party = &Parties().at("RO");
  for (Action action : {Action::kSendMessage, Action::kGetMessage,
                        Action::kReply, Action::kListInbox}) {
    in.action = action;
    EXPECT_TRUE(Decide(in).allowed()) << ActionName(action);
  }
}

}  // namespace
}  // namespace liaison

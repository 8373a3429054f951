// Cases over real mutual TLS: participation decides access at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/tls.h"
#include "liaison/v1/admin.grpc.pb.h"
#include "liaison/v1/cases.grpc.pb.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "tests/testing/requests.h"
#include "tests/testing/test_server.h"

namespace liaison {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TestPki;
using testing::TestServer;

class CasesE2eTest : public ::testing::Test {
 protected:
  template <typename Service>
  std::unique_ptr<typename Service::Stub> StubOf(const std::string& party,
                                                 const std::string& role,
                                                 const std::string& user) {
    return Service::NewStub(
        server_.ChannelFor(TestPki::Shared().Issue(party, role, user)));
  }
  std::unique_ptr<v1::Cases::Stub> Cases(
      const std::string& party, const std::string& role = "liaison-officer") {
    return StubOf<v1::Cases>(party, role, "officer");
  }
  std::unique_ptr<v1::Exchange::Stub> Exchange(const std::string& party) {
    return StubOf<v1::Exchange>(party, "liaison-officer", "officer");
  }

  std::string SendFromRo(
      std::vector<std::string> to, const std::string& key,
      bool personal = false,
      v1::Classification classification = v1::CLASSIFICATION_RESTRICTED) {
    v1::SendMessageRequest r = testing::NewSendRequest(
        to, key, v1::MESSAGE_KIND_SPONTANEOUS, "Route of the smuggling network",
        "Transit via port Z every Tuesday.");
    r.set_classification(classification);
    r.set_contains_personal_data(personal);
    grpc::ClientContext context;
    v1::SendMessageResponse response;
    EXPECT_TRUE(Exchange("RO")->SendMessage(&context, r, &response).ok());
    return response.message_id();
  }
  grpc::Status Open(v1::Cases::Stub& stub, const std::string& title,
                    std::vector<std::string> participants, v1::Case* out) {
    grpc::ClientContext context;
    v1::OpenCaseRequest request;
    request.set_title(title);
    for (const auto& p : participants) request.add_participants(p);
    return stub.OpenCase(&context, request, out);
  }
  grpc::Status Participant(v1::Cases::Stub& stub, bool add,
                           const std::string& case_id,
                           const std::string& party) {
    grpc::ClientContext context;
    v1::ParticipantRequest request;
    request.set_case_id(case_id);
    request.set_party(party);
    v1::Case response;
    return add ? stub.AddParticipant(&context, request, &response)
               : stub.RemoveParticipant(&context, request, &response);
  }
  grpc::Status Attach(v1::Cases::Stub& stub, const std::string& case_id,
                      const std::string& message_id) {
    grpc::ClientContext context;
    v1::AttachMessageRequest request;
    request.set_case_id(case_id);
    request.set_message_id(message_id);
    v1::Case response;
    return stub.AttachMessage(&context, request, &response);
  }
  grpc::Status Read(const std::string& party, const std::string& id) {
    grpc::ClientContext context;
    v1::GetMessageRequest request;
    request.set_message_id(id);
    v1::Message message;
    return Exchange(party)->GetMessage(&context, request, &message);
  }
  grpc::Status Details(v1::Cases::Stub& stub, const std::string& case_id,
                       v1::CaseDetails* details) {
    grpc::ClientContext context;
    v1::CaseRequest request;
    request.set_case_id(case_id);
    return stub.GetCase(&context, request, details);
  }
  int AuditCount(const std::string& action) {
    int n = 0;
    const std::vector<AuditEntry> all =
        *server_.OpenStore()->ReadAudit(1, 100000);
    for (const AuditEntry& e : all) n += e.action == action;
    return n;
  }

  TestServer server_;
};

TEST_F(CasesE2eTest, ParticipantsReadTheThreadAndLoseItWhenRemoved) {
  auto ro = Cases("RO");
  auto bg = Cases("BG");
  v1::Case opened;
  ASSERT_TRUE(Open(*ro, "Operation Danube", {"HU", "BG"}, &opened).ok());
  EXPECT_EQ(opened.owner_party(), "RO");
  EXPECT_THAT(opened.participants(), ElementsAre("HU", "BG"));
  EXPECT_EQ(opened.state(), v1::CASE_STATE_OPEN);

  // Sent to HU only; BG reads it once attached to the case.
  const std::string id = SendFromRo({"HU"}, "danube-1");
  EXPECT_EQ(Read("BG", id).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Attach(*ro, opened.id(), id).ok());
  EXPECT_TRUE(Read("BG", id).ok());
  EXPECT_EQ(Read("TR", id).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::CaseDetails details;
  ASSERT_TRUE(Details(*bg, opened.id(), &details).ok());
  ASSERT_EQ(details.thread_size(), 1);
  EXPECT_EQ(details.thread(0).id(), id);
  EXPECT_EQ(details.thread(0).subject(), "Route of the smuggling network");

  // Removal takes effect at once.
  ASSERT_TRUE(Participant(*ro, false, opened.id(), "BG").ok());
  EXPECT_EQ(Read("BG", id).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Details(*bg, opened.id(), &details).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(Read("HU", id).ok());  // a recipient in its own right

  // Listing HU's requests of this case: only the one attached to it.
  v1::SendMessageRequest r;
  r.add_recipients("HU");
  r.set_kind(v1::MESSAGE_KIND_REQUEST);
  r.set_subject("Who owns the boat?");
  r.set_body("Registration?");
  r.set_priority(v1::PRIORITY_ROUTINE);
  r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
  r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
  std::vector<std::string> requests;
  for (const char* key : {"danube-req", "other-req"}) {
    r.set_idempotency_key(key);
    grpc::ClientContext send_context;
    v1::SendMessageResponse request;
    ASSERT_TRUE(Exchange("RO")->SendMessage(&send_context, r, &request).ok());
    requests.push_back(request.message_id());
  }
  ASSERT_TRUE(Attach(*ro, opened.id(), requests[0]).ok());
  grpc::ClientContext requests_context;
  v1::ListRequestsRequest by_case;
  by_case.set_case_id(opened.id());
  v1::ListRequestsResponse in_case;
  ASSERT_TRUE(
      Exchange("HU")->ListRequests(&requests_context, by_case, &in_case).ok());
  ASSERT_EQ(in_case.messages_size(), 1);
  EXPECT_EQ(in_case.messages(0).id(), requests[0]);

  grpc::ClientContext list_context;
  v1::ListCasesResponse hu_cases;
  ASSERT_TRUE(Cases("HU")
                  ->ListCases(&list_context, v1::ListCasesRequest(), &hu_cases)
                  .ok());
  ASSERT_EQ(hu_cases.cases_size(), 1);
  EXPECT_EQ(AuditCount("Cases.OpenCase"), 1);
  EXPECT_EQ(AuditCount("Cases.AttachMessage"), 2);
  EXPECT_EQ(AuditCount("Cases.RemoveParticipant"), 1);
}

TEST_F(CasesE2eTest, ObserversTakeNoPart) {
  auto ro = Cases("RO");
  v1::Case opened;
  const grpc::Status with_observer =
      Open(*ro, "Operation Delta", {"HU", "XOB"}, &opened);
  EXPECT_EQ(with_observer.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(with_observer.error_message(),
              HasSubstr("XOB is an observer and takes no part in cases"));
  const grpc::Status by_observer = Open(*Cases("XOB"), "Mine", {}, &opened);
  EXPECT_EQ(by_observer.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(Open(*ro, "Operation Delta", {"HU"}, &opened).ok());
  EXPECT_EQ(Participant(*ro, true, opened.id(), "XOB").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A participant later made an observer can no longer read through it,
  // even a message an observer could otherwise receive.
  const std::string id =
      SendFromRo({"BG"}, "delta-1", false, v1::CLASSIFICATION_UNCLASSIFIED);
  ASSERT_TRUE(Participant(*ro, true, opened.id(), "XOP").ok());
  ASSERT_TRUE(Attach(*ro, opened.id(), id).ok());
  EXPECT_TRUE(Read("XOP", id).ok());
  auto admin = StubOf<v1::Admin>("HQ", "admin", "sec");
  grpc::ClientContext context;
  v1::SetPartyTierRequest downgrade;
  downgrade.set_code("XOP");
  downgrade.set_tier(v1::PARTY_TIER_OBSERVER);
  downgrade.set_reason("strategic only");
  v1::Party party;
  ASSERT_TRUE(admin->SetPartyTier(&context, downgrade, &party).ok());
  const grpc::Status read = Read("XOP", id);
  EXPECT_EQ(read.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(read.error_message(),
              HasSubstr("XOP is an observer and takes no part in cases"));
  v1::CaseDetails details;
  EXPECT_EQ(Details(*Cases("XOP"), opened.id(), &details).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Re-adding a removed participant restores access.
  auto bg = Cases("BG");
  const std::string other = SendFromRo({"HU"}, "delta-2");
  ASSERT_TRUE(Participant(*ro, true, opened.id(), "BG").ok());
  ASSERT_TRUE(Attach(*ro, opened.id(), other).ok());
  ASSERT_TRUE(Participant(*ro, false, opened.id(), "BG").ok());
  EXPECT_EQ(Read("BG", other).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Participant(*ro, true, opened.id(), "BG").ok());
  EXPECT_TRUE(Read("BG", other).ok());
  EXPECT_TRUE(Details(*bg, opened.id(), &details).ok());
}

TEST_F(CasesE2eTest, OwnersDecide) {
  auto ro = Cases("RO");
  auto hu = Cases("HU");
  v1::Case opened;
  ASSERT_TRUE(Open(*ro, "Operation Iris", {"HU"}, &opened).ok());
  const grpc::Status not_owner = Participant(*hu, true, opened.id(), "BG");
  EXPECT_EQ(not_owner.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(not_owner.error_message(),
              HasSubstr("only RO, the owner of case"));

  // HU holds RO's message but may not share it: RO owns it.
  const std::string id = SendFromRo({"HU"}, "iris-1");
  const grpc::Status share = Attach(*hu, opened.id(), id);
  EXPECT_EQ(share.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(share.error_message(),
              HasSubstr("only RO, the owner of message"));

  // Every member must be able to hold it: XLP's agreement has lapsed.
  const std::string personal = SendFromRo({"HU"}, "iris-2", true);
  ASSERT_TRUE(Participant(*ro, true, opened.id(), "XLP").ok());
  const grpc::Status lapsed = Attach(*ro, opened.id(), personal);
  EXPECT_EQ(lapsed.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(lapsed.error_message(),
              HasSubstr("case member XLP's cooperation agreement is not in "
                        "force"));
  EXPECT_EQ(Attach(*ro, opened.id(), id).error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(Attach(*ro, opened.id(), id).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  grpc::ClientContext close_context;
  v1::CaseRequest close;
  close.set_case_id(opened.id());
  v1::Case closed;
  ASSERT_TRUE(ro->CloseCase(&close_context, close, &closed).ok());
  EXPECT_EQ(closed.state(), v1::CASE_STATE_CLOSED);
  const std::string later = SendFromRo({"HU"}, "iris-3");
  EXPECT_EQ(Attach(*ro, opened.id(), later).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Participant(*ro, true, opened.id(), "BG").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(Read("XLP", id).ok());  // members keep reading a closed case

  v1::CaseDetails details;
  EXPECT_EQ(Details(*Cases("HQ", "admin"), opened.id(), &details).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CasesE2eTest, MalformedCaseRequests) {
  auto ro = Cases("RO");
  v1::Case opened;
  ASSERT_TRUE(Open(*ro, "Operation Nord", {"HU"}, &opened).ok());
  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string message;
  };
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const std::vector<Case> cases = {
      {"empty title", [&] { return Open(*ro, "", {}, &opened); }, kInvalid,
       "title is required"},
      {"bad participant", [&] { return Open(*ro, "x", {"hu"}, &opened); },
       kInvalid, "participants[0] 'hu' is not a party code"},
      {"owner as participant", [&] { return Open(*ro, "x", {"RO"}, &opened); },
       kInvalid, "the owner's own party RO"},
      {"duplicate participant",
       [&] {
         return Open(*ro, "x", {"HU", "HU"}, &opened);
       },
       kInvalid, "names HU twice"},
      {"unknown participant", [&] { return Open(*ro, "x", {"ZZ"}, &opened); },
       grpc::StatusCode::NOT_FOUND, "party ZZ is not registered"},
      {"bad case id", [&] { return Participant(*ro, true, "c-1", "BG"); },
       kInvalid, "case_id 'c-1' is not a case id"},
      {"unknown case",
       [&] {
         return Participant(*ro, true, "01M89Q1WQSCHQJ90CTMDR6HJ7B", "BG");
       },
       grpc::StatusCode::NOT_FOUND, "case 01M89Q1WQSCHQJ90CTMDR6HJ7B"},
      {"bad message id", [&] { return Attach(*ro, opened.id(), "m"); },
       kInvalid, "message_id 'm' is not a message id"},
      {"remove a non-participant",
       [&] { return Participant(*ro, false, opened.id(), "BG"); },
       grpc::StatusCode::FAILED_PRECONDITION, "BG does not take part"},
      {"add twice", [&] { return Participant(*ro, true, opened.id(), "HU"); },
       grpc::StatusCode::FAILED_PRECONDITION, "HU already takes part"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t audit = *server_.OpenStore()->AuditSize();
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(*server_.OpenStore()->AuditSize(), audit + 1);
  }
}

}  // namespace
}  // namespace liaison

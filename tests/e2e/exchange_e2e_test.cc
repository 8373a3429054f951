// End to end over real mutual TLS: liaisond in-process on port 0, clients
// presenting certificates made by the certs/ scripts.
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/file_util.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "tests/testing/requests.h"
#include "tests/testing/test_server.h"

namespace liaison {
namespace {

using testing::CertPaths;
using ::testing::HasSubstr;
using testing::TestPki;
using testing::TestServer;

v1::SendMessageRequest Request(std::vector<std::string> to,
                               const std::string& key) {
  v1::SendMessageRequest r = testing::NewSendRequest(
      to, key, v1::MESSAGE_KIND_REQUEST, "Suspected trafficking route",
      "Two minors seen with adult X at border crossing Y.");
  r.mutable_handling()->set_code(v1::HANDLING_CODE_H2);
  return r;
}

grpc::Status WhoAmI(v1::Exchange::Stub& stub,
                    v1::WhoAmIResponse* response = nullptr) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  v1::WhoAmIResponse ignored;
  return stub.WhoAmI(&context, v1::WhoAmIRequest(),
                     response != nullptr ? response : &ignored);
}

class ExchangeE2eTest : public ::testing::Test {
 protected:
  ExchangeE2eTest()
      : ro_(server_.Stub("RO", "liaison-officer", "ion")),
        hu_(server_.Stub("HU", "liaison-officer", "anna")),
        bg_(server_.Stub("BG", "focal-point", "nfp")),
        observer_(server_.Stub("XOB", "liaison-officer", "obs")) {}

  static grpc::Status Send(v1::Exchange::Stub& stub,
                           const v1::SendMessageRequest& request,
                           v1::SendMessageResponse* response) {
    grpc::ClientContext context;
    return stub.SendMessage(&context, request, response);
  }
  static grpc::Status Get(v1::Exchange::Stub& stub, const std::string& id,
                          v1::Message* message) {
    grpc::ClientContext context;
    v1::GetMessageRequest request;
    request.set_message_id(id);
    return stub.GetMessage(&context, request, message);
  }
  static grpc::Status Inbox(v1::Exchange::Stub& stub, int page_size,
                            const std::string& token,
                            v1::ListInboxResponse* response) {
    grpc::ClientContext context;
    v1::ListInboxRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    return stub.ListInbox(&context, request, response);
  }
  static grpc::Status Outbox(v1::Exchange::Stub& stub, int page_size,
                             const std::string& token,
                             v1::ListOutboxResponse* response) {
    grpc::ClientContext context;
    v1::ListOutboxRequest request;
    request.set_page_size(page_size);
    request.set_page_token(token);
    return stub.ListOutbox(&context, request, response);
  }
  static grpc::Status Reply(v1::Exchange::Stub& stub, const std::string& id,
                            const std::string& key, const std::string& body,
                            v1::ReplyResponse* response) {
    grpc::ClientContext context;
    v1::ReplyRequest request;
    request.set_request_id(id);
    request.set_idempotency_key(key);
    request.set_body(body);
    request.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
    request.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
    return stub.Reply(&context, request, response);
  }

  // Audit entries of the server, read through a second connection.
  std::vector<AuditEntry> Audit() {
    std::unique_ptr<Store> store = server_.OpenStore();
    absl::StatusOr<std::vector<AuditEntry>> entries =
        store->ReadAudit(1, 100000);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<AuditEntry>{};
  }

  TestServer server_;
  std::unique_ptr<v1::Exchange::Stub> ro_;
  std::unique_ptr<v1::Exchange::Stub> hu_;
  std::unique_ptr<v1::Exchange::Stub> bg_;
  std::unique_ptr<v1::Exchange::Stub> observer_;
};

TEST_F(ExchangeE2eTest, WhoAmIReportsTheCertificateIdentityAndPartyStatus) {
  v1::WhoAmIResponse who;
  ASSERT_TRUE(WhoAmI(*ro_, &who).ok());
  EXPECT_EQ(who.spiffe_id(),
            "spiffe://selec.test/party/RO/liaison-officer/ion");
  EXPECT_EQ(who.party(), "RO");
  EXPECT_EQ(who.party_name(), "Romania");
  EXPECT_EQ(who.role(), v1::ROLE_LIAISON_OFFICER);
  EXPECT_EQ(who.user_id(), "ion");
  EXPECT_EQ(who.tier(), v1::PARTY_TIER_MEMBER_STATE);
  EXPECT_EQ(who.state(), v1::PARTY_STATE_ACTIVE);
  EXPECT_EQ(who.classification_ceiling(), v1::CLASSIFICATION_SECRET);

  ASSERT_TRUE(WhoAmI(*observer_, &who).ok());
  EXPECT_EQ(who.tier(), v1::PARTY_TIER_OBSERVER);
  EXPECT_EQ(who.classification_ceiling(), v1::CLASSIFICATION_UNCLASSIFIED);
}

TEST_F(ExchangeE2eTest, RefusalMatrix) {
  TestPki& pki = TestPki::Shared();
  std::unique_ptr<TestPki> foreign = TestPki::Create("selec.test");
  // Valid for no time at all: expired once the clock has ticked a second.
  const CertPaths expired =
      pki.Issue("RO", "liaison-officer", "old", {"--days", "0"}, "expired");
  absl::SleepFor(absl::Milliseconds(1100));
  struct Case {
    std::string name;
    CertPaths cert;
    std::string ca;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"valid officer", pki.Issue("RO", "liaison-officer", "ion"), pki.ca(),
       grpc::StatusCode::OK, ""},
      {"certificate from another CA",
       foreign->Issue("RO", "liaison-officer", "ion"), pki.ca(),
       grpc::StatusCode::UNAVAILABLE, ""},
      {"expired certificate", expired, pki.ca(), grpc::StatusCode::UNAVAILABLE,
       ""},
      {"no URI SAN",
       pki.Issue("RO", "liaison-officer", "nosan", {"--san-uri="}, "nosan"),
       pki.ca(), grpc::StatusCode::UNAUTHENTICATED, "no URI SAN"},
      {"two URI SANs",
       pki.Issue(
           "RO", "liaison-officer", "two",
           {"--san-uri", "spiffe://selec.test/party/RO/liaison-officer/a",
            "--san-uri", "spiffe://selec.test/party/HU/liaison-officer/b"},
           "two-sans"),
       pki.ca(), grpc::StatusCode::UNAUTHENTICATED, "2 URI SANs"},
      {"other trust domain",
       pki.Issue("RO", "liaison-officer", "td", {"--trust-domain", "evil.test"},
                 "other-domain"),
       pki.ca(), grpc::StatusCode::UNAUTHENTICATED, "trust domain 'evil.test'"},
      {"unknown role",
       pki.Issue("RO", "liaison-officer", "chief",
                 {"--san-uri", "spiffe://selec.test/party/RO/chief/boss"},
                 "unknown-role"),
       pki.ca(), grpc::StatusCode::UNAUTHENTICATED, "unknown role 'chief'"},
      {"not a spiffe URI",
       pki.Issue("RO", "liaison-officer", "web",
                 {"--san-uri", "https://selec.test/RO"}, "https-uri"),
       pki.ca(), grpc::StatusCode::UNAUTHENTICATED, "not a spiffe://"},
      {"unknown party", pki.Issue("ZZ", "liaison-officer", "x"), pki.ca(),
       grpc::StatusCode::PERMISSION_DENIED, "ZZ is not registered"},
      {"admin outside HQ", pki.Issue("RO", "admin", "root"), pki.ca(),
       grpc::StatusCode::PERMISSION_DENIED, "only in party HQ"},
      {"auditor outside HQ", pki.Issue("HU", "auditor", "dpo"), pki.ca(),
       grpc::StatusCode::PERMISSION_DENIED, "only in party HQ"},
      {"HQ admin", pki.Issue("HQ", "admin", "sec"), pki.ca(),
       grpc::StatusCode::OK, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<v1::Exchange::Stub> stub = server_.StubWith(c.cert, c.ca);
    const grpc::Status status = WhoAmI(*stub);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }

  // A client without any certificate fails the handshake.
  grpc::SslCredentialsOptions no_cert;
  no_cert.pem_root_certs = *ReadFile(pki.ca());
  auto anonymous = v1::Exchange::NewStub(
      grpc::CreateChannel(server_.target(), grpc::SslCredentials(no_cert)));
  EXPECT_EQ(WhoAmI(*anonymous).error_code(), grpc::StatusCode::UNAVAILABLE);

  // Every refusal that reached the server is in the audit log.
  int unauthenticated = 0;
  int denied = 0;
  for (const AuditEntry& e : Audit()) {
    if (e.code == absl::StatusCode::kUnauthenticated) ++unauthenticated;
    if (e.code == absl::StatusCode::kPermissionDenied) ++denied;
  }
  EXPECT_EQ(unauthenticated, 5);
  EXPECT_EQ(denied, 3);
}

TEST_F(ExchangeE2eTest, AdminAndAuditorNeverReadMessages) {
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, Request({"HQ"}, "to-hq"), &sent).ok());
  for (const char* role : {"admin", "auditor"}) {
    SCOPED_TRACE(role);
    auto stub = server_.Stub("HQ", role, "staff");
    v1::ListInboxResponse inbox;
    grpc::Status status = Inbox(*stub, 0, "", &inbox);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(status.error_message(),
                HasSubstr("may not send or read message contents"));
    v1::Message message;
    EXPECT_EQ(Get(*stub, sent.message_id(), &message).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::SendMessageResponse response;
    EXPECT_EQ(Send(*stub, Request({"RO"}, "k"), &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // An HQ officer does read HQ's inbox.
  auto officer = server_.Stub("HQ", "liaison-officer", "duty");
  v1::ListInboxResponse inbox;
  ASSERT_TRUE(Inbox(*officer, 0, "", &inbox).ok());
  EXPECT_EQ(inbox.messages_size(), 1);
}

TEST_F(ExchangeE2eTest, SendInboxShowReplyAcrossTwoParties) {
  v1::SendMessageRequest request = Request({"HU"}, "req-1");
  request.set_contains_personal_data(true);
  request.set_classification(v1::CLASSIFICATION_CONFIDENTIAL);
  request.set_priority(v1::PRIORITY_URGENT);
  request.set_urgency_justification("Children at risk tonight");
  request.mutable_evaluation()->set_source_reliability(
      v1::SOURCE_RELIABILITY_B);
  request.mutable_evaluation()->set_information(v1::INFORMATION_ASSESSMENT_2);
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, request, &sent).ok());
  EXPECT_FALSE(sent.replayed());
  EXPECT_EQ(sent.message_id().size(), 26u);

  v1::ListInboxResponse inbox;
  ASSERT_TRUE(Inbox(*hu_, 0, "", &inbox).ok());
  ASSERT_EQ(inbox.messages_size(), 1);
  const v1::MessageSummary& summary = inbox.messages(0);
  EXPECT_EQ(summary.id(), sent.message_id());
  EXPECT_EQ(summary.sender().party(), "RO");
  EXPECT_EQ(summary.subject(), "Suspected trafficking route");
  EXPECT_EQ(summary.recipients(0).request_state(), v1::REQUEST_STATE_OPEN);
  EXPECT_TRUE(summary.withheld_reason().empty());

  v1::Message message;
  ASSERT_TRUE(Get(*hu_, sent.message_id(), &message).ok());
  EXPECT_EQ(message.body(), request.body());
  EXPECT_EQ(message.sender().user_id(), "ion");
  EXPECT_EQ(message.sender().role(), v1::ROLE_LIAISON_OFFICER);
  EXPECT_EQ(message.classification(), v1::CLASSIFICATION_CONFIDENTIAL);
  EXPECT_TRUE(message.contains_personal_data());
  EXPECT_EQ(message.handling().code(), v1::HANDLING_CODE_H2);
  EXPECT_EQ(message.evaluation().source_reliability(),
            v1::SOURCE_RELIABILITY_B);
  EXPECT_EQ(message.urgency_justification(), "Children at risk tonight");

  v1::ReplyResponse reply;
  ASSERT_TRUE(Reply(*hu_, sent.message_id(), "rep-1",
                    "Identified; details follow.", &reply)
                  .ok());
  v1::ListInboxResponse ro_inbox;
  ASSERT_TRUE(Inbox(*ro_, 0, "", &ro_inbox).ok());
  ASSERT_EQ(ro_inbox.messages_size(), 1);
  EXPECT_EQ(ro_inbox.messages(0).id(), reply.message_id());
  EXPECT_EQ(ro_inbox.messages(0).kind(), v1::MESSAGE_KIND_REPLY);
  EXPECT_EQ(ro_inbox.messages(0).in_reply_to(), sent.message_id());

  ASSERT_TRUE(Get(*ro_, sent.message_id(), &message).ok());
  EXPECT_EQ(message.recipients(0).request_state(), v1::REQUEST_STATE_ANSWERED);
  EXPECT_EQ(message.recipients(0).reply_id(), reply.message_id());

  // Answering twice is a wrong state.
  grpc::Status again = Reply(*hu_, sent.message_id(), "rep-2", "More.", &reply);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(again.error_message(), HasSubstr("already answered by HU"));

  // Every call above is in the audit log, with outcome.
  std::vector<std::string> actions;
  for (const AuditEntry& e : Audit()) actions.push_back(e.action);
  EXPECT_THAT(actions, ::testing::ElementsAre(
                           "Server.SeedRoster", "Exchange.SendMessage",
                           "Exchange.ListInbox", "Exchange.GetMessage",
                           "Exchange.Reply", "Exchange.ListInbox",
                           "Exchange.GetMessage", "Exchange.Reply"));
}

TEST_F(ExchangeE2eTest, ThirdPartyCannotReadOrReply) {
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, Request({"HU"}, "k"), &sent).ok());
  v1::Message message;
  const grpc::Status read = Get(*bg_, sent.message_id(), &message);
  EXPECT_EQ(read.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(read.error_message(),
            absl::StrCat("message ", sent.message_id(), " not found"));
  v1::ReplyResponse reply;
  const grpc::Status replied =
      Reply(*bg_, sent.message_id(), "k", "Not mine to answer", &reply);
  EXPECT_EQ(replied.error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ListInboxResponse inbox;
  ASSERT_TRUE(Inbox(*bg_, 0, "", &inbox).ok());
  EXPECT_EQ(inbox.messages_size(), 0);
  // Nothing was answered.
  ASSERT_TRUE(Get(*ro_, sent.message_id(), &message).ok());
  EXPECT_EQ(message.recipients(0).request_state(), v1::REQUEST_STATE_OPEN);
}

TEST_F(ExchangeE2eTest, ObserverGetsOnlyUnclassifiedNonPersonal) {
  struct Case {
    const char* name;
    bool personal;
    v1::Classification classification;
    grpc::StatusCode code;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"personal", true, v1::CLASSIFICATION_UNCLASSIFIED,
            grpc::StatusCode::PERMISSION_DENIED,
            "XOB is an observer and may not receive personal data"},
           {"restricted", false, v1::CLASSIFICATION_RESTRICTED,
            grpc::StatusCode::PERMISSION_DENIED,
            "may not receive RESTRICTED information (UNCLASSIFIED only)"},
           {"secret", false, v1::CLASSIFICATION_SECRET,
            grpc::StatusCode::PERMISSION_DENIED, "UNCLASSIFIED only"},
           {"strategic", false, v1::CLASSIFICATION_UNCLASSIFIED,
            grpc::StatusCode::OK, ""},
       }) {
    SCOPED_TRACE(c.name);
    v1::SendMessageRequest request = Request({"XOB"}, c.name);
    request.set_kind(v1::MESSAGE_KIND_SPONTANEOUS);
    request.set_contains_personal_data(c.personal);
    request.set_classification(c.classification);
    v1::SendMessageResponse sent;
    const grpc::Status status = Send(*ro_, request, &sent);
    EXPECT_EQ(status.error_code(), c.code);
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  v1::ListInboxResponse inbox;
  ASSERT_TRUE(Inbox(*observer_, 0, "", &inbox).ok());
  EXPECT_EQ(inbox.messages_size(), 1);

  // Nor may the observer send personal data.
  v1::SendMessageRequest from_observer = Request({"RO"}, "obs");
  from_observer.set_contains_personal_data(true);
  v1::SendMessageResponse sent;
  const grpc::Status status = Send(*observer_, from_observer, &sent);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("XOB is an observer and may not send personal data"));
}

TEST_F(ExchangeE2eTest, SendIsAllOrNothing) {
  v1::SendMessageRequest request = Request({"HU", "BG", "XLP"}, "all");
  request.set_contains_personal_data(true);
  v1::SendMessageResponse sent;
  const grpc::Status status = Send(*ro_, request, &sent);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(), HasSubstr("nothing was sent"));
  EXPECT_THAT(status.error_message(),
              HasSubstr("XLP's cooperation agreement is not in force"));
  for (auto* stub : {hu_.get(), bg_.get()}) {
    v1::ListInboxResponse inbox;
    ASSERT_TRUE(Inbox(*stub, 0, "", &inbox).ok());
    EXPECT_EQ(inbox.messages_size(), 0);
  }
  v1::ListOutboxResponse outbox;
  ASSERT_TRUE(Outbox(*ro_, 0, "", &outbox).ok());
  EXPECT_EQ(outbox.messages_size(), 0);
}

TEST_F(ExchangeE2eTest, IdempotentRetryStoresOnce) {
  v1::SendMessageResponse first;
  v1::SendMessageResponse second;
  ASSERT_TRUE(Send(*ro_, Request({"HU"}, "retry-me"), &first).ok());
  ASSERT_TRUE(Send(*ro_, Request({"HU"}, "retry-me"), &second).ok());
  EXPECT_TRUE(second.replayed());
  EXPECT_EQ(second.message_id(), first.message_id());
  EXPECT_EQ(second.created_at().seconds(), first.created_at().seconds());

  v1::SendMessageRequest changed = Request({"HU"}, "retry-me");
  changed.set_body("Another body");
  v1::SendMessageResponse third;
  const grpc::Status conflict = Send(*ro_, changed, &third);
  EXPECT_EQ(conflict.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(conflict.error_message(), HasSubstr(first.message_id()));

  v1::ListInboxResponse inbox;
  ASSERT_TRUE(Inbox(*hu_, 0, "", &inbox).ok());
  EXPECT_EQ(inbox.messages_size(), 1);
}

TEST_F(ExchangeE2eTest, InboxAndOutboxPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    v1::SendMessageResponse sent;
    ASSERT_TRUE(
        Send(*ro_, Request({"HU"}, absl::StrCat("page-", i)), &sent).ok());
    ids.push_back(sent.message_id());
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListInboxResponse page;
    ASSERT_TRUE(Inbox(*hu_, 3, token, &page).ok());
    EXPECT_LE(page.messages_size(), 3);
    for (const auto& m : page.messages()) seen.push_back(m.id());
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  std::reverse(ids.begin(), ids.end());
  EXPECT_EQ(seen, ids);  // newest first, no gap, no duplicate

  v1::ListOutboxResponse outbox;
  ASSERT_TRUE(Outbox(*ro_, 5, "", &outbox).ok());
  EXPECT_EQ(outbox.messages_size(), 5);
  ASSERT_FALSE(outbox.next_page_token().empty());
  // An outbox token is not an inbox token.
  v1::ListInboxResponse wrong;
  const grpc::Status status = Inbox(*hu_, 3, outbox.next_page_token(), &wrong);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("page_token"));
  // Page sizes above the maximum are capped, not refused.
  ASSERT_TRUE(Outbox(*ro_, 100000, "", &outbox).ok());
  EXPECT_EQ(outbox.messages_size(), 7);
  EXPECT_TRUE(outbox.next_page_token().empty());
}

TEST_F(ExchangeE2eTest, MessagesAndAuditSurviveRestart) {
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, Request({"HU"}, "durable"), &sent).ok());
  const size_t audit_before = Audit().size();
  server_.Restart();
  auto hu = server_.Stub("HU", "liaison-officer", "anna");
  v1::Message message;
  ASSERT_TRUE(Get(*hu, sent.message_id(), &message).ok());
  EXPECT_EQ(message.body(), Request({}, "").body());
  std::vector<AuditEntry> audit = Audit();
  EXPECT_EQ(audit.size(), audit_before + 1);
  EXPECT_EQ(audit[1].action, "Exchange.SendMessage");
  EXPECT_EQ(audit.back().action, "Exchange.GetMessage");
  // The roster was not loaded twice.
  EXPECT_EQ(std::count_if(audit.begin(), audit.end(),
                          [](const AuditEntry& e) {
                            return e.action == "Server.SeedRoster";
                          }),
            1);
}

TEST_F(ExchangeE2eTest, RetriedReplyGetsItsFirstAnswer) {
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, Request({"HU"}, "q"), &sent).ok());
  v1::ReplyResponse first;
  v1::ReplyResponse retry;
  ASSERT_TRUE(Reply(*hu_, sent.message_id(), "answer-1", "Yes.", &first).ok());
  // The acknowledgement was lost; the client retries with the same key.
  ASSERT_TRUE(Reply(*hu_, sent.message_id(), "answer-1", "Yes.", &retry).ok());
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.message_id(), first.message_id());
  v1::ListInboxResponse inbox;
  ASSERT_TRUE(Inbox(*ro_, 0, "", &inbox).ok());
  EXPECT_EQ(inbox.messages_size(), 1);
}

TEST_F(ExchangeE2eTest, RecipientsSeeOnlyTheirOwnProgress) {
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, Request({"HU", "BG"}, "both"), &sent).ok());
  v1::ReplyResponse bg_reply;
  ASSERT_TRUE(
      Reply(*bg_, sent.message_id(), "bg", "BG answers", &bg_reply).ok());

  // HU sees that BG is a recipient, not what BG answered or when.
  v1::Message as_hu;
  ASSERT_TRUE(Get(*hu_, sent.message_id(), &as_hu).ok());
  ASSERT_EQ(as_hu.recipients_size(), 2);
  EXPECT_EQ(as_hu.recipients(0).party(), "HU");
  EXPECT_EQ(as_hu.recipients(0).request_state(), v1::REQUEST_STATE_OPEN);
  EXPECT_EQ(as_hu.recipients(1).party(), "BG");
  EXPECT_EQ(as_hu.recipients(1).request_state(), v1::REQUEST_STATE_UNSPECIFIED);
  EXPECT_EQ(as_hu.recipients(1).reply_id(), "");
  EXPECT_FALSE(as_hu.recipients(1).has_answered_at());
  v1::ListInboxResponse hu_inbox;
  ASSERT_TRUE(Inbox(*hu_, 0, "", &hu_inbox).ok());
  EXPECT_EQ(hu_inbox.messages(0).recipients(1).reply_id(), "");
  // And that reply is hidden from HU like any message it is not part of.
  v1::Message hidden;
  EXPECT_EQ(Get(*hu_, bg_reply.message_id(), &hidden).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The sender sees everything.
  v1::Message as_ro;
  ASSERT_TRUE(Get(*ro_, sent.message_id(), &as_ro).ok());
  EXPECT_EQ(as_ro.recipients(1).request_state(), v1::REQUEST_STATE_ANSWERED);
  EXPECT_EQ(as_ro.recipients(1).reply_id(), bg_reply.message_id());
}

TEST_F(ExchangeE2eTest, FollowUpsStayWithinTheirExchange) {
  v1::SendMessageResponse first;
  ASSERT_TRUE(Send(*ro_, Request({"HU"}, "first"), &first).ok());
  v1::SendMessageRequest follow_up = Request({"HU"}, "follow-up");
  follow_up.set_kind(v1::MESSAGE_KIND_FEEDBACK);
  follow_up.set_in_reply_to(first.message_id());
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, follow_up, &sent).ok());

  // BG never saw the first message: pointing it there is refused.
  follow_up.set_idempotency_key("to-bg");
  follow_up.clear_recipients();
  follow_up.add_recipients("BG");
  const grpc::Status status = Send(*ro_, follow_up, &sent);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("recipient BG"));
  // Nor may HU follow up on a message it cannot see.
  v1::SendMessageResponse ro_to_bg;
  ASSERT_TRUE(Send(*ro_, Request({"BG"}, "ro-bg"), &ro_to_bg).ok());
  v1::SendMessageRequest sneaky = Request({"RO"}, "sneaky");
  sneaky.set_in_reply_to(ro_to_bg.message_id());
  EXPECT_EQ(Send(*hu_, sneaky, &sent).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ExchangeE2eTest, RequestLifecycleOverTheWire) {
  v1::SendMessageResponse sent;
  v1::SendMessageRequest urgent = Request({"HU", "BG"}, "life");
  urgent.set_priority(v1::PRIORITY_URGENT);
  urgent.set_urgency_justification("suspect leaves tonight");
  ASSERT_TRUE(Send(*ro_, urgent, &sent).ok());
  const std::string id = sent.message_id();

  grpc::ClientContext ack_context;
  v1::AcknowledgeRequestRequest ack;
  ack.set_request_id(id);
  v1::Message acked;
  ASSERT_TRUE(hu_->AcknowledgeRequest(&ack_context, ack, &acked).ok());
  EXPECT_EQ(acked.recipients(0).request_state(),
            v1::REQUEST_STATE_ACKNOWLEDGED);
  EXPECT_TRUE(acked.recipients(0).has_acknowledged_at());
  // Due 8 hours after receipt.
  EXPECT_EQ(
      acked.recipients(0).due_at().seconds() - sent.created_at().seconds(),
      8 * 3600);
  EXPECT_FALSE(acked.recipients(0).overdue());

  grpc::ClientContext refuse_context;
  v1::RefuseRequestRequest refuse;
  refuse.set_request_id(id);
  refuse.set_reason(v1::REFUSAL_REASON_ONGOING_INVESTIGATION);
  refuse.set_text("Joint operation under way");
  v1::Message refused;
  ASSERT_TRUE(bg_->RefuseRequest(&refuse_context, refuse, &refused).ok());

  // The sender sees both, per recipient, and receipts.
  v1::Message as_ro;
  ASSERT_TRUE(Get(*ro_, id, &as_ro).ok());
  EXPECT_EQ(as_ro.recipients(0).request_state(),
            v1::REQUEST_STATE_ACKNOWLEDGED);
  EXPECT_EQ(as_ro.recipients(1).request_state(), v1::REQUEST_STATE_REFUSED);
  EXPECT_EQ(as_ro.recipients(1).refusal_reason(),
            v1::REFUSAL_REASON_ONGOING_INVESTIGATION);
  EXPECT_EQ(as_ro.recipients(1).refusal_text(), "Joint operation under way");

  grpc::ClientContext list_context;
  v1::ListRequestsRequest list;
  list.set_sent(true);
  list.set_state(v1::REQUEST_STATE_REFUSED);
  v1::ListRequestsResponse listed;
  ASSERT_TRUE(ro_->ListRequests(&list_context, list, &listed).ok());
  ASSERT_EQ(listed.messages_size(), 1);
  EXPECT_EQ(listed.messages(0).id(), id);

  // The owner raises the handling code; the holders see it.
  grpc::ClientContext handling_context;
  v1::SetHandlingRequest handling;
  handling.set_message_id(id);
  handling.mutable_handling()->set_code(v1::HANDLING_CODE_H1);
  v1::Message changed;
  ASSERT_TRUE(ro_->SetHandling(&handling_context, handling, &changed).ok());
  v1::Message as_hu;
  ASSERT_TRUE(Get(*hu_, id, &as_hu).ok());
  EXPECT_EQ(as_hu.handling().code(), v1::HANDLING_CODE_H1);
  grpc::ClientContext denied_context;
  EXPECT_EQ(hu_->SetHandling(&denied_context, handling, &changed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A third party cannot touch it; admins never.
  grpc::ClientContext third_context;
  v1::Message ignored;
  auto third = server_.Stub("TR", "liaison-officer", "t");
  EXPECT_EQ(
      third->AcknowledgeRequest(&third_context, ack, &ignored).error_code(),
      grpc::StatusCode::NOT_FOUND);
  auto admin = server_.Stub("HQ", "admin", "sec");
  grpc::ClientContext admin_context;
  v1::ListRequestsResponse admin_list;
  EXPECT_EQ(
      admin
          ->ListRequests(&admin_context, v1::ListRequestsRequest(), &admin_list)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ExchangeE2eTest, ForwardWithConsentOverTheWire) {
  v1::SendMessageRequest h2 = Request({"HU"}, "h2");
  h2.mutable_handling()->set_code(v1::HANDLING_CODE_H2);
  v1::SendMessageResponse sent;
  ASSERT_TRUE(Send(*ro_, h2, &sent).ok());

  auto forward = [&](const std::string& key, v1::SendMessageResponse* out) {
    grpc::ClientContext context;
    v1::ForwardRequest request;
    request.set_message_id(sent.message_id());
    request.add_recipients("BG");
    request.set_idempotency_key(key);
    return hu_->Forward(&context, request, out);
  };
  v1::SendMessageResponse copy;
  const grpc::Status without = forward("fw-1", &copy);
  EXPECT_EQ(without.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(without.error_message(), HasSubstr("RO, its owner"));

  grpc::ClientContext ask_context;
  v1::RequestConsentRequest ask;
  ask.set_message_id(sent.message_id());
  ask.set_to("BG");
  ask.set_justification("BG runs the border post");
  v1::Consent consent;
  ASSERT_TRUE(hu_->RequestConsent(&ask_context, ask, &consent).ok());
  EXPECT_EQ(consent.state(), v1::CONSENT_STATE_PENDING);
  grpc::ClientContext list_context;
  v1::ListConsentsResponse pending;
  ASSERT_TRUE(
      ro_->ListConsents(&list_context, v1::ListConsentsRequest(), &pending)
          .ok());
  ASSERT_EQ(pending.consents_size(), 1);
  grpc::ClientContext decide_context;
  v1::DecideConsentRequest decide;
  decide.set_consent_id(consent.id());
  decide.set_grant(true);
  ASSERT_TRUE(ro_->DecideConsent(&decide_context, decide, &consent).ok());
  EXPECT_EQ(consent.state(), v1::CONSENT_STATE_GRANTED);

  ASSERT_TRUE(forward("fw-2", &copy).ok());
  v1::Message at_bg;
  ASSERT_TRUE(Get(*bg_, copy.message_id(), &at_bg).ok());
  EXPECT_EQ(at_bg.owner_party(), "RO");
  EXPECT_EQ(at_bg.origin_id(), sent.message_id());
  EXPECT_EQ(at_bg.forwarded_from(), sent.message_id());
  EXPECT_EQ(at_bg.handling().code(), v1::HANDLING_CODE_H2);

  // Admins never forward; malformed requests are refused precisely.
  auto admin = server_.Stub("HQ", "admin", "sec");
  grpc::ClientContext admin_context;
  v1::ListConsentsResponse none;
  EXPECT_EQ(
      admin->ListConsents(&admin_context, v1::ListConsentsRequest(), &none)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext bad_context;
  v1::DecideConsentRequest bad;
  bad.set_consent_id("x");
  const grpc::Status malformed =
      ro_->DecideConsent(&bad_context, bad, &consent);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(malformed.error_message(), HasSubstr("is not a consent id"));
  grpc::ClientContext bad_ask_context;
  ask.set_to("bg");
  EXPECT_EQ(hu_->RequestConsent(&bad_ask_context, ask, &consent).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// The handshake as the openssl CLI sees it, forcing one protocol version.
std::string Handshake(const std::string& target, const std::string& version) {
  const testing::CertPaths cert =
      TestPki::Shared().Issue("RO", "liaison-officer", "ion");
  const std::string command = absl::StrCat(
      "openssl s_client -connect ", target, " -", version, " -cert ", cert.cert,
      " -key ", cert.key, " -CAfile ", TestPki::Shared().ca(),
      // SECLEVEL=0 lets this client offer old versions, so a
      // refusal can only come from the server.
      " -cipher DEFAULT@SECLEVEL=0 -alpn h2 </dev/null 2>&1");
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  pclose(pipe);
  return output;
}

TEST_F(ExchangeE2eTest, RefusesTlsBelow12) {
  const std::string target = absl::StrCat("127.0.0.1:", server_.port());
  const std::string tls11 = Handshake(target, "tls1_1");
  EXPECT_THAT(tls11, HasSubstr("Cipher is (NONE)"));
  // The client offered TLS 1.1 (a ClientHello went out) and the server
  // answered nothing but closing the connection.
  EXPECT_THAT(tls11, HasSubstr("Protocol  : TLSv1.1"));
  EXPECT_THAT(tls11, ::testing::Not(HasSubstr("written 0 bytes")));
  EXPECT_THAT(tls11, HasSubstr("has read 0 bytes"));
  EXPECT_THAT(Handshake(target, "tls1_2"),
              HasSubstr("New, TLSv1.2, Cipher is ECDHE"));
  EXPECT_THAT(Handshake(target, "tls1_3"),
              HasSubstr("New, TLSv1.3, Cipher is TLS_"));
}

TEST_F(ExchangeE2eTest, HealthCheckingIsServed) {
  auto channel = grpc::CreateChannel(
      server_.target(),
      grpc::SslCredentials(
          {*ReadFile(TestPki::Shared().ca()),
           *ReadFile(
               TestPki::Shared().Issue("RO", "liaison-officer", "ion").key),
           *ReadFile(
               TestPki::Shared().Issue("RO", "liaison-officer", "ion").cert)}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  grpc::ByteBuffer response;
  // grpc.health.v1.Health/Check with an empty HealthCheckRequest.
  grpc::GenericStub generic(channel);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::Status status;
  std::mutex mu;
  std::condition_variable done_cv;
  bool done = false;
  generic.UnaryCall(&context, "/grpc.health.v1.Health/Check", {}, &request,
                    &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      done_cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  done_cv.wait(lock, [&] { return done; });
  ASSERT_TRUE(status.ok()) << status.error_message();
  // HealthCheckResponse{status: SERVING (1)} is the two bytes 08 01.
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace liaison

// Malformed input for every RPC, over real mTLS: each case gets a precise
// status and message, and nothing is written but the audit entry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "tests/testing/raw_call.h"
#include "tests/testing/requests.h"
#include "tests/testing/test_server.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;

v1::SendMessageRequest ValidSend() {
  return testing::NewSendRequest({"HU"}, "malformed-test",
                                 v1::MESSAGE_KIND_REQUEST, "Subject", "Body");
}

v1::ReplyRequest ValidReply(const std::string& request_id) {
  v1::ReplyRequest r;
  r.set_request_id(request_id);
  r.set_idempotency_key("malformed-reply");
  r.set_body("Answer");
  r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
  r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
  return r;
}

struct Case {
  std::string name;
  std::function<void(v1::SendMessageRequest&)> mutate;
  grpc::StatusCode code;
  std::string message;
};

class MalformedInputTest : public ::testing::Test {
 protected:
  MalformedInputTest()
      : ro_(server_.Stub("RO", "liaison-officer", "ion")),
        hu_(server_.Stub("HU", "liaison-officer", "anna")) {}

  // Nothing stored: no message in any listing, exactly one new audit entry
  // per call.
  void ExpectNothingStored() {
    std::unique_ptr<Store> store = server_.OpenStore();
    for (const char* party : {"RO", "HU", "BG", "XOB"}) {
      EXPECT_TRUE(store->ListOutbox(party, 10, std::nullopt)->empty());
      EXPECT_TRUE(store->ListInbox(party, 10, std::nullopt)->empty());
    }
  }
  int64_t AuditSize() { return *server_.OpenStore()->AuditSize(); }

  TestServer server_;
  std::unique_ptr<v1::Exchange::Stub> ro_;
  std::unique_ptr<v1::Exchange::Stub> hu_;
};

TEST_F(MalformedInputTest, SendMessage) {
  using R = v1::SendMessageRequest;
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  const std::vector<Case> cases = {
      {"no recipients", [](R& r) { r.clear_recipients(); }, kInvalid,
       "recipients: at least one is required"},
      {"unknown recipient", [](R& r) { r.set_recipients(0, "ZZ"); },
       grpc::StatusCode::NOT_FOUND, "recipient party ZZ is not registered"},
      {"empty recipient", [](R& r) { r.set_recipients(0, ""); }, kInvalid,
       "recipients[0] '' is not a party code"},
      {"lower-case recipient", [](R& r) { r.set_recipients(0, "hu"); },
       kInvalid, "recipients[0] 'hu' is not a party code"},
      {"sender among recipients", [](R& r) { r.add_recipients("RO"); },
       kInvalid, "may not include the sender's own party RO"},
      {"duplicate recipient", [](R& r) { r.add_recipients("HU"); }, kInvalid,
       "names HU twice"},
      {"too many recipients",
       [](R& r) {
         for (int i = 0; i < 40; ++i) r.add_recipients(absl::StrCat("P", i));
       },
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       "the limit is 32 per message (--max-recipients)"},
      {"no idempotency key", [](R& r) { r.clear_idempotency_key(); }, kInvalid,
       "idempotency_key is required"},
      {"long idempotency key",
       [](R& r) { r.set_idempotency_key(std::string(129, 'k')); }, kInvalid,
       "idempotency_key is 129 bytes long; the limit is 128"},
      {"idempotency key with space", [](R& r) { r.set_idempotency_key("a b"); },
       kInvalid, "printable ASCII"},
      {"no kind", [](R& r) { r.clear_kind(); }, kInvalid, "kind is required"},
      {"unknown kind",
       [](R& r) { r.set_kind(static_cast<v1::MessageKind>(99)); }, kInvalid,
       "kind 99 is not a known value (REQUEST, SPONTANEOUS"},
      {"kind REPLY", [](R& r) { r.set_kind(v1::MESSAGE_KIND_REPLY); }, kInvalid,
       "answer a request with Reply"},
      {"empty subject", [](R& r) { r.clear_subject(); }, kInvalid,
       "subject is required"},
      {"blank subject", [](R& r) { r.set_subject("   "); }, kInvalid,
       "subject is blank"},
      {"oversize subject", [](R& r) { r.set_subject(std::string(201, 's')); },
       kInvalid, "subject is 201 characters long; the limit is 200"},
      {"subject with newline", [](R& r) { r.set_subject("a\nb"); }, kInvalid,
       "subject may not contain control characters"},
      {"empty body", [](R& r) { r.clear_body(); }, kInvalid,
       "body is required"},
      {"oversize body",
       [](R& r) { r.set_body(std::string((1 << 20) + 1, 'b')); }, kInvalid,
       "body is 1048577 bytes long; the limit is 1048576 bytes"},
      {"no priority", [](R& r) { r.clear_priority(); }, kInvalid,
       "priority is required"},
      {"urgent without justification",
       [](R& r) { r.set_priority(v1::PRIORITY_URGENT); }, kInvalid,
       "urgency_justification is required"},
      {"justification on routine",
       [](R& r) { r.set_urgency_justification("because"); }, kInvalid,
       "only for URGENT"},
      {"no classification", [](R& r) { r.clear_classification(); }, kInvalid,
       "classification is required"},
      {"unknown classification",
       [](R& r) { r.set_classification(static_cast<v1::Classification>(7)); },
       kInvalid, "classification 7 is not a known value"},
      {"no handling", [](R& r) { r.clear_handling(); }, kInvalid,
       "handling.code is required"},
      {"H3 without restriction",
       [](R& r) { r.mutable_handling()->set_code(v1::HANDLING_CODE_H3); },
       kInvalid, "handling.restriction is required"},
      {"restriction without H3",
       [](R& r) { r.mutable_handling()->set_restriction("x"); }, kInvalid,
       "only for handling code H3"},
      {"half an evaluation",
       [](R& r) {
         r.mutable_evaluation()->set_source_reliability(
             v1::SOURCE_RELIABILITY_A);
       },
       kInvalid, "evaluation.information is required"},
      {"bad evaluation source",
       [](R& r) {
         r.mutable_evaluation()->set_information(v1::INFORMATION_ASSESSMENT_1);
       },
       kInvalid, "evaluation.source_reliability is required"},
      {"unknown evaluation value",
       [](R& r) {
         r.mutable_evaluation()->set_source_reliability(
             static_cast<v1::SourceReliability>(9));
         r.mutable_evaluation()->set_information(v1::INFORMATION_ASSESSMENT_1);
       },
       kInvalid, "evaluation.source_reliability 9 is not a known value"},
      {"unknown priority",
       [](R& r) { r.set_priority(static_cast<v1::Priority>(5)); }, kInvalid,
       "priority 5 is not a known value"},
      {"malformed in_reply_to", [](R& r) { r.set_in_reply_to("42"); }, kInvalid,
       "in_reply_to '42' is not a message id"},
      {"unknown in_reply_to",
       [](R& r) { r.set_in_reply_to("01M89Q1WQSCHQJ90CTMDR6HJ7B"); },
       grpc::StatusCode::NOT_FOUND, "message 01M89Q1WQSCHQJ90CTMDR6HJ7B"},
  };
  int64_t audit = AuditSize();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::SendMessageRequest request = ValidSend();
    c.mutate(request);
    grpc::ClientContext context;
    v1::SendMessageResponse response;
    const grpc::Status status = ro_->SendMessage(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(AuditSize(), ++audit);
  }
  ExpectNothingStored();
  // The valid request itself goes through.
  grpc::ClientContext context;
  v1::SendMessageResponse response;
  EXPECT_TRUE(ro_->SendMessage(&context, ValidSend(), &response).ok());
}

TEST_F(MalformedInputTest, GetMessage) {
  struct IdCase {
    std::string id;
    grpc::StatusCode code;
    std::string message;
  };
  for (const IdCase& c : std::vector<IdCase>{
           {"", grpc::StatusCode::INVALID_ARGUMENT, "message_id is required"},
           {"hello", grpc::StatusCode::INVALID_ARGUMENT,
            "message_id 'hello' is not a message id"},
           {"01M89Q1WQSCHQJ90CTMDR6HJ7B' OR 1=1",
            grpc::StatusCode::INVALID_ARGUMENT, "is not a message id"},
           {"01M89Q1WQSCHQJ90CTMDR6HJ7B", grpc::StatusCode::NOT_FOUND,
            "message 01M89Q1WQSCHQJ90CTMDR6HJ7B not found"},
       }) {
    SCOPED_TRACE(c.id);
    const int64_t audit = AuditSize();
    grpc::ClientContext context;
    v1::GetMessageRequest request;
    request.set_message_id(c.id);
    v1::Message response;
    const grpc::Status status = ro_->GetMessage(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code);
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(AuditSize(), audit + 1);
  }
  ExpectNothingStored();
}

TEST_F(MalformedInputTest, ListInboxAndListOutbox) {
  struct PageCase {
    int page_size;
    std::string token;
    std::string message;
  };
  for (const PageCase& c : std::vector<PageCase>{
           {-1, "", "page_size is -1"},
           {0, "garbage!", "page_token is not a token"},
           {0, "djE6aW5ib3g6LTU", "page_token is not a token"},  // v1:inbox:-5
           {0, std::string(100, 'A'), "page_token is not a token"},
       }) {
    SCOPED_TRACE(c.token);
    {
      grpc::ClientContext context;
      v1::ListInboxRequest request;
      request.set_page_size(c.page_size);
      request.set_page_token(c.token);
      v1::ListInboxResponse response;
      const grpc::Status status = ro_->ListInbox(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    }
    {
      grpc::ClientContext context;
      v1::ListOutboxRequest request;
      request.set_page_size(c.page_size);
      request.set_page_token(c.token);
      v1::ListOutboxResponse response;
      const grpc::Status status = ro_->ListOutbox(&context, request, &response);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    }
  }
  ExpectNothingStored();
}

TEST_F(MalformedInputTest, Reply) {
  grpc::ClientContext send_context;
  v1::SendMessageResponse sent;
  ASSERT_TRUE(ro_->SendMessage(&send_context, ValidSend(), &sent).ok());
  const std::string id = sent.message_id();
  using R = v1::ReplyRequest;
  struct ReplyCase {
    std::string name;
    std::function<void(R&)> mutate;
    grpc::StatusCode code;
    std::string message;
  };
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  for (const ReplyCase& c : std::vector<ReplyCase>{
           {"no request id", [](R& r) { r.clear_request_id(); }, kInvalid,
            "request_id is required"},
           {"malformed request id", [](R& r) { r.set_request_id("x"); },
            kInvalid, "request_id 'x' is not a message id"},
           {"unknown request",
            [](R& r) { r.set_request_id("01M89Q1WQSCHQJ90CTMDR6HJ7B"); },
            grpc::StatusCode::NOT_FOUND, "not found"},
           {"no body", [](R& r) { r.clear_body(); }, kInvalid,
            "body is required"},
           {"no key", [](R& r) { r.clear_idempotency_key(); }, kInvalid,
            "idempotency_key is required"},
           {"no classification", [](R& r) { r.clear_classification(); },
            kInvalid, "classification is required"},
           {"bad handling",
            [](R& r) {
              r.mutable_handling()->set_code(static_cast<v1::HandlingCode>(12));
            },
            kInvalid,
            "handling.code 12 is not a known value (H0, H1, H2 or H3)"},
           {"subject with control character",
            [](R& r) { r.set_subject("Re:\x07"); }, kInvalid,
            "control characters"},
       }) {
    SCOPED_TRACE(c.name);
    R request = ValidReply(id);
    c.mutate(request);
    const int64_t audit = AuditSize();
    grpc::ClientContext context;
    v1::ReplyResponse response;
    const grpc::Status status = hu_->Reply(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(AuditSize(), audit + 1);
  }
  // Still open, nothing sent back to RO.
  std::unique_ptr<Store> store = server_.OpenStore();
  EXPECT_TRUE(store->ListInbox("RO", 10, std::nullopt)->empty());
  EXPECT_EQ(store->GetMessage(id)->recipients[0].request_state,
            RequestState::kOpen);
}

TEST_F(MalformedInputTest, UndecodableRequestsAreRefusedAndAudited) {
  struct RawCase {
    std::string method;
    std::string action;
    std::string bytes;
  };
  for (const RawCase& c : std::vector<RawCase>{
           // message_id (field 1) = "\xff\xfe": not UTF-8.
           {"/liaison.v1.Exchange/GetMessage", "Exchange.GetMessage",
            std::string("\x0a\x02\xff\xfe", 4)},
           // subject (field 4) not UTF-8.
           {"/liaison.v1.Exchange/SendMessage", "Exchange.SendMessage",
            std::string("\x22\x03\xc3\x28\x41", 5)},
           // page_token (field 2) cut short.
           {"/liaison.v1.Exchange/ListInbox", "Exchange.ListInbox",
            std::string("\x12\x05"
                        "ab",
                        4)},
           // message_id (field 1) of an access listing, not UTF-8.
           {"/liaison.v1.Audit/ListAccesses", "Audit.ListAccesses",
            std::string("\x0a\x02\xff\xfe", 4)},
           // seq (field 1) a varint cut short.
           {"/liaison.v1.Audit/GetInclusionProof", "Audit.GetInclusionProof",
            std::string("\x08\xff", 2)},
       }) {
    SCOPED_TRACE(c.method);
    const int64_t audit = AuditSize();
    const grpc::Status status =
        testing::CallRaw(server_.target(), c.method, c.bytes);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(),
                HasSubstr("the request could not be decoded"));
    ASSERT_EQ(AuditSize(), audit + 1);
    const AuditEntry entry =
        server_.OpenStore()->ReadAudit(audit + 1, 1)->front();
    EXPECT_EQ(entry.outcome, AuditOutcome::kRejected);
    EXPECT_EQ(entry.party, "RO");
    EXPECT_EQ(entry.action, c.action);
  }
  ExpectNothingStored();
}

TEST_F(MalformedInputTest, RequestLifecycleRpcs) {
  grpc::ClientContext send_context;
  v1::SendMessageResponse sent;
  ASSERT_TRUE(ro_->SendMessage(&send_context, ValidSend(), &sent).ok());
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  struct Case {
    std::string name;
    std::function<grpc::Status()> call;
    grpc::StatusCode code;
    std::string message;
  };
  auto refuse = [&](std::string id, int reason, std::string text) {
    return [this, id, reason, text]() {
      grpc::ClientContext context;
      v1::RefuseRequestRequest request;
      request.set_request_id(id);
      request.set_reason(static_cast<v1::RefusalReason>(reason));
      request.set_text(text);
      v1::Message response;
      return hu_->RefuseRequest(&context, request, &response);
    };
  };
  auto list = [this](int state, int64_t within_seconds) {
    return [this, state, within_seconds]() {
      grpc::ClientContext context;
      v1::ListRequestsRequest request;
      request.set_state(static_cast<v1::RequestState>(state));
      if (within_seconds != 0) {
        request.mutable_due_within()->set_seconds(within_seconds);
      }
      v1::ListRequestsResponse response;
      return hu_->ListRequests(&context, request, &response);
    };
  };
  auto handling = [this](std::string id, int code) {
    return [this, id, code]() {
      grpc::ClientContext context;
      v1::SetHandlingRequest request;
      request.set_message_id(id);
      request.mutable_handling()->set_code(static_cast<v1::HandlingCode>(code));
      v1::Message response;
      return ro_->SetHandling(&context, request, &response);
    };
  };
  const std::vector<Case> cases = {
      {"ack without id",
       [this] {
         grpc::ClientContext context;
         v1::Message response;
         return hu_->AcknowledgeRequest(
             &context, v1::AcknowledgeRequestRequest(), &response);
       },
       kInvalid, "request_id is required"},
      {"refuse without reason", refuse(sent.message_id(), 0, ""), kInvalid,
       "reason is required"},
      {"refuse with unknown reason", refuse(sent.message_id(), 77, ""),
       kInvalid, "reason 77 is not a known value"},
      {"refuse OTHER without text", refuse(sent.message_id(), 8, ""), kInvalid,
       "text is required with reason OTHER"},
      {"refuse a malformed id", refuse("nope", 1, ""), kInvalid,
       "request_id 'nope' is not a message id"},
      {"list unknown state", list(9, 0), kInvalid,
       "state 9 is not a known value"},
      {"list negative window", list(0, -60), kInvalid,
       "due_within must be positive"},
      {"handling unknown code", handling(sent.message_id(), 9), kInvalid,
       "handling.code 9 is not a known value"},
      {"handling of a missing message",
       handling("01M89Q1WQSCHQJ90CTMDR6HJ7B", 1), grpc::StatusCode::NOT_FOUND,
       "not found"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int64_t audit = AuditSize();
    const grpc::Status status = c.call();
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
    EXPECT_EQ(AuditSize(), audit + 1);
  }
  std::unique_ptr<Store> store = server_.OpenStore();
  EXPECT_EQ(store->GetMessage(sent.message_id())->recipients[0].request_state,
            RequestState::kOpen);
}

TEST_F(MalformedInputTest, WhoAmIIgnoresRequestContent) {
  // WhoAmI has no fields; unknown fields sent by a newer client are ignored
  // and the identity still comes from the certificate only.
  grpc::ClientContext context;
  v1::WhoAmIRequest request;
  request.GetReflection()->MutableUnknownFields(&request)->AddVarint(7, 1);
  v1::WhoAmIResponse response;
  ASSERT_TRUE(hu_->WhoAmI(&context, request, &response).ok());
  EXPECT_EQ(response.party(), "HU");
}

}  // namespace
}  // namespace liaison

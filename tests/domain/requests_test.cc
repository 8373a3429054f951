// The life of a request in the domain, with a fake clock: deadlines,
// per-recipient states, receipts, refusal, handling changes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "domain/exchange.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/domain_test.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

SendCommand Request(std::vector<std::string> to, const std::string& key,
                    Priority priority = Priority::kRoutine) {
  SendCommand c;
  c.recipients = std::move(to);
  c.kind = MessageKind::kRequest;
  c.priority = priority;
  if (priority == Priority::kUrgent) c.urgency_justification = "tonight";
  c.content.idempotency_key = key;
  c.content.subject = "Identity check";
  c.content.body = "Who is the holder of passport X?";
  c.content.classification = Classification::kUnclassified;
  c.content.handling_code = HandlingCode::kH0;
  return c;
}

class RequestsTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    OpenWithRoster(R"(
RO MEMBER_STATE SECRET - Romania
HU MEMBER_STATE SECRET - Hungary
BG MEMBER_STATE SECRET - Bulgaria
)");
    exchange_ = std::make_unique<ExchangeService>(
        *store_, audit_, clock_,
        DeadlineOptions{absl::Hours(8), absl::Hours(7 * 24)});
  }

  std::string Send(const SendCommand& command) {
    absl::StatusOr<SendResult> sent =
        exchange_->SendMessage(TestIdentity("RO"), command);
    EXPECT_TRUE(sent.ok()) << sent.status();
    return sent.ok() ? sent->message_id : "";
  }
  Recipient StateOf(const std::string& id, const std::string& party) {
    return *store_->GetMessage(id)->FindRecipient(party);
  }
  std::vector<std::string> Ids(const Identity& who, RequestFilter filter) {
    absl::StatusOr<MessagePage> page = exchange_->ListRequests(who, filter);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const MessageView& v : page->messages) ids.push_back(v.message.id);
    }
    return ids;
  }

  std::unique_ptr<ExchangeService> exchange_;
};

TEST_F(RequestsTest, DeadlinesRunFromReceipt) {
  const absl::Time sent_at = clock_.Now();
  const std::string urgent = Send(Request({"HU"}, "u", Priority::kUrgent));
  const std::string routine = Send(Request({"HU"}, "r"));
  EXPECT_EQ(StateOf(urgent, "HU").due_at, sent_at + absl::Hours(8));
  EXPECT_EQ(StateOf(routine, "HU").due_at, sent_at + absl::Hours(168));

  const Identity hu = TestIdentity("HU");
  RequestFilter due_soon;
  due_soon.due_within = absl::Hours(9);
  EXPECT_THAT(Ids(hu, due_soon), ::testing::ElementsAre(urgent));
  RequestFilter overdue;
  overdue.overdue = true;
  EXPECT_TRUE(Ids(hu, overdue).empty());

  clock_.Advance(absl::Hours(8) + absl::Seconds(1));
  EXPECT_THAT(Ids(hu, overdue), ::testing::ElementsAre(urgent));
  absl::StatusOr<MessageView> view = exchange_->GetMessage(hu, urgent);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->message.FindRecipient("HU")->IsOverdue(view->as_of));
  // Acknowledging does not stop the clock; answering does.
  ASSERT_TRUE(exchange_->AcknowledgeRequest(hu, urgent).ok());
  EXPECT_THAT(Ids(hu, overdue), ::testing::ElementsAre(urgent));
  ReplyCommand reply;
  reply.request_id = urgent;
  reply.content = Request({}, "answer").content;
  ASSERT_TRUE(exchange_->Reply(hu, reply).ok());
  EXPECT_TRUE(Ids(hu, overdue).empty());

  clock_.Advance(absl::Hours(24 * 7));
  EXPECT_THAT(Ids(hu, overdue), ::testing::ElementsAre(routine));
  // The sender sees it too.
  RequestFilter sent_overdue;
  sent_overdue.sent = true;
  sent_overdue.overdue = true;
  EXPECT_THAT(Ids(TestIdentity("RO"), sent_overdue),
              ::testing::ElementsAre(routine));
}

TEST_F(RequestsTest, EachRecipientHasItsOwnState) {
  const std::string id = Send(Request({"HU", "BG"}, "both"));
  const Identity hu = TestIdentity("HU");
  const Identity bg = TestIdentity("BG");
  clock_.Advance(absl::Minutes(5));
  absl::StatusOr<MessageView> acked = exchange_->AcknowledgeRequest(hu, id);
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_EQ(StateOf(id, "HU").request_state, RequestState::kAcknowledged);
  EXPECT_EQ(StateOf(id, "HU").acknowledged_at, clock_.Now());
  EXPECT_EQ(StateOf(id, "BG").request_state, RequestState::kOpen);

  absl::StatusOr<MessageView> twice = exchange_->AcknowledgeRequest(hu, id);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.status().message(), HasSubstr("is ACKNOWLEDGED for HU"));

  RefuseCommand refuse{id, RefusalReason::kNationalLaw,
                       "Data held by the courts"};
  absl::StatusOr<MessageView> refused = exchange_->RefuseRequest(bg, refuse);
  ASSERT_TRUE(refused.ok()) << refused.status();
  const Recipient bg_state = StateOf(id, "BG");
  EXPECT_EQ(bg_state.request_state, RequestState::kRefused);
  EXPECT_EQ(bg_state.refusal_reason, RefusalReason::kNationalLaw);
  EXPECT_EQ(bg_state.refusal_text, "Data held by the courts");
  // A refused request can no longer be answered or refused again.
  ReplyCommand reply;
  reply.request_id = id;
  reply.content = Request({}, "late").content;
  EXPECT_EQ(exchange_->Reply(bg, reply).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exchange_->RefuseRequest(bg, refuse).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The sender cannot act on its own request.
  EXPECT_EQ(
      exchange_->AcknowledgeRequest(TestIdentity("RO"), id).status().code(),
      absl::StatusCode::kFailedPrecondition);

  RequestFilter refused_only;
  refused_only.sent = true;
  refused_only.state = RequestState::kRefused;
  EXPECT_THAT(Ids(TestIdentity("RO"), refused_only),
              ::testing::ElementsAre(id));
  refused_only.sent = false;
  EXPECT_TRUE(Ids(hu, refused_only).empty());
  EXPECT_THAT(Ids(bg, refused_only), ::testing::ElementsAre(id));
}

TEST_F(RequestsTest, RefusalNeedsAKnownReasonAndOtherNeedsText) {
  const std::string id = Send(Request({"HU"}, "r"));
  const Identity hu = TestIdentity("HU");
  struct Case {
    RefuseCommand command;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {{id, Choice<RefusalReason>(), ""}, "reason is required"},
           {{id, Choice<RefusalReason>(std::nullopt, 42), ""},
            "reason 42 is not a known value"},
           {{id, RefusalReason::kOther, ""}, "text is required with reason"},
           {{id, RefusalReason::kOther, std::string(1001, 't')},
            "the limit is 1000"},
       }) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<MessageView> refused =
        exchange_->RefuseRequest(hu, c.command);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(refused.status().message(), HasSubstr(c.message));
  }
  EXPECT_EQ(StateOf(id, "HU").request_state, RequestState::kOpen);
}

TEST_F(RequestsTest, ReceiptsTellTheSenderWhenItWasDeliveredAndRead) {
  const std::string id = Send(Request({"HU", "BG"}, "receipts"));
  EXPECT_FALSE(StateOf(id, "HU").delivered_at.has_value());
  clock_.Advance(absl::Minutes(1));
  const absl::Time listed = clock_.Now();
  ASSERT_TRUE(exchange_->ListInbox(TestIdentity("HU"), {}).ok());
  clock_.Advance(absl::Minutes(1));
  const absl::Time opened = clock_.Now();
  ASSERT_TRUE(
      exchange_->GetMessage(TestIdentity("HU", Role::kFocalPoint, "nfp"), id)
          .ok());
  clock_.Advance(absl::Minutes(1));
  ASSERT_TRUE(exchange_->GetMessage(TestIdentity("HU"), id).ok());

  absl::StatusOr<MessageView> as_sender =
      exchange_->GetMessage(TestIdentity("RO"), id);
  ASSERT_TRUE(as_sender.ok());
  const Recipient* hu = as_sender->message.FindRecipient("HU");
  EXPECT_EQ(hu->delivered_at, listed);  // first listing
  EXPECT_EQ(hu->read_at, opened);       // first opening, by any HU user
  const Recipient* bg = as_sender->message.FindRecipient("BG");
  EXPECT_FALSE(bg->delivered_at.has_value());
  EXPECT_FALSE(bg->read_at.has_value());
  // The sender reading its own message is no receipt for anyone.
  EXPECT_EQ(StateOf(id, "HU").read_at, opened);

  // BG sees nothing of HU's receipts or deadline, all of its own.
  absl::StatusOr<MessageView> as_bg =
      exchange_->GetMessage(TestIdentity("BG"), id);
  ASSERT_TRUE(as_bg.ok());
  const Recipient* hu_seen_by_bg = as_bg->message.FindRecipient("HU");
  EXPECT_FALSE(hu_seen_by_bg->read_at.has_value());
  EXPECT_FALSE(hu_seen_by_bg->delivered_at.has_value());
  EXPECT_FALSE(hu_seen_by_bg->due_at.has_value());
  EXPECT_FALSE(hu_seen_by_bg->request_state.has_value());
  const Recipient* own = as_bg->message.FindRecipient("BG");
  EXPECT_EQ(own->read_at, clock_.Now());
  EXPECT_EQ(own->delivered_at, clock_.Now());
  EXPECT_TRUE(own->due_at.has_value());
}

TEST_F(RequestsTest, OnlyTheOwnerChangesHandlingAndAllHoldersSeeIt) {
  const std::string id = Send(Request({"HU", "BG"}, "h"));
  absl::StatusOr<MessageView> denied =
      exchange_->SetHandling(TestIdentity("HU"), id, HandlingCode::kH2, "");
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(),
              HasSubstr("only RO, the owner of the information"));
  EXPECT_EQ(
      exchange_->SetHandling(TestIdentity("RO"), id, HandlingCode::kH3, "")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  absl::StatusOr<MessageView> changed = exchange_->SetHandling(
      TestIdentity("RO"), id, HandlingCode::kH3, "Not for court use");
  ASSERT_TRUE(changed.ok()) << changed.status();
  for (const char* party : {"HU", "BG"}) {
    absl::StatusOr<MessageView> held =
        exchange_->GetMessage(TestIdentity(party), id);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(held->message.handling_code, HandlingCode::kH3);
    EXPECT_EQ(held->message.handling_restriction, "Not for court use");
  }
  const std::vector<AuditEntry> audit = *store_->ReadAudit(1, 1000);
  int changes = 0;
  for (const AuditEntry& e : audit) {
    if (e.action == "Exchange.SetHandling" &&
        e.outcome == AuditOutcome::kAllowed) {
      ++changes;
      EXPECT_EQ(e.reason, "H0 -> H3");
    }
  }
  EXPECT_EQ(changes, 1);
}

}  // namespace
}  // namespace liaison

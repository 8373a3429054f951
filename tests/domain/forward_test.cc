// Onward transmission: provenance, the owner's handling code, consent
// under H2, and the policy for new recipients.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "domain/exchange.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/domain_test.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

class ForwardTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    OpenWithRoster(R"(
RO  MEMBER_STATE SECRET       - Romania
HU  MEMBER_STATE SECRET       - Hungary
BG  MEMBER_STATE SECRET       - Bulgaria
TR  MEMBER_STATE SECRET       - Turkey
XOB OBSERVER     UNCLASSIFIED - Observer
)");
    exchange_ = std::make_unique<ExchangeService>(*store_, audit_, clock_);
  }

  std::string SendFromRo(HandlingCode handling, bool personal = false) {
    SendCommand c;
    c.recipients = {"HU"};
    c.kind = MessageKind::kRequest;
    c.priority = Priority::kRoutine;
    c.content.idempotency_key = absl::StrCat("k", ++keys_);
    c.content.subject = "Vehicle trail";
    c.content.body = "Seen at three crossings.";
    c.content.classification = Classification::kUnclassified;
    c.content.contains_personal_data = personal;
    c.content.handling_code = handling;
    absl::StatusOr<SendResult> sent =
        exchange_->SendMessage(TestIdentity("RO"), c);
    EXPECT_TRUE(sent.ok()) << sent.status();
    return sent->message_id;
  }
  absl::StatusOr<SendResult> Forward(const std::string& from,
                                     const std::string& id,
                                     std::vector<std::string> to) {
    return exchange_->Forward(TestIdentity(from),
                              {id, std::move(to), absl::StrCat("f", ++keys_)});
  }

  std::unique_ptr<ExchangeService> exchange_;
  int keys_ = 0;
};

TEST_F(ForwardTest, CopiesKeepProvenanceAndFollowTheOwnersHandling) {
  const std::string id = SendFromRo(HandlingCode::kH0);
  absl::StatusOr<SendResult> first = Forward("HU", id, {"BG"});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<SendResult> second = Forward("BG", first->message_id, {"TR"});
  ASSERT_TRUE(second.ok()) << second.status();

  absl::StatusOr<MessageView> at_tr =
      exchange_->GetMessage(TestIdentity("TR"), second->message_id);
  ASSERT_TRUE(at_tr.ok()) << at_tr.status();
  const Message& copy = at_tr->message;
  EXPECT_EQ(copy.sender_party, "BG");
  EXPECT_EQ(copy.Owner(), "RO");
  EXPECT_EQ(copy.Origin(), id);
  EXPECT_EQ(copy.forwarded_from, first->message_id);
  EXPECT_EQ(copy.body, "Seen at three crossings.");
  EXPECT_EQ(copy.kind, MessageKind::kSpontaneous);  // no obligation on TR
  // The chain can be followed by those who hold each link.
  absl::StatusOr<MessageView> link =
      exchange_->GetMessage(TestIdentity("BG"), copy.forwarded_from);
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->message.forwarded_from, id);

  // Only the owner changes the handling code, and every copy follows.
  EXPECT_EQ(exchange_
                ->SetHandling(TestIdentity("BG"), first->message_id,
                              HandlingCode::kH2, "")
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(
      exchange_->SetHandling(TestIdentity("RO"), id, HandlingCode::kH1, "")
          .ok());
  for (const auto& [party, message] :
       std::vector<std::pair<std::string, std::string>>{
           {"HU", id}, {"BG", first->message_id}, {"TR", second->message_id}}) {
    absl::StatusOr<MessageView> held =
        exchange_->GetMessage(TestIdentity(party), message);
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(held->message.handling_code, HandlingCode::kH1) << party;
  }
}

TEST_F(ForwardTest, H2NeedsTheOwnersConsentPerRecipient) {
  const std::string id = SendFromRo(HandlingCode::kH2);
  absl::StatusOr<SendResult> refused = Forward("HU", id, {"BG"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("is H2: RO, its owner, has not consented to passing "
                        "it to BG"));
  EXPECT_TRUE(store_->ListInbox("BG", 10, std::nullopt)->empty());

  absl::StatusOr<Consent> asked = exchange_->RequestConsent(
      TestIdentity("HU"), {id, "BG", "BG holds the suspect's file"});
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(asked->state, ConsentState::kPending);
  EXPECT_EQ(asked->owner_party, "RO");
  // Pending is not consent.
  EXPECT_EQ(Forward("HU", id, {"BG"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The requester cannot decide; a stranger does not see it.
  EXPECT_EQ(exchange_->DecideConsent(TestIdentity("HU"), {asked->id, true, ""})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(exchange_->DecideConsent(TestIdentity("TR"), {asked->id, true, ""})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<Consent> granted =
      exchange_->DecideConsent(TestIdentity("RO"), {asked->id, true, ""});
  ASSERT_TRUE(granted.ok()) << granted.status();
  EXPECT_EQ(granted->state, ConsentState::kGranted);
  EXPECT_EQ(
      exchange_->DecideConsent(TestIdentity("RO"), {asked->id, false, "x"})
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(Forward("HU", id, {"BG"}).ok());
  // Consent was for BG, not TR.
  EXPECT_EQ(Forward("HU", id, {"TR"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // A refusal needs a reason.
  absl::StatusOr<Consent> for_tr = exchange_->RequestConsent(
      TestIdentity("HU"), {id, "TR", "TR coordinates the operation"});
  ASSERT_TRUE(for_tr.ok());
  EXPECT_EQ(
      exchange_->DecideConsent(TestIdentity("RO"), {for_tr->id, false, ""})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(exchange_
                  ->DecideConsent(TestIdentity("RO"),
                                  {for_tr->id, false, "source protection"})
                  .ok());
  EXPECT_EQ(exchange_->ListConsents(TestIdentity("RO"))->size(), 2u);
  EXPECT_EQ(exchange_->ListConsents(TestIdentity("HU"))->size(), 2u);
  EXPECT_TRUE(exchange_->ListConsents(TestIdentity("TR"))->empty());
}

TEST_F(ForwardTest, TheRulesApplyToNewRecipients) {
  const std::string personal = SendFromRo(HandlingCode::kH0, true);
  absl::StatusOr<SendResult> to_observer = Forward("HU", personal, {"XOB"});
  EXPECT_EQ(to_observer.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(to_observer.status().message(),
              HasSubstr("recipient XOB is an observer and may not receive "
                        "personal data"));
  // Only recipients forward; nobody gets it twice.
  EXPECT_EQ(Forward("RO", personal, {"BG"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Forward("TR", personal, {"BG"}).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<SendResult> back = Forward("HU", personal, {"RO"});
  EXPECT_EQ(back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(back.status().message(), HasSubstr("RO already holds message"));
  EXPECT_EQ(Forward("HU", personal, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A retry with the same key returns the first copy.
  ForwardCommand command{personal, {"BG"}, "same-key"};
  absl::StatusOr<SendResult> once =
      exchange_->Forward(TestIdentity("HU"), command);
  absl::StatusOr<SendResult> again =
      exchange_->Forward(TestIdentity("HU"), command);
  ASSERT_TRUE(once.ok() && again.ok());
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->message_id, once->message_id);
}

}  // namespace
}  // namespace liaison

// Attachments: digest and size checked end to end, limits, nothing stored
// from a broken upload, the message's policy for downloads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "domain/exchange.h"
#include "domain/roster.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/testing/domain_test.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

constexpr int64_t kLimit = 3 << 20;
constexpr int64_t kMaxAttachments = 3;

// Hands out `data` in pieces; "breaks" after `break_after` bytes if set.
class Pieces final : public ChunkReader {
 public:
  Pieces(std::string data, size_t piece, size_t break_after = SIZE_MAX)
      : data_(std::move(data)), piece_(piece), break_after_(break_after) {}
  bool Next(std::string* chunk) override {
    if (at_ >= data_.size() || at_ >= break_after_) return false;
    *chunk = data_.substr(at_, std::min(piece_, break_after_ - at_));
    at_ += chunk->size();
    return true;
  }

 private:
  std::string data_;
  size_t piece_;
  size_t break_after_;
  size_t at_ = 0;
};

class Collect final : public ChunkWriter {
 public:
  bool Write(const AttachmentInfo* info, absl::string_view data) override {
    if (info != nullptr) infos.push_back(*info);
    bytes.append(data.data(), data.size());
    return true;
  }
  std::vector<AttachmentInfo> infos;
  std::string bytes;
};

class AttachmentsTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    OpenWithRoster(R"(
RO MEMBER_STATE SECRET - Romania
HU MEMBER_STATE SECRET - Hungary
BG MEMBER_STATE SECRET - Bulgaria
)");
    ExchangeLimits limits;
    limits.max_attachment_bytes = kLimit;
    limits.max_attachments_per_message = kMaxAttachments;
    exchange_ = std::make_unique<ExchangeService>(
        *store_, audit_, clock_, DeadlineOptions{}, SubscriptionOptions{},
        limits);
    SendCommand c;
    c.recipients = {"HU"};
    c.kind = MessageKind::kSpontaneous;
    c.priority = Priority::kRoutine;
    c.content.idempotency_key = "m";
    c.content.subject = "Photos";
    c.content.body = "Attached.";
    c.content.classification = Classification::kUnclassified;
    c.content.handling_code = HandlingCode::kH0;
    message_id_ = exchange_->SendMessage(TestIdentity("RO"), c)->message_id;
  }

  absl::StatusOr<AttachmentInfo> Upload(const std::string& data,
                                        size_t break_after = SIZE_MAX,
                                        std::string digest = "",
                                        const std::string& party = "RO") {
    AttachmentHeader header{message_id_, "scan.pdf",
                            static_cast<int64_t>(data.size()),
                            digest.empty() ? HexEncode(Sha256(data)) : digest};
    Pieces pieces(data, 700 * 1024, break_after);
    return exchange_->UploadAttachment(TestIdentity(party), header, pieces);
  }
  int64_t Stored() {
    return static_cast<int64_t>(store_->ListAttachments(message_id_)->size());
  }

  std::unique_ptr<ExchangeService> exchange_;
  std::string message_id_;
};

TEST_F(AttachmentsTest, RoundTripsAtZeroBytesAndExactlyTheLimit) {
  for (int64_t size : {int64_t{0}, int64_t{1}, kLimit}) {
    SCOPED_TRACE(size);
    std::string data(static_cast<size_t>(size), '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    absl::StatusOr<AttachmentInfo> info = Upload(data);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->size, size);
    Collect got;
    ASSERT_TRUE(
        exchange_->DownloadAttachment(TestIdentity("HU"), info->id, got).ok());
    ASSERT_EQ(got.infos.size(), 1u);
    EXPECT_EQ(got.infos[0], *info);
    EXPECT_EQ(got.bytes.size(), data.size());
    EXPECT_TRUE(got.bytes == data);
    EXPECT_EQ(HexEncode(Sha256(got.bytes)), info->sha256_hex);
  }
  // GetMessage lists them.
  absl::StatusOr<MessageView> view =
      exchange_->GetMessage(TestIdentity("HU"), message_id_);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->attachments.size(), 3u);
}

TEST_F(AttachmentsTest, AMessageHoldsAtMostTheLimitOfAttachments) {
  for (int i = 0; i < kMaxAttachments; ++i) {
    ASSERT_TRUE(Upload(absl::StrCat("page ", i)).ok());
  }
  absl::StatusOr<AttachmentInfo> over = Upload("one more");
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.status().message(),
              HasSubstr("already has 3 attachments; the limit is 3 "
                        "(--max-attachments)"));
  EXPECT_EQ(Stored(), kMaxAttachments);
}

TEST_F(AttachmentsTest, RefusalsStoreNothing) {
  const std::string data(1000, 'x');
  absl::StatusOr<AttachmentInfo> over =
      Upload(std::string(static_cast<size_t>(kLimit) + 1, 'x'));
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(over.status().message(), HasSubstr("over the limit"));
  absl::StatusOr<AttachmentInfo> corrupt =
      Upload(data, SIZE_MAX, std::string(64, 'a'));
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("not the declared"));
  absl::StatusOr<AttachmentInfo> broken = Upload(data, 400);
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(broken.status().message(),
              HasSubstr("ended after 400 of 1000 bytes; nothing was stored"));
  absl::StatusOr<AttachmentInfo> not_owner = Upload(data, SIZE_MAX, "", "HU");
  EXPECT_EQ(not_owner.status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<AttachmentInfo> stranger = Upload(data, SIZE_MAX, "", "BG");
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kNotFound);
  AttachmentHeader bad{message_id_, "../etc/passwd", 1, std::string(64, 'a')};
  Pieces one("x", 1);
  EXPECT_EQ(
      exchange_->UploadAttachment(TestIdentity("RO"), bad, one).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Stored(), 0);
}

TEST_F(AttachmentsTest, DownloadsFollowTheMessagesPolicy) {
  absl::StatusOr<AttachmentInfo> info = Upload("evidence");
  ASSERT_TRUE(info.ok());
  Collect got;
  const absl::Status hidden =
      exchange_->DownloadAttachment(TestIdentity("BG"), info->id, got);
  EXPECT_EQ(hidden.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(hidden.message(),
            absl::StrCat("attachment ", info->id, " not found"));
  EXPECT_TRUE(got.bytes.empty());
  EXPECT_EQ(
      exchange_->DownloadAttachment(TestIdentity("HU"), "nope", got).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(exchange_
                ->DownloadAttachment(TestIdentity("HU", Role::kAdmin, "a"),
                                     info->id, got)
                .code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace liaison

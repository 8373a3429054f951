// The verifiable audit log as callers see it: signed checkpoints over the
// stored tree, scoped listings, proofs that verify, exports and access
// receipts, and the refusals around them.
#include "domain/audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/signed_note.h"
#include "domain/admin.h"
#include "domain/exchange.h"
#include "domain/merkle.h"
#include "tests/testing/domain_test.h"
#include "tests/testing/test_identity.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestIdentity;

NoteSigner TestSigner() {
  absl::StatusOr<std::string> key =
      GenerateNotePrivateKey("selec.test/liaison-audit");
  EXPECT_TRUE(key.ok()) << key.status();
  absl::StatusOr<NoteSigner> signer = NoteSigner::FromPrivateKey(*key);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return *std::move(signer);
}

// The note signer, failing on demand (an HSM gone, a key unreadable).
class FailingSigner final : public CheckpointSigner {
 public:
  explicit FailingSigner(NoteSigner signer)
      : real_(MakeNoteCheckpointSigner(std::move(signer))) {}
  const std::string& name() const override { return real_->name(); }
  std::string VerifierKey() const override { return real_->VerifierKey(); }
  absl::StatusOr<std::string> Sign(absl::string_view text) const override {
    if (fail) return absl::InternalError("signing device unavailable");
    return real_->Sign(text);
  }
  bool fail = false;

 private:
  std::unique_ptr<CheckpointSigner> real_;
};

class AuditTest : public testing::DomainTest {
 protected:
  void SetUp() override {
    OpenWithRoster(R"(
HQ  MEMBER_STATE SECRET       - SELEC Headquarters
RO  MEMBER_STATE SECRET       - Romania
HU  MEMBER_STATE SECRET       - Hungary
BG  MEMBER_STATE SECRET       - Bulgaria
XOB OBSERVER     UNCLASSIFIED - Observer
)");
    const NoteSigner signer = TestSigner();
    absl::StatusOr<NoteVerifier> verifier =
        NoteVerifier::FromVerifierKey(signer.VerifierKey());
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_.emplace(*std::move(verifier));
    auto failing = std::make_unique<FailingSigner>(signer);
    signer_ = failing.get();
    checkpointer_ = std::make_unique<Checkpointer>(
        *store_, std::move(failing), clock_,
        CheckpointOptions{absl::Seconds(10), /*max_entries=*/5});
    audit_service_ =
        std::make_unique<AuditService>(*store_, audit_, clock_, *checkpointer_);
    exchange_ = std::make_unique<ExchangeService>(*store_, audit_, clock_);
  }

  std::string Send(const std::string& from, const std::string& to,
                   bool personal = false) {
    SendCommand c;
    c.recipients = {to};
    c.kind = MessageKind::kSpontaneous;
    c.priority = Priority::kRoutine;
    c.content.idempotency_key = absl::StrCat("k", ++keys_);
    c.content.subject = "Vehicle trail";
    c.content.body = "Seen at three crossings.";
    c.content.classification = Classification::kUnclassified;
    c.content.contains_personal_data = personal;
    c.content.handling_code = HandlingCode::kH0;
    absl::StatusOr<SendResult> sent =
        exchange_->SendMessage(TestIdentity(from), c);
    EXPECT_TRUE(sent.ok()) << sent.status();
    return sent.ok() ? sent->message_id : "";
  }

  // The checkpoint's note verifies and states its size and root.
  void ExpectSignedCheckpoint(const AuditCheckpoint& c) {
    absl::StatusOr<std::string> text = verifier_->Open(c.note);
    ASSERT_TRUE(text.ok()) << text.status();
    absl::StatusOr<CheckpointBody> body = ParseCheckpoint(*text);
    ASSERT_TRUE(body.ok()) << body.status();
    EXPECT_EQ(body->origin, "selec.test/liaison-audit");
    EXPECT_EQ(body->size, static_cast<uint64_t>(c.tree_size));
    EXPECT_EQ(body->root_hash, c.root_hash);
  }

  // The root of the first `size` entries, hashed afresh from their fields.
  std::string RecomputedRoot(int64_t size) {
    std::vector<std::string> leaves;
    const std::vector<AuditEntry> entries =
        *store_->ReadAudit(1, static_cast<int>(size));
    for (const AuditEntry& e : entries) {
      leaves.push_back(merkle::LeafHash(EncodeAuditLeaf(e)));
    }
    return merkle::RootHash(leaves);
  }

  AuditEntry LastEntry() {
    const int64_t size = *store_->AuditSize();
    return store_->ReadAudit(size, 1)->front();
  }

  const Identity auditor_ = TestIdentity("HQ", Role::kAuditor, "aud");
  std::optional<NoteVerifier> verifier_;
  FailingSigner* signer_ = nullptr;  // Owned by checkpointer_.
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<AuditService> audit_service_;
  std::unique_ptr<ExchangeService> exchange_;
  int keys_ = 0;
};

TEST_F(AuditTest, CheckpointsAreSignedNotesOverTheWholeLog) {
  Send("RO", "HU");
  absl::StatusOr<AuditCheckpoint> c =
      audit_service_->GetCheckpoint(auditor_, /*fresh=*/true);
  ASSERT_TRUE(c.ok()) << c.status();
  ExpectSignedCheckpoint(*c);
  EXPECT_EQ(c->root_hash, RecomputedRoot(c->tree_size));
  // The checkpoint call itself is the next entry; asking again without
  // `fresh` gives the same checkpoint, with `fresh` one covering that call.
  EXPECT_EQ(*store_->AuditSize(), c->tree_size + 1);
  EXPECT_EQ(LastEntry().action, "Audit.GetCheckpoint");
  absl::StatusOr<AuditCheckpoint> again =
      audit_service_->GetCheckpoint(TestIdentity("XOB"), false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->note, c->note);
  absl::StatusOr<AuditCheckpoint> fresh =
      audit_service_->GetCheckpoint(TestIdentity("RO"), true);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->tree_size, c->tree_size + 2);
  ExpectSignedCheckpoint(*fresh);
}

TEST_F(AuditTest, ASigningFailureIsReportedAndRecorded) {
  Send("RO", "HU");
  signer_->fail = true;
  absl::StatusOr<AuditCheckpoint> c =
      audit_service_->GetCheckpoint(auditor_, /*fresh=*/true);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(c.status().message(), HasSubstr("signing device unavailable"));
  EXPECT_EQ(LastEntry().outcome, AuditOutcome::kFailed);
  EXPECT_FALSE(store_->LatestCheckpoint()->has_value());  // nothing kept
  EXPECT_FALSE(checkpointer_->SignIfDue().ok());
  signer_->fail = false;
  EXPECT_TRUE(audit_service_->GetCheckpoint(auditor_, true).ok());
}

TEST_F(AuditTest, CheckpointsFollowTheIntervalAndEntryCount) {
  ASSERT_TRUE(checkpointer_->SignNow().ok());
  EXPECT_FALSE(checkpointer_->SignIfDue()->has_value());  // nothing new
  Send("RO", "HU");                                       // +1 entry
  EXPECT_FALSE(checkpointer_->SignIfDue()->has_value());
  clock_.Advance(absl::Seconds(10));
  absl::StatusOr<std::optional<AuditCheckpoint>> due =
      checkpointer_->SignIfDue();
  ASSERT_TRUE(due.ok() && due->has_value());
  ExpectSignedCheckpoint(**due);
  for (int i = 0; i < 4; ++i) Send("RO", "HU");
  EXPECT_FALSE(checkpointer_->SignIfDue()->has_value());  // 4 < 5 entries
  Send("RO", "HU");
  due = checkpointer_->SignIfDue();
  ASSERT_TRUE(due.ok() && due->has_value());
  EXPECT_EQ((*due)->tree_size, *store_->AuditSize());
}

TEST_F(AuditTest, AuditorsSeeTheWholeLogPartiesTheirOwnEntries) {
  Send("RO", "HU");
  Send("HU", "RO");
  Send("BG", "HU");
  absl::StatusOr<EntryPage> all =
      audit_service_->ListEntries(auditor_, 0, 0, 0);
  ASSERT_TRUE(all.ok()) << all.status();
  std::set<std::string> parties;
  for (const RecordedEntry& r : all->entries) {
    parties.insert(r.entry.party);
    EXPECT_EQ(r.leaf_hash, merkle::LeafHash(EncodeAuditLeaf(r.entry)));
  }
  EXPECT_TRUE(parties.count("RO") && parties.count("HU") &&
              parties.count("BG"));

  absl::StatusOr<EntryPage> own =
      audit_service_->ListEntries(TestIdentity("RO"), 0, 0, 0);
  ASSERT_TRUE(own.ok()) << own.status();
  ASSERT_FALSE(own->entries.empty());
  for (const RecordedEntry& r : own->entries) EXPECT_EQ(r.entry.party, "RO");

  // Paging: two at a time from entry 2 covers the same entries.
  std::vector<int64_t> seqs;
  int64_t next = 2;
  while (next != 0) {
    absl::StatusOr<EntryPage> page =
        audit_service_->ListEntries(auditor_, next, all->tree_size, 2);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_LE(page->entries.size(), 2u);
    for (const RecordedEntry& r : page->entries) seqs.push_back(r.entry.seq);
    next = page->next_seq;
  }
  ASSERT_EQ(seqs.size(), static_cast<size_t>(all->tree_size - 1));
  EXPECT_EQ(seqs.front(), 2);
  EXPECT_EQ(seqs.back(), all->tree_size);
}

TEST_F(AuditTest, MalformedRangesAreRefusedAndAudited) {
  struct Case {
    int64_t from, to;
    int page;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{{-1, 0, 0, "not a range"},
                                         {5, 3, 0, "not a range"},
                                         {1, 0, -1, "page_size"},
                                         {1, 0, 1001, "page_size"}}) {
    SCOPED_TRACE(c.message);
    absl::StatusOr<EntryPage> page =
        audit_service_->ListEntries(auditor_, c.from, c.to, c.page);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(page.status().message(), HasSubstr(c.message));
    EXPECT_EQ(LastEntry().outcome, AuditOutcome::kRejected);
  }
  const int64_t size = *store_->AuditSize();
  for (auto [seq, tree] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 0}, {size + 100, 0}, {3, 2}, {1, size + 100}}) {
    EXPECT_EQ(
        audit_service_->GetInclusionProof(auditor_, seq, tree).status().code(),
        absl::StatusCode::kInvalidArgument)
        << seq << " in " << tree;
  }
  for (auto [from, to] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 1}, {3, 2}, {1, size + 10}}) {
    EXPECT_EQ(
        audit_service_->GetConsistencyProof(auditor_, from, to).status().code(),
        absl::StatusCode::kInvalidArgument)
        << from << " -> " << to;
  }
  EXPECT_EQ(audit_service_->BeginExport(auditor_, 3).status().code(),
            absl::StatusCode::kInvalidArgument);  // no checkpoint at 3
  EXPECT_EQ(audit_service_->BeginExport(auditor_, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTest, InclusionProofsVerifyAgainstSignedCheckpoints) {
  Send("RO", "HU");
  Send("HU", "RO");
  const int64_t size = *store_->AuditSize();
  for (int64_t seq = 1; seq <= size; ++seq) {
    absl::StatusOr<EntryProof> proof =
        audit_service_->GetInclusionProof(auditor_, seq, 0);
    ASSERT_TRUE(proof.ok()) << proof.status();
    ASSERT_TRUE(proof->checkpoint.has_value());
    ExpectSignedCheckpoint(*proof->checkpoint);
    EXPECT_TRUE(merkle::VerifyInclusion(
        merkle::LeafHash(EncodeAuditLeaf(proof->entry.entry)), seq - 1,
        proof->tree_size, proof->hashes, proof->checkpoint->root_hash));
  }
  // A party proves its own entries, not another party's.
  AuditQuery ro;
  ro.party = "RO";
  const int64_t ro_seq = store_->ReadAudit(ro)->front().seq;
  EXPECT_TRUE(
      audit_service_->GetInclusionProof(TestIdentity("RO"), ro_seq, 0).ok());
  absl::StatusOr<EntryProof> other =
      audit_service_->GetInclusionProof(TestIdentity("HU"), ro_seq, 0);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(other.status().message(), HasSubstr("another party's call"));
  const AuditEntry denied = LastEntry();
  EXPECT_EQ(denied.party, "HU");
  EXPECT_EQ(denied.outcome, AuditOutcome::kDenied);
}

TEST_F(AuditTest, ConsistencyProofsLinkCheckpoints) {
  absl::StatusOr<AuditCheckpoint> old = checkpointer_->SignNow();
  ASSERT_TRUE(old.ok());
  Send("RO", "HU");
  Send("RO", "BG");
  absl::StatusOr<AuditCheckpoint> now = checkpointer_->SignNow();
  ASSERT_TRUE(now.ok());
  absl::StatusOr<std::vector<std::string>> proof =
      audit_service_->GetConsistencyProof(TestIdentity("BG"), old->tree_size,
                                          now->tree_size);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(merkle::VerifyConsistency(
      old->tree_size, now->tree_size, old->root_hash, now->root_hash, *proof));
}

TEST_F(AuditTest, ExportsAreWholeForAuditorsAndProvenForParties) {
  Send("RO", "HU");
  Send("HU", "RO");
  absl::StatusOr<ExportPlan> full = audit_service_->BeginExport(auditor_, 0);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(full->party.empty());
  ExpectSignedCheckpoint(full->checkpoint);
  merkle::RootBuilder root;
  int64_t next = 1;
  while (next != 0) {
    absl::StatusOr<EntryPage> page = audit_service_->ExportPage(*full, next, 3);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const RecordedEntry& r : page->entries) {
      EXPECT_EQ(r.entry.seq, static_cast<int64_t>(root.size()) + 1);
      root.Add(merkle::LeafHash(EncodeAuditLeaf(r.entry)));
    }
    next = page->next_seq;
  }
  EXPECT_EQ(static_cast<int64_t>(root.size()), full->checkpoint.tree_size);
  EXPECT_EQ(root.Root(), full->checkpoint.root_hash);

  // An export at an earlier checkpoint lists the ones before it.
  absl::StatusOr<ExportPlan> again =
      audit_service_->BeginExport(auditor_, full->checkpoint.tree_size);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->checkpoint.note, full->checkpoint.note);

  absl::StatusOr<ExportPlan> mine =
      audit_service_->BeginExport(TestIdentity("HU"), 0);
  ASSERT_TRUE(mine.ok()) << mine.status();
  EXPECT_EQ(mine->party, "HU");
  EXPECT_EQ(mine->earlier.back().tree_size, full->checkpoint.tree_size);
  absl::StatusOr<EntryPage> page = audit_service_->ExportPage(*mine, 1, 1000);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->entries.empty());
  for (const RecordedEntry& r : page->entries) {
    EXPECT_EQ(r.entry.party, "HU");
    EXPECT_TRUE(merkle::VerifyInclusion(
        merkle::LeafHash(EncodeAuditLeaf(r.entry)), r.entry.seq - 1,
        mine->checkpoint.tree_size, r.proof, mine->checkpoint.root_hash));
  }
}

TEST_F(AuditTest, OwnersListEveryAccessToTheirMessagesWithProofs) {
  const std::string id = Send("RO", "HU", /*personal=*/true);
  ASSERT_TRUE(
      exchange_
          ->GetMessage(TestIdentity("HU", Role::kLiaisonOfficer, "ana"), id)
          .ok());
  ASSERT_TRUE(
      exchange_->GetMessage(TestIdentity("HU", Role::kFocalPoint), id).ok());
  // An attempt by a party that may not see it is an access too.
  EXPECT_FALSE(exchange_->GetMessage(TestIdentity("BG"), id).ok());

  absl::StatusOr<AccessReceipts> receipts =
      audit_service_->ListAccesses(TestIdentity("RO"), id);
  ASSERT_TRUE(receipts.ok()) << receipts.status();
  ExpectSignedCheckpoint(receipts->checkpoint);
  std::vector<std::string> who;
  for (const RecordedEntry& r : receipts->accesses) {
    who.push_back(absl::StrCat(r.entry.action, " ", r.entry.principal, " ",
                               Name(r.entry.outcome)));
    EXPECT_TRUE(
        merkle::VerifyInclusion(merkle::LeafHash(EncodeAuditLeaf(r.entry)),
                                r.entry.seq - 1, receipts->checkpoint.tree_size,
                                r.proof, receipts->checkpoint.root_hash));
  }
  EXPECT_EQ(who, (std::vector<std::string>{
                     "Exchange.SendMessage "
                     "spiffe://selec.test/party/RO/liaison-officer/u1 ALLOWED",
                     "Exchange.GetMessage "
                     "spiffe://selec.test/party/HU/liaison-officer/ana ALLOWED",
                     "Exchange.GetMessage "
                     "spiffe://selec.test/party/HU/focal-point/u1 ALLOWED",
                     "Exchange.GetMessage "
                     "spiffe://selec.test/party/BG/liaison-officer/u1 "
                     "DENIED"}));
  EXPECT_EQ(LastEntry().action, "Audit.ListAccesses");
  EXPECT_EQ(LastEntry().resources, std::vector<std::string>{id});
  // HQ auditors may look too.
  EXPECT_TRUE(audit_service_->ListAccesses(auditor_, id).ok());
}

TEST_F(AuditTest, AccessesAreForTheOwnerOnly) {
  const std::string id = Send("RO", "HU", /*personal=*/true);
  absl::StatusOr<AccessReceipts> recipient =
      audit_service_->ListAccesses(TestIdentity("HU"), id);
  EXPECT_EQ(recipient.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LastEntry().reason,
            absl::StrCat("message ", id, " is owned by RO, not HU"));
  EXPECT_EQ(audit_service_->ListAccesses(TestIdentity("RO"), "not-an-id")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(audit_service_
                ->ListAccesses(TestIdentity("RO"), "01ARZ3NDEKTSV4RRFFQ69G5FAV")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AuditTest, ExportsListAtMostSomeEarlierCheckpointsSpreadEvenly) {
  std::vector<int64_t> signed_sizes;
  for (int i = 0; i < 300; ++i) {
    Send("RO", "HU");
    signed_sizes.push_back(checkpointer_->SignNow()->tree_size);
  }
  Send("RO", "HU");
  absl::StatusOr<ExportPlan> plan = audit_service_->BeginExport(auditor_, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->earlier.size(), AuditService::kMaxEarlierCheckpoints);
  EXPECT_EQ(plan->earlier.front().tree_size, signed_sizes.front());
  EXPECT_EQ(plan->earlier.back().tree_size, signed_sizes.back());
  for (size_t i = 1; i < plan->earlier.size(); ++i) {
    EXPECT_LT(plan->earlier[i - 1].tree_size, plan->earlier[i].tree_size);
  }
}

TEST_F(AuditTest, AnExportThatDoesNotCompleteIsRecordedAsFailed) {
  absl::StatusOr<ExportPlan> plan = audit_service_->BeginExport(auditor_, 0);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(LastEntry().outcome, AuditOutcome::kAllowed);
  audit_service_->ExportFailed(
      *plan, absl::CancelledError("the export stopped: the client went away"));
  const AuditEntry failed = LastEntry();
  EXPECT_EQ(failed.action, "Audit.Export");
  EXPECT_EQ(failed.code, absl::StatusCode::kCancelled);
  EXPECT_THAT(failed.reason, HasSubstr("client went away"));
}

TEST_F(AuditTest, SuspendedPartiesAndForeignAuditorsAreRefused) {
  const std::string id = Send("RO", "HU");
  AdminService admin(*store_, audit_, clock_);
  ASSERT_TRUE(admin
                  .SuspendParty(TestIdentity("HQ", Role::kAdmin, "adm"), "RO",
                                "inquiry")
                  .ok());
  absl::StatusOr<AccessReceipts> suspended =
      audit_service_->ListAccesses(TestIdentity("RO"), id);
  EXPECT_EQ(suspended.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(suspended.status().message(), HasSubstr("suspended"));
  EXPECT_EQ(LastEntry().outcome, AuditOutcome::kDenied);
  EXPECT_EQ(
      audit_service_->GetCheckpoint(TestIdentity("RO"), false).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(audit_service_->BeginExport(TestIdentity("HU", Role::kAuditor), 0)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuditTest, AForwardedCopyBelongsToTheOriginalsOwner) {
  const std::string id = Send("RO", "HU");
  absl::StatusOr<SendResult> copy =
      exchange_->Forward(TestIdentity("HU"), {id, {"BG"}, "fwd-1"});
  ASSERT_TRUE(copy.ok()) << copy.status();
  ASSERT_TRUE(exchange_->GetMessage(TestIdentity("BG"), copy->message_id).ok());
  absl::StatusOr<AccessReceipts> receipts =
      audit_service_->ListAccesses(TestIdentity("RO"), copy->message_id);
  ASSERT_TRUE(receipts.ok()) << receipts.status();
  ASSERT_GE(receipts->accesses.size(), 2u);
  EXPECT_EQ(receipts->accesses.back().entry.party, "BG");
  EXPECT_TRUE(receipts->copies.empty());
  EXPECT_EQ(audit_service_->ListAccesses(TestIdentity("HU"), copy->message_id)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  // BG passes its copy on to HQ... and HQ reads it.
  absl::StatusOr<SendResult> copy2 = exchange_->Forward(
      TestIdentity("BG"), {copy->message_id, {"HQ"}, "fwd-2"});
  ASSERT_TRUE(copy2.ok()) << copy2.status();
  ASSERT_TRUE(
      exchange_->GetMessage(TestIdentity("HQ"), copy2->message_id).ok());
  // The original's receipts follow the forwardings to every copy.
  absl::StatusOr<AccessReceipts> original =
      audit_service_->ListAccesses(TestIdentity("RO"), id);
  ASSERT_TRUE(original.ok());
  EXPECT_EQ(original->copies,
            (std::vector<std::string>{copy->message_id, copy2->message_id}));
  std::vector<std::string> seen;
  int64_t previous = 0;
  for (const RecordedEntry& r : original->accesses) {
    seen.push_back(absl::StrCat(r.entry.party, " ", r.entry.action));
    EXPECT_GT(r.entry.seq, previous);  // oldest first, no repeats
    previous = r.entry.seq;
  }
  EXPECT_THAT(seen, ::testing::IsSupersetOf(
                        {"RO Exchange.SendMessage", "HU Exchange.Forward",
                         "BG Exchange.GetMessage", "BG Exchange.Forward",
                         "HQ Exchange.GetMessage"}));
  EXPECT_FALSE(original->truncated);
}

}  // namespace
}  // namespace liaison

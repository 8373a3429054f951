#include "tests/store/store_conformance.h"

#include <gmock/gmock.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "domain/audit_log.h"
#include "domain/merkle.h"

namespace liaison::testing {

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreConformanceTest);

void StoreConformanceTest::SetUp() {
  harness_ = GetParam()();
  store_ = harness_->Open();
  ASSERT_NE(store_, nullptr);
}

void StoreConformanceTest::Reopen() {
  store_.reset();
  store_ = harness_->Open();
  ASSERT_NE(store_, nullptr);
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Party MakeParty(const std::string& code) {
  Party p;
  p.code = code;
  p.name = "Party " + code;
  p.tier = PartyTier::kMemberState;
  p.ceiling = Classification::kSecret;
  return p;
}

absl::Time T(int seconds) {
  return absl::FromUnixSeconds(1790000000 + seconds);
}

Message MakeMessage(const std::string& id, const std::string& from,
                    std::vector<std::string> to, const std::string& key,
                    MessageKind kind = MessageKind::kRequest) {
  Message m;
  m.id = id;
  m.idempotency_key = key;
  m.content_digest = std::string(32, 'd');
  m.sender_party = from;
  m.sender_user = "ion";
  m.sender_role = Role::kLiaisonOfficer;
  for (const std::string& party : to) {
    Recipient r;
    r.party = party;
    if (kind == MessageKind::kRequest) r.request_state = RequestState::kOpen;
    m.recipients.push_back(r);
  }
  m.kind = kind;
  m.subject = "Subject " + id;
  m.body = "Body ÄÖ ţ " + id;
  m.priority = Priority::kUrgent;
  m.urgency_justification = "imminent";
  m.classification = Classification::kConfidential;
  m.contains_personal_data = true;
  m.handling_code = HandlingCode::kH3;
  m.handling_restriction = "not for court";
  m.evaluation = Evaluation{SourceReliability::kB, InformationAssessment::k2};
  m.created_at = T(1) + absl::Microseconds(123456);
  return m;
}

AuditEntry MakeEntry(int n) {
  AuditEntry e;
  e.time = T(n);
  e.principal = "spiffe://selec.test/party/RO/liaison-officer/ion";
  e.party = "RO";
  e.role = "liaison-officer";
  e.user_id = "ion";
  e.action = "Exchange.SendMessage";
  e.resources = {absl::StrCat("M", n), "HU"};
  e.outcome = n % 2 == 0 ? AuditOutcome::kAllowed : AuditOutcome::kDenied;
  e.code =
      n % 2 == 0 ? absl::StatusCode::kOk : absl::StatusCode::kPermissionDenied;
  e.reason = n % 2 == 0 ? "" : "recipient XOB is an observer";
  return e;
}

std::vector<std::string> Ids(const std::vector<Message>& messages) {
  std::vector<std::string> ids;
  for (const Message& m : messages) ids.push_back(m.id);
  return ids;
}

}  // namespace

void StoreWithParties::SetUp() {
  StoreConformanceTest::SetUp();
  ASSERT_TRUE(store_
                  ->Write([](WriteTransaction& txn) {
                    for (const char* code : {"HU", "RO", "BG", "XOB"}) {
                      absl::Status s = txn.InsertParty(MakeParty(code));
                      if (!s.ok()) return s;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
}

absl::Status StoreWithParties::Insert(const Message& m) {
  return store_->Write(
      [&](WriteTransaction& txn) { return txn.InsertMessage(m); });
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StoreWithParties);

TEST_P(StoreConformanceTest, StartsEmpty) {
  absl::StatusOr<std::vector<Party>> parties = store_->ListParties();
  ASSERT_TRUE(parties.ok()) << parties.status();
  EXPECT_TRUE(parties->empty());
  EXPECT_EQ(*store_->AuditSize(), 0);
  EXPECT_EQ(store_->GetMessage("01M00000000000000000000000").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreConformanceTest, PartiesRoundTripAndAreUnique) {
  Party ro = MakeParty("RO");
  Party ob = MakeParty("XOB");
  ob.tier = PartyTier::kObserver;
  ob.ceiling = Classification::kUnclassified;
  ob.state = PartyState::kSuspended;
  Party op = MakeParty("XOP");
  op.tier = PartyTier::kOperationalPartner;
  op.agreement_in_force = true;
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) {
                    EXPECT_TRUE(txn.InsertParty(ro).ok());
                    EXPECT_TRUE(txn.InsertParty(op).ok());
                    return txn.InsertParty(ob);
                  })
                  .ok());
  EXPECT_EQ(*store_->GetParty("XOB"), ob);
  EXPECT_EQ(*store_->GetParty("XOP"), op);
  EXPECT_THAT(*store_->ListParties(), ElementsAre(ro, ob, op));

  absl::Status dup =
      store_->Write([&](WriteTransaction& txn) { return txn.InsertParty(ro); });
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(dup.message(), HasSubstr("RO"));
  EXPECT_EQ(store_->GetParty("HU").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreWithParties, MessageRoundTripsExactly) {
  Message m =
      MakeMessage("01M00000000000000000000001", "RO", {"HU", "BG"}, "key-1");
  ASSERT_TRUE(Insert(m).ok());
  absl::StatusOr<Message> got = store_->GetMessage(m.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_GT(got->seq, 0);
  m.seq = got->seq;
  EXPECT_EQ(*got, m);

  Message plain = MakeMessage("01M00000000000000000000002", "HU", {"RO"},
                              "key-1", MessageKind::kWarning);
  plain.evaluation.reset();
  plain.handling_code = HandlingCode::kH0;
  plain.handling_restriction.clear();
  ASSERT_TRUE(Insert(plain).ok());
  got = store_->GetMessage(plain.id);
  ASSERT_TRUE(got.ok());
  plain.seq = got->seq;
  EXPECT_EQ(*got, plain);
  EXPECT_FALSE(got->recipients[0].request_state.has_value());
}

TEST_P(StoreWithParties, IdempotencyKeysAreScopedToTheSender) {
  Message m = MakeMessage("01M00000000000000000000001", "RO", {"HU"}, "k");
  ASSERT_TRUE(Insert(m).ok());
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) {
                    absl::StatusOr<std::optional<Message>> found =
                        txn.FindByIdempotencyKey("RO", "k");
                    EXPECT_TRUE(found.ok() && found->has_value() &&
                                (*found)->id == m.id);
                    found = txn.FindByIdempotencyKey("HU", "k");
                    EXPECT_TRUE(found.ok() && !found->has_value());
                    return absl::OkStatus();
                  })
                  .ok());
  // Same key from the same sender: refused.
  Message again = MakeMessage("01M00000000000000000000002", "RO", {"HU"}, "k");
  EXPECT_EQ(Insert(again).code(), absl::StatusCode::kAlreadyExists);
  // Same id: refused.
  Message same_id = MakeMessage(m.id, "HU", {"RO"}, "other");
  EXPECT_EQ(Insert(same_id).code(), absl::StatusCode::kAlreadyExists);
  // Same key from another sender: fine.
  Message other = MakeMessage("01M00000000000000000000003", "HU", {"RO"}, "k");
  EXPECT_TRUE(Insert(other).ok());
}

TEST_P(StoreWithParties, InboxAndOutboxAreNewestFirstAndPaged) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    const std::string id = absl::StrCat("01M0000000000000000000000", i);
    ids.push_back(id);
    // RO sends to HU (and BG for odd ones).
    std::vector<std::string> to = {"HU"};
    if (i % 2 == 1) to.push_back("BG");
    ASSERT_TRUE(Insert(MakeMessage(id, "RO", to, absl::StrCat("k", i))).ok());
  }
  ASSERT_TRUE(
      Insert(MakeMessage("01M0000000000000000000000X", "HU", {"RO"}, "hu-1"))
          .ok());

  absl::StatusOr<std::vector<Message>> inbox =
      store_->ListInbox("HU", 3, std::nullopt);
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  EXPECT_THAT(Ids(*inbox), ElementsAre(ids[6], ids[5], ids[4]));
  inbox = store_->ListInbox("HU", 3, inbox->back().seq);
  EXPECT_THAT(Ids(*inbox), ElementsAre(ids[3], ids[2], ids[1]));
  inbox = store_->ListInbox("HU", 3, inbox->back().seq);
  EXPECT_THAT(Ids(*inbox), ElementsAre(ids[0]));

  EXPECT_THAT(Ids(*store_->ListInbox("BG", 10, std::nullopt)),
              ElementsAre(ids[5], ids[3], ids[1]));
  EXPECT_THAT(Ids(*store_->ListInbox("RO", 10, std::nullopt)),
              ElementsAre("01M0000000000000000000000X"));
  EXPECT_EQ(store_->ListOutbox("RO", 100, std::nullopt)->size(), 7u);
  EXPECT_THAT(Ids(*store_->ListOutbox("HU", 100, std::nullopt)),
              ElementsAre("01M0000000000000000000000X"));
  EXPECT_TRUE(store_->ListInbox("XOB", 10, std::nullopt)->empty());
  // Listings carry recipients.
  EXPECT_EQ((*store_->ListInbox("BG", 1, std::nullopt))[0].recipients.size(),
            2u);
}

TEST_P(StoreWithParties, MarkAnsweredMovesOpenRequestsOnly) {
  Message request =
      MakeMessage("01M00000000000000000000001", "RO", {"HU", "BG"}, "k");
  ASSERT_TRUE(Insert(request).ok());
  auto mark = [&](const std::string& id, const std::string& party) {
    return store_->Write([&](WriteTransaction& txn) {
      return txn.MarkAnswered(id, party, "01M00000000000000000000009", T(5));
    });
  };
  ASSERT_TRUE(mark(request.id, "HU").ok());
  absl::StatusOr<Message> got = store_->GetMessage(request.id);
  ASSERT_TRUE(got.ok());
  const Recipient* hu = got->FindRecipient("HU");
  ASSERT_NE(hu, nullptr);
  EXPECT_EQ(hu->request_state, RequestState::kAnswered);
  EXPECT_EQ(hu->answered_at, T(5));
  EXPECT_EQ(hu->reply_id, "01M00000000000000000000009");
  EXPECT_EQ(got->FindRecipient("BG")->request_state, RequestState::kOpen);

  absl::Status twice = mark(request.id, "HU");
  EXPECT_EQ(twice.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(twice.message(), HasSubstr("ANSWERED"));
  EXPECT_EQ(mark(request.id, "XOB").code(), absl::StatusCode::kNotFound);

  Message warning = MakeMessage("01M00000000000000000000002", "RO", {"HU"},
                                "k2", MessageKind::kWarning);
  ASSERT_TRUE(Insert(warning).ok());
  EXPECT_EQ(mark(warning.id, "HU").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_P(StoreWithParties, FailedTransactionLeavesNothing) {
  Message m = MakeMessage("01M00000000000000000000001", "RO", {"HU"}, "k");
  absl::Status status = store_->Write([&](WriteTransaction& txn) {
    EXPECT_TRUE(txn.InsertMessage(m).ok());
    EXPECT_TRUE(StoreAuditLog().Append(txn, MakeEntry(1)).ok());
    return absl::AbortedError("changed my mind");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store_->GetMessage(m.id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(*store_->AuditSize(), 0);
  EXPECT_TRUE(store_->ListOutbox("RO", 10, std::nullopt)->empty());
  // The store is usable afterwards.
  EXPECT_TRUE(Insert(m).ok());
}

TEST_P(StoreWithParties, AuditEntriesAreDenseAndRoundTrip) {
  std::vector<AuditEntry> written;
  for (int i = 1; i <= 5; ++i) {
    AuditEntry e = MakeEntry(i);
    ASSERT_TRUE(store_
                    ->Write([&](WriteTransaction& txn) {
                      absl::StatusOr<int64_t> seq =
                          StoreAuditLog().Append(txn, e);
                      if (!seq.ok()) return seq.status();
                      EXPECT_EQ(*seq, i);
                      return absl::OkStatus();
                    })
                    .ok());
    e.seq = i;
    written.push_back(e);
  }
  AuditEntry empty_resources = MakeEntry(6);
  empty_resources.resources.clear();
  ASSERT_TRUE(
      store_
          ->Write([&](WriteTransaction& txn) {
            return StoreAuditLog().Append(txn, empty_resources).status();
          })
          .ok());
  empty_resources.seq = 6;
  written.push_back(empty_resources);

  EXPECT_EQ(*store_->AuditSize(), 6);
  absl::StatusOr<std::vector<AuditEntry>> all = store_->ReadAudit(1, 100);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(*all, written);
  absl::StatusOr<std::vector<AuditEntry>> tail = store_->ReadAudit(5, 1);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ((*tail)[0], written[4]);

  AuditEntry multiline = MakeEntry(7);
  multiline.resources = {"a\nb"};
  EXPECT_EQ(store_
                ->Write([&](WriteTransaction& txn) {
                  return StoreAuditLog().Append(txn, multiline).status();
                })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

absl::Status AppendAll(Store& store, const std::vector<AuditEntry>& entries) {
  return store.Write([&](WriteTransaction& txn) -> absl::Status {
    for (const AuditEntry& e : entries) {
      absl::StatusOr<int64_t> seq = StoreAuditLog().Append(txn, e);
      if (!seq.ok()) return seq.status();
    }
    return absl::OkStatus();
  });
}

// The root as the store's nodes give it, and as the entries read back give
// it when hashed from scratch.
void ExpectTreeMatchesEntries(Store& store) {
  const int64_t size = *store.AuditSize();
  absl::StatusOr<std::vector<AuditEntry>> entries = store.ReadAudit(1, 10000);
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), static_cast<size_t>(size));
  std::vector<std::string> leaf_hashes;
  for (const AuditEntry& e : *entries) {
    leaf_hashes.push_back(merkle::LeafHash(EncodeAuditLeaf(e)));
  }
  absl::StatusOr<std::string> root =
      merkle::RootHash(size, [&](int level, uint64_t index) {
        return store.ReadAuditNode(level, static_cast<int64_t>(index));
      });
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root, merkle::RootHash(leaf_hashes));
  absl::StatusOr<std::vector<std::string>> stored =
      store.ReadAuditLeafHashes(1, 10000);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(*stored, leaf_hashes);
}

TEST_P(StoreConformanceTest, AuditTreeFollowsTheEntriesAcrossReopen) {
  std::vector<AuditEntry> first;
  for (int i = 1; i <= 9; ++i) first.push_back(MakeEntry(i));
  ASSERT_TRUE(AppendAll(*store_, first).ok());
  ExpectTreeMatchesEntries(*store_);
  Reopen();
  for (int i = 10; i <= 21; ++i) {
    ASSERT_TRUE(AppendAll(*store_, {MakeEntry(i)}).ok());
  }
  EXPECT_EQ(*store_->AuditSize(), 21);
  ExpectTreeMatchesEntries(*store_);
  EXPECT_EQ(store_->ReadAuditNode(0, 21).status().code(),
            absl::StatusCode::kNotFound);
  // 21 = 16 + 4 + 1: the root needs just those three stored subtrees.
  EXPECT_TRUE(store_->ReadAuditNode(4, 0).ok());
  EXPECT_TRUE(store_->ReadAuditNode(2, 4).ok());
}

TEST_P(StoreConformanceTest, AnEntryWithoutItsTreeNodesIsRefused) {
  ASSERT_TRUE(AppendAll(*store_, {MakeEntry(1)}).ok());
  const std::string leaf = merkle::LeafHash(EncodeAuditLeaf(MakeEntry(2)));
  for (const std::vector<merkle::Node>& nodes :
       {std::vector<merkle::Node>{}, std::vector<merkle::Node>{{0, 0, leaf}},
        std::vector<merkle::Node>{{1, 1, leaf}}}) {
    EXPECT_EQ(store_
                  ->Write([&](WriteTransaction& txn) {
                    return txn.AppendAudit(MakeEntry(2), nodes).status();
                  })
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(*store_->AuditSize(), 1);
  ExpectTreeMatchesEntries(*store_);
}

TEST_P(StoreConformanceTest, AuditEntriesByPartyResourceAndRange) {
  std::vector<AuditEntry> entries;
  for (int i = 1; i <= 6; ++i) {
    AuditEntry e = MakeEntry(i);
    e.party = i % 2 == 0 ? "RO" : "HU";
    e.resources = {absl::StrCat("M", i % 3), "HU"};
    entries.push_back(e);
  }
  ASSERT_TRUE(AppendAll(*store_, entries).ok());
  auto seqs = [&](const AuditQuery& query) {
    std::vector<int64_t> out;
    const std::vector<AuditEntry> entries = *store_->ReadAudit(query);
    for (const AuditEntry& e : entries) out.push_back(e.seq);
    return out;
  };
  AuditQuery by_party;
  by_party.party = "RO";
  EXPECT_EQ(seqs(by_party), (std::vector<int64_t>{2, 4, 6}));
  AuditQuery by_resource;
  by_resource.resource = "M1";
  EXPECT_EQ(seqs(by_resource), (std::vector<int64_t>{1, 4}));
  by_resource.party = "RO";
  EXPECT_EQ(seqs(by_resource), (std::vector<int64_t>{4}));
  AuditQuery range;
  range.from_seq = 2;
  range.to_seq = 4;
  EXPECT_EQ(seqs(range), (std::vector<int64_t>{2, 3, 4}));
  range.limit = 2;
  EXPECT_EQ(seqs(range), (std::vector<int64_t>{2, 3}));
  AuditQuery none;
  none.resource = "M9";
  EXPECT_TRUE(seqs(none).empty());
}

TEST_P(StoreConformanceTest, CheckpointsOnlyMoveForwardWithinTheLog) {
  EXPECT_FALSE(store_->LatestCheckpoint()->has_value());
  std::vector<AuditEntry> entries;
  for (int i = 1; i <= 5; ++i) entries.push_back(MakeEntry(i));
  ASSERT_TRUE(AppendAll(*store_, entries).ok());
  auto insert = [&](int64_t size) {
    AuditCheckpoint c;
    c.tree_size = size;
    c.root_hash = std::string(32, static_cast<char>(size));
    c.note = absl::StrCat("origin\n", size, "\nroot\n\nsig\n");
    c.signed_at = T(static_cast<int>(size));
    return store_->Write(
        [&](WriteTransaction& txn) { return txn.InsertCheckpoint(c); });
  };
  EXPECT_EQ(insert(0).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(insert(3).ok());
  EXPECT_EQ(insert(3).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(insert(2).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(insert(6).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(insert(5).ok());
  Reopen();
  absl::StatusOr<std::optional<AuditCheckpoint>> latest =
      store_->LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->tree_size, 5);
  EXPECT_EQ((*latest)->root_hash, std::string(32, '\x05'));
  EXPECT_EQ((*latest)->signed_at, T(5));
  std::vector<int64_t> sizes;
  const std::vector<AuditCheckpoint> checkpoints = *store_->ListCheckpoints(4);
  for (const AuditCheckpoint& c : checkpoints) sizes.push_back(c.tree_size);
  EXPECT_EQ(sizes, (std::vector<int64_t>{3}));
  EXPECT_EQ(store_->ListCheckpoints(100)->size(), 2u);
}

TEST_P(StoreWithParties, CommittedWritesSurviveReopen) {
  Message m = MakeMessage("01M00000000000000000000001", "RO", {"HU"}, "k");
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) {
                    absl::Status s = txn.InsertMessage(m);
                    if (!s.ok()) return s;
                    return StoreAuditLog().Append(txn, MakeEntry(2)).status();
                  })
                  .ok());
  Reopen();
  absl::StatusOr<Message> got = store_->GetMessage(m.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->body, m.body);
  EXPECT_EQ(*store_->AuditSize(), 1);
  EXPECT_EQ(store_->ListParties()->size(), 4u);
}

TEST_P(StoreWithParties, ConcurrentWritersAreSerialised) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Message m =
            MakeMessage(absl::StrCat("01M", t, std::string(20, '0'), 100 + i),
                        "RO", {"HU"}, absl::StrCat("k", t, "-", i));
        EXPECT_TRUE(
            store_
                ->Write([&](WriteTransaction& txn) {
                  absl::Status s = txn.InsertMessage(m);
                  if (!s.ok()) return s;
                  return StoreAuditLog().Append(txn, MakeEntry(i)).status();
                })
                .ok());
        EXPECT_TRUE(store_->GetMessage(m.id).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(*store_->AuditSize(), kThreads * kPerThread);
  absl::StatusOr<std::vector<AuditEntry>> entries = store_->ReadAudit(1, 1000);
  ASSERT_TRUE(entries.ok());
  for (size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].seq, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(store_->ListOutbox("RO", 1000, std::nullopt)->size(),
            static_cast<size_t>(kThreads * kPerThread));
}

// Writes that overlap (and may share a commit) succeed or fail each on its
// own: a failed one leaves none of its writes, the others keep all of
// theirs, and the audit log stays dense with a tree that matches it.
TEST_P(StoreWithParties, AFailedWriteAmongConcurrentOnesTakesOnlyItsOwn) {
  Message existing =
      MakeMessage("01M00000000000000000000999", "RO", {"HU"}, "taken");
  ASSERT_TRUE(Insert(existing).ok());

  // The first write holds the store while the others queue behind it.
  absl::Notification holding, release;
  std::thread holder([&] {
    EXPECT_TRUE(store_
                    ->Write([&](WriteTransaction& txn) {
                      holding.Notify();
                      release.WaitForNotification();
                      return StoreAuditLog().Append(txn, MakeEntry(0)).status();
                    })
                    .ok());
  });
  holding.WaitForNotification();

  constexpr int kWriters = 12;
  std::vector<absl::Status> results(kWriters);
  std::vector<std::thread> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      // Every third refuses after writing; every third but one collides
      // with a stored idempotency key after writing its audit entry.
      const std::string key = i % 3 == 1 ? "taken" : absl::StrCat("c", i);
      Message m =
          MakeMessage(absl::StrCat("01M1", std::string(20, '0'), 10 + i), "RO",
                      {"HU"}, key);
      results[i] = store_->Write([&](WriteTransaction& txn) -> absl::Status {
        absl::Status s = StoreAuditLog().Append(txn, MakeEntry(i + 1)).status();
        if (!s.ok()) return s;
        s = txn.InsertMessage(m);
        if (!s.ok()) return s;
        s = txn.AppendEvent({0, "HU", "MESSAGE", m.id, "test", m.created_at});
        if (!s.ok()) return s;
        return i % 3 == 2 ? absl::AbortedError("changed my mind")
                          : absl::OkStatus();
      });
    });
  }
  // Let them queue up behind the holder, then let everything run.
  absl::SleepFor(absl::Milliseconds(200));
  release.Notify();
  holder.join();
  for (std::thread& writer : writers) writer.join();

  int kept = 0;
  for (int i = 0; i < kWriters; ++i) {
    SCOPED_TRACE(absl::StrCat("writer ", i));
    const std::string id = absl::StrCat("01M1", std::string(20, '0'), 10 + i);
    switch (i % 3) {
      case 0:
        EXPECT_TRUE(results[i].ok()) << results[i];
        EXPECT_TRUE(store_->GetMessage(id).ok());
        ++kept;
        break;
      case 1:
        EXPECT_EQ(results[i].code(), absl::StatusCode::kAlreadyExists);
        EXPECT_EQ(store_->GetMessage(id).status().code(),
                  absl::StatusCode::kNotFound);
        break;
      case 2:
        EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted);
        EXPECT_EQ(store_->GetMessage(id).status().code(),
                  absl::StatusCode::kNotFound);
        break;
    }
  }
  // The holder's entry and one per kept write, numbered without gaps.
  ASSERT_EQ(*store_->AuditSize(), 1 + kept);
  absl::StatusOr<std::vector<AuditEntry>> entries = store_->ReadAudit(1, 100);
  ASSERT_TRUE(entries.ok());
  std::vector<std::string> leaves;
  for (size_t i = 0; i < entries->size(); ++i) {
    EXPECT_EQ((*entries)[i].seq, static_cast<int64_t>(i + 1));
    leaves.push_back(merkle::LeafHash(EncodeAuditLeaf((*entries)[i])));
  }
  // The stored tree is the tree of exactly these entries.
  EXPECT_EQ(*store_->ReadAuditLeafHashes(1, 100), leaves);
  EXPECT_EQ(store_->ReadEvents("HU", 0, 100)->size(),
            static_cast<size_t>(kept));
}

}  // namespace liaison::testing

namespace liaison::testing {
namespace {

Message Request(const std::string& id, const std::string& from,
                std::vector<std::string> to, absl::Time due) {
  Message m;
  m.id = id;
  m.idempotency_key = id;
  m.content_digest = "d";
  m.sender_party = from;
  m.sender_user = "u";
  m.kind = MessageKind::kRequest;
  m.subject = "s";
  m.body = "b";
  m.created_at = absl::FromUnixSeconds(1790000000);
  for (const std::string& party : to) {
    Recipient r;
    r.party = party;
    r.request_state = RequestState::kOpen;
    r.due_at = due;
    m.recipients.push_back(r);
  }
  return m;
}

absl::Time At(int seconds) {
  return absl::FromUnixSeconds(1790000000 + seconds);
}

}  // namespace

TEST_P(StoreWithParties, RecipientStateReceiptsAndRequestQueries) {
  ASSERT_TRUE(
      Insert(Request("01M0000000000000000000000A", "RO", {"HU", "BG"}, At(100)))
          .ok());
  ASSERT_TRUE(
      Insert(Request("01M0000000000000000000000B", "RO", {"HU"}, At(1000)))
          .ok());
  // Refuse BG's copy; deliver and read HU's.
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    absl::StatusOr<Message> m =
                        txn.GetMessage("01M0000000000000000000000A");
                    if (!m.ok()) return m.status();
                    Recipient bg = *m->FindRecipient("BG");
                    bg.request_state = RequestState::kRefused;
                    bg.refused_at = At(5);
                    bg.refusal_reason = RefusalReason::kNationalLaw;
                    bg.refusal_text = "courts";
                    absl::Status s =
                        txn.UpdateRecipient("01M0000000000000000000000A", bg);
                    if (!s.ok()) return s;
                    s = txn.RecordReceipts("HU", {"01M0000000000000000000000A"},
                                           At(6), /*read=*/false);
                    if (!s.ok()) return s;
                    return txn.RecordReceipts(
                        "HU", {"01M0000000000000000000000A"}, At(7), true);
                  })
                  .ok());
  absl::StatusOr<Message> a = store_->GetMessage("01M0000000000000000000000A");
  ASSERT_TRUE(a.ok());
  const Recipient* hu = a->FindRecipient("HU");
  EXPECT_EQ(hu->delivered_at, At(6));  // the first delivery is kept
  EXPECT_EQ(hu->read_at, At(7));
  EXPECT_EQ(hu->due_at, At(100));
  const Recipient* bg = a->FindRecipient("BG");
  EXPECT_EQ(bg->request_state, RequestState::kRefused);
  EXPECT_EQ(bg->refusal_reason, RefusalReason::kNationalLaw);
  EXPECT_EQ(bg->refusal_text, "courts");

  RequestQuery query;
  query.party = "HU";
  query.due_before = At(500);
  absl::StatusOr<std::vector<Message>> due = store_->ListRequests(query);
  ASSERT_TRUE(due.ok()) << due.status();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, "01M0000000000000000000000A");
  query.party = "BG";
  EXPECT_TRUE(store_->ListRequests(query)->empty());  // refused: not due
  query.party = "RO";
  query.sent = true;
  query.due_before.reset();
  query.state = RequestState::kRefused;
  ASSERT_EQ(store_->ListRequests(query)->size(), 1u);

  absl::StatusOr<std::vector<RequestRow>> rows =
      store_->ListRequestRows(At(0), At(1), "BG");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].refusal_reason, RefusalReason::kNationalLaw);
  EXPECT_EQ(store_->ListRequestRows(At(0), At(1), "")->size(), 3u);
  EXPECT_TRUE(store_->ListRequestRows(At(1), At(2), "")->empty());
}

TEST_P(StoreWithParties, CasesConsentsHistoryAndRevocations) {
  ASSERT_TRUE(
      Insert(Request("01M0000000000000000000000A", "RO", {"HU"}, At(100)))
          .ok());
  Case c;
  c.id = "01M0000000000000000000000C";
  c.title = "Operation";
  c.owner_party = "RO";
  c.participants = {"HU"};
  c.opened_at = At(1);
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    absl::Status s = txn.InsertCase(c);
                    if (!s.ok()) return s;
                    s = txn.SetCaseParticipant(c.id, "BG", true, At(2));
                    if (!s.ok()) return s;
                    return txn.AttachToCase(c.id, "01M0000000000000000000000A",
                                            At(3));
                  })
                  .ok());
  absl::StatusOr<Case> got = store_->GetCase(c.id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->participants, ElementsAre("HU", "BG"));
  EXPECT_THAT(got->message_ids, ElementsAre("01M0000000000000000000000A"));
  EXPECT_THAT(*store_->CaseReaders("01M0000000000000000000000A"),
              ElementsAre("BG", "HU", "RO"));
  EXPECT_EQ(store_->CaseThread(c.id)->size(), 1u);
  EXPECT_EQ(store_->ListCases("BG")->size(), 1u);
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    absl::Status s =
                        txn.SetCaseParticipant(c.id, "BG", false, At(4));
                    if (!s.ok()) return s;
                    return txn.CloseCase(c.id, At(5));
                  })
                  .ok());
  EXPECT_THAT(*store_->CaseReaders("01M0000000000000000000000A"),
              ElementsAre("HU", "RO"));
  EXPECT_TRUE(store_->ListCases("BG")->empty());
  EXPECT_EQ(store_->GetCase(c.id)->state, CaseState::kClosed);
  EXPECT_EQ(*store_->CountCases(At(0), At(10), "RO"),
            std::make_pair(int64_t{1}, int64_t{1}));

  Consent consent;
  consent.id = "01M0000000000000000000000D";
  consent.origin_id = "01M0000000000000000000000A";
  consent.owner_party = "RO";
  consent.requester_party = "HU";
  consent.target_party = "BG";
  consent.justification = "why";
  consent.requested_at = At(6);
  consent.requested_by = "spiffe://x";
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) {
                    return txn.InsertConsent(consent);
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    absl::StatusOr<std::optional<Consent>> none =
                        txn.FindGrantedConsent(consent.origin_id, "HU", "BG");
                    EXPECT_TRUE(none.ok() && !none->has_value());
                    consent.state = ConsentState::kGranted;
                    consent.decided_at = At(7);
                    consent.decided_by = "spiffe://ro";
                    return txn.UpdateConsent(consent);
                  })
                  .ok());
  EXPECT_THAT(*store_->ListConsents("RO"), ElementsAre(consent));
  EXPECT_THAT(*store_->ListConsents("HU"), ElementsAre(consent));
  EXPECT_TRUE(store_->ListConsents("BG")->empty());

  PartyChange change{"HU",     At(8),       "spiffe://hq", "SUSPENDED",
                     "ACTIVE", "SUSPENDED", "audit"};
  Revocation revocation{"ABC", "", "lost", At(9), "spiffe://hq"};
  ASSERT_TRUE(store_
                  ->Write([&](WriteTransaction& txn) -> absl::Status {
                    absl::Status s = txn.AppendPartyChange(change);
                    if (!s.ok()) return s;
                    return txn.InsertRevocation(revocation);
                  })
                  .ok());
  EXPECT_THAT(*store_->ListPartyChanges("HU"), ElementsAre(change));
  EXPECT_EQ(**store_->FindRevocation("ABC", ""), revocation);
  EXPECT_FALSE(store_->FindRevocation("", "")->has_value());
  EXPECT_EQ(store_
                ->Write([&](WriteTransaction& txn) {
                  return txn.InsertRevocation(revocation);
                })
                .code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace liaison::testing

namespace liaison::testing {

TEST_P(StoreWithParties, EventsArePerPartyAndOrdered) {
  EXPECT_EQ(*store_->LastEventSeq("HU"), 0);
  ASSERT_TRUE(store_
                  ->Write([](WriteTransaction& txn) -> absl::Status {
                    for (const char* party : {"HU", "RO", "HU"}) {
                      absl::Status s = txn.AppendEvent(
                          {0, party, "MESSAGE", "01M0000000000000000000000A",
                           "REQUEST from RO", absl::FromUnixSeconds(5)});
                      if (!s.ok()) return s;
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  absl::StatusOr<std::vector<Event>> hu = store_->ReadEvents("HU", 0, 10);
  ASSERT_TRUE(hu.ok()) << hu.status();
  ASSERT_EQ(hu->size(), 2u);
  EXPECT_LT((*hu)[0].seq, (*hu)[1].seq);
  EXPECT_EQ((*hu)[0].detail, "REQUEST from RO");
  EXPECT_EQ((*hu)[0].time, absl::FromUnixSeconds(5));
  EXPECT_EQ(*store_->LastEventSeq("HU"), (*hu)[1].seq);
  EXPECT_EQ(store_->ReadEvents("HU", (*hu)[0].seq, 10)->size(), 1u);
  EXPECT_EQ(store_->ReadEvents("HU", 0, 1)->size(), 1u);
  EXPECT_EQ(store_->ReadEvents("RO", 0, 10)->size(), 1u);
  EXPECT_EQ(*store_->CountEvents("HU", 0, 10), 2);
  EXPECT_EQ(*store_->CountEvents("HU", 0, 1), 1);  // counts no further
  EXPECT_EQ(*store_->CountEvents("HU", (*hu)[1].seq, 10), 0);
}

}  // namespace liaison::testing

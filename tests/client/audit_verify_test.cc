// The offline export verifier on exports made here, good and crafted: it
// must say OK only for a log that reproduces its signed root, name what is
// wrong otherwise, and never crash on a hostile file.
#include "client/audit_verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/signed_note.h"
#include "domain/merkle.h"
#include "server/convert.h"

namespace liaison::client {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

class AuditVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> key = GenerateNotePrivateKey("test/audit");
    ASSERT_TRUE(key.ok());
    signer_.emplace(*NoteSigner::FromPrivateKey(*key));
    verifier_.emplace(*NoteVerifier::FromVerifierKey(signer_->VerifierKey()));
    for (int i = 1; i <= 9; ++i) {
      RecordedEntry r;
      r.entry.seq = i;
      r.entry.time = absl::FromUnixMicros(1764000000000000 + i);
      r.entry.principal = absl::StrCat("spiffe://selec.test/party/", Party(i),
                                       "/focal-point/x");
      r.entry.party = Party(i);
      r.entry.role = "focal-point";
      r.entry.user_id = "x";
      r.entry.action = "Exchange.GetMessage";
      r.entry.resources = {absl::StrCat("M", i)};
      r.leaf_hash = merkle::LeafHash(EncodeAuditLeaf(r.entry));
      entries_.push_back(r);
    }
  }

  static std::string Party(int i) { return i % 3 == 0 ? "HU" : "RO"; }

  std::string Checkpoint(size_t size) {
    std::vector<std::string> leaves;
    for (size_t i = 0; i < size; ++i) leaves.push_back(entries_[i].leaf_hash);
    CheckpointBody body{"test/audit", size, merkle::RootHash(leaves), {}};
    return *signer_->Sign(FormatCheckpoint(body));
  }

  // An export of the first `size` entries (a party's: those of `party`,
  // with proofs), each record passed through `edit` first.
  std::string Export(size_t size, const std::string& party = "",
                     const std::function<void(v1::ExportedEntry&)>& edit = {}) {
    v1::ExportHeader header;
    header.set_format(std::string(kExportFormat));
    header.set_scope(party.empty() ? "full" : "party:" + party);
    header.mutable_checkpoint()->set_note(Checkpoint(size));
    header.add_earlier_checkpoints()->set_note(Checkpoint(4));
    std::string text = *ExportLine(header) + "\n";
    std::vector<std::string> leaves;
    for (size_t i = 0; i < size; ++i) leaves.push_back(entries_[i].leaf_hash);
    for (size_t i = 0; i < size; ++i) {
      if (!party.empty() && entries_[i].entry.party != party) continue;
      v1::ExportedEntry line;
      server::ToProto(entries_[i], line.mutable_record());
      if (!party.empty()) {
        const std::vector<std::string> proof =
            *merkle::InclusionProof(leaves, i, size);
        for (const std::string& hash : proof) line.add_inclusion_proof(hash);
      }
      if (edit) edit(line);
      text += *ExportLine(line) + "\n";
    }
    return text;
  }

  ExportReport Verify(const std::string& text,
                      const std::vector<std::string>& kept = {}) {
    std::istringstream in(text);
    return VerifyExport(in, *verifier_, kept);
  }

  std::optional<NoteSigner> signer_;
  std::optional<NoteVerifier> verifier_;
  std::vector<RecordedEntry> entries_;
};

TEST_F(AuditVerifyTest, AnIntactExportVerifies) {
  ExportReport report = Verify(Export(9), {Checkpoint(6), Checkpoint(9)});
  EXPECT_TRUE(report.ok) << absl::StrJoin(report.problems, "\n");
  EXPECT_EQ(report.entries, 9);
  EXPECT_EQ(report.checkpoints_checked, 3);  // at 4, 6 and 9
  ExportReport party = Verify(Export(9, "HU"));
  EXPECT_TRUE(party.ok) << absl::StrJoin(party.problems, "\n");
  EXPECT_EQ(party.entries, 3);
}

TEST_F(AuditVerifyTest, AFieldEditedInTheFileIsNamed) {
  ExportReport report =
      Verify(Export(9, "",
                    [](v1::ExportedEntry& e) {
                      if (e.record().seq() == 6) {
                        e.mutable_record()->set_reason("edited");
                      }
                    }),
             {Checkpoint(6)});
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problems,
              Contains(HasSubstr("entry 6 was altered: its fields")));
  EXPECT_THAT(report.problems,
              Contains(HasSubstr("entries 1..6 do not reproduce the root of "
                                 "your kept checkpoint of 6")))
      << "kept checkpoints are checked on the way";
}

TEST_F(AuditVerifyTest, AnEntryInAPartyExportIsProvenOnItsOwn) {
  ExportReport report = Verify(Export(9, "HU", [](v1::ExportedEntry& e) {
    if (e.record().seq() == 6) e.mutable_record()->set_action("Other");
  }));
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problems, Contains(HasSubstr("entry 6 is not in the "
                                                  "signed tree of 9 entries")));
}

TEST_F(AuditVerifyTest, HostileNumbersAndLinesAreReportedNotFatal) {
  ExportReport huge = Verify(Export(9, "", [](v1::ExportedEntry& e) {
    if (e.record().seq() == 2) {
      e.mutable_record()->set_seq(std::numeric_limits<int64_t>::max());
    }
  }));
  EXPECT_FALSE(huge.ok);
  EXPECT_THAT(huge.problems, Contains(HasSubstr("out of range")));
  ExportReport negative = Verify(Export(9, "", [](v1::ExportedEntry& e) {
    if (e.record().seq() == 4) e.mutable_record()->set_seq(-7);
  }));
  EXPECT_FALSE(negative.ok);

  std::string text = Export(9);
  text.insert(text.find('\n') + 1, "{not json\n");
  ExportReport garbage = Verify(text);
  EXPECT_FALSE(garbage.ok);
  EXPECT_THAT(garbage.problems,
              Contains(HasSubstr("line 2 is not an export entry")));

  ExportReport repeated = Verify(Export(9, "HU", [](v1::ExportedEntry& e) {
    if (e.record().seq() == 6) e.mutable_record()->set_seq(3);
  }));
  EXPECT_FALSE(repeated.ok);
  EXPECT_THAT(repeated.problems,
              Contains(HasSubstr("repeated or out of order")));

  ExportReport foreign = Verify(Export(9, "HU", [](v1::ExportedEntry& e) {
    if (e.record().seq() == 6) e.mutable_record()->set_party("RO");
  }));
  EXPECT_FALSE(foreign.ok);
  EXPECT_THAT(foreign.problems, Contains(HasSubstr("is RO's")));
}

TEST_F(AuditVerifyTest, HeadersAndCheckpointsAreChecked) {
  EXPECT_THAT(Verify("").problems, Contains(HasSubstr("no export header")));
  EXPECT_THAT(Verify("[]\n").problems,
              Contains(HasSubstr("line 1 is not an export header")));
  EXPECT_THAT(Verify("{\"format\": \"other/9\"}\n").problems,
              Contains(HasSubstr("is not liaison-audit-export/1")));

  // Signed by another key: nothing verifies.
  NoteSigner other =
      *NoteSigner::FromPrivateKey(*GenerateNotePrivateKey("test/audit"));
  std::string text = Export(9);
  const std::string note = Checkpoint(9);
  v1::ExportHeader header;
  header.set_format(std::string(kExportFormat));
  header.set_scope("full");
  header.mutable_checkpoint()->set_note(
      *other.Sign(note.substr(0, note.find("\n\n") + 1)));
  text = *ExportLine(header) + text.substr(text.find('\n'));
  ExportReport forged = Verify(text);
  EXPECT_FALSE(forged.ok);
  EXPECT_THAT(forged.problems, Contains(HasSubstr("the export's checkpoint")));

  // A kept checkpoint beyond the export cannot be vouched for.
  ExportReport newer = Verify(Export(6), {Checkpoint(9)});
  EXPECT_FALSE(newer.ok);
  EXPECT_THAT(newer.problems, Contains(HasSubstr("export again to check it")));
  ExportReport short_export =
      Verify(Export(9).substr(0, Export(9).rfind("\n{")) + "\n");
  EXPECT_FALSE(short_export.ok);
  EXPECT_THAT(short_export.problems,
              Contains(HasSubstr("the export has 8 entries; its signed "
                                 "checkpoint covers 9")));
}

TEST_F(AuditVerifyTest, ConsistencyAndInclusionChecks) {
  CheckedCheckpoint six = *CheckCheckpoint(Checkpoint(6), *verifier_);
  CheckedCheckpoint nine = *CheckCheckpoint(Checkpoint(9), *verifier_);
  std::vector<std::string> leaves;
  for (const RecordedEntry& r : entries_) leaves.push_back(r.leaf_hash);
  const std::vector<std::string> proof =
      *merkle::ConsistencyProof(leaves, 6, 9);
  EXPECT_TRUE(CheckConsistency(six, nine, proof).ok());
  EXPECT_THAT(CheckConsistency(nine, six, proof).message(),
              HasSubstr("the log shrank"));
  EXPECT_FALSE(CheckConsistency(six, nine, {}).ok());

  v1::AuditRecord record;
  server::ToProto(entries_[4], &record);
  EXPECT_TRUE(
      CheckInclusion(record, *merkle::InclusionProof(leaves, 4, 9), nine).ok());
  record.set_seq(4);  // another position
  EXPECT_FALSE(
      CheckInclusion(record, *merkle::InclusionProof(leaves, 4, 9), nine).ok());
  record.set_seq(10);
  EXPECT_THAT(CheckInclusion(record, {}, nine).message(),
              HasSubstr("outside the checkpoint"));
}

}  // namespace
}  // namespace liaison::client

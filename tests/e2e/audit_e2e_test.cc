// The verifiable audit log end to end, through the CLI against a real
// server: an auditor's export verified offline, checkpoints that extend one
// another, proofs, access receipts, and tampering with the database file
// (an edited, deleted, swapped or rewritten entry) caught by `verify` and
// `consistency`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/cli.h"
#include "common/signed_note.h"
#include "tests/testing/cli_runner.h"
#include "tests/testing/test_server.h"

namespace liaison::client {
namespace {

using testing::CertPaths;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestPki;
using testing::TestServer;

using Result = testing::CliResult;

// Runs SQL on the database file as someone with access to the disk would:
// first removing the triggers that keep the audit tables append-only.
void Tamper(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const std::string all = absl::StrCat(
      "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "
      "DROP TRIGGER audit_tree_no_update; DROP TRIGGER audit_tree_no_delete; "
      "DROP TRIGGER audit_checkpoints_no_delete; "
      "DROP TRIGGER audit_resources_no_delete; ",
      sql);
  const int rc = sqlite3_exec(db, all.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class AuditE2eTest : public ::testing::Test {
 protected:
  Result Run(const std::string& party, std::vector<std::string> args,
             const std::string& role = "liaison-officer",
             const std::string& user = "officer") {
    return testing::RunCliAs(
        server_.target(), party, role, user, args,
        {{"LIAISON_AUDIT_KEY", TestPki::Shared().audit_vkey()}});
  }
  Result Audit(std::vector<std::string> args) {
    return Run("HQ", std::move(args), "auditor", "aud");
  }
  // `liaison audit verify` needs no server and no certificate.
  static Result Verify(std::vector<std::string> args) {
    return testing::RunCliWithEnv(args, {});
  }

  std::string Send(const std::string& from, const std::string& to,
                   const std::string& subject) {
    Result r =
        Run(from, {"send", "--to=" + to, "--kind=SPONTANEOUS",
                   "--subject=" + subject, "--body=Seen at the border."});
    EXPECT_EQ(r.code, kExitOk) << r.err;
    std::vector<std::string> words = absl::StrSplit(r.out, ' ');
    return words.size() > 1 ? words[1] : "";
  }

  // Some traffic between parties, read by the recipients.
  void Traffic(int messages) {
    for (int i = 0; i < messages; ++i) {
      const std::string id = Send("RO", "HU", absl::StrCat("Trail ", i));
      EXPECT_EQ(Run("HU", {"show", id}).code, kExitOk);
    }
  }

  std::string File(const std::string& name) { return dir_.File(name); }

  // Exports the whole log as an auditor and verifies it offline.
  Result ExportAndVerify(const std::string& name,
                         std::vector<std::string> extra = {}) {
    Result exported = Audit({"audit", "export", "--out=" + File(name)});
    EXPECT_EQ(exported.code, kExitOk) << exported.err;
    std::vector<std::string> args = {"audit", "verify", File(name),
                                     "--key=" + TestPki::Shared().audit_vkey()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Verify(args);
  }

  testing::TempDir dir_;
  TestServer server_;
};

TEST_F(AuditE2eTest, AnAuditorVerifiesTheLogWithoutTheServer) {
  Traffic(3);
  Result c1 = Audit({"audit", "checkpoint", "--fresh", "--out=" + File("c1")});
  ASSERT_EQ(c1.code, kExitOk) << c1.err;
  EXPECT_THAT(c1.out, HasSubstr("checkpoint of "));
  Traffic(2);

  Result ok = ExportAndVerify("export.jsonl", {"--checkpoint=" + File("c1")});
  EXPECT_EQ(ok.code, kExitOk) << ok.out << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("OK: "));
  EXPECT_THAT(ok.out, HasSubstr("(full) verify against the checkpoint of"));
  EXPECT_THAT(ok.out, HasSubstr("signed by selec.test/liaison-audit"));

  // Stopping the server changes nothing about the file's verdict.
  server_.Restart();
  Result offline = Verify({"audit", "verify", File("export.jsonl"),
                           "--key=" + TestPki::Shared().audit_vkey()});
  EXPECT_EQ(offline.code, kExitOk) << offline.out;

  Result c2 = Audit({"audit", "checkpoint", "--fresh", "--out=" + File("c2")});
  ASSERT_EQ(c2.code, kExitOk) << c2.err;
  Result consistent = Audit({"audit", "consistency", File("c1"), File("c2")});
  EXPECT_EQ(consistent.code, kExitOk) << consistent.out << consistent.err;
  EXPECT_THAT(consistent.out, HasSubstr("extends the one of"));
  // The same without a server, from a full export.
  ASSERT_EQ(ExportAndVerify("export2.jsonl").code, kExitOk);
  Result offline_consistent =
      Verify({"audit", "consistency", File("c1"), File("c2"),
              "--export=" + File("export2.jsonl"),
              "--verifier-key=" + TestPki::Shared().audit_vkey()});
  EXPECT_EQ(offline_consistent.code, kExitOk)
      << offline_consistent.out << offline_consistent.err;
  EXPECT_THAT(offline_consistent.out, HasSubstr("extends the one of"));
  Result backwards = Audit({"audit", "consistency", File("c2"), File("c1")});
  EXPECT_EQ(backwards.code, kExitRefused);
  EXPECT_THAT(backwards.out, HasSubstr("FAILED: "));
  EXPECT_THAT(backwards.out, HasSubstr("the log shrank"));

  Result proved = Audit({"audit", "prove", "3"});
  EXPECT_EQ(proved.code, kExitOk) << proved.out << proved.err;
  EXPECT_THAT(proved.out, HasSubstr("OK: entry 3 is in the signed log"));

  // The wrong key verifies nothing.
  absl::StatusOr<std::string> other = GenerateNotePrivateKey("other/audit");
  ASSERT_TRUE(other.ok());
  const std::string other_vkey =
      NoteSigner::FromPrivateKey(*other)->VerifierKey();
  Result wrong_key =
      Verify({"audit", "verify", File("export.jsonl"), "--key=" + other_vkey});
  EXPECT_EQ(wrong_key.code, kExitRefused);
  EXPECT_THAT(wrong_key.out, HasSubstr("no signature by key other/audit"));
}

TEST_F(AuditE2eTest, PartiesSeeAndProveTheirOwnEntries) {
  Traffic(2);
  Result entries = Run("RO", {"audit", "entries"});
  ASSERT_EQ(entries.code, kExitOk) << entries.err;
  EXPECT_THAT(entries.out, HasSubstr("Exchange.SendMessage"));
  EXPECT_THAT(entries.out, Not(HasSubstr("Exchange.GetMessage")));  // HU's

  Result exported = Run("HU", {"audit", "export", "--out=" + File("hu.jsonl")});
  ASSERT_EQ(exported.code, kExitOk) << exported.err;
  EXPECT_THAT(exported.out, HasSubstr("(party:HU)"));
  Result verified = Verify({"audit", "verify", File("hu.jsonl"),
                            "--key=" + TestPki::Shared().audit_vkey()});
  EXPECT_EQ(verified.code, kExitOk) << verified.out;
  EXPECT_THAT(verified.out, HasSubstr("(party:HU) verify"));

  // Another party's entry is not RO's to prove.
  Result other = Run("RO", {"audit", "prove", "1"});
  EXPECT_EQ(other.code, kExitRefused);
  EXPECT_THAT(other.err, HasSubstr("PERMISSION_DENIED"));
}

TEST_F(AuditE2eTest, OwnersGetProvenAccessReceipts) {
  Result sent = Run(
      "RO", {"send", "--to=HU", "--kind=SPONTANEOUS", "--subject=Missing child",
             "--body=Last seen...", "--personal-data"});
  ASSERT_EQ(sent.code, kExitOk) << sent.err;
  std::vector<std::string> words = absl::StrSplit(sent.out, ' ');
  const std::string id = words[1];
  ASSERT_EQ(Run("HU", {"show", id}, "focal-point", "fp").code, kExitOk);
  EXPECT_NE(Run("BG", {"show", id}).code, kExitOk);

  Result receipts = Run("RO", {"audit", "accesses", id});
  ASSERT_EQ(receipts.code, kExitOk) << receipts.out << receipts.err;
  EXPECT_THAT(receipts.out, HasSubstr("Exchange.GetMessage"));
  EXPECT_THAT(receipts.out, HasSubstr("focal-point/fp"));
  EXPECT_THAT(receipts.out, HasSubstr("DENIED"));  // BG's attempt
  EXPECT_THAT(receipts.out,
              HasSubstr("accesses, each proven in the signed log"));

  Result not_owner = Run("HU", {"audit", "accesses", id});
  EXPECT_EQ(not_owner.code, kExitRefused);
  EXPECT_THAT(not_owner.err, HasSubstr("NOT_FOUND"));
  Result no_key = Run("RO", {"audit", "accesses", id, "--verifier-key="});
  EXPECT_EQ(no_key.code, kExitOk);  // falls back to LIAISON_AUDIT_KEY
}

TEST_F(AuditE2eTest, AnEditedEntryIsNamed) {
  Traffic(3);
  ASSERT_EQ(ExportAndVerify("before.jsonl").code, kExitOk);
  server_.Restart([&] {
    Tamper(server_.database(),
           "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 7");
  });
  Result r = ExportAndVerify("after.jsonl");
  EXPECT_EQ(r.code, kExitRefused) << r.out;
  EXPECT_THAT(r.out, HasSubstr("FAILED: entry 7 was altered"));
  EXPECT_THAT(r.out, Not(HasSubstr("entry 6 ")));
}

TEST_F(AuditE2eTest, ADeletedEntryIsNamed) {
  Traffic(5);
  server_.Restart([&] {
    Tamper(server_.database(), "DELETE FROM audit_log WHERE seq = 5");
  });
  Result r = ExportAndVerify("after.jsonl");
  EXPECT_EQ(r.code, kExitRefused) << r.out;
  EXPECT_THAT(r.out, HasSubstr("FAILED: entries 5..5 are missing"));
}

TEST_F(AuditE2eTest, SwappedEntriesAreNamed) {
  Traffic(5);
  server_.Restart([&] {
    Tamper(server_.database(),
           "UPDATE audit_log SET seq = -1 WHERE seq = 5; "
           "UPDATE audit_log SET seq = 5 WHERE seq = 8; "
           "UPDATE audit_log SET seq = 8 WHERE seq = -1;");
  });
  Result r = ExportAndVerify("after.jsonl");
  EXPECT_EQ(r.code, kExitRefused) << r.out;
  EXPECT_THAT(r.out, HasSubstr("entry 5 holds what was signed as entry 8"));
  EXPECT_THAT(r.out, HasSubstr("entry 8 holds what was signed as entry 5"));
}

TEST_F(AuditE2eTest, ARewrittenLogFailsAgainstAKeptCheckpoint) {
  Traffic(4);
  Result c1 = Audit({"audit", "checkpoint", "--fresh", "--out=" + File("c1")});
  ASSERT_EQ(c1.code, kExitOk) << c1.err;
  // The operator truncates the log and the tree consistently, drops the
  // later checkpoints, and lets the server sign anew with its own key.
  server_.Restart([&] {
    Tamper(server_.database(),
           "DELETE FROM audit_log WHERE seq > 6; "
           "DELETE FROM audit_tree WHERE ((idx + 1) << level) > 6; "
           "DELETE FROM audit_resources WHERE seq > 6; "
           "DELETE FROM audit_checkpoints WHERE tree_size > 6;");
  });
  Traffic(6);
  Result c2 = Audit({"audit", "checkpoint", "--fresh", "--out=" + File("c2")});
  ASSERT_EQ(c2.code, kExitOk) << c2.err;

  Result consistent = Audit({"audit", "consistency", File("c1"), File("c2")});
  EXPECT_EQ(consistent.code, kExitRefused) << consistent.out;
  EXPECT_THAT(consistent.out, HasSubstr("does not extend the one of"));
  ASSERT_EQ(ExportAndVerify("after.jsonl").code, kExitOk);
  Result offline = Verify({"audit", "consistency", File("c1"), File("c2"),
                           "--export=" + File("after.jsonl"),
                           "--verifier-key=" + TestPki::Shared().audit_vkey()});
  EXPECT_EQ(offline.code, kExitRefused) << offline.out;
  EXPECT_THAT(offline.out, HasSubstr("your kept checkpoint of"));

  // The rewritten log is internally consistent and signed...
  EXPECT_EQ(ExportAndVerify("rewritten.jsonl").code, kExitOk);
  // ... but not an extension of what the auditor kept.
  Result against_kept =
      ExportAndVerify("rewritten.jsonl", {"--checkpoint=" + File("c1")});
  EXPECT_EQ(against_kept.code, kExitRefused);
  EXPECT_THAT(against_kept.out,
              HasSubstr("do not reproduce the root of your kept checkpoint"));
}

TEST_F(AuditE2eTest, TheServerRefusesToSignOverAnAlteredTree) {
  Traffic(2);
  ASSERT_EQ(Audit({"audit", "checkpoint", "--fresh"}).code, kExitOk);
  server_.Restart([&] {
    // The largest stored subtree, which every root since includes.
    Tamper(server_.database(),
           "UPDATE audit_tree SET hash = zeroblob(32) WHERE idx = 0 AND "
           "level = (SELECT MAX(level) FROM audit_tree)");
  });
  Result r = Audit({"audit", "checkpoint", "--fresh"});
  EXPECT_EQ(r.code, kExitRefused);
  EXPECT_THAT(r.err, HasSubstr("DATA_LOSS"));
  EXPECT_THAT(r.err, HasSubstr("refusing to sign"));
}

TEST_F(AuditE2eTest, BadAuditCommandLines) {
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"audit", "export"}, kExitUsage, "--out=FILE"},
           {{"audit", "prove", "zero"}, kExitUsage, "entry number"},
           {{"audit", "entries", "--from=-3"}, kExitUsage, "--from"},
           {{"audit", "export", "--out=" + File("x"), "--tree-size=3"},
            kExitRefused,
            "no checkpoint was signed at 3"},
       }) {
    SCOPED_TRACE(c.message);
    Result r = Audit(c.args);
    EXPECT_EQ(r.code, c.code) << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
  Result no_key = Verify({"audit", "verify", File("none.jsonl")});
  EXPECT_EQ(no_key.code, kExitUsage);
  EXPECT_THAT(no_key.err, HasSubstr("is required"));
  Result missing = Verify({"audit", "verify", File("none.jsonl"),
                           "--key=" + TestPki::Shared().audit_vkey()});
  EXPECT_EQ(missing.code, kExitLocal);
  Result garbage_key =
      Verify({"audit", "verify", File("none.jsonl"), "--key=a+b+c"});
  EXPECT_EQ(garbage_key.code, kExitLocal);
  EXPECT_THAT(garbage_key.err, HasSubstr("verifier key"));
}

}  // namespace
}  // namespace liaison::client

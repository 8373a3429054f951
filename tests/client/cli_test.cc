// The liaison CLI run in-process against a real server over mTLS.
#include "client/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_split.h"
#include "common/file_util.h"
#include "common/x509.h"
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

class CliTest : public ::testing::Test {
 protected:
  // Runs `liaison ARGS` as PARTY/ROLE/USER, with the connection settings in
  // the (fake) environment.
  Result Run(const std::string& party, std::vector<std::string> args,
             const std::string& role = "liaison-officer",
             const std::string& user = "officer") {
    return testing::RunCliAs(server_.target(), party, role, user, args);
  }

  static Result RunWithEnv(std::vector<std::string> args,
                           std::map<std::string, std::string> env) {
    return testing::RunCliWithEnv(args, env);
  }

  // The id in "sent ID to ..." / "replied ID to ...".
  static std::string IdFrom(const std::string& line) {
    std::vector<std::string> words = absl::StrSplit(line, ' ');
    return words.size() > 1 ? words[1] : "";
  }

  TestServer server_;
};

TEST_F(CliTest, WhoAmI) {
  Result r = Run("RO", {"whoami"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_THAT(
      r.out, HasSubstr("spiffe://selec.test/party/RO/liaison-officer/officer"));
  EXPECT_THAT(r.out, HasSubstr("RO (Romania)"));
  EXPECT_THAT(r.out, HasSubstr("liaison-officer"));
  EXPECT_THAT(r.out, HasSubstr("MEMBER_STATE"));

  Result json = Run("XOP", {"whoami", "--json"});
  ASSERT_EQ(json.code, kExitOk) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"party\":\"XOP\""));
  EXPECT_THAT(json.out,
              HasSubstr("\"tier\":\"PARTY_TIER_OPERATIONAL_PARTNER\""));
  EXPECT_THAT(json.out, HasSubstr("\"agreementInForce\":true"));
  EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1);
}

TEST_F(CliTest, SendReadReplyExchange) {
  Result sent = Run("RO", {"send",
                           "--to",
                           "HU",
                           "--kind",
                           "request",
                           "--subject",
                           "Stolen vehicle",
                           "--body",
                           "Plate B-123; owner unknown.",
                           "--personal-data",
                           "--classification",
                           "RESTRICTED",
                           "--handling",
                           "H1",
                           "--evaluation",
                           "B2",
                           "--priority",
                           "URGENT",
                           "--justification",
                           "border crossing tonight"});
  ASSERT_EQ(sent.code, kExitOk) << sent.err;
  EXPECT_THAT(sent.out, HasSubstr(" to HU at "));
  const std::string id = IdFrom(sent.out);
  ASSERT_EQ(id.size(), 26u) << sent.out;

  Result inbox = Run("HU", {"inbox"});
  ASSERT_EQ(inbox.code, kExitOk) << inbox.err;
  EXPECT_THAT(inbox.out, HasSubstr("ID"));
  EXPECT_THAT(inbox.out, HasSubstr(id));
  EXPECT_THAT(inbox.out, HasSubstr("Stolen vehicle"));
  EXPECT_THAT(inbox.out, HasSubstr("HU(OPEN)"));

  Result show = Run("HU", {"show", id});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("Plate B-123; owner unknown."));
  EXPECT_THAT(show.out, HasSubstr("RESTRICTED"));
  EXPECT_THAT(show.out, HasSubstr("B2"));
  EXPECT_THAT(show.out, HasSubstr("H1"));
  EXPECT_THAT(show.out, HasSubstr("URGENT"));
  EXPECT_THAT(show.out, HasSubstr("RO / officer (liaison-officer)"));

  Result reply = Run("HU", {"reply", id, "--body", "Owner identified."});
  ASSERT_EQ(reply.code, kExitOk) << reply.err;
  EXPECT_THAT(reply.out, HasSubstr("replied"));
  const std::string reply_id = IdFrom(reply.out);

  Result outbox = Run("RO", {"outbox"});
  EXPECT_THAT(outbox.out, HasSubstr("HU(ANSWERED)"));
  Result ro_inbox = Run("RO", {"inbox", "--json"});
  ASSERT_EQ(ro_inbox.code, kExitOk);
  EXPECT_THAT(ro_inbox.out, HasSubstr(reply_id));
  EXPECT_THAT(ro_inbox.out, HasSubstr("\"inReplyTo\":\"" + id + "\""));

  Result again = Run("HU", {"reply", id, "--body", "Again."});
  EXPECT_EQ(again.code, kExitRefused);
  EXPECT_THAT(again.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(again.err, HasSubstr("already answered"));
}

TEST_F(CliTest, BodyFileAndIdempotencyKey) {
  testing::TempDir dir;
  const std::string body = dir.File("body.txt");
  std::ofstream(body) << "Line one\nLine two\n";
  std::vector<std::string> args = {"send",
                                   "--to=HU,BG",
                                   "--subject=Warning",
                                   "--kind=WARNING",
                                   "--body-file",
                                   body,
                                   "--idempotency-key=cli-test-1"};
  Result first = Run("RO", args);
  ASSERT_EQ(first.code, kExitOk) << first.err;
  Result second = Run("RO", args);
  ASSERT_EQ(second.code, kExitOk) << second.err;
  EXPECT_THAT(second.out, HasSubstr("already sent as " + IdFrom(first.out)));
  Result show = Run("BG", {"show", IdFrom(first.out)}, "focal-point", "nfp");
  EXPECT_THAT(show.out, HasSubstr("Line one\nLine two\n"));

  Result missing = Run("RO", {"send", "--to=HU", "--subject=x", "--body-file",
                              dir.File("nope.txt")});
  EXPECT_EQ(missing.code, kExitLocal);
  EXPECT_THAT(missing.err, HasSubstr("nope.txt"));
}

TEST_F(CliTest, RefusalsShowTheCodeAndReason) {
  Result observer = Run("RO", {"send", "--to", "XOB", "--subject", "Names",
                               "--body", "x", "--personal-data"});
  EXPECT_EQ(observer.code, kExitRefused);
  EXPECT_THAT(observer.err, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(
      observer.err,
      HasSubstr("XOB is an observer and may not receive personal data"));
  EXPECT_EQ(observer.out, "");

  Result missing = Run("HU", {"show", "01M89Q1WQSCHQJ90CTMDR6HJ7B"});
  EXPECT_EQ(missing.code, kExitRefused);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND: message "));

  Result malformed = Run("HU", {"show", "nonsense"});
  EXPECT_EQ(malformed.code, kExitRefused);
  EXPECT_THAT(malformed.err, HasSubstr("INVALID_ARGUMENT"));

  Result admin = Run("HQ", {"inbox"}, "admin", "sec");
  EXPECT_EQ(admin.code, kExitRefused);
  EXPECT_THAT(admin.err, HasSubstr("PERMISSION_DENIED"));
}

TEST_F(CliTest, BodiesCannotDriveTheTerminal) {
  Result sent = Run("RO", {"send", "--to=HU", "--subject=Escape",
                           "--body=clear\x1b[2J screen\nline two\xc2\x9b"});
  ASSERT_EQ(sent.code, kExitOk) << sent.err;
  Result show = Run("HU", {"show", IdFrom(sent.out)});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("clear\\x1b[2J screen\nline two\\x9b"));
  EXPECT_EQ(show.out.find('\x1b'), std::string::npos);
  // --json keeps the exact text, escaped by the JSON mapping.
  Result json = Run("HU", {"show", IdFrom(sent.out), "--json"});
  EXPECT_THAT(json.out, HasSubstr("clear\\u001b[2J"));
}

TEST_F(CliTest, Paging) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Run("RO", {"send", "--to=HU", "--subject=s", "--body=b"}).code,
              kExitOk);
  }
  Result page = Run("HU", {"inbox", "--page-size=2"});
  ASSERT_EQ(page.code, kExitOk) << page.err;
  const size_t at = page.out.find("--page-token=");
  ASSERT_NE(at, std::string::npos) << page.out;
  std::string token = page.out.substr(at + 13);
  token = token.substr(0, token.find('\n'));
  Result next = Run("HU", {"inbox", "--page-size=2", "--page-token", token});
  ASSERT_EQ(next.code, kExitOk) << next.err;
  EXPECT_THAT(next.out, Not(HasSubstr("--page-token")));
}

TEST_F(CliTest, AdminWorkflow) {
  auto admin = [this](std::vector<std::string> args) {
    args.insert(args.begin(), "admin");
    return Run("HQ", args, "admin", "sec");
  };
  Result parties = admin({"parties"});
  ASSERT_EQ(parties.code, kExitOk) << parties.err;
  EXPECT_THAT(parties.out, HasSubstr("RO    Romania"));
  EXPECT_THAT(parties.out, HasSubstr("OPERATIONAL_PARTNER, ceiling "
                                     "CONFIDENTIAL, agreement in force, "
                                     "ACTIVE"));

  Result no_reason = admin({"party", "suspend", "XOB"});
  EXPECT_EQ(no_reason.code, kExitUsage);
  EXPECT_THAT(no_reason.err, HasSubstr("--reason is required"));

  Result suspended =
      admin({"party", "suspend", "XOB", "--reason", "unpaid contributions"});
  ASSERT_EQ(suspended.code, kExitOk) << suspended.err;
  EXPECT_THAT(suspended.out, HasSubstr("XOB (Example Observer (fictitious)): "
                                       "OBSERVER, ceiling UNCLASSIFIED, "
                                       "SUSPENDED"));
  Result blocked = Run("XOB", {"whoami"});
  EXPECT_EQ(blocked.code, kExitRefused);
  EXPECT_THAT(blocked.err, HasSubstr("PERMISSION_DENIED: party XOB is "
                                     "suspended"));
  ASSERT_EQ(admin({"party", "reinstate", "XOB", "--reason=paid"}).code,
            kExitOk);
  EXPECT_EQ(Run("XOB", {"whoami"}).code, kExitOk);

  Result show = admin({"party", "show", "XOB"});
  ASSERT_EQ(show.code, kExitOk) << show.err;
  EXPECT_THAT(show.out, HasSubstr("SUSPENDED ACTIVE -> SUSPENDED"));
  EXPECT_THAT(show.out, HasSubstr("by spiffe://selec.test/party/HQ/admin/sec: "
                                  "unpaid contributions"));
  EXPECT_THAT(show.out, HasSubstr("REINSTATED SUSPENDED -> ACTIVE"));

  Result registered =
      admin({"party", "register", "XNP", "--name", "New Partner (fictitious)",
             "--tier", "operational_partner", "--ceiling", "RESTRICTED",
             "--agreement", "in-force", "--reason", "Council decision"});
  ASSERT_EQ(registered.code, kExitOk) << registered.err;
  Result lapsed =
      admin({"party", "agreement", "XNP", "lapsed", "--reason", "expired"});
  ASSERT_EQ(lapsed.code, kExitOk) << lapsed.err;
  EXPECT_THAT(lapsed.out, HasSubstr("agreement lapsed"));
  Result observer =
      admin({"party", "set-tier", "XNP", "OBSERVER", "--reason", "downgrade"});
  ASSERT_EQ(observer.code, kExitOk) << observer.err;
  EXPECT_THAT(observer.out, HasSubstr("OBSERVER, ceiling UNCLASSIFIED"));
  Result ceiling =
      admin({"party", "set-ceiling", "XNP", "SECRET", "--reason", "mistake"});
  EXPECT_EQ(ceiling.code, kExitRefused);
  EXPECT_THAT(ceiling.err, HasSubstr("FAILED_PRECONDITION"));

  ASSERT_EQ(Run("RO", {"whoami"}).code, kExitOk);
  Result revoked = admin({"revoke", "--user=RO/liaison-officer/officer",
                          "--reason=left the service"});
  ASSERT_EQ(revoked.code, kExitOk) << revoked.err;
  EXPECT_THAT(revoked.out, HasSubstr("revoked every certificate of "
                                     "RO/liaison-officer/officer"));
  Result refused = Run("RO", {"whoami"});
  EXPECT_EQ(refused.code, kExitRefused);
  EXPECT_THAT(refused.err, HasSubstr("UNAUTHENTICATED"));
  const testing::CertPaths spare =
      TestPki::Shared().Issue("HU", "liaison-officer", "spare");
  const std::string serial =
      ParseCertificatePem(*ReadFile(spare.cert))->serial_hex;
  Result by_serial = admin(
      {"revoke", "--serial", "serial=" + serial, "--reason", "token lost"});
  ASSERT_EQ(by_serial.code, kExitOk) << by_serial.err;
  EXPECT_THAT(by_serial.out, HasSubstr("revoked certificate serial " + serial));
  Result list = admin({"revocations"});
  EXPECT_EQ(list.code, kExitOk);
  EXPECT_THAT(list.out, HasSubstr("serial " + serial));
  EXPECT_THAT(list.out, HasSubstr("user RO/liaison-officer/officer"));
  EXPECT_THAT(list.out, HasSubstr("left the service"));

  Result json = admin({"parties", "--json"});
  ASSERT_EQ(json.code, kExitOk);
  EXPECT_THAT(json.out, HasSubstr("\"code\":\"XNP\""));

  Result not_admin = Run("HU", {"admin", "parties"});
  EXPECT_EQ(not_admin.code, kExitRefused);
  EXPECT_THAT(not_admin.err, HasSubstr("PERMISSION_DENIED: only HQ admins"));
  Result bad = admin({"party", "set-tier", "RO"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("admin party set-tier takes CODE TIER"));
}

TEST_F(CliTest, RequestLifecycle) {
  Result sent = Run("RO", {"send", "--to=HU", "--subject=Passport check",
                           "--body=Holder of passport X?", "--priority=URGENT",
                           "--justification=border tonight"});
  ASSERT_EQ(sent.code, kExitOk) << sent.err;
  const std::string id = IdFrom(sent.out);
  Result requests = Run("HU", {"requests", "--due-within=9h"});
  ASSERT_EQ(requests.code, kExitOk) << requests.err;
  EXPECT_THAT(requests.out, HasSubstr(id));
  EXPECT_THAT(requests.out, HasSubstr("HU(OPEN)"));
  Result ack = Run("HU", {"ack", id});
  ASSERT_EQ(ack.code, kExitOk) << ack.err;
  EXPECT_THAT(ack.out, HasSubstr("acknowledged " + id));
  Result refuse = Run("HU", {"refuse", id, "--reason=national_law",
                             "--text=Held by the courts"});
  ASSERT_EQ(refuse.code, kExitOk) << refuse.err;
  Result show = Run("RO", {"show", id});
  EXPECT_THAT(show.out, HasSubstr("HU(REFUSED)"));
  EXPECT_THAT(show.out, HasSubstr("refused "));
  EXPECT_THAT(show.out, HasSubstr("NATIONAL_LAW: Held by the courts"));
  EXPECT_THAT(show.out, HasSubstr("due "));
  EXPECT_THAT(show.out, HasSubstr("delivered "));
  Result handling = Run("RO", {"handling", id, "H2"});
  ASSERT_EQ(handling.code, kExitOk) << handling.err;
  EXPECT_THAT(Run("HU", {"show", id}).out, HasSubstr("handling        H2"));
  Result bad = Run("HU", {"refuse", id, "--reason=BORED"});
  EXPECT_EQ(bad.code, kExitUsage);
  Result sent_list = Run("RO", {"requests", "--sent", "--state=REFUSED"});
  EXPECT_THAT(sent_list.out, HasSubstr(id));
}

TEST_F(CliTest, CaseWorkflow) {
  Result opened = Run("RO", {"case", "open", "--title=Operation Danube",
                             "--participants=HU,BG"});
  ASSERT_EQ(opened.code, kExitOk) << opened.err;
  EXPECT_THAT(opened.out, HasSubstr("\"Operation Danube\" OPEN, owner RO, "
                                    "participants HU,BG, 0 message(s)"));
  const std::string case_id = IdFrom(opened.out);
  Result sent = Run("RO", {"send", "--to=HU", "--kind=SPONTANEOUS",
                           "--subject=Route", "--body=Port Z"});
  const std::string message_id = IdFrom(sent.out);
  Result attached = Run("RO", {"case", "attach", case_id, message_id});
  ASSERT_EQ(attached.code, kExitOk) << attached.err;
  EXPECT_THAT(attached.out, HasSubstr("1 message(s)"));
  Result shown = Run("BG", {"case", "show", case_id});
  ASSERT_EQ(shown.code, kExitOk) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr(message_id));
  EXPECT_EQ(Run("BG", {"show", message_id}).code, kExitOk);
  ASSERT_EQ(Run("RO", {"case", "remove", case_id, "BG"}).code, kExitOk);
  Result gone = Run("BG", {"show", message_id});
  EXPECT_EQ(gone.code, kExitRefused);
  EXPECT_THAT(gone.err, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(Run("HU", {"case", "list"}).out, HasSubstr(case_id));
  Result closed = Run("RO", {"case", "close", case_id});
  EXPECT_THAT(closed.out, HasSubstr("CLOSED"));
  Result observer = Run("XOB", {"case", "list"});
  EXPECT_EQ(observer.code, kExitRefused);
  EXPECT_THAT(observer.err, HasSubstr("takes no part in cases"));
}

TEST_F(CliTest, ForwardAndConsent) {
  Result sent =
      Run("RO", {"send", "--to=HU", "--kind=SPONTANEOUS",
                 "--subject=Suspect list", "--body=Names", "--handling=H2"});
  ASSERT_EQ(sent.code, kExitOk) << sent.err;
  const std::string id = IdFrom(sent.out);
  Result refused = Run("HU", {"forward", id, "--to=BG"});
  EXPECT_EQ(refused.code, kExitRefused);
  EXPECT_THAT(refused.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(refused.err, HasSubstr("RO, its owner, has not consented"));
  Result asked =
      Run("HU", {"consent", "ask", id, "--to=BG", "--text=BG holds the file"});
  ASSERT_EQ(asked.code, kExitOk) << asked.err;
  EXPECT_THAT(asked.out, HasSubstr("PENDING: HU -> BG"));
  const std::string consent_id = IdFrom(asked.out);
  EXPECT_THAT(Run("RO", {"consent", "list"}).out, HasSubstr(consent_id));
  Result granted = Run("RO", {"consent", "grant", consent_id});
  ASSERT_EQ(granted.code, kExitOk) << granted.err;
  EXPECT_THAT(granted.out, HasSubstr("GRANTED"));
  Result forwarded = Run("HU", {"forward", id, "--to=BG"});
  ASSERT_EQ(forwarded.code, kExitOk) << forwarded.err;
  EXPECT_THAT(forwarded.out, HasSubstr("forwarded "));
  EXPECT_THAT(Run("BG", {"inbox"}).out, HasSubstr("Suspect list"));
}

TEST_F(CliTest, Reports) {
  ASSERT_EQ(Run("RO", {"send", "--to=HU,BG", "--subject=s", "--body=b"}).code,
            kExitOk);
  const std::string sent =
      IdFrom(Run("RO", {"send", "--to=HU", "--subject=t", "--body=c"}).out);
  ASSERT_EQ(Run("HU", {"refuse", sent, "--reason=NOT_AVAILABLE"}).code,
            kExitOk);
  Result csv = Run("RO", {"report", "--from=2020-01-01", "--csv"});
  ASSERT_EQ(csv.code, kExitOk) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("section,key,total,urgent,routine,open,"
                                 "acknowledged,answered,refused,overdue\n"));
  EXPECT_THAT(csv.out, HasSubstr("sent,all,3,0,3,2,0,0,1,0\n"));
  EXPECT_THAT(csv.out, HasSubstr("sent-to,HU,2,0,2,1,0,0,1,0\n"));
  EXPECT_THAT(csv.out, HasSubstr("refused-by-reason,sent:NOT_AVAILABLE,1"));
  Result others = Run("RO", {"report", "--from=2020-01-01", "--party=HU"});
  EXPECT_EQ(others.code, kExitRefused);
  EXPECT_THAT(others.err, HasSubstr("may see only its own figures"));
  Result all =
      Run("HQ", {"report", "--from=2020-01-01", "--json"}, "auditor", "dpo");
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_THAT(all.out, HasSubstr("\"total\":\"3\""));
  Result reversed =
      Run("RO", {"report", "--from=2030-01-01", "--to=2020-01-01"});
  EXPECT_EQ(reversed.code, kExitRefused);
  EXPECT_THAT(reversed.err, HasSubstr("INVALID_ARGUMENT: from must be before"));
  EXPECT_EQ(Run("RO", {"report", "--from=yesterday"}).code, kExitUsage);
}

TEST_F(CliTest, Watch) {
  const std::string id = IdFrom(
      Run("RO", {"send", "--to=HU", "--subject=Alert", "--body=Now"}).out);
  Result json = Run("HU", {"watch", "--max-events=1", "--json"});
  ASSERT_EQ(json.code, kExitOk) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"kind\":\"MESSAGE\""));
  EXPECT_THAT(json.out, HasSubstr(id));
  EXPECT_EQ(std::count(json.out.begin(), json.out.end(), '\n'), 1);
  Result human = Run("HU", {"watch", "--max-events=1", "--cursor=0"});
  EXPECT_THAT(human.out, HasSubstr("REQUEST from RO"));
  EXPECT_EQ(Run("HU", {"watch", "--cursor=x"}).code, kExitUsage);
}

TEST_F(CliTest, AttachAndDownload) {
  const std::string id = IdFrom(
      Run("RO", {"send", "--to=HU", "--subject=Scan", "--body=See file"}).out);
  testing::TempDir dir;
  std::string data(1536 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  std::ofstream(dir.File("scan.bin"), std::ios::binary) << data;
  Result attached = Run("RO", {"attach", id, dir.File("scan.bin")});
  ASSERT_EQ(attached.code, kExitOk) << attached.err;
  EXPECT_THAT(attached.out, HasSubstr("scan.bin (1572864 bytes, sha256 "));
  const std::string attachment = IdFrom(attached.out);
  EXPECT_THAT(Run("HU", {"show", id}).out, HasSubstr(attachment));

  Result downloaded =
      Run("HU", {"download", attachment, "--out", dir.File("copy.bin")});
  ASSERT_EQ(downloaded.code, kExitOk) << downloaded.err;
  EXPECT_THAT(downloaded.out, HasSubstr("sha256 verified"));
  std::ifstream copy(dir.File("copy.bin"), std::ios::binary);
  const std::string got((std::istreambuf_iterator<char>(copy)),
                        std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == data);

  Result stranger =
      Run("BG", {"download", attachment, "--out", dir.File("no.bin")});
  EXPECT_EQ(stranger.code, kExitRefused);
  EXPECT_THAT(stranger.err, HasSubstr("NOT_FOUND: attachment"));
  std::ifstream none(dir.File("no.bin"));
  EXPECT_FALSE(none.good());  // nothing left behind
  EXPECT_EQ(Run("RO", {"attach", id, dir.File("missing.bin")}).code,
            kExitLocal);
  Result not_owner = Run("HU", {"attach", id, dir.File("scan.bin")});
  EXPECT_EQ(not_owner.code, kExitRefused);
  EXPECT_THAT(not_owner.err, HasSubstr("PERMISSION_DENIED"));
}

TEST_F(CliTest, UsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "usage: liaison"},
           {{"frobnicate"}, "unknown command 'frobnicate'"},
           {{"inbox", "--bogus"}, "unknown flag --bogus"},
           {{"inbox", "--to=HU"}, "--to does not apply to inbox"},
           {{"show"}, "show takes one message id"},
           {{"whoami", "extra"}, "whoami takes no arguments"},
           {{"send", "--subject=x", "--body=y"}, "send needs --to"},
           {{"send", "--to=HU", "--kind=MEMO"}, "--kind must be"},
           {{"send", "--to=HU", "--evaluation=Z9"}, "--evaluation must be"},
           {{"send", "--to=HU", "--classification=TOP"},
            "--classification must be"},
           {{"send", "--to=HU", "--body=a", "--body-file=b"},
            "--body or --body-file"},
           {{"inbox", "--page-size=ten"}, "--page-size must be a number"},
           {{"inbox", "--json=yes"}, "--json takes no value"},
           {{"inbox", "--server"}, "--server needs a value"},
       }) {
    SCOPED_TRACE(c.message);
    Result r = Run("RO", c.args);
    EXPECT_EQ(r.code, kExitUsage);
    EXPECT_THAT(r.err, HasSubstr(c.message));
  }
}

TEST_F(CliTest, HelpDocumentsExitCodes) {
  Result r = RunWithEnv({"--help"}, {});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("Exit codes:"));
  EXPECT_THAT(r.out, HasSubstr("LIAISON_SERVER"));
}

TEST_F(CliTest, ConnectionSettings) {
  Result no_cert = RunWithEnv({"whoami"}, {{"LIAISON_CA", "x"}});
  EXPECT_EQ(no_cert.code, kExitUsage);
  EXPECT_THAT(no_cert.err, HasSubstr("--cert (or LIAISON_CERT) is required"));

  const CertPaths cert = TestPki::Shared().Issue("RO", "liaison-officer", "o");
  Result bad_file = RunWithEnv({"whoami", "--ca=/nonexistent/ca.crt", "--cert",
                                cert.cert, "--key", cert.key},
                               {});
  EXPECT_EQ(bad_file.code, kExitLocal);
  EXPECT_THAT(bad_file.err, HasSubstr("/nonexistent/ca.crt"));

  // Flags win over the environment; nothing listens on port 1.
  Result unreachable =
      RunWithEnv({"whoami", "--server=127.0.0.1:1", "--timeout=2"},
                 {{"LIAISON_SERVER", server_.target()},
                  {"LIAISON_CA", TestPki::Shared().ca()},
                  {"LIAISON_CERT", cert.cert},
                  {"LIAISON_KEY", cert.key}});
  EXPECT_EQ(unreachable.code, kExitUnavailable);
  EXPECT_THAT(unreachable.err, HasSubstr("UNAVAILABLE"));
}

}  // namespace
}  // namespace liaison::client

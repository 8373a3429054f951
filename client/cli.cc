#include "client/cli.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <variant>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "client/audit_verify.h"
#include "client/client.h"
#include "common/file_util.h"
#include "common/sha256.h"
#include "common/signed_note.h"

namespace liaison::client {
namespace {

constexpr char kUsage[] =
    R"(usage: liaison [global flags] COMMAND [args] [flags]

Commands:
  whoami                      who the server says you are, and your party's status
  send                        send a message (see flags below)
  inbox                       messages your party received, newest first
  outbox                      messages your party sent, newest first
  show ID                     one message your party sent or received
  reply ID                    answer a REQUEST your party received
  requests                    requests received (--sent: sent), with their deadlines
  ack ID                      confirm receipt of a request (OPEN -> ACKNOWLEDGED)
  refuse ID --reason=CODE     refuse a request (codes below; --text to explain)
  handling ID CODE            change the handling code of a message your party owns
  forward ID --to=BG          pass a received message on (H2 needs the owner's consent)
  consent ask ID --to=BG --text=WHY    ask the owner for consent to pass it on
  consent list                consent requests your party made or must decide
  consent grant|refuse CONSENT [--text=REASON]   decide, as the owner
  attach ID FILE              attach a file to a message your party sent
  download ATTACHMENT --out=FILE   fetch an attachment (size and SHA-256 checked)
  watch [--cursor=N] [--max-events=N]   print events as they happen (new
                              messages, receipts, request states); resume from
                              the last seq printed
  case open --title=T [--participants=HU,BG]   open a case your party owns
  report --from=2026-01-01 [--to=2026-07-01] [--party=RO] [--csv]
                              request and case statistics (HQ: any party, or all)
  case add|remove CASE PARTY  change who takes part (owner only)
  case attach CASE MESSAGE    share a message your party owns with the case
  case show CASE              the case and its thread
  case list                   cases your party owns or takes part in
  case close CASE             close a case (owner only)

Global flags (or environment variables):
  --server=HOST:PORT          LIAISON_SERVER (default localhost:7443)
  --ca=FILE                   LIAISON_CA   CA certificate of the server (PEM)
  --cert=FILE                 LIAISON_CERT your certificate (PEM)
  --key=FILE                  LIAISON_KEY  your private key (PEM)
  --json                      print the response in the proto3 JSON mapping
  --timeout=SECONDS           per call (default 30)
  --help                      this text

send flags:
  --to=RO,HU                  recipient parties (required)
  --kind=REQUEST              REQUEST, SPONTANEOUS, WARNING or FEEDBACK (default REQUEST)
  --subject=TEXT              required, up to 200 characters
  --body=TEXT | --body-file=F required, up to 1 MiB
  --priority=ROUTINE          ROUTINE or URGENT (URGENT needs --justification)
  --justification=TEXT        why it is urgent
  --classification=UNCLASSIFIED  UNCLASSIFIED, RESTRICTED, CONFIDENTIAL or SECRET
  --personal-data             the message concerns an identifiable person
  --handling=H0               H0, H1, H2 or H3 (H3 needs --restriction)
  --restriction=TEXT          the H3 restriction
  --evaluation=B2             source reliability A/B/C/X and information 1-4
  --in-reply-to=ID            a message this one follows up
  --idempotency-key=KEY       reuse to retry safely (default: a new random key)

reply flags: --body/--body-file, --subject, --classification, --personal-data,
  --handling, --restriction, --evaluation, --idempotency-key (as for send)

inbox/outbox flags: --page-size=N (default 50, max 500), --page-token=TOKEN

requests flags: --sent, --state=OPEN|ACKNOWLEDGED|ANSWERED|REFUSED, --overdue,
  --due-within=8h, --case=CASE, and the paging flags
refuse reasons: NOT_COMPETENT, INSUFFICIENT_DETAIL, NATIONAL_LAW,
  JUDICIAL_AUTHORISATION, ONGOING_INVESTIGATION, DISPROPORTIONATE,
  NOT_AVAILABLE, OTHER (needs --text)
handling: H0, H1, H2, H3 (needs --restriction)

Audit log (HQ auditors: the whole log; others: their party's entries):
  audit checkpoint [--fresh] [--out=FILE]   the latest signed checkpoint (keep it:
                              later checkpoints must extend it)
  audit entries [--from=N] [--to=N] [--page-size=N]   entries, oldest first
  audit export --out=FILE [--tree-size=N]   entries and signed checkpoints, for
                              offline verification (N: an existing checkpoint)
  audit verify FILE --key=VKEY [--checkpoint=OLD[,OLD2]]   check an export with
                              no server: signatures, every entry against the
                              signed roots, and the checkpoints you kept
  audit consistency OLD NEW [--export=FILE]   check that checkpoint file NEW
                              extends OLD (proof from the server, or with
                              --export from a full export, with no server)
  audit prove ENTRY [--tree-size=N]   prove that entry N is in the signed log
  audit accesses MESSAGE_ID   every access to a message your party owns, each
                              proven in the signed log
  VKEY is the server's verifier key (file or text: name+id+key); for the
  commands that ask the server, --verifier-key=VKEY or LIAISON_AUDIT_KEY.

Administration (HQ admins only; every change needs --reason and is recorded):
  admin parties                              every party and its status
  admin party show CODE                      one party with its status history
  admin party register CODE --name=N --tier=T --ceiling=C [--agreement=in-force|lapsed]
  admin party set-tier CODE TIER             MEMBER_STATE, OPERATIONAL_PARTNER or OBSERVER
  admin party set-ceiling CODE CLASSIFICATION
  admin party agreement CODE in-force|lapsed
  admin party suspend CODE                   blocks every user of the party at once
  admin party reinstate CODE
  admin revoke --serial=HEX | --user=PARTY/ROLE/USER
  admin revocations

Exit codes:
  0  success
  1  the server refused or failed the call (stderr: gRPC code and reason), or
     an audit check failed (stdout: FAILED lines)
  2  usage error
  3  a local file (certificate, key, body file) cannot be used
  4  the server is unreachable or busy; retrying is safe
)";

// Flags that take a value; all others are boolean.
const std::set<std::string>& ValueFlags() {
  static const auto* flags = new std::set<std::string>{
      "out",         "case",          "cursor",         "max-events",
      "from",        "party",         "title",          "participants",
      "state",       "due-within",    "text",           "name",
      "tier",        "ceiling",       "agreement",      "reason",
      "serial",      "user",          "server",         "ca",
      "cert",        "key",           "timeout",        "to",
      "kind",        "subject",       "body",           "body-file",
      "priority",    "justification", "classification", "handling",
      "restriction", "evaluation",    "in-reply-to",    "idempotency-key",
      "page-size",   "page-token",    "tree-size",      "verifier-key",
      "checkpoint",  "export"};
  return *flags;
}

const std::set<std::string>& BoolFlags() {
  static const auto* flags = new std::set<std::string>{
      "json", "personal-data", "help", "sent", "overdue", "csv", "fresh"};
  return *flags;
}

struct Invocation {
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;

  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  std::string Get(const std::string& name,
                  const std::string& fallback = "") const {
    auto it = flags.find(name);
    return it == flags.end() ? fallback : it->second;
  }
};

// A bad command line, with what is wrong.
struct UsageError {
  std::string message;
};

// Why a command could not build its request: exit code and message.
struct Problem {
  int exit_code;
  std::string message;
};

std::optional<UsageError> Parse(const std::vector<std::string>& args,
                                Invocation& inv) {
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "--") {
      for (++i; i < args.size(); ++i) inv.positional.push_back(args[i]);
      break;
    }
    if (!absl::ConsumePrefix(&arg, "--")) {
      inv.positional.emplace_back(arg);
      continue;
    }
    std::string name(arg);
    std::optional<std::string> value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (BoolFlags().count(name) > 0) {
      if (value.has_value()) {
        return UsageError{absl::StrCat("--", name, " takes no value")};
      }
      inv.flags[name] = "true";
    } else if (ValueFlags().count(name) > 0) {
      if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return UsageError{absl::StrCat("--", name, " needs a value")};
        }
        value = args[++i];
      }
      inv.flags[name] = *value;
    } else {
      return UsageError{absl::StrCat("unknown flag --", name)};
    }
  }
  return std::nullopt;
}

// What a command needs to run.
struct Context {
  const Invocation& inv;
  // Positional arguments after the command's words.
  std::vector<std::string> args;
  std::ostream& out;
  std::ostream& err;
  Client& client;
  bool json;
  bool interactive;  // err is a terminal
  const EnvLookup& env;
};

// What a command that needs no server gets.
struct OfflineContext {
  const Invocation& inv;
  std::vector<std::string> args;
  std::ostream& out;
  std::ostream& err;
  const EnvLookup& env;
};

struct Command {
  // One or more words: "inbox", "admin party set-tier".
  const char* name;
  int min_args;
  int max_args;
  // The arguments, for the usage error: "one message id", "CODE TIER".
  const char* args;
  // Flags besides the global ones.
  std::vector<std::string> flags;
  int (*run)(Context&);
  // Set instead of `run` for commands that never contact the server.
  int (*run_offline)(OfflineContext&) = nullptr;
};

std::string Upper(absl::string_view s) { return absl::AsciiStrToUpper(s); }

// Parses an enum value from a user-friendly name: "request" or
// "MESSAGE_KIND_REQUEST" for MESSAGE_KIND_REQUEST.
template <typename Enum>
std::optional<Enum> ParseEnum(const google::protobuf::EnumDescriptor* desc,
                              absl::string_view prefix,
                              absl::string_view text) {
  std::string name = Upper(text);
  if (!absl::StartsWith(name, prefix)) name = absl::StrCat(prefix, name);
  const google::protobuf::EnumValueDescriptor* value =
      desc->FindValueByName(name);
  if (value == nullptr || value->number() == 0) return std::nullopt;
  return static_cast<Enum>(value->number());
}

// The short name of an enum value: "REQUEST" for MESSAGE_KIND_REQUEST.
std::string ShortName(const google::protobuf::EnumDescriptor* desc,
                      absl::string_view prefix, int number) {
  const google::protobuf::EnumValueDescriptor* value =
      desc->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  absl::string_view name = value->name();
  absl::ConsumePrefix(&name, prefix);
  return std::string(name);
}

// "liaison-officer", as in the certificate's identity.
std::string RoleText(v1::Role role) {
  std::string name =
      absl::AsciiStrToLower(ShortName(v1::Role_descriptor(), "ROLE_", role));
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

std::string Time(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ",
                          absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

// Text from the server made safe for a terminal: control characters
// (C0, DEL and C1, which can start escape sequences) are shown as \xNN.
// Line breaks and tabs stay when `multiline`.
std::string Printable(absl::string_view text, bool multiline = false) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xc2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9f;
    if (multiline && (c == '\n' || c == '\t')) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
    } else if (c1) {
      absl::StrAppend(
          &out, "\\x",
          absl::Hex(static_cast<unsigned char>(text[++i]), absl::kZeroPad2));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string NewIdempotencyKey() {
  absl::BitGen gen;
  return absl::StrCat(
      "cli-", absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16),
      absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

int PrintJson(Context& ctx, const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    ctx.err << "liaison: cannot print JSON: " << status.message() << "\n";
    return kExitLocal;
  }
  ctx.out << json << "\n";
  return kExitOk;
}

int Fail(Context& ctx, const absl::Status& status) {
  ctx.err << "liaison: " << absl::StatusCodeToString(status.code()) << ": "
          << status.message() << "\n";
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    return kExitUnavailable;
  }
  return kExitRefused;
}

// Fills the content fields shared by send and reply.
template <typename Request>
std::optional<Problem> FillContent(const Invocation& inv, Request& request) {
  const std::string key = inv.Get("idempotency-key", NewIdempotencyKey());
  request.set_idempotency_key(key);
  if (inv.Has("subject")) request.set_subject(inv.Get("subject"));
  if (inv.Has("body") && inv.Has("body-file")) {
    return Problem{kExitUsage, "give --body or --body-file, not both"};
  }
  if (inv.Has("body-file")) {
    absl::StatusOr<std::string> body = ReadFile(inv.Get("body-file"), 2 << 20);
    if (!body.ok()) {
      return Problem{kExitLocal, std::string(body.status().message())};
    }
    request.set_body(*body);
  } else {
    request.set_body(inv.Get("body"));
  }
  const auto classification = ParseEnum<v1::Classification>(
      v1::Classification_descriptor(), "CLASSIFICATION_",
      inv.Get("classification", "UNCLASSIFIED"));
  if (!classification.has_value()) {
    return Problem{kExitUsage,
                   "--classification must be UNCLASSIFIED, RESTRICTED, "
                   "CONFIDENTIAL or SECRET"};
  }
  request.set_classification(*classification);
  request.set_contains_personal_data(inv.Has("personal-data"));
  const auto handling =
      ParseEnum<v1::HandlingCode>(v1::HandlingCode_descriptor(),
                                  "HANDLING_CODE_", inv.Get("handling", "H0"));
  if (!handling.has_value()) {
    return Problem{kExitUsage, "--handling must be H0, H1, H2 or H3"};
  }
  request.mutable_handling()->set_code(*handling);
  request.mutable_handling()->set_restriction(inv.Get("restriction"));
  if (inv.Has("evaluation")) {
    const std::string code = Upper(inv.Get("evaluation"));
    const auto source = code.size() == 2
                            ? ParseEnum<v1::SourceReliability>(
                                  v1::SourceReliability_descriptor(),
                                  "SOURCE_RELIABILITY_", code.substr(0, 1))
                            : std::nullopt;
    const auto information =
        code.size() == 2 ? ParseEnum<v1::InformationAssessment>(
                               v1::InformationAssessment_descriptor(),
                               "INFORMATION_ASSESSMENT_", code.substr(1, 1))
                         : std::nullopt;
    if (!source.has_value() || !information.has_value()) {
      return Problem{kExitUsage,
                     "--evaluation must be a source letter A, B, C or X "
                     "followed by an information digit 1-4, e.g. B2"};
    }
    request.mutable_evaluation()->set_source_reliability(*source);
    request.mutable_evaluation()->set_information(*information);
  }
  return std::nullopt;
}

int SendResultOut(Context& ctx, const std::string& key,
                  const absl::StatusOr<v1::SendMessageResponse>& response,
                  absl::string_view verb, absl::string_view to) {
  if (!response.ok()) {
    const int code = Fail(ctx, response.status());
    if (code == kExitUnavailable) {
      ctx.err << "liaison: it may or may not have been stored; retry with "
                 "--idempotency-key="
              << key << " to send it at most once\n";
    }
    return code;
  }
  if (ctx.json) return PrintJson(ctx, *response);
  if (response->replayed()) {
    ctx.out << "already " << verb << " as " << response->message_id()
            << " (same idempotency key; nothing new stored)\n";
  } else {
    ctx.out << verb << " " << response->message_id() << " to " << to << " at "
            << Time(response->created_at()) << "\n";
  }
  return kExitOk;
}

int RunWhoAmI(Context& ctx) {
  absl::StatusOr<v1::WhoAmIResponse> who = ctx.client.WhoAmI();
  if (!who.ok()) return Fail(ctx, who.status());
  if (ctx.json) return PrintJson(ctx, *who);
  auto line = [&](absl::string_view label, absl::string_view value) {
    ctx.out << std::left << std::setw(12) << label << value << "\n";
  };
  line("identity", who->spiffe_id());
  line("party", absl::StrCat(who->party(), " (", who->party_name(), ")"));
  line("role", RoleText(who->role()));
  line("user", who->user_id());
  line("tier",
       ShortName(v1::PartyTier_descriptor(), "PARTY_TIER_", who->tier()));
  line("state",
       ShortName(v1::PartyState_descriptor(), "PARTY_STATE_", who->state()));
  line("ceiling", ShortName(v1::Classification_descriptor(), "CLASSIFICATION_",
                            who->classification_ceiling()));
  if (who->tier() == v1::PARTY_TIER_OPERATIONAL_PARTNER) {
    line("agreement", who->agreement_in_force() ? "in force" : "lapsed");
  }
  return kExitOk;
}

int RunSend(Context& ctx) {
  const Invocation& inv = ctx.inv;
  v1::SendMessageRequest request;
  if (!inv.Has("to")) {
    ctx.err << "liaison: send needs --to=PARTY[,PARTY...]\n";
    return kExitUsage;
  }
  for (absl::string_view party :
       absl::StrSplit(inv.Get("to"), ',', absl::SkipWhitespace())) {
    request.add_recipients(std::string(absl::StripAsciiWhitespace(party)));
  }
  const auto kind =
      ParseEnum<v1::MessageKind>(v1::MessageKind_descriptor(), "MESSAGE_KIND_",
                                 inv.Get("kind", "REQUEST"));
  if (!kind.has_value()) {
    ctx.err << "liaison: --kind must be REQUEST, SPONTANEOUS, WARNING or "
               "FEEDBACK\n";
    return kExitUsage;
  }
  request.set_kind(*kind);
  const auto priority = ParseEnum<v1::Priority>(
      v1::Priority_descriptor(), "PRIORITY_", inv.Get("priority", "ROUTINE"));
  if (!priority.has_value()) {
    ctx.err << "liaison: --priority must be ROUTINE or URGENT\n";
    return kExitUsage;
  }
  request.set_priority(*priority);
  request.set_urgency_justification(inv.Get("justification"));
  request.set_in_reply_to(inv.Get("in-reply-to"));
  if (std::optional<Problem> problem = FillContent(inv, request)) {
    ctx.err << "liaison: " << problem->message << "\n";
    return problem->exit_code;
  }
  return SendResultOut(ctx, request.idempotency_key(),
                       ctx.client.SendMessage(request), "sent",
                       absl::StrJoin(request.recipients(), ","));
}

int RunReply(Context& ctx) {
  const Invocation& inv = ctx.inv;
  v1::ReplyRequest request;
  request.set_request_id(ctx.args[0]);
  if (std::optional<Problem> problem = FillContent(inv, request)) {
    ctx.err << "liaison: " << problem->message << "\n";
    return problem->exit_code;
  }
  absl::StatusOr<v1::ReplyResponse> reply = ctx.client.Reply(request);
  absl::StatusOr<v1::SendMessageResponse> as_send;
  if (reply.ok()) {
    v1::SendMessageResponse converted;
    converted.set_message_id(reply->message_id());
    *converted.mutable_created_at() = reply->created_at();
    converted.set_replayed(reply->replayed());
    as_send = converted;
    if (ctx.json) return PrintJson(ctx, *reply);
  } else {
    as_send = reply.status();
  }
  return SendResultOut(ctx, request.idempotency_key(), as_send, "replied",
                       absl::StrCat("request ", request.request_id()));
}

std::string RecipientsText(
    const google::protobuf::RepeatedPtrField<v1::Recipient>& recipients) {
  std::vector<std::string> parts;
  for (const v1::Recipient& r : recipients) {
    if (r.request_state() == v1::REQUEST_STATE_UNSPECIFIED) {
      parts.push_back(r.party());
    } else {
      parts.push_back(
          absl::StrCat(r.party(), "(",
                       ShortName(v1::RequestState_descriptor(),
                                 "REQUEST_STATE_", r.request_state()),
                       r.overdue() ? ",OVERDUE" : "", ")"));
    }
  }
  return absl::StrJoin(parts, ",");
}

void PrintSummaries(
    Context& ctx,
    const google::protobuf::RepeatedPtrField<v1::MessageSummary>& messages,
    const std::string& next_page_token, absl::string_view command) {
  if (messages.empty()) {
    ctx.out << "no messages\n";
    return;
  }
  ctx.out << std::left << std::setw(27) << "ID" << std::setw(5) << "FROM"
          << std::setw(22) << "TO" << std::setw(12) << "KIND" << std::setw(14)
          << "CLASS" << std::setw(4) << "PD" << std::setw(21) << "CREATED"
          << "SUBJECT\n";
  for (const v1::MessageSummary& m : messages) {
    ctx.out << std::left << std::setw(27) << m.id() << std::setw(5)
            << m.sender().party() << std::setw(22)
            << RecipientsText(m.recipients()) << std::setw(12)
            << ShortName(v1::MessageKind_descriptor(), "MESSAGE_KIND_",
                         m.kind())
            << std::setw(14)
            << ShortName(v1::Classification_descriptor(), "CLASSIFICATION_",
                         m.classification())
            << std::setw(4) << (m.contains_personal_data() ? "yes" : "no")
            << std::setw(21) << Time(m.created_at())
            << Printable(
                   m.withheld_reason().empty()
                       ? m.subject()
                       : absl::StrCat("[withheld: ", m.withheld_reason(), "]"))
            << "\n";
  }
  if (!next_page_token.empty()) {
    ctx.out << "more: liaison " << command
            << " --page-token=" << next_page_token << "\n";
  }
}

template <typename Request>
std::optional<std::string> FillPage(const Invocation& inv, Request& request) {
  if (inv.Has("page-size")) {
    int size = 0;
    if (!absl::SimpleAtoi(inv.Get("page-size"), &size)) {
      return "--page-size must be a number";
    }
    request.set_page_size(size);
  }
  request.set_page_token(inv.Get("page-token"));
  return std::nullopt;
}

int RunInbox(Context& ctx) {
  v1::ListInboxRequest request;
  if (auto problem = FillPage(ctx.inv, request)) {
    ctx.err << "liaison: " << *problem << "\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::ListInboxResponse> page = ctx.client.ListInbox(request);
  if (!page.ok()) return Fail(ctx, page.status());
  if (ctx.json) return PrintJson(ctx, *page);
  PrintSummaries(ctx, page->messages(), page->next_page_token(), "inbox");
  return kExitOk;
}

int RunOutbox(Context& ctx) {
  v1::ListOutboxRequest request;
  if (auto problem = FillPage(ctx.inv, request)) {
    ctx.err << "liaison: " << *problem << "\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::ListOutboxResponse> page = ctx.client.ListOutbox(request);
  if (!page.ok()) return Fail(ctx, page.status());
  if (ctx.json) return PrintJson(ctx, *page);
  PrintSummaries(ctx, page->messages(), page->next_page_token(), "outbox");
  return kExitOk;
}

int RunShow(Context& ctx) {
  absl::StatusOr<v1::Message> m = ctx.client.GetMessage(ctx.args[0]);
  if (!m.ok()) return Fail(ctx, m.status());
  if (ctx.json) return PrintJson(ctx, *m);
  auto line = [&](absl::string_view label, absl::string_view value) {
    if (value.empty()) return;
    ctx.out << std::left << std::setw(16) << label << Printable(value) << "\n";
  };
  line("id", m->id());
  line("kind",
       ShortName(v1::MessageKind_descriptor(), "MESSAGE_KIND_", m->kind()));
  line("from", absl::StrCat(m->sender().party(), " / ", m->sender().user_id(),
                            " (", RoleText(m->sender().role()), ")"));
  line("to", RecipientsText(m->recipients()));
  line("in reply to", m->in_reply_to());
  line("owner", m->owner_party());
  line("original", m->origin_id());
  line("forwarded from", m->forwarded_from());
  line("created", Time(m->created_at()));
  line("priority",
       ShortName(v1::Priority_descriptor(), "PRIORITY_", m->priority()));
  line("justification", m->urgency_justification());
  line("classification", ShortName(v1::Classification_descriptor(),
                                   "CLASSIFICATION_", m->classification()));
  line("personal data", m->contains_personal_data() ? "yes" : "no");
  std::string handling = ShortName(v1::HandlingCode_descriptor(),
                                   "HANDLING_CODE_", m->handling().code());
  if (!m->handling().restriction().empty()) {
    absl::StrAppend(&handling, ": ", m->handling().restriction());
  }
  line("handling", handling);
  if (m->has_evaluation()) {
    line("evaluation",
         absl::StrCat(ShortName(v1::SourceReliability_descriptor(),
                                "SOURCE_RELIABILITY_",
                                m->evaluation().source_reliability()),
                      ShortName(v1::InformationAssessment_descriptor(),
                                "INFORMATION_ASSESSMENT_",
                                m->evaluation().information())));
  }
  line("subject", m->subject());
  for (const v1::Recipient& r : m->recipients()) {
    std::vector<std::string> facts;
    if (r.has_due_at()) {
      facts.push_back(absl::StrCat("due ", Time(r.due_at()),
                                   r.overdue() ? " (OVERDUE)" : ""));
    }
    if (r.has_delivered_at()) {
      facts.push_back(absl::StrCat("delivered ", Time(r.delivered_at())));
    }
    if (r.has_read_at())
      facts.push_back(absl::StrCat("read ", Time(r.read_at())));
    if (r.has_acknowledged_at()) {
      facts.push_back(absl::StrCat("acknowledged ", Time(r.acknowledged_at())));
    }
    if (r.has_answered_at()) {
      facts.push_back(absl::StrCat("answered ", Time(r.answered_at()), " by ",
                                   r.reply_id()));
    }
    if (r.has_refused_at()) {
      facts.push_back(
          absl::StrCat("refused ", Time(r.refused_at()), " ",
                       ShortName(v1::RefusalReason_descriptor(),
                                 "REFUSAL_REASON_", r.refusal_reason()),
                       r.refusal_text().empty() ? "" : ": ", r.refusal_text()));
    }
    if (!facts.empty()) {
      line(absl::StrCat("  ", r.party()), absl::StrJoin(facts, "; "));
    }
  }
  for (const v1::AttachmentInfo& a : m->attachments()) {
    line("attachment", absl::StrCat(a.id(), " ", Printable(a.file_name()), " (",
                                    a.size(), " bytes)"));
  }
  ctx.out << "\n" << Printable(m->body(), /*multiline=*/true);
  if (!absl::EndsWith(m->body(), "\n")) ctx.out << "\n";
  return kExitOk;
}

int MessageOut(Context& ctx, const absl::StatusOr<v1::Message>& m,
               absl::string_view verb) {
  if (!m.ok()) return Fail(ctx, m.status());
  if (ctx.json) return PrintJson(ctx, *m);
  ctx.out << verb << " " << m->id() << "\n";
  return kExitOk;
}

int RunRequests(Context& ctx) {
  v1::ListRequestsRequest request;
  if (auto problem = FillPage(ctx.inv, request)) {
    ctx.err << "liaison: " << *problem << "\n";
    return kExitUsage;
  }
  request.set_sent(ctx.inv.Has("sent"));
  request.set_case_id(ctx.inv.Get("case"));
  request.set_overdue(ctx.inv.Has("overdue"));
  if (ctx.inv.Has("state")) {
    const auto state = ParseEnum<v1::RequestState>(
        v1::RequestState_descriptor(), "REQUEST_STATE_", ctx.inv.Get("state"));
    if (!state.has_value()) {
      ctx.err << "liaison: --state must be OPEN, ACKNOWLEDGED, ANSWERED or "
                 "REFUSED\n";
      return kExitUsage;
    }
    request.set_state(*state);
  }
  if (ctx.inv.Has("due-within")) {
    absl::Duration within;
    if (!absl::ParseDuration(ctx.inv.Get("due-within"), &within)) {
      ctx.err << "liaison: --due-within must be a duration such as 8h or "
                 "90m\n";
      return kExitUsage;
    }
    const int64_t seconds = absl::ToInt64Seconds(within);
    request.mutable_due_within()->set_seconds(seconds);
    request.mutable_due_within()->set_nanos(static_cast<int32_t>(
        absl::ToInt64Nanoseconds(within - absl::Seconds(seconds))));
  }
  absl::StatusOr<v1::ListRequestsResponse> page =
      ctx.client.ListRequests(request);
  if (!page.ok()) return Fail(ctx, page.status());
  if (ctx.json) return PrintJson(ctx, *page);
  // The next page's command repeats the filters: the token is theirs.
  std::string command = "requests";
  for (const char* flag : {"sent", "overdue"}) {
    if (ctx.inv.Has(flag)) absl::StrAppend(&command, " --", flag);
  }
  for (const char* flag : {"state", "due-within", "case", "page-size"}) {
    if (ctx.inv.Has(flag)) {
      absl::StrAppend(&command, " --", flag, "=", ctx.inv.Get(flag));
    }
  }
  PrintSummaries(ctx, page->messages(), page->next_page_token(), command);
  return kExitOk;
}

int RunAck(Context& ctx) {
  return MessageOut(ctx, ctx.client.AcknowledgeRequest(ctx.args[0]),
                    "acknowledged");
}

int RunRefuse(Context& ctx) {
  const auto reason = ParseEnum<v1::RefusalReason>(
      v1::RefusalReason_descriptor(), "REFUSAL_REASON_", ctx.inv.Get("reason"));
  if (!reason.has_value()) {
    ctx.err << "liaison: --reason must be one of the refusal reasons in "
               "liaison --help\n";
    return kExitUsage;
  }
  v1::RefuseRequestRequest request;
  request.set_request_id(ctx.args[0]);
  request.set_reason(*reason);
  request.set_text(ctx.inv.Get("text"));
  return MessageOut(ctx, ctx.client.RefuseRequest(request), "refused");
}

int RunHandling(Context& ctx) {
  const auto code = ParseEnum<v1::HandlingCode>(v1::HandlingCode_descriptor(),
                                                "HANDLING_CODE_", ctx.args[1]);
  if (!code.has_value()) {
    ctx.err << "liaison: CODE must be H0, H1, H2 or H3\n";
    return kExitUsage;
  }
  v1::SetHandlingRequest request;
  request.set_message_id(ctx.args[0]);
  request.mutable_handling()->set_code(*code);
  request.mutable_handling()->set_restriction(ctx.inv.Get("restriction"));
  return MessageOut(ctx, ctx.client.SetHandling(request),
                    absl::StrCat("handling code ", ctx.args[1], " set on"));
}

// A progress bar on a terminal for transfers over 1 MiB; nothing otherwise.
Client::Progress ProgressBar(Context& ctx, absl::string_view verb) {
  if (!ctx.interactive) return [](int64_t, int64_t) {};
  return [&ctx, verb](int64_t done, int64_t total) {
    if (total < (1 << 20)) return;
    const int width = 30;
    const int filled =
        static_cast<int>(width * done / std::max<int64_t>(total, 1));
    ctx.err << "\r" << verb << " [" << std::string(filled, '#')
            << std::string(width - filled, ' ') << "] "
            << absl::StrFormat("%5.1f/%.1f MiB", done / 1048576.0,
                               total / 1048576.0)
            << (done >= total ? "\n" : "") << std::flush;
  };
}

int RunAttach(Context& ctx) {
  absl::StatusOr<v1::AttachmentInfo> info = ctx.client.UploadAttachment(
      ctx.args[0], ctx.args[1], ProgressBar(ctx, "upload"));
  if (!info.ok()) {
    if (absl::IsNotFound(info.status()) &&
        absl::StartsWith(info.status().message(), "cannot open")) {
      ctx.err << "liaison: " << info.status().message() << "\n";
      return kExitLocal;
    }
    return Fail(ctx, info.status());
  }
  if (ctx.json) return PrintJson(ctx, *info);
  ctx.out << "attached " << info->id() << " " << Printable(info->file_name())
          << " (" << info->size() << " bytes, sha256 " << info->sha256()
          << ") to " << info->message_id() << "\n";
  return kExitOk;
}

int RunDownload(Context& ctx) {
  if (!ctx.inv.Has("out")) {
    ctx.err << "liaison: download needs --out=FILE\n";
    return kExitUsage;
  }
  absl::StatusOr<v1::AttachmentInfo> info = ctx.client.DownloadAttachment(
      ctx.args[0], ctx.inv.Get("out"), ProgressBar(ctx, "download"));
  if (!info.ok()) return Fail(ctx, info.status());
  if (ctx.json) return PrintJson(ctx, *info);
  ctx.out << "downloaded " << Printable(info->file_name()) << " ("
          << info->size() << " bytes, sha256 verified) to "
          << ctx.inv.Get("out") << "\n";
  return kExitOk;
}

int RunWatch(Context& ctx) {
  int64_t cursor = 0;
  int64_t max_events = 0;  // 0: until interrupted
  if ((ctx.inv.Has("cursor") &&
       !absl::SimpleAtoi(ctx.inv.Get("cursor"), &cursor)) ||
      (ctx.inv.Has("max-events") &&
       (!absl::SimpleAtoi(ctx.inv.Get("max-events"), &max_events) ||
        max_events < 0))) {
    ctx.err << "liaison: --cursor and --max-events must be numbers\n";
    return kExitUsage;
  }
  int64_t seen = 0;
  const absl::Status end =
      ctx.client.Subscribe(cursor, [&](const v1::Event& event) {
        if (ctx.json) {
          PrintJson(ctx, event);
        } else {
          ctx.out << event.seq() << "  " << Time(event.time()) << "  "
                  << std::left << std::setw(14) << event.kind()
                  << event.message_id() << "  " << Printable(event.detail())
                  << std::endl;
        }
        return max_events == 0 || ++seen < max_events;
      });
  if (!end.ok()) return Fail(ctx, end);
  return kExitOk;
}

int RunForward(Context& ctx) {
  if (!ctx.inv.Has("to")) {
    ctx.err << "liaison: forward needs --to=PARTY[,PARTY...]\n";
    return kExitUsage;
  }
  v1::ForwardRequest request;
  request.set_message_id(ctx.args[0]);
  for (absl::string_view party :
       absl::StrSplit(ctx.inv.Get("to"), ',', absl::SkipWhitespace())) {
    request.add_recipients(std::string(absl::StripAsciiWhitespace(party)));
  }
  request.set_idempotency_key(
      ctx.inv.Get("idempotency-key", NewIdempotencyKey()));
  return SendResultOut(ctx, request.idempotency_key(),
                       ctx.client.Forward(request), "forwarded",
                       absl::StrJoin(request.recipients(), ","));
}

int ConsentOut(Context& ctx, const absl::StatusOr<v1::Consent>& c) {
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.json) return PrintJson(ctx, *c);
  ctx.out << "consent " << c->id() << " "
          << ShortName(v1::ConsentState_descriptor(), "CONSENT_STATE_",
                       c->state())
          << ": " << c->requester_party() << " -> " << c->target_party()
          << " for " << c->origin_id() << " (owner " << c->owner_party() << ")";
  if (!c->justification().empty()) {
    ctx.out << "; why: " << Printable(c->justification());
  }
  if (!c->decision_reason().empty()) {
    ctx.out << "; decision: " << Printable(c->decision_reason());
  }
  ctx.out << "\n";
  return kExitOk;
}

int RunConsentAsk(Context& ctx) {
  v1::RequestConsentRequest request;
  request.set_message_id(ctx.args[0]);
  request.set_to(ctx.inv.Get("to"));
  request.set_justification(ctx.inv.Get("text"));
  return ConsentOut(ctx, ctx.client.RequestConsent(request));
}

int RunConsentDecide(Context& ctx, bool grant) {
  v1::DecideConsentRequest request;
  request.set_consent_id(ctx.args[0]);
  request.set_grant(grant);
  request.set_reason(ctx.inv.Get("text"));
  return ConsentOut(ctx, ctx.client.DecideConsent(request));
}
int RunConsentGrant(Context& ctx) { return RunConsentDecide(ctx, true); }
int RunConsentRefuse(Context& ctx) { return RunConsentDecide(ctx, false); }

int RunConsentList(Context& ctx) {
  absl::StatusOr<v1::ListConsentsResponse> list = ctx.client.ListConsents();
  if (!list.ok()) return Fail(ctx, list.status());
  if (ctx.json) return PrintJson(ctx, *list);
  if (list->consents().empty()) ctx.out << "no consent requests\n";
  for (const v1::Consent& c : list->consents()) ConsentOut(ctx, c);
  return kExitOk;
}

// A date (2026-01-31, UTC midnight) or an RFC 3339 time.
std::optional<google::protobuf::Timestamp> ParseWhen(const std::string& text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error) &&
      !absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return std::nullopt;
  }
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

int RunReport(Context& ctx) {
  v1::StatisticsRequest request;
  const auto from = ParseWhen(ctx.inv.Get("from"));
  // Without --to: up to now, including the current second.
  std::optional<google::protobuf::Timestamp> to;
  if (ctx.inv.Has("to")) {
    to = ParseWhen(ctx.inv.Get("to"));
  } else {
    to.emplace();
    to->set_seconds(absl::ToUnixSeconds(absl::Now()) + 1);
  }
  if (!from.has_value() || !to.has_value()) {
    ctx.err << "liaison: --from (and --to) must be dates like 2026-01-31 "
               "or RFC 3339 times\n";
    return kExitUsage;
  }
  *request.mutable_from() = *from;
  *request.mutable_to() = *to;
  request.set_party(ctx.inv.Get("party"));
  absl::StatusOr<v1::Statistics> s = ctx.client.GetStatistics(request);
  if (!s.ok()) return Fail(ctx, s.status());
  if (ctx.json) return PrintJson(ctx, *s);
  const bool csv = ctx.inv.Has("csv");
  auto row = [&](absl::string_view section, absl::string_view key,
                 const v1::RequestCounts& c) {
    const std::vector<std::string> cells = {
        std::string(section),           std::string(key),
        absl::StrCat(c.total()),        absl::StrCat(c.urgent()),
        absl::StrCat(c.routine()),      absl::StrCat(c.open()),
        absl::StrCat(c.acknowledged()), absl::StrCat(c.answered()),
        absl::StrCat(c.refused()),      absl::StrCat(c.overdue())};
    if (csv) {
      ctx.out << absl::StrJoin(cells, ",") << "\n";
      return;
    }
    ctx.out << std::left << std::setw(14) << cells[0] << std::setw(10)
            << cells[1];
    for (size_t i = 2; i < cells.size(); ++i) {
      ctx.out << std::right << std::setw(8) << cells[i];
    }
    ctx.out << "\n";
  };
  const std::vector<std::string> header = {
      "section", "key",          "total",    "urgent",  "routine",
      "open",    "acknowledged", "answered", "refused", "overdue"};
  if (csv) {
    ctx.out << absl::StrJoin(header, ",") << "\n";
  } else {
    ctx.out << "requests sent " << Time(s->from()) << " to " << Time(s->to())
            << (s->party().empty() ? ", all parties"
                                   : absl::StrCat(", party ", s->party()))
            << "\n"
            << std::left << std::setw(14) << "SECTION" << std::setw(10)
            << "KEY";
    for (size_t i = 2; i < header.size(); ++i) {
      ctx.out << std::right << std::setw(8) << header[i].substr(0, 7);
    }
    ctx.out << "\n";
  }
  row("sent", "all", s->sent());
  row("received", "all", s->received());
  auto sorted = [](const auto& map) {
    return std::map<std::string, v1::RequestCounts>(map.begin(), map.end());
  };
  for (const auto& [party, c] : sorted(s->sent_by_party())) {
    row("sent-to", party, c);
  }
  for (const auto& [party, c] : sorted(s->received_by_party())) {
    row("received-from", party, c);
  }
  for (const auto& [month, c] : sorted(s->by_month())) row("month", month, c);
  std::map<std::string, int64_t> reasons;
  for (const auto& [reason, n] : s->sent().refused_by_reason()) {
    reasons[absl::StrCat("sent:", reason)] += n;
  }
  for (const auto& [reason, n] : s->received().refused_by_reason()) {
    reasons[absl::StrCat("received:", reason)] += n;
  }
  for (const auto& [reason, n] : reasons) {
    ctx.out << (csv ? absl::StrCat("refused-by-reason,", reason, ",", n)
                    : absl::StrCat("refused by reason  ", reason, ": ", n))
            << "\n";
  }
  ctx.out << (csv ? absl::StrCat("cases,opened,", s->cases_opened(),
                                 "\ncases,closed,", s->cases_closed())
                  : absl::StrCat("cases opened ", s->cases_opened(),
                                 ", closed ", s->cases_closed()))
          << "\n";
  return kExitOk;
}

int CaseOut(Context& ctx, const absl::StatusOr<v1::Case>& c) {
  if (!c.ok()) return Fail(ctx, c.status());
  if (ctx.json) return PrintJson(ctx, *c);
  ctx.out << "case " << c->id() << " \"" << Printable(c->title()) << "\" "
          << ShortName(v1::CaseState_descriptor(), "CASE_STATE_", c->state())
          << ", owner " << c->owner_party() << ", participants "
          << (c->participants().empty() ? "none"
                                        : absl::StrJoin(c->participants(), ","))
          << ", " << c->message_ids_size() << " message(s)\n";
  return kExitOk;
}

int RunCaseOpen(Context& ctx) {
  v1::OpenCaseRequest request;
  request.set_title(ctx.inv.Get("title"));
  for (absl::string_view party : absl::StrSplit(ctx.inv.Get("participants"),
                                                ',', absl::SkipWhitespace())) {
    request.add_participants(std::string(absl::StripAsciiWhitespace(party)));
  }
  return CaseOut(ctx, ctx.client.OpenCase(request));
}

int RunCaseParticipant(Context& ctx, bool add) {
  v1::ParticipantRequest request;
  request.set_case_id(ctx.args[0]);
  request.set_party(ctx.args[1]);
  return CaseOut(ctx, add ? ctx.client.AddParticipant(request)
                          : ctx.client.RemoveParticipant(request));
}
int RunCaseAdd(Context& ctx) { return RunCaseParticipant(ctx, true); }
int RunCaseRemove(Context& ctx) { return RunCaseParticipant(ctx, false); }

int RunCaseAttach(Context& ctx) {
  v1::AttachMessageRequest request;
  request.set_case_id(ctx.args[0]);
  request.set_message_id(ctx.args[1]);
  return CaseOut(ctx, ctx.client.AttachMessage(request));
}

int RunCaseShow(Context& ctx) {
  absl::StatusOr<v1::CaseDetails> details = ctx.client.GetCase(ctx.args[0]);
  if (!details.ok()) return Fail(ctx, details.status());
  if (ctx.json) return PrintJson(ctx, *details);
  CaseOut(ctx, details->case_());
  PrintSummaries(ctx, details->thread(), "", "case show");
  return kExitOk;
}

int RunCaseList(Context& ctx) {
  absl::StatusOr<v1::ListCasesResponse> list = ctx.client.ListCases();
  if (!list.ok()) return Fail(ctx, list.status());
  if (ctx.json) return PrintJson(ctx, *list);
  if (list->cases().empty()) ctx.out << "no cases\n";
  for (const v1::Case& c : list->cases()) CaseOut(ctx, c);
  return kExitOk;
}

int RunCaseClose(Context& ctx) {
  return CaseOut(ctx, ctx.client.CloseCase(ctx.args[0]));
}

std::string PartyLine(const v1::Party& p) {
  std::string line = absl::StrCat(
      ShortName(v1::PartyTier_descriptor(), "PARTY_TIER_", p.tier()),
      ", ceiling ",
      ShortName(v1::Classification_descriptor(), "CLASSIFICATION_",
                p.classification_ceiling()));
  if (p.tier() == v1::PARTY_TIER_OPERATIONAL_PARTNER) {
    absl::StrAppend(&line, ", agreement ",
                    p.agreement_in_force() ? "in force" : "lapsed");
  }
  absl::StrAppend(
      &line, ", ",
      ShortName(v1::PartyState_descriptor(), "PARTY_STATE_", p.state()));
  return line;
}

int PartyOut(Context& ctx, const absl::StatusOr<v1::Party>& party) {
  if (!party.ok()) return Fail(ctx, party.status());
  if (ctx.json) return PrintJson(ctx, *party);
  ctx.out << party->code() << " (" << Printable(party->name())
          << "): " << PartyLine(*party) << "\n";
  return kExitOk;
}

// --reason is required for every change; the server says so too, but an
// officer should not need a round trip to learn it.
std::optional<std::string> Reason(Context& ctx) {
  if (!ctx.inv.Has("reason") || ctx.inv.Get("reason").empty()) {
    ctx.err << "liaison: --reason is required: every change to a party is "
               "recorded with why\n";
    return std::nullopt;
  }
  return ctx.inv.Get("reason");
}

int RunAdminParties(Context& ctx) {
  absl::StatusOr<v1::ListPartiesResponse> list = ctx.client.ListParties();
  if (!list.ok()) return Fail(ctx, list.status());
  if (ctx.json) return PrintJson(ctx, *list);
  ctx.out << std::left << std::setw(6) << "CODE" << std::setw(46) << "NAME"
          << "STATUS\n";
  for (const v1::Party& p : list->parties()) {
    ctx.out << std::left << std::setw(6) << p.code() << std::setw(46)
            << Printable(p.name()) << PartyLine(p) << "\n";
  }
  return kExitOk;
}

int RunAdminPartyShow(Context& ctx) {
  absl::StatusOr<v1::PartyDetails> details = ctx.client.GetParty(ctx.args[0]);
  if (!details.ok()) return Fail(ctx, details.status());
  if (ctx.json) return PrintJson(ctx, *details);
  const v1::Party& p = details->party();
  ctx.out << p.code() << " (" << Printable(p.name()) << ")\n"
          << "status  " << PartyLine(p) << "\n\nhistory:\n";
  for (const v1::StatusChange& c : details->history()) {
    ctx.out << "  " << Time(c.time()) << "  " << c.change() << " "
            << Printable(c.from()) << (c.from().empty() ? "" : " -> ")
            << Printable(c.to()) << "\n    by " << Printable(c.changed_by())
            << ": " << Printable(c.reason()) << "\n";
  }
  return kExitOk;
}

int RunAdminRegister(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  v1::RegisterPartyRequest request;
  request.set_code(ctx.args[0]);
  request.set_name(ctx.inv.Get("name"));
  const auto tier = ParseEnum<v1::PartyTier>(
      v1::PartyTier_descriptor(), "PARTY_TIER_", ctx.inv.Get("tier"));
  if (!tier.has_value()) {
    ctx.err << "liaison: --tier must be MEMBER_STATE, OPERATIONAL_PARTNER or "
               "OBSERVER\n";
    return kExitUsage;
  }
  request.set_tier(*tier);
  const auto ceiling = ParseEnum<v1::Classification>(
      v1::Classification_descriptor(), "CLASSIFICATION_",
      ctx.inv.Get("ceiling", "UNCLASSIFIED"));
  if (!ceiling.has_value()) {
    ctx.err << "liaison: --ceiling must be UNCLASSIFIED, RESTRICTED, "
               "CONFIDENTIAL or SECRET\n";
    return kExitUsage;
  }
  request.set_classification_ceiling(*ceiling);
  const std::string agreement = ctx.inv.Get("agreement", "lapsed");
  if (agreement != "in-force" && agreement != "lapsed") {
    ctx.err << "liaison: --agreement must be in-force or lapsed\n";
    return kExitUsage;
  }
  request.set_agreement_in_force(agreement == "in-force");
  request.set_reason(*reason);
  return PartyOut(ctx, ctx.client.RegisterParty(request));
}

int RunAdminSetTier(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  const auto tier = ParseEnum<v1::PartyTier>(v1::PartyTier_descriptor(),
                                             "PARTY_TIER_", ctx.args[1]);
  if (!tier.has_value()) {
    ctx.err << "liaison: TIER must be MEMBER_STATE, OPERATIONAL_PARTNER or "
               "OBSERVER\n";
    return kExitUsage;
  }
  v1::SetPartyTierRequest request;
  request.set_code(ctx.args[0]);
  request.set_tier(*tier);
  request.set_reason(*reason);
  return PartyOut(ctx, ctx.client.SetPartyTier(request));
}

int RunAdminSetCeiling(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  const auto ceiling = ParseEnum<v1::Classification>(
      v1::Classification_descriptor(), "CLASSIFICATION_", ctx.args[1]);
  if (!ceiling.has_value()) {
    ctx.err << "liaison: CLASSIFICATION must be UNCLASSIFIED, RESTRICTED, "
               "CONFIDENTIAL or SECRET\n";
    return kExitUsage;
  }
  v1::SetCeilingRequest request;
  request.set_code(ctx.args[0]);
  request.set_classification_ceiling(*ceiling);
  request.set_reason(*reason);
  return PartyOut(ctx, ctx.client.SetCeiling(request));
}

int RunAdminAgreement(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  if (ctx.args[1] != "in-force" && ctx.args[1] != "lapsed") {
    ctx.err << "liaison: the agreement is in-force or lapsed\n";
    return kExitUsage;
  }
  v1::SetAgreementRequest request;
  request.set_code(ctx.args[0]);
  request.set_in_force(ctx.args[1] == "in-force");
  request.set_reason(*reason);
  return PartyOut(ctx, ctx.client.SetAgreement(request));
}

int RunAdminSuspend(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  v1::SuspendPartyRequest request;
  request.set_code(ctx.args[0]);
  request.set_reason(*reason);
  return PartyOut(ctx, ctx.client.SuspendParty(request));
}

int RunAdminReinstate(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  v1::ReinstatePartyRequest request;
  request.set_code(ctx.args[0]);
  request.set_reason(*reason);
  return PartyOut(ctx, ctx.client.ReinstateParty(request));
}

int RunAdminRevoke(Context& ctx) {
  const std::optional<std::string> reason = Reason(ctx);
  if (!reason.has_value()) return kExitUsage;
  if (ctx.inv.Has("serial") == ctx.inv.Has("user")) {
    ctx.err << "liaison: give --serial=HEX or --user=PARTY/ROLE/USER\n";
    return kExitUsage;
  }
  v1::RevokeCertificateRequest request;
  if (ctx.inv.Has("serial")) {
    request.set_serial(ctx.inv.Get("serial"));
  } else {
    request.set_user(ctx.inv.Get("user"));
  }
  request.set_reason(*reason);
  absl::StatusOr<v1::Revocation> revoked =
      ctx.client.RevokeCertificate(request);
  if (!revoked.ok()) return Fail(ctx, revoked.status());
  if (ctx.json) return PrintJson(ctx, *revoked);
  ctx.out << "revoked "
          << (revoked->serial().empty()
                  ? absl::StrCat("every certificate of ", revoked->user())
                  : absl::StrCat("certificate serial ", revoked->serial()))
          << " at " << Time(revoked->revoked_at()) << "\n";
  return kExitOk;
}

int RunAdminRevocations(Context& ctx) {
  absl::StatusOr<v1::ListRevocationsResponse> list =
      ctx.client.ListRevocations();
  if (!list.ok()) return Fail(ctx, list.status());
  if (ctx.json) return PrintJson(ctx, *list);
  if (list->revocations().empty()) {
    ctx.out << "no revocations\n";
    return kExitOk;
  }
  ctx.out << std::left << std::setw(21) << "REVOKED" << std::setw(42)
          << "CERTIFICATE"
          << "REASON\n";
  for (const v1::Revocation& r : list->revocations()) {
    ctx.out << std::left << std::setw(21) << Time(r.revoked_at())
            << std::setw(42)
            << (r.serial().empty() ? absl::StrCat("user ", r.user())
                                   : absl::StrCat("serial ", r.serial()))
            << Printable(r.reason()) << "\n";
  }
  return kExitOk;
}

// A client from the global flags and the environment; on failure prints
// why and returns the exit code.
std::variant<std::unique_ptr<Client>, int> Connect(const Invocation& inv,
                                                   const EnvLookup& env,
                                                   std::ostream& err) {
  ClientOptions options;
  auto setting = [&](const std::string& flag, const std::string& variable,
                     const std::string& fallback) {
    if (inv.Has(flag)) return inv.Get(flag);
    return env(variable).value_or(fallback);
  };
  options.server = setting("server", "LIAISON_SERVER", "localhost:7443");
  options.ca = setting("ca", "LIAISON_CA", "");
  options.cert = setting("cert", "LIAISON_CERT", "");
  options.key = setting("key", "LIAISON_KEY", "");
  if (inv.Has("timeout")) {
    double seconds = 0;
    if (!absl::SimpleAtod(inv.Get("timeout"), &seconds) || seconds <= 0) {
      err << "liaison: --timeout must be a positive number of seconds\n";
      return kExitUsage;
    }
    options.timeout = absl::Seconds(seconds);
  }
  for (const auto& [value, flag, variable] :
       {std::tuple{options.ca, "--ca", "LIAISON_CA"},
        std::tuple{options.cert, "--cert", "LIAISON_CERT"},
        std::tuple{options.key, "--key", "LIAISON_KEY"}}) {
    if (value.empty()) {
      err << "liaison: " << flag << " (or " << variable
          << ") is required: Liaison accepts only mutual TLS\n";
      return kExitUsage;
    }
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) {
    err << "liaison: " << client.status().message() << "\n";
    return kExitLocal;
  }
  return *std::move(client);
}

// The audit verifier key from `flag`, else LIAISON_AUDIT_KEY: a file
// holding it, or the key text itself. Prints why not and returns the exit
// code on failure.
std::variant<NoteVerifier, int> AuditVerifier(const Invocation& inv,
                                              const std::string& flag,
                                              const EnvLookup& env,
                                              std::ostream& err) {
  std::string value = inv.Get(flag);
  if (value.empty()) value = env("LIAISON_AUDIT_KEY").value_or("");
  if (value.empty()) {
    err << "liaison: --" << flag
        << "=VKEY (or LIAISON_AUDIT_KEY) is required: the audit verifier "
           "key, from a channel you trust (e.g. audit.vkey)\n";
    return kExitUsage;
  }
  std::string text = value;
  if (value.find('+') == std::string::npos ||
      std::ifstream(value).good()) {  // A path, not key text.
    absl::StatusOr<std::string> read = ReadFile(value);
    if (!read.ok()) {
      err << "liaison: " << read.status().message() << "\n";
      return kExitLocal;
    }
    text = *std::move(read);
  }
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::FromVerifierKey(text);
  if (!verifier.ok()) {
    err << "liaison: verifier key: " << verifier.status().message() << "\n";
    return kExitLocal;
  }
  return *std::move(verifier);
}

int AuditFailed(std::ostream& out, const std::vector<std::string>& problems) {
  for (const std::string& problem : problems) {
    out << "FAILED: " << Printable(problem) << "\n";
  }
  return kExitRefused;
}

std::string ShortHex(absl::string_view hash) {
  return HexEncode(hash).substr(0, 16);
}

bool ParseCount(const Invocation& inv, const std::string& flag, int64_t& value,
                std::ostream& err) {
  if (!inv.Has(flag)) return true;
  if (!absl::SimpleAtoi(inv.Get(flag), &value) || value < 0) {
    err << "liaison: --" << flag << " must be a number, 0 or more\n";
    return false;
  }
  return true;
}

// Writes `text` to `path` through a temporary file, so that a reader never
// sees half of it.
absl::Status WriteWhole(const std::string& path, absl::string_view text) {
  const std::string partial = path + ".part";
  {
    std::ofstream file(partial, std::ios::binary | std::ios::trunc);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    file.close();
    if (!file) {
      std::remove(partial.c_str());
      return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
    }
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

void PrintRecordRow(std::ostream& out, const v1::AuditRecord& r,
                    absl::string_view extra = "") {
  out << std::left << std::setw(8) << r.seq() << std::setw(21) << Time(r.time())
      << std::setw(6) << Printable(r.party()) << std::setw(30)
      << Printable(r.action()) << std::setw(9) << Printable(r.outcome())
      << extra << Printable(absl::StrCat(r.role(), "/", r.user_id()));
  if (!r.reason().empty()) out << "  " << Printable(r.reason());
  out << "\n";
}

int RunAuditCheckpoint(Context& ctx) {
  absl::StatusOr<v1::GetCheckpointResponse> got =
      ctx.client.GetCheckpoint(ctx.inv.Has("fresh"));
  if (!got.ok()) return Fail(ctx, got.status());
  if (ctx.json) return PrintJson(ctx, *got);
  const std::string& note = got->checkpoint().note();
  if (!ctx.inv.Has("out")) {
    ctx.out << note;
    return kExitOk;
  }
  if (absl::Status written = WriteWhole(ctx.inv.Get("out"), note);
      !written.ok()) {
    ctx.err << "liaison: " << written.message() << "\n";
    return kExitLocal;
  }
  ctx.out << "checkpoint of " << got->checkpoint().tree_size()
          << " entries written to " << ctx.inv.Get("out") << "\n";
  return kExitOk;
}

int RunAuditEntries(Context& ctx) {
  int64_t from = 1, to = 0, page_size = 0;
  if (!ParseCount(ctx.inv, "from", from, ctx.err) ||
      !ParseCount(ctx.inv, "to", to, ctx.err) ||
      !ParseCount(ctx.inv, "page-size", page_size, ctx.err)) {
    return kExitUsage;
  }
  v1::ListEntriesRequest request;
  request.set_from_seq(from);
  request.set_to_seq(to);
  request.set_page_size(
      static_cast<int32_t>(std::min<int64_t>(page_size, 1 << 20)));
  absl::StatusOr<v1::ListEntriesResponse> page =
      ctx.client.ListAuditEntries(request);
  if (!page.ok()) return Fail(ctx, page.status());
  if (ctx.json) return PrintJson(ctx, *page);
  ctx.out << std::left << std::setw(8) << "ENTRY" << std::setw(21) << "TIME"
          << std::setw(6) << "PARTY" << std::setw(30) << "ACTION"
          << std::setw(9) << "OUTCOME"
          << "WHO, REASON\n";
  for (const v1::AuditRecord& r : page->entries()) PrintRecordRow(ctx.out, r);
  if (page->next_seq() != 0) {
    ctx.out << "more: --from=" << page->next_seq() << "\n";
  }
  return kExitOk;
}

int RunAuditExport(Context& ctx) {
  if (!ctx.inv.Has("out")) {
    ctx.err << "liaison: audit export needs --out=FILE\n";
    return kExitUsage;
  }
  int64_t tree_size = 0;
  if (!ParseCount(ctx.inv, "tree-size", tree_size, ctx.err)) return kExitUsage;
  const std::string path = ctx.inv.Get("out");
  const std::string partial = path + ".part";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) {
    ctx.err << "liaison: cannot write " << partial << "\n";
    return kExitLocal;
  }
  int64_t entries = 0;
  v1::ExportHeader header;
  const absl::Status streamed =
      ctx.client.ExportAudit(tree_size, [&](const v1::ExportChunk& chunk) {
        if (chunk.has_header()) {
          header = chunk.header();
          absl::StatusOr<std::string> line = ExportLine(header);
          if (!line.ok()) return line.status();
          file << *line << "\n";
        }
        for (const v1::ExportedEntry& entry : chunk.entries()) {
          absl::StatusOr<std::string> line = ExportLine(entry);
          if (!line.ok()) return line.status();
          file << *line << "\n";
          ++entries;
        }
        return file ? absl::OkStatus()
                    : absl::DataLossError(absl::StrCat("cannot write ", path));
      });
  file.close();
  if (!streamed.ok() || !file ||
      std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    if (!streamed.ok()) return Fail(ctx, streamed);
    ctx.err << "liaison: cannot write " << path << "\n";
    return kExitLocal;
  }
  ctx.out << "exported " << entries << " entries (" << header.scope()
          << ") with the checkpoint of " << header.checkpoint().tree_size()
          << " entries to " << path << "\n";
  return kExitOk;
}

int RunAuditVerify(OfflineContext& ctx) {
  if (ctx.inv.Has("key") && ctx.inv.Has("verifier-key")) {
    ctx.err << "liaison: give --key or --verifier-key, not both\n";
    return kExitUsage;
  }
  std::variant<NoteVerifier, int> verifier = AuditVerifier(
      ctx.inv, ctx.inv.Has("verifier-key") ? "verifier-key" : "key", ctx.env,
      ctx.err);
  if (const int* code = std::get_if<int>(&verifier)) return *code;
  std::vector<std::string> kept;
  if (ctx.inv.Has("checkpoint")) {
    for (absl::string_view path :
         absl::StrSplit(ctx.inv.Get("checkpoint"), ',', absl::SkipEmpty())) {
      absl::StatusOr<std::string> note = ReadFile(path);
      if (!note.ok()) {
        ctx.err << "liaison: " << note.status().message() << "\n";
        return kExitLocal;
      }
      kept.push_back(*std::move(note));
    }
  }
  std::ifstream file(ctx.args[0], std::ios::binary);
  if (!file) {
    ctx.err << "liaison: cannot read " << ctx.args[0] << "\n";
    return kExitLocal;
  }
  const ExportReport report =
      VerifyExport(file, std::get<NoteVerifier>(verifier), kept);
  if (!report.ok) return AuditFailed(ctx.out, report.problems);
  ctx.out << "OK: " << report.entries << " entries (" << Printable(report.scope)
          << ") verify against the checkpoint of "
          << report.checkpoint.body.size << " entries signed by "
          << Printable(report.checkpoint.body.origin) << "\n"
          << "root " << HexEncode(report.checkpoint.body.root_hash) << "\n";
  if (report.checkpoints_checked > 0) {
    ctx.out << report.checkpoints_checked
            << " earlier or kept checkpoints are prefixes of it\n";
  }
  return kExitOk;
}

int RunAuditConsistency(OfflineContext& ctx) {
  std::variant<NoteVerifier, int> verifier =
      AuditVerifier(ctx.inv, "verifier-key", ctx.env, ctx.err);
  if (const int* code = std::get_if<int>(&verifier)) return *code;
  std::vector<std::string> notes;
  std::vector<CheckedCheckpoint> checked;
  for (const std::string& path : ctx.args) {
    absl::StatusOr<std::string> note = ReadFile(path);
    if (!note.ok()) {
      ctx.err << "liaison: " << note.status().message() << "\n";
      return kExitLocal;
    }
    absl::StatusOr<CheckedCheckpoint> c =
        CheckCheckpoint(*note, std::get<NoteVerifier>(verifier));
    if (!c.ok()) {
      return AuditFailed(ctx.out,
                         {absl::StrCat(path, ": ", c.status().message())});
    }
    notes.push_back(*std::move(note));
    checked.push_back(*std::move(c));
  }
  const CheckedCheckpoint& old = checked[0];
  const CheckedCheckpoint& now = checked[1];
  std::vector<std::string> hashes;
  if (ctx.inv.Has("export")) {
    // No server: both roots must come out of the export's entries.
    std::ifstream file(ctx.inv.Get("export"), std::ios::binary);
    if (!file) {
      ctx.err << "liaison: cannot read " << ctx.inv.Get("export") << "\n";
      return kExitLocal;
    }
    const ExportReport report =
        VerifyExport(file, std::get<NoteVerifier>(verifier), notes);
    if (!report.ok) return AuditFailed(ctx.out, report.problems);
    if (report.scope != "full") {
      return AuditFailed(ctx.out, {"a party's export cannot show that one "
                                   "checkpoint extends another; use a full "
                                   "export or ask the server"});
    }
  } else if (old.body.size > 0 && old.body.size < now.body.size) {
    std::variant<std::unique_ptr<Client>, int> client =
        Connect(ctx.inv, ctx.env, ctx.err);
    if (const int* code = std::get_if<int>(&client)) return *code;
    absl::StatusOr<v1::ConsistencyProof> proof =
        std::get<std::unique_ptr<Client>>(client)->GetConsistencyProof(
            static_cast<int64_t>(old.body.size),
            static_cast<int64_t>(now.body.size));
    if (!proof.ok()) {
      ctx.err << "liaison: " << absl::StatusCodeToString(proof.status().code())
              << ": " << proof.status().message() << "\n";
      return absl::IsUnavailable(proof.status()) ? kExitUnavailable
                                                 : kExitRefused;
    }
    hashes.assign(proof->hashes().begin(), proof->hashes().end());
  }
  if (!ctx.inv.Has("export")) {
    if (absl::Status consistent = CheckConsistency(old, now, hashes);
        !consistent.ok()) {
      return AuditFailed(ctx.out, {std::string(consistent.message())});
    }
  } else if (old.body.size > now.body.size) {
    return AuditFailed(ctx.out,
                       {absl::StrCat("the newer checkpoint covers fewer "
                                     "entries (",
                                     now.body.size, ") than the older (",
                                     old.body.size, "): the log shrank")});
  }
  ctx.out << "OK: the checkpoint of " << now.body.size
          << " entries extends the one of " << old.body.size << "\n";
  return kExitOk;
}

int RunAuditProve(Context& ctx) {
  int64_t seq = 0, tree_size = 0;
  if (!absl::SimpleAtoi(ctx.args[0], &seq) || seq < 1) {
    ctx.err << "liaison: ENTRY is an entry number, 1 or more\n";
    return kExitUsage;
  }
  if (!ParseCount(ctx.inv, "tree-size", tree_size, ctx.err)) return kExitUsage;
  std::variant<NoteVerifier, int> verifier =
      AuditVerifier(ctx.inv, "verifier-key", ctx.env, ctx.err);
  if (const int* code = std::get_if<int>(&verifier)) return *code;
  absl::StatusOr<v1::InclusionProof> proof =
      ctx.client.GetInclusionProof(seq, tree_size);
  if (!proof.ok()) return Fail(ctx, proof.status());
  if (ctx.json) PrintJson(ctx, *proof);
  if (!proof->has_checkpoint()) {
    return AuditFailed(
        ctx.out,
        {absl::StrCat("no checkpoint was signed at ", proof->tree_size(),
                      " entries; prove against the latest (no "
                      "--tree-size)")});
  }
  absl::StatusOr<CheckedCheckpoint> checkpoint = CheckCheckpoint(
      proof->checkpoint().note(), std::get<NoteVerifier>(verifier));
  if (!checkpoint.ok()) {
    return AuditFailed(ctx.out, {absl::StrCat("the checkpoint: ",
                                              checkpoint.status().message())});
  }
  if (checkpoint->body.size != static_cast<uint64_t>(proof->tree_size()) ||
      (tree_size != 0 && proof->tree_size() != tree_size)) {
    return AuditFailed(ctx.out, {"the proof is for another tree size than "
                                 "the signed checkpoint or the one asked for"});
  }
  if (proof->entry().seq() != seq) {
    return AuditFailed(ctx.out, {absl::StrCat("asked to prove entry ", seq,
                                              ", the server proved entry ",
                                              proof->entry().seq())});
  }
  const std::vector<std::string> hashes(proof->hashes().begin(),
                                        proof->hashes().end());
  if (absl::Status included =
          CheckInclusion(proof->entry(), hashes, *checkpoint);
      !included.ok()) {
    return AuditFailed(ctx.out, {std::string(included.message())});
  }
  if (ctx.json) return kExitOk;
  PrintRecordRow(ctx.out, proof->entry());
  ctx.out << "OK: entry " << seq << " is in the signed log of "
          << checkpoint->body.size << " entries (root "
          << HexEncode(checkpoint->body.root_hash) << ")\n";
  return kExitOk;
}

int RunAuditAccesses(Context& ctx) {
  std::variant<NoteVerifier, int> verifier =
      AuditVerifier(ctx.inv, "verifier-key", ctx.env, ctx.err);
  if (const int* code = std::get_if<int>(&verifier)) return *code;
  absl::StatusOr<v1::ListAccessesResponse> receipts =
      ctx.client.ListAccesses(ctx.args[0]);
  if (!receipts.ok()) return Fail(ctx, receipts.status());
  absl::StatusOr<CheckedCheckpoint> checkpoint = CheckCheckpoint(
      receipts->checkpoint().note(), std::get<NoteVerifier>(verifier));
  if (!checkpoint.ok()) {
    return AuditFailed(ctx.out, {absl::StrCat("the checkpoint: ",
                                              checkpoint.status().message())});
  }
  std::set<std::string> ids = {ctx.args[0]};
  ids.insert(receipts->copies().begin(), receipts->copies().end());
  std::vector<std::string> problems;
  std::vector<bool> proven;
  for (const v1::InclusionProof& access : receipts->accesses()) {
    const std::vector<std::string> hashes(access.hashes().begin(),
                                          access.hashes().end());
    absl::Status included = CheckInclusion(access.entry(), hashes, *checkpoint);
    const bool names_it = std::any_of(
        access.entry().resources().begin(), access.entry().resources().end(),
        [&](const std::string& id) { return ids.count(id) > 0; });
    if (included.ok() && !names_it) {
      included = absl::FailedPreconditionError(
          absl::StrCat("entry ", access.entry().seq(),
                       " does not touch the message or its copies"));
    }
    proven.push_back(included.ok());
    if (!included.ok()) problems.emplace_back(included.message());
  }
  if (ctx.json) {
    PrintJson(ctx, *receipts);
  } else {
    ctx.out << std::left << std::setw(8) << "ENTRY" << std::setw(21) << "TIME"
            << std::setw(6) << "PARTY" << std::setw(30) << "ACTION"
            << std::setw(9) << "OUTCOME" << std::setw(8) << "PROOF"
            << "WHO, REASON\n";
    for (int i = 0; i < receipts->accesses_size(); ++i) {
      PrintRecordRow(ctx.out, receipts->accesses(i).entry(),
                     absl::StrFormat("%-8s", proven[i] ? "ok" : "FAILED"));
    }
  }
  if (!problems.empty()) return AuditFailed(ctx.out, problems);
  if (!ctx.json) {
    if (!receipts->copies().empty()) {
      ctx.out << "copies passed on: "
              << Printable(absl::StrJoin(receipts->copies(), ", ")) << "\n";
    }
    if (receipts->truncated()) {
      ctx.out << "only the oldest " << receipts->accesses_size()
              << " accesses are listed\n";
    }
    ctx.out << "OK: " << receipts->accesses_size()
            << " accesses, each proven in the signed log of "
            << checkpoint->body.size << " entries (root "
            << ShortHex(checkpoint->body.root_hash)
            << "...); that none is missing, only a full export shows\n";
  }
  return kExitOk;
}

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"whoami", 0, 0, "no arguments", {}, RunWhoAmI},
      {"send",
       0,
       0,
       "no arguments",
       {"to", "kind", "subject", "body", "body-file", "priority",
        "justification", "classification", "personal-data", "handling",
        "restriction", "evaluation", "in-reply-to", "idempotency-key"},
       RunSend},
      {"inbox", 0, 0, "no arguments", {"page-size", "page-token"}, RunInbox},
      {"outbox", 0, 0, "no arguments", {"page-size", "page-token"}, RunOutbox},
      {"show", 1, 1, "one message id", {}, RunShow},
      {"reply",
       1,
       1,
       "one message id",
       {"subject", "body", "body-file", "classification", "personal-data",
        "handling", "restriction", "evaluation", "idempotency-key"},
       RunReply},
      {"requests",
       0,
       0,
       "no arguments",
       {"sent", "state", "overdue", "due-within", "case", "page-size",
        "page-token"},
       RunRequests},
      {"ack", 1, 1, "one message id", {}, RunAck},
      {"refuse", 1, 1, "one message id", {"reason", "text"}, RunRefuse},
      {"handling", 2, 2, "ID CODE", {"restriction"}, RunHandling},
      {"watch", 0, 0, "no arguments", {"cursor", "max-events"}, RunWatch},
      {"attach", 2, 2, "ID FILE", {}, RunAttach},
      {"download", 1, 1, "one attachment id", {"out"}, RunDownload},
      {"forward",
       1,
       1,
       "one message id",
       {"to", "idempotency-key"},
       RunForward},
      {"consent ask", 1, 1, "one message id", {"to", "text"}, RunConsentAsk},
      {"consent grant", 1, 1, "one consent id", {"text"}, RunConsentGrant},
      {"consent refuse", 1, 1, "one consent id", {"text"}, RunConsentRefuse},
      {"consent list", 0, 0, "no arguments", {}, RunConsentList},
      {"report",
       0,
       0,
       "no arguments",
       {"from", "to", "party", "csv"},
       RunReport},
      {"case open",
       0,
       0,
       "no arguments",
       {"title", "participants"},
       RunCaseOpen},
      {"case add", 2, 2, "CASE PARTY", {}, RunCaseAdd},
      {"case remove", 2, 2, "CASE PARTY", {}, RunCaseRemove},
      {"case attach", 2, 2, "CASE MESSAGE", {}, RunCaseAttach},
      {"case show", 1, 1, "CASE", {}, RunCaseShow},
      {"case list", 0, 0, "no arguments", {}, RunCaseList},
      {"case close", 1, 1, "CASE", {}, RunCaseClose},
      {"admin parties", 0, 0, "no arguments", {}, RunAdminParties},
      {"admin party show", 1, 1, "CODE", {}, RunAdminPartyShow},
      {"admin party register",
       1,
       1,
       "CODE",
       {"name", "tier", "ceiling", "agreement", "reason"},
       RunAdminRegister},
      {"admin party set-tier", 2, 2, "CODE TIER", {"reason"}, RunAdminSetTier},
      {"admin party set-ceiling",
       2,
       2,
       "CODE CLASSIFICATION",
       {"reason"},
       RunAdminSetCeiling},
      {"admin party agreement",
       2,
       2,
       "CODE in-force|lapsed",
       {"reason"},
       RunAdminAgreement},
      {"admin party suspend", 1, 1, "CODE", {"reason"}, RunAdminSuspend},
      {"admin party reinstate", 1, 1, "CODE", {"reason"}, RunAdminReinstate},
      {"admin revoke",
       0,
       0,
       "no arguments",
       {"serial", "user", "reason"},
       RunAdminRevoke},
      {"admin revocations", 0, 0, "no arguments", {}, RunAdminRevocations},
      {"audit checkpoint",
       0,
       0,
       "no arguments",
       {"fresh", "out"},
       RunAuditCheckpoint},
      {"audit entries",
       0,
       0,
       "no arguments",
       {"from", "to", "page-size"},
       RunAuditEntries},
      {"audit export",
       0,
       0,
       "no arguments",
       {"out", "tree-size"},
       RunAuditExport},
      {"audit verify",
       1,
       1,
       "one export FILE",
       {"key", "verifier-key", "checkpoint"},
       nullptr,
       RunAuditVerify},
      {"audit consistency",
       2,
       2,
       "OLD NEW (checkpoint files)",
       {"verifier-key", "export"},
       nullptr,
       RunAuditConsistency},
      {"audit prove",
       1,
       1,
       "one entry number",
       {"verifier-key", "tree-size"},
       RunAuditProve},
      {"audit accesses",
       1,
       1,
       "one message id",
       {"verifier-key"},
       RunAuditAccesses},
  };
  return *commands;
}

const std::set<std::string>& GlobalFlags() {
  static const auto* flags = new std::set<std::string>{
      "server", "ca", "cert", "key", "json", "timeout", "help"};
  return *flags;
}

}  // namespace

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

int RunCli(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err, const EnvLookup& env, bool interactive) {
  Invocation inv;
  if (std::optional<UsageError> error = Parse(args, inv)) {
    err << "liaison: " << error->message << "\n(liaison --help for usage)\n";
    return kExitUsage;
  }
  if (inv.Has("help") || inv.positional.empty()) {
    (inv.Has("help") ? out : err) << kUsage;
    return inv.Has("help") ? kExitOk : kExitUsage;
  }
  // The command whose words begin the positional arguments; the longest
  // such, so that "admin party show" wins over a shorter name.
  const Command* command = nullptr;
  size_t command_words = 0;
  for (const Command& c : Commands()) {
    const std::vector<std::string> words = absl::StrSplit(c.name, ' ');
    if (words.size() > inv.positional.size() || words.size() <= command_words ||
        !std::equal(words.begin(), words.end(), inv.positional.begin())) {
      continue;
    }
    command = &c;
    command_words = words.size();
  }
  if (command == nullptr) {
    err << "liaison: unknown command '"
        << absl::StrJoin(inv.positional.begin(),
                         inv.positional.begin() +
                             std::min<size_t>(inv.positional.size(), 3),
                         " ")
        << "'\n(liaison --help for usage)\n";
    return kExitUsage;
  }
  const std::string name = command->name;
  const std::vector<std::string> command_args(
      inv.positional.begin() + command_words, inv.positional.end());
  const int arg_count = static_cast<int>(command_args.size());
  if (arg_count < command->min_args || arg_count > command->max_args) {
    err << "liaison: " << name << " takes " << command->args
        << "\n(liaison --help for usage)\n";
    return kExitUsage;
  }
  for (const auto& [flag, value] : inv.flags) {
    if (GlobalFlags().count(flag) == 0 &&
        std::find(command->flags.begin(), command->flags.end(), flag) ==
            command->flags.end()) {
      err << "liaison: --" << flag << " does not apply to " << name
          << "\n(liaison --help for usage)\n";
      return kExitUsage;
    }
  }

  if (command->run_offline != nullptr) {
    OfflineContext offline{inv, command_args, out, err, env};
    return command->run_offline(offline);
  }

  std::variant<std::unique_ptr<Client>, int> client = Connect(inv, env, err);
  if (const int* code = std::get_if<int>(&client)) return *code;
  Context ctx{inv,
              command_args,
              out,
              err,
              *std::get<std::unique_ptr<Client>>(client),
              inv.Has("json"),
              interactive,
              env};
  return command->run(ctx);
}

}  // namespace liaison::client

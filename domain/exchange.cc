#include "domain/exchange.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "domain/validation.h"

namespace liaison {
namespace {

absl::Status CheckIdempotencyKey(absl::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError(
        "idempotency_key is required (any unique string of up to 128 "
        "printable characters, reused only to retry the same message)");
  }
  if (key.size() > MessageLimits::kMaxIdempotencyKey) {
    return absl::InvalidArgumentError(absl::StrCat(
        "idempotency_key is ", key.size(), " bytes long; the limit is ",
        MessageLimits::kMaxIdempotencyKey));
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "idempotency_key may contain only printable ASCII characters "
          "without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMessageId(absl::string_view field, absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (!IsValidMessageId(id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " '", absl::CEscape(id.substr(0, 64)),
        "' is not a message id (26 characters of Crockford base32)"));
  }
  return absl::OkStatus();
}

// Validates the fields shared by new messages and replies and copies them
// into `m`.
absl::Status TakeContent(const ContentFields& c, Message& m) {
  LIAISON_RETURN_IF_ERROR(CheckIdempotencyKey(c.idempotency_key));
  LIAISON_RETURN_IF_ERROR(
      CheckLine("subject", c.subject, MessageLimits::kMaxSubject, true));
  if (c.body.empty()) return absl::InvalidArgumentError("body is required");
  if (c.body.size() > MessageLimits::kMaxBody) {
    return absl::InvalidArgumentError(
        absl::StrCat("body is ", c.body.size(), " bytes long; the limit is ",
                     MessageLimits::kMaxBody, " bytes"));
  }
  if (!Utf8Length(c.body).has_value()) {
    return absl::InvalidArgumentError("body is not valid UTF-8");
  }
  LIAISON_ASSIGN_OR_RETURN(
      m.classification,
      Require(c.classification, "classification",
              "UNCLASSIFIED, RESTRICTED, CONFIDENTIAL or SECRET"));
  LIAISON_ASSIGN_OR_RETURN(
      m.handling_code,
      Require(c.handling_code, "handling.code", "H0, H1, H2 or H3"));
  if (m.handling_code == HandlingCode::kH3) {
    LIAISON_RETURN_IF_ERROR(CheckLine("handling.restriction",
                                      c.handling_restriction,
                                      MessageLimits::kMaxRestriction, true));
  } else if (!c.handling_restriction.empty()) {
    return absl::InvalidArgumentError(
        "handling.restriction is only for handling code H3");
  }
  if (c.has_evaluation) {
    Evaluation evaluation;
    LIAISON_ASSIGN_OR_RETURN(
        evaluation.source,
        Require(c.source_reliability, "evaluation.source_reliability",
                "A, B, C or X"));
    LIAISON_ASSIGN_OR_RETURN(
        evaluation.information,
        Require(c.information, "evaluation.information", "1, 2, 3 or 4"));
    m.evaluation = evaluation;
  }
  m.idempotency_key = c.idempotency_key;
  m.subject = c.subject;
  m.body = c.body;
  m.contains_personal_data = c.contains_personal_data;
  m.handling_restriction = c.handling_restriction;
  return absl::OkStatus();
}

absl::Status TakeSendFields(const SendCommand& c, absl::string_view sender,
                            Message& m) {
  LIAISON_RETURN_IF_ERROR(TakeContent(c.content, m));
  if (c.recipients.empty()) {
    return absl::InvalidArgumentError("recipients: at least one is required");
  }
  if (c.recipients.size() > MessageLimits::kMaxRecipients) {
    return absl::InvalidArgumentError(
        absl::StrCat("recipients: ", c.recipients.size(),
                     " given; the limit is ", MessageLimits::kMaxRecipients));
  }
  for (size_t i = 0; i < c.recipients.size(); ++i) {
    const std::string& party = c.recipients[i];
    if (!IsValidPartyCode(party)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "recipients[", i, "] '", absl::CEscape(party.substr(0, 32)),
          "' is not a party code (upper-case letters and digits, e.g. RO)"));
    }
    if (party == sender) {
      return absl::InvalidArgumentError(absl::StrCat(
          "recipients may not include the sender's own party ", sender));
    }
    if (std::find(c.recipients.begin(), c.recipients.begin() + i, party) !=
        c.recipients.begin() + i) {
      return absl::InvalidArgumentError(
          absl::StrCat("recipients names ", party, " twice"));
    }
  }
  LIAISON_ASSIGN_OR_RETURN(m.kind, Require(c.kind, "kind",
                                           "REQUEST, SPONTANEOUS, WARNING or "
                                           "FEEDBACK"));
  if (m.kind == MessageKind::kReply) {
    return absl::InvalidArgumentError(
        "kind REPLY is not sent directly; answer a request with Reply");
  }
  LIAISON_ASSIGN_OR_RETURN(
      m.priority, Require(c.priority, "priority", "ROUTINE or URGENT"));
  if (m.priority == Priority::kUrgent) {
    LIAISON_RETURN_IF_ERROR(CheckLine("urgency_justification",
                                      c.urgency_justification,
                                      MessageLimits::kMaxJustification, true));
  } else if (!c.urgency_justification.empty()) {
    return absl::InvalidArgumentError(
        "urgency_justification is only for URGENT messages");
  }
  if (!c.in_reply_to.empty()) {
    LIAISON_RETURN_IF_ERROR(CheckMessageId("in_reply_to", c.in_reply_to));
  }
  m.urgency_justification = c.urgency_justification;
  m.in_reply_to = c.in_reply_to;
  for (const std::string& party : c.recipients) {
    Recipient r;
    r.party = party;
    if (m.kind == MessageKind::kRequest) r.request_state = RequestState::kOpen;
    m.recipients.push_back(std::move(r));
  }
  return absl::OkStatus();
}

bool Involves(const Message& m, absl::string_view party) {
  return m.sender_party == party || m.FindRecipient(party) != nullptr;
}

// What `party` may see of a message it sent or received: other recipients'
// progress is the sender's business only.
void RedactFor(absl::string_view party, Message& m) {
  if (m.sender_party == party) return;
  m.idempotency_key.clear();
  for (Recipient& r : m.recipients) {
    if (r.party == party) continue;
    r.request_state.reset();
    r.answered_at.reset();
    r.reply_id.clear();
  }
}

MessageFacts FactsOf(const Message& m) {
  MessageFacts facts;
  facts.sender_party = m.sender_party;
  for (const Recipient& r : m.recipients) {
    facts.recipient_parties.push_back(r.party);
  }
  facts.classification = m.classification;
  facts.contains_personal_data = m.contains_personal_data;
  return facts;
}

absl::Status MessageNotFound(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("message ", id, " not found"));
}

constexpr absl::string_view kInboxToken = "inbox";
constexpr absl::string_view kOutboxToken = "outbox";

std::string EncodePageToken(absl::string_view listing, int64_t before_seq) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("v1:", listing, ":", before_seq));
}

absl::StatusOr<std::optional<int64_t>> DecodePageToken(
    absl::string_view listing, absl::string_view token) {
  if (token.empty()) return std::nullopt;
  const absl::Status bad = absl::InvalidArgumentError(
      absl::StrCat("page_token is not a token from a previous List",
                   listing == kInboxToken ? "Inbox" : "Outbox", " page"));
  std::string raw;
  if (token.size() > 64 || !absl::WebSafeBase64Unescape(token, &raw)) {
    return bad;
  }
  absl::string_view rest = raw;
  int64_t seq = 0;
  if (!absl::ConsumePrefix(&rest, "v1:") ||
      !absl::ConsumePrefix(&rest, listing) ||
      !absl::ConsumePrefix(&rest, ":") || !absl::SimpleAtoi(rest, &seq) ||
      seq <= 0) {
    return bad;
  }
  return seq;
}

}  // namespace

ExchangeService::ExchangeService(Store& store, AuditLog& audit,
                                 const Clock& clock)
    : store_(store), audit_(audit), gate_(store, audit, clock), ids_(clock) {}

absl::StatusOr<Message> ExchangeService::LoadReadable(Call& call,
                                                      const std::string& id,
                                                      absl::string_view field) {
  absl::Status malformed = CheckMessageId(field, id);
  if (!malformed.ok()) return gate_.Refuse(call, malformed);
  call.entry.resources = {id};
  absl::StatusOr<Message> message = store_.GetMessage(id);
  if (absl::IsNotFound(message.status())) {
    return gate_.Refuse(call, MessageNotFound(id));
  }
  if (!message.ok()) return gate_.Refuse(call, message.status());

  const MessageFacts facts = FactsOf(*message);
  PolicyInput input;
  input.principal = call.identity;
  input.party = &call.party;
  input.action = Action::kGetMessage;
  input.message = &facts;
  const Decision decision = Decide(input);
  if (decision.code == absl::StatusCode::kNotFound) {
    // Indistinguishable from a missing id for the caller; the log keeps the
    // real reason.
    return gate_.Refuse(call, MessageNotFound(id), decision.reason);
  }
  if (!decision.allowed()) {
    return gate_.Refuse(call, absl::Status(decision.code, decision.reason));
  }
  return message;
}

absl::StatusOr<WhoAmIResult> ExchangeService::WhoAmI(const Caller& caller) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kWhoAmI));
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {}));
  return WhoAmIResult{call.identity, call.party};
}

absl::StatusOr<SendResult> ExchangeService::SendMessage(
    const Caller& caller, const SendCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kSendMessage));
  Message m;
  absl::Status valid = TakeSendFields(command, call.identity.party, m);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  if (!m.in_reply_to.empty()) {
    // A follow-up stays within the exchange it follows: the sender's party
    // may read the earlier message and every recipient took part in it.
    LIAISON_ASSIGN_OR_RETURN(Message earlier,
                             LoadReadable(call, m.in_reply_to, "in_reply_to"));
    for (const Recipient& r : m.recipients) {
      if (!Involves(earlier, r.party)) {
        return gate_.Refuse(call, absl::FailedPreconditionError(absl::StrCat(
                                      "in_reply_to ", earlier.id,
                                      " is not a message recipient ", r.party,
                                      " sent or received; send a new message "
                                      "instead")));
      }
    }
  }
  return Deliver(call, std::move(m), nullptr);
}

absl::StatusOr<SendResult> ExchangeService::Reply(const Caller& caller,
                                                  const ReplyCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kReply));
  LIAISON_ASSIGN_OR_RETURN(
      Message request, LoadReadable(call, command.request_id, "request_id"));
  if (request.kind != MessageKind::kRequest) {
    return gate_.Refuse(
        call, absl::FailedPreconditionError(absl::StrCat(
                  "message ", request.id, " is a ", Name(request.kind),
                  ", not a REQUEST; only requests are answered")));
  }
  if (request.FindRecipient(call.identity.party) == nullptr) {
    return gate_.Refuse(
        call, absl::FailedPreconditionError(absl::StrCat(
                  "party ", call.identity.party, " sent request ", request.id,
                  "; only its recipients can answer it")));
  }
  // Whether this party already answered is decided in Deliver, after the
  // idempotency key: a retried reply must get its first answer back.

  Message m;
  ContentFields content = command.content;
  if (content.subject.empty()) {
    content.subject = TruncateUtf8(absl::StrCat("Re: ", request.subject),
                                   MessageLimits::kMaxSubject);
  }
  absl::Status valid = TakeContent(content, m);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  m.kind = MessageKind::kReply;
  m.priority = request.priority;
  m.urgency_justification = request.urgency_justification;
  m.in_reply_to = request.id;
  m.recipients.push_back(
      Recipient{request.sender_party, std::nullopt, std::nullopt, ""});
  return Deliver(call, std::move(m), &request);
}

absl::StatusOr<SendResult> ExchangeService::Deliver(Call& call, Message m,
                                                    const Message* request) {
  m.sender_party = call.identity.party;
  m.sender_user = call.identity.user_id;
  m.sender_role = call.identity.role;
  m.content_digest = ContentDigest(m);
  m.created_at = gate_.Now();
  m.id = ids_.Next();

  const MessageFacts facts = FactsOf(m);
  const MessageFacts request_facts =
      request != nullptr ? FactsOf(*request) : MessageFacts{};

  // Decided inside the transaction, returned after it commits.
  std::optional<absl::Status> refusal;
  SendResult result;
  const absl::Status written = store_.Write([&](WriteTransaction& txn)
                                                -> absl::Status {
    call.entry.resources.clear();
    if (!m.in_reply_to.empty()) call.entry.resources.push_back(m.in_reply_to);
    for (const Recipient& r : m.recipients) {
      call.entry.resources.push_back(r.party);
    }
    // Retries first: an acknowledged message is acknowledged again even if
    // the rules would now refuse it.
    LIAISON_ASSIGN_OR_RETURN(
        std::optional<Message> earlier,
        txn.FindByIdempotencyKey(m.sender_party, m.idempotency_key));
    if (earlier.has_value()) {
      call.entry.resources.insert(call.entry.resources.begin(), earlier->id);
      if (earlier->content_digest == m.content_digest) {
        result = SendResult{earlier->id, earlier->created_at, true};
        CallGate::Settle(call, absl::OkStatus());
        call.entry.reason = "retry of an earlier call; nothing new stored";
      } else {
        refusal = absl::AlreadyExistsError(absl::StrCat(
            "idempotency_key '", m.idempotency_key, "' was already used by ",
            m.sender_party, " for message ", earlier->id,
            " with different content; use a new key for a new message"));
      }
    } else {
      refusal = Judge(txn, call, m, facts,
                      request != nullptr ? &request_facts : nullptr);
      if (!refusal.has_value() && request != nullptr) {
        absl::Status answered =
            txn.MarkAnswered(request->id, m.sender_party, m.id, m.created_at);
        if (absl::IsFailedPrecondition(answered)) {
          const Recipient* mine = request->FindRecipient(m.sender_party);
          refusal = absl::FailedPreconditionError(
              absl::StrCat("request ", request->id, " was already answered by ",
                           m.sender_party,
                           mine != nullptr && !mine->reply_id.empty()
                               ? absl::StrCat(" (reply ", mine->reply_id, ")")
                               : ""));
        } else if (!answered.ok()) {
          return answered;
        }
      }
      if (!refusal.has_value()) {
        LIAISON_RETURN_IF_ERROR(txn.InsertMessage(m));
        call.entry.resources.insert(call.entry.resources.begin(), m.id);
        CallGate::Settle(call, absl::OkStatus());
        result = SendResult{m.id, m.created_at, false};
      }
    }
    if (refusal.has_value()) CallGate::Settle(call, *refusal);
    return audit_.Append(txn, call.entry).status();
  });
  if (!written.ok()) {
    return gate_.Refuse(
        call, absl::UnavailableError(absl::StrCat(
                  "the message could not be stored (", written.message(),
                  "); nothing was sent, retry with the same "
                  "idempotency key")));
  }
  if (refusal.has_value()) return *refusal;
  return result;
}

std::optional<absl::Status> ExchangeService::Judge(
    WriteTransaction& txn, const Call& call, const Message& m,
    const MessageFacts& facts, const MessageFacts* request_facts) {
  // Party records are read inside the transaction, so that a change of
  // status committed just before applies to this very send.
  absl::StatusOr<Party> sender = txn.GetParty(m.sender_party);
  if (!sender.ok()) return sender.status();
  absl::StatusOr<std::optional<Revocation>> revocation =
      txn.FindRevocation(call.identity.serial_hex, call.identity.Path());
  if (!revocation.ok()) return revocation.status();
  PolicyInput input;
  input.principal = call.identity;
  input.party = &*sender;
  input.revocation = revocation->has_value() ? &**revocation : nullptr;
  input.action = call.action;
  input.message = &facts;
  input.request = request_facts;
  for (const Recipient& r : m.recipients) {
    absl::StatusOr<Party> recipient = txn.GetParty(r.party);
    if (absl::IsNotFound(recipient.status())) {
      return absl::NotFoundError(absl::StrCat(
          "recipient party ", r.party, " is not registered; nothing was sent"));
    }
    if (!recipient.ok()) return recipient.status();
    input.recipient = &*recipient;
    const Decision decision = Decide(input);
    if (!decision.allowed()) {
      return absl::Status(decision.code,
                          absl::StrCat("nothing was sent: ", decision.reason));
    }
  }
  return std::nullopt;
}

absl::StatusOr<MessageView> ExchangeService::GetMessage(
    const Caller& caller, const std::string& message_id) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kGetMessage));
  LIAISON_ASSIGN_OR_RETURN(Message message,
                           LoadReadable(call, message_id, "message_id"));
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {message.id}));
  RedactFor(call.identity.party, message);
  return MessageView{std::move(message), ""};
}

absl::StatusOr<MessagePage> ExchangeService::ListInbox(const Caller& caller,
                                                       const PageQuery& query) {
  return List(caller, Action::kListInbox, query);
}

absl::StatusOr<MessagePage> ExchangeService::ListOutbox(
    const Caller& caller, const PageQuery& query) {
  return List(caller, Action::kListOutbox, query);
}

absl::StatusOr<MessagePage> ExchangeService::List(const Caller& caller,
                                                  Action action,
                                                  const PageQuery& query) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, action));
  const absl::string_view listing =
      action == Action::kListInbox ? kInboxToken : kOutboxToken;
  if (query.page_size < 0) {
    return gate_.Refuse(call, absl::InvalidArgumentError(absl::StrCat(
                                  "page_size is ", query.page_size,
                                  "; it must be 0 (default) or positive")));
  }
  const int page_size =
      query.page_size == 0
          ? MessageLimits::kDefaultPageSize
          : std::min(query.page_size, MessageLimits::kMaxPageSize);
  absl::StatusOr<std::optional<int64_t>> before =
      DecodePageToken(listing, query.page_token);
  if (!before.ok()) return gate_.Refuse(call, before.status());

  const std::string& party = call.identity.party;
  absl::StatusOr<std::vector<Message>> found =
      action == Action::kListInbox
          ? store_.ListInbox(party, page_size + 1, *before)
          : store_.ListOutbox(party, page_size + 1, *before);
  if (!found.ok()) return gate_.Refuse(call, found.status());

  MessagePage page;
  if (found->size() > static_cast<size_t>(page_size)) {
    found->resize(page_size);
    page.next_page_token = EncodePageToken(listing, found->back().seq);
  }
  std::vector<std::string> listed;
  for (Message& m : *found) {
    const MessageFacts facts = FactsOf(m);
    PolicyInput input;
    input.principal = call.identity;
    input.party = &call.party;
    input.action = Action::kGetMessage;
    input.message = &facts;
    const Decision decision = Decide(input);
    MessageView view;
    if (!decision.allowed()) {
      view.withheld_reason = decision.reason;
      m.subject.clear();
    } else {
      listed.push_back(m.id);
    }
    RedactFor(party, m);
    view.message = std::move(m);
    page.messages.push_back(std::move(view));
  }
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, std::move(listed)));
  return page;
}

}  // namespace liaison

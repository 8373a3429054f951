#include "domain/exchange.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/sha256.h"
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
                            size_t max_recipients, Message& m) {
  LIAISON_RETURN_IF_ERROR(TakeContent(c.content, m));
  if (c.recipients.empty()) {
    return absl::InvalidArgumentError("recipients: at least one is required");
  }
  if (c.recipients.size() > max_recipients) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "recipients: ", c.recipients.size(), " given; the limit is ",
        max_recipients, " per message (--max-recipients)"));
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

absl::Status MessageNotFound(absl::string_view id) {
  return absl::NotFoundError(absl::StrCat("message ", id, " not found"));
}

constexpr absl::string_view kInboxToken = "inbox";
constexpr absl::string_view kReceivedRequestsToken = "requests";
constexpr absl::string_view kSentRequestsToken = "sent-requests";
constexpr size_t kMaxRefusalText = 1000;

Recipient* FindMutableRecipient(Message& m, absl::string_view party) {
  for (Recipient& r : m.recipients) {
    if (r.party == party) return &r;
  }
  return nullptr;
}
constexpr absl::string_view kOutboxToken = "outbox";

std::string EncodePageToken(absl::string_view listing, int64_t before_seq) {
  return absl::WebSafeBase64Escape(
      absl::StrCat("v1:", listing, ":", before_seq));
}

absl::StatusOr<std::optional<int64_t>> DecodePageToken(
    absl::string_view listing, absl::string_view token) {
  if (token.empty()) return std::nullopt;
  const absl::Status bad = absl::InvalidArgumentError(absl::StrCat(
      "page_token is not a token from a previous page of this listing (",
      listing, ")"));
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

// A listing's page size and starting point.
struct Page {
  int size = MessageLimits::kDefaultPageSize;
  std::optional<int64_t> before;
};

absl::StatusOr<Page> ParsePage(const PageQuery& query,
                               absl::string_view listing) {
  if (query.page_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size is ", query.page_size,
                     "; it must be 0 (default) or positive"));
  }
  Page page;
  if (query.page_size > 0) {
    page.size = std::min(query.page_size, MessageLimits::kMaxPageSize);
  }
  LIAISON_ASSIGN_OR_RETURN(page.before,
                           DecodePageToken(listing, query.page_token));
  return page;
}

}  // namespace

// What `party` may see of a message it sent or received: other recipients'
// progress is the sender's business only.
void RedactFor(absl::string_view party, Message& m) {
  if (m.sender_party == party) return;
  m.idempotency_key.clear();
  for (Recipient& r : m.recipients) {
    if (r.party == party) continue;
    Recipient party_only;
    party_only.party = r.party;
    r = std::move(party_only);
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

MessageView ViewFor(const Call& call, Message message,
                    const MessageFacts& facts, absl::Time now) {
  PolicyInput input;
  input.principal = call.identity;
  input.party = &call.party;
  input.action = Action::kGetMessage;
  input.message = &facts;
  const Decision decision = Decide(input);
  MessageView view;
  view.as_of = now;
  if (!decision.allowed()) {
    view.withheld_reason = decision.reason;
    message.subject.clear();
  }
  RedactFor(call.identity.party, message);
  view.message = std::move(message);
  return view;
}

ExchangeService::ExchangeService(Store& store, AuditLog& audit,
                                 const Clock& clock, DeadlineOptions deadlines,
                                 SubscriptionOptions subscriptions,
                                 ExchangeLimits limits)
    : store_(store),
      audit_(audit),
      gate_(store, audit, clock),
      ids_(clock),
      deadlines_(deadlines),
      subscriptions_(subscriptions),
      limits_(limits) {}

absl::StatusOr<Message> ExchangeService::LoadReadable(Call& call,
                                                      const std::string& id,
                                                      absl::string_view field) {
  std::variant<Message, PendingRefusal> readable =
      ExamineReadable(call, id, field);
  if (PendingRefusal* refusal = std::get_if<PendingRefusal>(&readable)) {
    return gate_.Refuse(call, std::move(refusal->status),
                        std::move(refusal->audit_reason));
  }
  return std::get<Message>(std::move(readable));
}

std::variant<Message, PendingRefusal> ExchangeService::ExamineReadable(
    Call& call, const std::string& id, absl::string_view field) {
  absl::Status malformed = CheckMessageId(field, id);
  if (!malformed.ok()) return PendingRefusal{std::move(malformed)};
  call.entry.resources = {id};
  absl::StatusOr<Message> message = store_.GetMessage(id);
  if (absl::IsNotFound(message.status())) {
    return PendingRefusal{MessageNotFound(id)};
  }
  if (!message.ok()) return PendingRefusal{message.status()};

  MessageFacts facts = FactsOf(*message);
  absl::StatusOr<std::vector<std::string>> case_parties =
      store_.CaseReaders(id);
  if (!case_parties.ok()) return PendingRefusal{case_parties.status()};
  facts.case_parties = *std::move(case_parties);
  PolicyInput input;
  input.principal = call.identity;
  input.party = &call.party;
  input.action = Action::kGetMessage;
  input.message = &facts;
  const Decision decision = Decide(input);
  if (decision.code == absl::StatusCode::kNotFound) {
    // Indistinguishable from a missing id for the caller; the log keeps the
    // real reason.
    return PendingRefusal{MessageNotFound(id), decision.reason};
  }
  if (!decision.allowed()) {
    return PendingRefusal{absl::Status(decision.code, decision.reason)};
  }
  return *std::move(message);
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
  if (std::optional<PendingRefusal> refusal = CheckSend(call, command, m)) {
    return gate_.Refuse(call, std::move(refusal->status),
                        std::move(refusal->audit_reason));
  }
  return Deliver(call, std::move(m), nullptr, nullptr);
}

void ExchangeService::SendMessageAsync(
    const Caller& caller, const SendCommand& command,
    absl::AnyInvocable<void(absl::StatusOr<SendResult>)> done) {
  Admission admission = gate_.BeginAsync(caller, Action::kSendMessage);
  Message m;
  if (!admission.refusal.has_value()) {
    admission.refusal = CheckSend(admission.call, command, m);
  }
  if (admission.refusal.has_value()) {
    gate_.RefuseAsync(std::move(admission.call), *std::move(admission.refusal),
                      std::move(done));
    return;
  }
  DeliverAsync(std::move(admission.call), std::move(m), std::move(done));
}

std::optional<PendingRefusal> ExchangeService::CheckSend(
    Call& call, const SendCommand& command, Message& m) {
  absl::Status valid =
      TakeSendFields(command, call.identity.party, limits_.max_recipients, m);
  if (!valid.ok()) return PendingRefusal{std::move(valid)};
  if (m.in_reply_to.empty()) return std::nullopt;
  // A follow-up stays within the exchange it follows: the sender's party
  // may read the earlier message and every recipient took part in it.
  std::variant<Message, PendingRefusal> earlier =
      ExamineReadable(call, m.in_reply_to, "in_reply_to");
  if (PendingRefusal* refusal = std::get_if<PendingRefusal>(&earlier)) {
    return std::move(*refusal);
  }
  const Message& read = std::get<Message>(earlier);
  for (const Recipient& r : m.recipients) {
    if (!Involves(read, r.party)) {
      return PendingRefusal{
          absl::FailedPreconditionError(absl::StrCat(
              "in_reply_to ", read.id, " is not a message recipient ", r.party,
              " sent or received; send a new message instead")),
      };
    }
  }
  return std::nullopt;
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
  Recipient requester;
  requester.party = request.sender_party;
  m.recipients.push_back(std::move(requester));
  return Deliver(call, std::move(m), nullptr, &request);
}

// A send in progress: what Deliver decided before its transaction, and
// what the transaction decided (returned once it has committed).
struct ExchangeService::Delivery {
  Call call;
  Message m;
  const Message* original = nullptr;
  const Message* request = nullptr;
  MessageFacts facts;
  MessageFacts read_facts;
  // What DeliverIn changes in `call` and `m`, as prepared: each of its runs
  // starts from these (Store::WriteAsync may run it again).
  AuditEntry entry;
  HandlingCode handling_code = HandlingCode::kH0;
  std::string handling_restriction;
  std::optional<absl::Status> refusal;
  SendResult result;
};

std::unique_ptr<ExchangeService::Delivery> ExchangeService::PrepareDelivery(
    Call call, Message m, const Message* original, const Message* request) {
  auto d = std::make_unique<Delivery>();
  m.sender_party = call.identity.party;
  m.sender_user = call.identity.user_id;
  m.sender_role = call.identity.role;
  m.content_digest = ContentDigest(m);
  m.created_at = gate_.Now();
  m.id = ids_.Next();
  if (m.kind == MessageKind::kRequest) {
    // Received the moment it is stored; due from then.
    const absl::Duration allowed = m.priority == Priority::kUrgent
                                       ? deadlines_.urgent
                                       : deadlines_.routine;
    for (Recipient& r : m.recipients) r.due_at = m.created_at + allowed;
  }
  d->facts = FactsOf(m);
  // What is read first: the request answered, or the message passed on.
  const Message* read = request != nullptr ? request : original;
  if (read != nullptr) d->read_facts = FactsOf(*read);
  d->entry = call.entry;
  d->handling_code = m.handling_code;
  d->handling_restriction = m.handling_restriction;
  d->call = std::move(call);
  d->m = std::move(m);
  d->original = original;
  d->request = request;
  return d;
}

absl::StatusOr<SendResult> ExchangeService::Deliver(Call& call, Message m,
                                                    const Message* original,
                                                    const Message* request) {
  std::unique_ptr<Delivery> d =
      PrepareDelivery(std::move(call), std::move(m), original, request);
  const absl::Status written =
      store_.Write([&](WriteTransaction& txn) { return DeliverIn(txn, *d); });
  call = std::move(d->call);
  if (std::optional<absl::Status> failure = DeliveryFailure(written)) {
    return gate_.Refuse(call, *std::move(failure));
  }
  return Delivered(*d);
}

void ExchangeService::DeliverAsync(
    Call call, Message m,
    absl::AnyInvocable<void(absl::StatusOr<SendResult>)> done) {
  std::shared_ptr<Delivery> d =
      PrepareDelivery(std::move(call), std::move(m), nullptr, nullptr);
  store_.WriteAsync(
      [this, d](WriteTransaction& txn) { return DeliverIn(txn, *d); },
      [this, d, done = std::move(done)](absl::Status written) mutable {
        // On the store's thread: the refusal is recorded without waiting.
        if (std::optional<absl::Status> failure = DeliveryFailure(written)) {
          gate_.RefuseAsync(std::move(d->call),
                            PendingRefusal{*std::move(failure)},
                            std::move(done));
          return;
        }
        done(Delivered(*d));
      });
}

absl::Status ExchangeService::DeliverIn(WriteTransaction& txn, Delivery& d) {
  Call& call = d.call;
  Message& m = d.m;
  const Message* original = d.original;
  const Message* request = d.request;
  const MessageFacts& facts = d.facts;
  const MessageFacts& read_facts = d.read_facts;
  const Message* read = request != nullptr ? request : original;
  std::optional<absl::Status>& refusal = d.refusal;
  SendResult& result = d.result;
  // A run may follow one that was rolled back (Store::WriteAsync): start
  // over from what PrepareDelivery decided.
  call.entry = d.entry;
  m.handling_code = d.handling_code;
  m.handling_restriction = d.handling_restriction;
  refusal.reset();
  result = SendResult{};
  call.entry.resources.clear();
  if (!m.in_reply_to.empty()) call.entry.resources.push_back(m.in_reply_to);
  // A copy passed on names the message it was made from, so that the
  // owner's access receipts show the forwarding.
  if (!m.forwarded_from.empty()) {
    call.entry.resources.push_back(m.forwarded_from);
  }
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
    if (original != nullptr) {
      // The owner's handling code as committed now: a change to H2 made
      // since the message was read applies to this forward.
      LIAISON_ASSIGN_OR_RETURN(Message origin,
                               txn.GetMessage(original->Origin()));
      m.handling_code = origin.handling_code;
      m.handling_restriction = origin.handling_restriction;
    }
    if (original != nullptr && m.handling_code == HandlingCode::kH2) {
      // H2: not to be passed on without the owner's recorded consent.
      for (const Recipient& r : m.recipients) {
        LIAISON_ASSIGN_OR_RETURN(
            std::optional<Consent> consent,
            txn.FindGrantedConsent(original->Origin(), m.sender_party,
                                   r.party));
        if (!consent.has_value()) {
          refusal = absl::FailedPreconditionError(absl::StrCat(
              "message ", original->id, " is H2: ", original->Owner(),
              ", its owner, has not consented to passing it to ", r.party,
              "; ask first (RequestConsent)"));
          break;
        }
      }
    }
    if (!refusal.has_value()) {
      refusal =
          Judge(txn, call, m, facts, read != nullptr ? &read_facts : nullptr);
    }
    if (!refusal.has_value() && request != nullptr) {
      absl::Status answered =
          txn.MarkAnswered(request->id, m.sender_party, m.id, m.created_at);
      if (absl::IsFailedPrecondition(answered)) {
        const Recipient* mine = request->FindRecipient(m.sender_party);
        refusal =
            mine != nullptr && !mine->reply_id.empty()
                ? absl::FailedPreconditionError(absl::StrCat(
                      "request ", request->id, " was already answered by ",
                      m.sender_party, " (reply ", mine->reply_id, ")"))
                : answered;
      } else if (!answered.ok()) {
        return answered;
      }
    }
    if (!refusal.has_value()) {
      LIAISON_RETURN_IF_ERROR(txn.InsertMessage(m));
      for (const Recipient& r : m.recipients) {
        LIAISON_RETURN_IF_ERROR(txn.AppendEvent(
            {0, r.party, "MESSAGE", m.id,
             absl::StrCat(Name(m.kind), " from ", m.sender_party),
             m.created_at}));
      }
      if (request != nullptr) {
        LIAISON_RETURN_IF_ERROR(txn.AppendEvent(
            {0, request->sender_party, "REQUEST_STATE", request->id,
             absl::StrCat(m.sender_party, " ANSWERED"), m.created_at}));
      }
      call.entry.resources.insert(call.entry.resources.begin(), m.id);
      CallGate::Settle(call, absl::OkStatus());
      result = SendResult{m.id, m.created_at, false};
    }
  }
  if (refusal.has_value()) CallGate::Settle(call, *refusal);
  return audit_.Append(txn, call.entry).status();
}

std::optional<absl::Status> ExchangeService::DeliveryFailure(
    const absl::Status& written) {
  if (IsOutcomeUnknown(written)) {
    return absl::UnavailableError(absl::StrCat(
        "the message may or may not have been stored (", written.message(),
        "); retry with the same idempotency key: it is stored once "
        "either way"));
  }
  if (!written.ok()) {
    return absl::UnavailableError(
        absl::StrCat("the message could not be stored (", written.message(),
                     "); nothing was sent, retry with the same "
                     "idempotency key"));
  }
  return std::nullopt;
}

absl::StatusOr<SendResult> ExchangeService::Delivered(Delivery& d) {
  if (d.refusal.has_value()) return *d.refusal;
  if (!d.result.replayed) hub_.Notify();
  return d.result;
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
  const absl::Time now = gate_.Now();
  const std::string& party = call.identity.party;
  Recipient* mine = FindMutableRecipient(message, party);
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(
      call, {message.id}, [&](WriteTransaction& txn) -> absl::Status {
        if (mine == nullptr) return absl::OkStatus();
        // Opening it is the read receipt (and a delivery, if it was not
        // listed first).
        if (!mine->read_at.has_value()) {
          LIAISON_RETURN_IF_ERROR(
              txn.AppendEvent({0, message.sender_party, "RECEIPT", message.id,
                               absl::StrCat(party, " read"), now}));
        }
        return txn.RecordReceipts(party, {message.id}, now, /*read=*/true);
      }));
  if (mine != nullptr) {
    if (!mine->read_at) hub_.Notify();  // a RECEIPT event was appended
    if (!mine->delivered_at) mine->delivered_at = now;
    if (!mine->read_at) mine->read_at = now;
  }
  absl::StatusOr<std::vector<AttachmentInfo>> attachments =
      store_.ListAttachments(message.id);
  if (!attachments.ok()) return attachments.status();
  RedactFor(party, message);
  return MessageView{now, std::move(message), "", *std::move(attachments)};
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
  absl::StatusOr<Page> page = ParsePage(query, listing);
  if (!page.ok()) return gate_.Refuse(call, page.status());
  const std::string& party = call.identity.party;
  absl::StatusOr<std::vector<Message>> found =
      action == Action::kListInbox
          ? store_.ListInbox(party, page->size + 1, page->before)
          : store_.ListOutbox(party, page->size + 1, page->before);
  if (!found.ok()) return gate_.Refuse(call, found.status());
  return Present(call, *std::move(found), page->size, listing,
                 action == Action::kListInbox);
}

absl::StatusOr<MessagePage> ExchangeService::Present(Call& call,
                                                     std::vector<Message> found,
                                                     int page_size,
                                                     absl::string_view listing,
                                                     bool record_delivery) {
  MessagePage page;
  if (found.size() > static_cast<size_t>(page_size)) {
    found.resize(page_size);
    page.next_page_token = EncodePageToken(listing, found.back().seq);
  }
  const absl::Time now = gate_.Now();
  const std::string& party = call.identity.party;
  std::vector<std::string> listed;
  std::vector<std::string> delivered;
  std::vector<std::string> delivered_senders;
  for (Message& m : found) {
    const MessageFacts facts = FactsOf(m);
    MessageView view = ViewFor(call, std::move(m), facts, now);
    if (view.withheld_reason.empty()) {
      listed.push_back(view.message.id);
      if (Recipient* mine = FindMutableRecipient(view.message, party);
          record_delivery && mine != nullptr && !mine->delivered_at) {
        // What this listing shows is the delivery of the message.
        mine->delivered_at = now;
        delivered.push_back(view.message.id);
        delivered_senders.push_back(view.message.sender_party);
      }
    }
    page.messages.push_back(std::move(view));
  }
  LIAISON_RETURN_IF_ERROR(
      gate_.RecordAllowed(call, std::move(listed), [&](WriteTransaction& txn) {
        for (size_t i = 0; i < delivered.size(); ++i) {
          LIAISON_RETURN_IF_ERROR(
              txn.AppendEvent({0, delivered_senders[i], "RECEIPT", delivered[i],
                               absl::StrCat(party, " delivered"), now}));
        }
        return txn.RecordReceipts(party, delivered, now, /*read=*/false);
      }));
  if (!delivered.empty()) hub_.Notify();
  return page;
}

absl::StatusOr<MessageView> ExchangeService::Transition(
    const Caller& caller, Action action, const std::string& id,
    const absl::Status& field_check,
    absl::FunctionRef<absl::Status(Recipient& mine, absl::Time now)>
        transition) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, action));
  LIAISON_ASSIGN_OR_RETURN(Message request,
                           LoadReadable(call, id, "request_id"));
  if (!field_check.ok()) return gate_.Refuse(call, field_check);
  if (request.kind != MessageKind::kRequest) {
    return gate_.Refuse(call, absl::FailedPreconditionError(absl::StrCat(
                                  "message ", request.id, " is a ",
                                  Name(request.kind), ", not a REQUEST")));
  }
  const std::string& party = call.identity.party;
  if (request.FindRecipient(party) == nullptr) {
    return gate_.Refuse(call, absl::FailedPreconditionError(absl::StrCat(
                                  "party ", party, " sent request ", request.id,
                                  "; only its recipients act on it")));
  }
  const absl::Time now = gate_.Now();
  std::optional<absl::Status> refusal;
  const absl::Status written =
      store_.Write([&](WriteTransaction& txn) -> absl::Status {
        // The state as committed now, not as read before the transaction.
        LIAISON_ASSIGN_OR_RETURN(request, txn.GetMessage(id));
        Recipient* mine = FindMutableRecipient(request, party);
        const std::string from = Name(*mine->request_state).data();
        absl::Status moved = gate_.Recheck(txn, call);
        if (moved.ok()) moved = transition(*mine, now);
        if (moved.ok()) {
          LIAISON_RETURN_IF_ERROR(txn.UpdateRecipient(id, *mine));
          LIAISON_RETURN_IF_ERROR(txn.AppendEvent(
              {0, request.sender_party, "REQUEST_STATE", id,
               absl::StrCat(party, " ", Name(*mine->request_state)), now}));
          call.entry.reason = absl::StrCat(
              from, " -> ", Name(*mine->request_state),
              mine->refusal_reason.has_value()
                  ? absl::StrCat(" (", Name(*mine->refusal_reason), ")")
                  : "");
          CallGate::Settle(call, absl::OkStatus());
        } else {
          refusal = moved;
          CallGate::Settle(call, moved);
        }
        return audit_.Append(txn, call.entry).status();
      });
  if (!written.ok()) {
    return gate_.Refuse(
        call, absl::UnavailableError("the change could not be stored; nothing "
                                     "changed, retry later"));
  }
  if (refusal.has_value()) return *refusal;
  hub_.Notify();
  RedactFor(party, request);
  return MessageView{now, std::move(request), "", {}};
}

absl::StatusOr<MessageView> ExchangeService::AcknowledgeRequest(
    const Caller& caller, const std::string& id) {
  return Transition(
      caller, Action::kAcknowledgeRequest, id, absl::OkStatus(),
      [&](Recipient& mine, absl::Time now) -> absl::Status {
        if (mine.request_state != RequestState::kOpen) {
          return absl::FailedPreconditionError(absl::StrCat(
              "request ", id, " is ", Name(*mine.request_state), " for ",
              mine.party, "; only an OPEN request is acknowledged"));
        }
        mine.request_state = RequestState::kAcknowledged;
        mine.acknowledged_at = now;
        return absl::OkStatus();
      });
}

absl::StatusOr<MessageView> ExchangeService::RefuseRequest(
    const Caller& caller, const RefuseCommand& command) {
  absl::Status valid = [&]() -> absl::Status {
    LIAISON_ASSIGN_OR_RETURN(
        RefusalReason reason,
        Require(command.reason, "reason",
                "NOT_COMPETENT, INSUFFICIENT_DETAIL, NATIONAL_LAW, "
                "JUDICIAL_AUTHORISATION, ONGOING_INVESTIGATION, "
                "DISPROPORTIONATE, NOT_AVAILABLE or OTHER"));
    if (command.text.empty()) {
      if (reason == RefusalReason::kOther) {
        return absl::InvalidArgumentError(
            "text is required with reason OTHER: say why");
      }
      return absl::OkStatus();
    }
    return CheckLine("text", command.text, kMaxRefusalText, true);
  }();
  return Transition(caller, Action::kRefuseRequest, command.request_id, valid,
                    [&](Recipient& mine, absl::Time now) -> absl::Status {
                      if (mine.request_state != RequestState::kOpen &&
                          mine.request_state != RequestState::kAcknowledged) {
                        return absl::FailedPreconditionError(absl::StrCat(
                            "request ", command.request_id, " is already ",
                            Name(*mine.request_state), " for ", mine.party));
                      }
                      mine.request_state = RequestState::kRefused;
                      mine.refused_at = now;
                      mine.refusal_reason = *command.reason.value;
                      mine.refusal_text = command.text;
                      return absl::OkStatus();
                    });
}

absl::StatusOr<MessagePage> ExchangeService::ListRequests(
    const Caller& caller, const RequestFilter& filter) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kListRequests));
  const absl::string_view listing =
      filter.sent ? kSentRequestsToken : kReceivedRequestsToken;
  absl::Status valid = [&]() -> absl::Status {
    if (filter.state.value.has_value() == false && filter.state.raw != 0) {
      return Require(filter.state, "state",
                     "OPEN, ACKNOWLEDGED, ANSWERED or REFUSED")
          .status();
    }
    if (!filter.case_id.empty() && !IsValidMessageId(filter.case_id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("case_id '", absl::CEscape(filter.case_id.substr(0, 64)),
                       "' is not a case id"));
    }
    if (filter.due_within.has_value() &&
        (*filter.due_within <= absl::ZeroDuration() ||
         *filter.due_within > absl::Hours(24 * 366))) {
      return absl::InvalidArgumentError(
          "due_within must be positive and at most a year");
    }
    return absl::OkStatus();
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  absl::StatusOr<Page> page = ParsePage(filter.page, listing);
  if (!page.ok()) return gate_.Refuse(call, page.status());

  RequestQuery query;
  query.party = call.identity.party;
  query.sent = filter.sent;
  query.state = filter.state.value;
  query.case_id = filter.case_id;
  const absl::Time now = gate_.Now();
  if (filter.overdue) query.due_before = now;
  if (filter.due_within.has_value()) {
    query.due_before =
        std::min(query.due_before.value_or(absl::InfiniteFuture()),
                 now + *filter.due_within);
  }
  query.limit = page->size + 1;
  query.before_seq = page->before;
  absl::StatusOr<std::vector<Message>> found = store_.ListRequests(query);
  if (!found.ok()) return gate_.Refuse(call, found.status());
  return Present(call, *std::move(found), page->size, listing,
                 /*record_delivery=*/!filter.sent);
}

absl::StatusOr<MessageView> ExchangeService::SetHandling(
    const Caller& caller, const std::string& id, Choice<HandlingCode> code,
    const std::string& restriction) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kSetHandling));
  LIAISON_ASSIGN_OR_RETURN(Message message,
                           LoadReadable(call, id, "message_id"));
  absl::Status valid = [&]() -> absl::Status {
    LIAISON_ASSIGN_OR_RETURN(
        HandlingCode to, Require(code, "handling.code", "H0, H1, H2 or H3"));
    if (to == HandlingCode::kH3) {
      return CheckLine("handling.restriction", restriction,
                       MessageLimits::kMaxRestriction, true);
    }
    if (!restriction.empty()) {
      return absl::InvalidArgumentError(
          "handling.restriction is only for handling code H3");
    }
    return absl::OkStatus();
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  if (message.Owner() != call.identity.party) {
    return gate_.Refuse(
        call, absl::PermissionDeniedError(absl::StrCat(
                  "only ", message.Owner(),
                  ", the owner of the information, may change its handling "
                  "code")));
  }
  const HandlingCode to = *code.value;
  call.entry.reason =
      absl::StrCat(Name(message.handling_code), " -> ", Name(to));
  message.handling_code = to;
  message.handling_restriction = restriction;
  LIAISON_RETURN_IF_ERROR(gate_.WriteAudited(call, [&](WriteTransaction& txn) {
    // On the original: every copy follows it.
    return txn.SetHandling(message.Origin(), to, restriction);
  }));
  return MessageView{gate_.Now(), std::move(message), "", {}};
}

absl::StatusOr<SendResult> ExchangeService::Forward(
    const Caller& caller, const ForwardCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kForward));
  LIAISON_ASSIGN_OR_RETURN(
      Message original, LoadReadable(call, command.message_id, "message_id"));
  const std::string& party = call.identity.party;
  if (original.FindRecipient(party) == nullptr) {
    return gate_.Refuse(
        call, absl::FailedPreconditionError(
                  absl::StrCat("only a recipient forwards a message; ", party,
                               original.sender_party == party
                                   ? " sent it: send a new message instead"
                                   : " did not receive it")));
  }
  // Recipients and key are checked like a new message's.
  SendCommand as_send;
  as_send.recipients = command.recipients;
  as_send.kind = MessageKind::kSpontaneous;
  as_send.priority = original.priority;
  as_send.urgency_justification = original.urgency_justification;
  as_send.content.idempotency_key = command.idempotency_key;
  as_send.content.subject = original.subject;
  as_send.content.body = original.body;
  as_send.content.classification = original.classification;
  as_send.content.contains_personal_data = original.contains_personal_data;
  as_send.content.handling_code = original.handling_code;
  as_send.content.handling_restriction = original.handling_restriction;
  if (original.evaluation.has_value()) {
    as_send.content.has_evaluation = true;
    as_send.content.source_reliability = original.evaluation->source;
    as_send.content.information = original.evaluation->information;
  }
  Message copy;
  absl::Status valid =
      TakeSendFields(as_send, party, limits_.max_recipients, copy);
  if (!valid.ok()) return gate_.Refuse(call, valid);
  for (const Recipient& r : copy.recipients) {
    if (Involves(original, r.party)) {
      return gate_.Refuse(
          call, absl::FailedPreconditionError(absl::StrCat(
                    r.party, " already holds message ", original.id)));
    }
  }
  // A forwarded request carries no obligation to the new recipients.
  copy.kind = original.kind == MessageKind::kRequest ? MessageKind::kSpontaneous
                                                     : original.kind;
  copy.origin_id = original.Origin();
  copy.owner_party = original.Owner();
  copy.forwarded_from = original.id;
  return Deliver(call, std::move(copy), &original, nullptr);
}

absl::StatusOr<Consent> ExchangeService::RequestConsent(
    const Caller& caller, const ConsentRequestCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kRequestConsent));
  LIAISON_ASSIGN_OR_RETURN(
      Message message, LoadReadable(call, command.message_id, "message_id"));
  const std::string& party = call.identity.party;
  absl::Status valid = [&]() -> absl::Status {
    if (!IsValidPartyCode(command.target_party)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "to '", absl::CEscape(command.target_party.substr(0, 32)),
          "' is not a party code"));
    }
    return CheckLine("justification", command.justification,
                     MessageLimits::kMaxJustification, true);
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  if (message.Owner() == party) {
    return gate_.Refuse(call, absl::FailedPreconditionError(absl::StrCat(
                                  party, " owns message ", message.id,
                                  "; owners need no consent")));
  }
  if (Involves(message, command.target_party)) {
    return gate_.Refuse(call, absl::FailedPreconditionError(absl::StrCat(
                                  command.target_party,
                                  " already holds message ", message.id)));
  }
  Consent consent;
  consent.id = ids_.Next();
  consent.origin_id = message.Origin();
  consent.owner_party = message.Owner();
  consent.requester_party = party;
  consent.target_party = command.target_party;
  consent.justification = command.justification;
  consent.state = ConsentState::kPending;
  consent.requested_at = gate_.Now();
  consent.requested_by = call.identity.spiffe_id;
  call.entry.resources = {consent.id, message.id, command.target_party};
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        absl::StatusOr<Party> target = txn.GetParty(command.target_party);
        if (absl::IsNotFound(target.status())) {
          return absl::NotFoundError(absl::StrCat(
              "party ", command.target_party, " is not registered"));
        }
        LIAISON_RETURN_IF_ERROR(target.status());
        return txn.InsertConsent(consent);
      }));
  return consent;
}

absl::StatusOr<Consent> ExchangeService::DecideConsent(
    const Caller& caller, const ConsentDecisionCommand& command) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kDecideConsent));
  absl::Status valid = [&]() -> absl::Status {
    if (!IsValidMessageId(command.consent_id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "consent_id '", absl::CEscape(command.consent_id.substr(0, 64)),
          "' is not a consent id"));
    }
    return CheckLine("reason", command.reason, MessageLimits::kMaxJustification,
                     !command.grant);
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  const std::string& party = call.identity.party;
  call.entry.resources = {command.consent_id};
  Consent consent;
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        absl::StatusOr<Consent> found = txn.GetConsent(command.consent_id);
        if (absl::IsNotFound(found.status()) ||
            (found.ok() && found->owner_party != party &&
             found->requester_party != party)) {
          return absl::NotFoundError(
              absl::StrCat("consent ", command.consent_id, " not found"));
        }
        LIAISON_RETURN_IF_ERROR(found.status());
        consent = *std::move(found);
        if (consent.owner_party != party) {
          return absl::PermissionDeniedError(
              absl::StrCat("only ", consent.owner_party,
                           ", the owner of the information, decides"));
        }
        if (consent.state != ConsentState::kPending) {
          return absl::FailedPreconditionError(absl::StrCat(
              "consent ", consent.id, " was already ", Name(consent.state)));
        }
        consent.state =
            command.grant ? ConsentState::kGranted : ConsentState::kRefused;
        consent.decided_at = call.entry.time;
        consent.decided_by = call.identity.spiffe_id;
        consent.decision_reason = command.reason;
        call.entry.reason = absl::StrCat(
            Name(consent.state), " passing ", consent.origin_id, " from ",
            consent.requester_party, " to ", consent.target_party);
        return txn.UpdateConsent(consent);
      }));
  return consent;
}

absl::StatusOr<std::vector<Consent>> ExchangeService::ListConsents(
    const Caller& caller) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kListConsents));
  absl::StatusOr<std::vector<Consent>> consents =
      store_.ListConsents(call.identity.party);
  if (!consents.ok()) return gate_.Refuse(call, consents.status());
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {}));
  return consents;
}

absl::Status ExchangeService::Subscribe(const Caller& caller, int64_t cursor,
                                        EventSink& sink) {
  LIAISON_ASSIGN_OR_RETURN(Call call, gate_.Begin(caller, Action::kSubscribe));
  if (cursor < 0) {
    return gate_.Refuse(call,
                        absl::InvalidArgumentError(
                            "cursor must be 0 or a previous event's seq"));
  }
  const std::string& party = call.identity.party;
  {
    absl::ReleasableMutexLock lock(&streams_mu_);
    int& open = open_streams_[party];
    if (open >= limits_.max_streams_per_party) {
      const int now_open = open;
      lock.Release();
      return gate_.Refuse(call, absl::ResourceExhaustedError(absl::StrCat(
                                    "party ", party, " already has ", now_open,
                                    " open event streams; the limit is ",
                                    limits_.max_streams_per_party,
                                    " (--max-streams-per-party)")));
    }
    ++open;
  }
  // Closes this stream's place however the stream ends.
  struct StreamPlace {
    ExchangeService* service;
    std::string party;
    ~StreamPlace() {
      absl::MutexLock lock(&service->streams_mu_);
      auto it = service->open_streams_.find(party);
      if (it != service->open_streams_.end() && --it->second == 0) {
        service->open_streams_.erase(it);
      }
    }
  } place{this, party};
  LIAISON_RETURN_IF_ERROR(
      gate_.RecordAllowed(call, {absl::StrCat("cursor:", cursor)}));
  int64_t last = cursor;
  while (!sink.Cancelled()) {
    if (stopping_) {
      return absl::UnavailableError(
          absl::StrCat("liaisond is shutting down; resume from cursor ", last));
    }
    const uint64_t generation = hub_.Generation();
    // Judged on every round: a suspended or revoked party's stream ends at
    // once, and the end is audited.
    absl::StatusOr<Call> still = gate_.Rejudge(caller, Action::kSubscribe);
    if (!still.ok()) return still.status();
    // Only this party's events count: seqs are shared by every party.
    absl::StatusOr<int64_t> behind =
        store_.CountEvents(party, last, subscriptions_.max_backlog + 1);
    if (!behind.ok()) return behind.status();
    if (*behind > subscriptions_.max_backlog) {
      return gate_.Refuse(
          *still,
          absl::ResourceExhaustedError(absl::StrCat(
              "this subscriber is more than ", subscriptions_.max_backlog,
              " events behind; resume from cursor ", last)));
    }
    absl::StatusOr<std::vector<Event>> events =
        store_.ReadEvents(party, last, 100);
    if (!events.ok()) return events.status();
    for (const Event& event : *events) {
      if (!sink.Send(event)) return absl::OkStatus();
      last = event.seq;
    }
    if (events->empty()) hub_.WaitPast(generation, subscriptions_.recheck);
  }
  return absl::OkStatus();
}

absl::StatusOr<AttachmentInfo> ExchangeService::UploadAttachment(
    const Caller& caller, const AttachmentHeader& header, ChunkReader& chunks) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kUploadAttachment));
  LIAISON_ASSIGN_OR_RETURN(Message message,
                           LoadReadable(call, header.message_id, "message_id"));
  const std::string& party = call.identity.party;
  const std::string digest = absl::AsciiStrToLower(header.sha256_hex);
  absl::Status valid = [&]() -> absl::Status {
    LIAISON_RETURN_IF_ERROR(
        CheckLine("file_name", header.file_name, 255, true));
    if (header.file_name.find_first_of("/\\") != std::string::npos) {
      return absl::InvalidArgumentError(
          "file_name may not contain '/' or '\\'");
    }
    if (digest.size() != 64 ||
        digest.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return absl::InvalidArgumentError(
          "sha256 must be 64 hexadecimal characters");
    }
    if (header.size < 0) {
      return absl::InvalidArgumentError("size may not be negative");
    }
    if (header.size > limits_.max_attachment_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "an attachment of ", header.size, " bytes is over the limit of ",
          limits_.max_attachment_bytes, " bytes (--max-attachment-size)"));
    }
    return absl::OkStatus();
  }();
  if (!valid.ok()) return gate_.Refuse(call, valid);
  if (message.sender_party != party) {
    return gate_.Refuse(
        call, absl::PermissionDeniedError(absl::StrCat(
                  "only ", message.sender_party, ", which sent message ",
                  message.id, ", may attach files to it")));
  }
  // Counted before the bytes are received (to refuse early) and again in
  // the transaction that stores them (so that parallel uploads cannot pass
  // the limit together).
  auto over_limit = [&](int64_t attached) -> absl::Status {
    if (attached < limits_.max_attachments_per_message) {
      return absl::OkStatus();
    }
    return absl::ResourceExhaustedError(absl::StrCat(
        "message ", message.id, " already has ", attached,
        " attachments; the limit is ", limits_.max_attachments_per_message,
        " (--max-attachments)"));
  };
  absl::StatusOr<std::vector<AttachmentInfo>> attached =
      store_.ListAttachments(message.id);
  if (!attached.ok()) return gate_.Refuse(call, attached.status());
  if (absl::Status over = over_limit(static_cast<int64_t>(attached->size()));
      !over.ok()) {
    return gate_.Refuse(call, over);
  }

  // Received whole before anything is stored: a broken upload leaves
  // nothing. Memory is bounded by the size limit.
  constexpr size_t kChunk = 1 << 20;
  std::vector<std::string> pieces;
  std::string pending;
  Sha256Hasher hasher;
  int64_t received = 0;
  std::string chunk;
  while (chunks.Next(&chunk)) {
    received += static_cast<int64_t>(chunk.size());
    if (received > header.size) {
      return gate_.Refuse(call, absl::InvalidArgumentError(absl::StrCat(
                                    "more bytes than the declared size of ",
                                    header.size, "; nothing was stored")));
    }
    hasher.Update(chunk);
    pending += chunk;
    while (pending.size() >= kChunk) {
      pieces.push_back(pending.substr(0, kChunk));
      pending.erase(0, kChunk);
    }
  }
  if (!pending.empty()) pieces.push_back(std::move(pending));
  if (received != header.size) {
    return gate_.Refuse(call, absl::InvalidArgumentError(absl::StrCat(
                                  "the upload ended after ", received, " of ",
                                  header.size, " bytes; nothing was stored")));
  }
  const std::string actual = HexEncode(hasher.Finish());
  if (actual != digest) {
    return gate_.Refuse(
        call, absl::InvalidArgumentError(absl::StrCat(
                  "the bytes received have SHA-256 ", actual,
                  ", not the declared ", digest, "; nothing was stored")));
  }
  AttachmentInfo info;
  info.id = ids_.Next();
  info.message_id = message.id;
  info.file_name = header.file_name;
  info.size = header.size;
  info.sha256_hex = digest;
  info.uploaded_at = gate_.Now();
  info.uploaded_by = call.identity.spiffe_id;
  call.entry.resources = {info.id, message.id};
  LIAISON_RETURN_IF_ERROR(
      gate_.WriteAudited(call, [&](WriteTransaction& txn) -> absl::Status {
        LIAISON_ASSIGN_OR_RETURN(const int64_t count,
                                 txn.CountAttachments(message.id));
        LIAISON_RETURN_IF_ERROR(over_limit(count));
        return txn.InsertAttachment(info, pieces);
      }));
  return info;
}

absl::Status ExchangeService::DownloadAttachment(const Caller& caller,
                                                 const std::string& id,
                                                 ChunkWriter& out) {
  LIAISON_ASSIGN_OR_RETURN(Call call,
                           gate_.Begin(caller, Action::kDownloadAttachment));
  if (!IsValidMessageId(id)) {
    return gate_.Refuse(call,
                        absl::InvalidArgumentError(absl::StrCat(
                            "attachment_id '", absl::CEscape(id.substr(0, 64)),
                            "' is not an attachment id")));
  }
  const absl::Status not_found =
      absl::NotFoundError(absl::StrCat("attachment ", id, " not found"));
  absl::StatusOr<AttachmentInfo> info = store_.GetAttachment(id);
  if (absl::IsNotFound(info.status())) return gate_.Refuse(call, not_found);
  if (!info.ok()) return gate_.Refuse(call, info.status());
  // The same policy as its message: refusals are recorded by LoadReadable.
  absl::StatusOr<Message> message =
      LoadReadable(call, info->message_id, "message_id");
  if (absl::IsNotFound(message.status())) return not_found;
  if (!message.ok()) return message.status();
  LIAISON_RETURN_IF_ERROR(gate_.RecordAllowed(call, {id, info->message_id}));
  bool first = true;
  for (int64_t index = 0;; ++index) {
    absl::StatusOr<std::optional<std::string>> piece =
        store_.ReadAttachmentChunk(id, index);
    if (!piece.ok()) return piece.status();
    if (!piece->has_value()) break;
    if (!out.Write(first ? &*info : nullptr, **piece)) return absl::OkStatus();
    first = false;
  }
  if (first) out.Write(&*info, "");  // an empty file: the header alone
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AttachmentInfo>> ExchangeService::AttachmentsOf(
    const std::string& message_id) {
  return store_.ListAttachments(message_id);
}

}  // namespace liaison

// The message exchange (design §3, §4): sending, reading, listing and
// answering case messages, with every call judged by the policy and audited.
//
// The service sees only the Store, the AuditLog and a Clock; it knows nothing
// of gRPC. Handlers in server/ translate requests into the commands below.
//
// Thread-safe: calls may run concurrently; the store serialises writes.
#ifndef LIAISON_DOMAIN_EXCHANGE_H_
#define LIAISON_DOMAIN_EXCHANGE_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/identity.h"
#include "domain/audit_log.h"
#include "domain/call_gate.h"
#include "domain/event_hub.h"
#include "domain/message_id.h"
#include "domain/model.h"
#include "domain/policy.h"
#include "domain/store.h"
#include "domain/validation.h"

namespace liaison {

// Size limits of message fields; they are part of the public contract and
// documented in proto/liaison/v1/exchange.proto.
struct MessageLimits {
  static constexpr size_t kMaxIdempotencyKey = 128;  // bytes
  // The default of ExchangeLimits::max_recipients.
  static constexpr size_t kMaxRecipients = 32;
  static constexpr size_t kMaxSubject = 200;        // characters
  static constexpr size_t kMaxBody = 1 << 20;       // bytes
  static constexpr size_t kMaxJustification = 500;  // characters
  static constexpr size_t kMaxRestriction = 500;    // characters
  static constexpr int kDefaultPageSize = 50;
  static constexpr int kMaxPageSize = 500;
};

// Content fields common to a new message and a reply.
struct ContentFields {
  std::string idempotency_key;
  std::string subject;
  std::string body;
  Choice<Classification> classification;
  bool contains_personal_data = false;
  Choice<HandlingCode> handling_code;
  std::string handling_restriction;
  // Set if the request carried an evaluation at all.
  bool has_evaluation = false;
  Choice<SourceReliability> source_reliability;
  Choice<InformationAssessment> information;
};

struct SendCommand {
  ContentFields content;
  std::vector<std::string> recipients;
  Choice<MessageKind> kind;
  Choice<Priority> priority;
  std::string urgency_justification;
  std::string in_reply_to;
};

struct PageQuery {
  int page_size = 0;  // 0: the default.
  std::string page_token;
};

// How long recipients have to answer a request, from receipt.
struct DeadlineOptions {
  absl::Duration urgent = absl::Hours(8);
  absl::Duration routine = absl::Hours(7 * 24);
};

struct RefuseCommand {
  std::string request_id;
  Choice<RefusalReason> reason;
  // Required with OTHER, optional otherwise; up to 1000 characters.
  std::string text;
};

// Which requests to list.
struct RequestFilter {
  bool sent = false;           // Requests the caller's party sent.
  Choice<RequestState> state;  // Unspecified (raw 0): any state.
  bool overdue = false;        // Only those past their due time.
  std::optional<absl::Duration> due_within;  // Only those due this soon.
  std::string case_id;  // Only those attached to this case.
  PageQuery page;
};

struct ForwardCommand {
  std::string message_id;
  std::vector<std::string> recipients;
  std::string idempotency_key;
};

struct ConsentRequestCommand {
  std::string message_id;
  std::string target_party;
  std::string justification;
};

struct ConsentDecisionCommand {
  std::string consent_id;
  bool grant = false;
  std::string reason;  // Required to refuse.
};

struct ReplyCommand {
  std::string request_id;
  ContentFields content;
};

struct SendResult {
  std::string message_id;
  absl::Time created_at;
  // True if the idempotency key had been used for the same content before and
  // nothing new was stored.
  bool replayed = false;
};

struct WhoAmIResult {
  Identity identity;
  Party party;
};

// A message as the calling party may see it.
struct MessageView {
  // The time the view was taken, to judge whether requests are overdue.
  absl::Time as_of;
  // Body and subject are cleared when `withheld_reason` is set. When the
  // caller's party is not the sender, the idempotency key is cleared and the
  // other recipients show only their party code (not their request state or
  // reply, which the caller's party may not see).
  Message message;
  std::string withheld_reason;
  // GetMessage only: the files attached to it.
  std::vector<AttachmentInfo> attachments;
};

struct MessagePage {
  std::vector<MessageView> messages;
  std::string next_page_token;
};

// What the policy needs of a message (without case readers).
MessageFacts FactsOf(const Message& message);

// Clears what `party` may not see of a message it holds: another party's
// idempotency key, and other recipients' progress (the sender's business).
void RedactFor(absl::string_view party, Message& message);

// Where Subscribe delivers events; implemented at the edge over a stream.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // False if the subscriber has gone.
  virtual bool Send(const Event& event) = 0;
  virtual bool Cancelled() const = 0;
};

// What an upload declares before its bytes.
struct AttachmentHeader {
  std::string message_id;
  std::string file_name;
  int64_t size = 0;
  std::string sha256_hex;
};

// The bytes of an upload, in the order sent; implemented at the edge.
class ChunkReader {
 public:
  virtual ~ChunkReader() = default;
  // The next piece, or false at the end of the stream (finished or broken).
  virtual bool Next(std::string* chunk) = 0;
};

// Where a download goes; implemented at the edge.
class ChunkWriter {
 public:
  virtual ~ChunkWriter() = default;
  // `info` with the first piece only; false if the receiver has gone.
  virtual bool Write(const AttachmentInfo* info, absl::string_view data) = 0;
};

// Limits of live delivery.
// Limits the operator sets (liaisond flags). A call over one is refused
// with RESOURCE_EXHAUSTED naming the limit and its flag; others go on.
struct ExchangeLimits {
  size_t max_recipients = MessageLimits::kMaxRecipients;  // --max-recipients
  int64_t max_attachment_bytes = int64_t{64} << 20;  // --max-attachment-size
  int64_t max_attachments_per_message = 20;          // --max-attachments
  int max_streams_per_party = 16;  // --max-streams-per-party (Subscribe)
};

struct SubscriptionOptions {
  // A subscriber further behind than this is dropped (RESOURCE_EXHAUSTED)
  // and resumes from its cursor.
  int64_t max_backlog = 10000;
  // How often an idle stream rechecks the party's status.
  absl::Duration recheck = absl::Milliseconds(200);
};

// A listed message as `call`'s party may see it at `now`: withheld (subject
// cleared, the rule given) when its status no longer allows reading it, and
// redacted either way. Listings carry no bodies.
MessageView ViewFor(const Call& call, Message message,
                    const MessageFacts& facts, absl::Time now);

class ExchangeService {
 public:
  // All references must outlive the service.
  ExchangeService(Store& store, AuditLog& audit, const Clock& clock,
                  DeadlineOptions deadlines = {},
                  SubscriptionOptions subscriptions = {},
                  ExchangeLimits limits = {});

  // Every method returns the error statuses documented in exchange.proto and
  // appends exactly one audit entry, allowed or not.
  absl::StatusOr<WhoAmIResult> WhoAmI(const Caller& caller);
  absl::StatusOr<SendResult> SendMessage(const Caller& caller,
                                         const SendCommand& command);
  // As SendMessage, without holding the calling thread while anything is
  // committed (the message, or the record of its refusal): `done` gets the
  // same answer, on the store's thread or on this one, and must not call
  // the store's Write. The calling thread still makes the reads (the
  // gate's, and a follow-up's earlier message): meant for stores whose
  // reads do not wait (Store::ServesWithoutWaiting).
  void SendMessageAsync(
      const Caller& caller, const SendCommand& command,
      absl::AnyInvocable<void(absl::StatusOr<SendResult>)> done);
  absl::StatusOr<MessageView> GetMessage(const Caller& caller,
                                         const std::string& message_id);
  absl::StatusOr<MessagePage> ListInbox(const Caller& caller,
                                        const PageQuery& query);
  absl::StatusOr<MessagePage> ListOutbox(const Caller& caller,
                                         const PageQuery& query);
  absl::StatusOr<SendResult> Reply(const Caller& caller,
                                   const ReplyCommand& command);
  // Onward transmission: a recipient passes a message it received to
  // parties that do not hold it. The copy keeps provenance (original owner
  // and id, the message it came from) and the owner's handling code; under
  // H2 the owner must have consented for each new recipient.
  absl::StatusOr<SendResult> Forward(const Caller& caller,
                                     const ForwardCommand& command);
  // A holder asks the owner for consent to pass H2 information on.
  absl::StatusOr<Consent> RequestConsent(const Caller& caller,
                                         const ConsentRequestCommand& command);
  // The owner grants or refuses a pending consent request.
  absl::StatusOr<Consent> DecideConsent(const Caller& caller,
                                        const ConsentDecisionCommand& command);
  // Consent requests the caller's party made or must decide.
  absl::StatusOr<std::vector<Consent>> ListConsents(const Caller& caller);

  // Live delivery: sends the caller's party's events after `cursor` (0: all)
  // as they happen, until the subscriber leaves (OK), its party may no
  // longer call (the refusal: suspended, revoked), or it falls behind by
  // more than max_backlog (RESOURCE_EXHAUSTED naming the cursor to resume
  // from). No gap and no duplicate after the cursor.
  absl::Status Subscribe(const Caller& caller, int64_t cursor, EventSink& sink);
  // The owner of a message attaches a file to it. The bytes must match the
  // declared size and SHA-256 and stay within the size limit; otherwise
  // (or if the stream breaks) nothing is stored.
  absl::StatusOr<AttachmentInfo> UploadAttachment(
      const Caller& caller, const AttachmentHeader& header,
      ChunkReader& chunks);
  // Sends an attachment to whoever may read its message.
  absl::Status DownloadAttachment(const Caller& caller, const std::string& id,
                                  ChunkWriter& out);
  // A message's attachments (GetMessage shows them).
  absl::StatusOr<std::vector<AttachmentInfo>> AttachmentsOf(
      const std::string& message_id);

  // Makes every open subscription read the store again now: another
  // liaisond sharing the store committed writes (Store::WatchCommits).
  void WakeSubscribers() { hub_.Notify(); }

  // Ends every open subscription with UNAVAILABLE (naming the cursor to
  // resume from), for a prompt shutdown.
  void StopSubscriptions() {
    stopping_ = true;
    hub_.Notify();
  }

  // A recipient confirms receipt of a request: OPEN -> ACKNOWLEDGED.
  absl::StatusOr<MessageView> AcknowledgeRequest(const Caller& caller,
                                                 const std::string& id);
  // A recipient refuses a request with a documented reason: OPEN or
  // ACKNOWLEDGED -> REFUSED.
  absl::StatusOr<MessageView> RefuseRequest(const Caller& caller,
                                            const RefuseCommand& command);
  absl::StatusOr<MessagePage> ListRequests(const Caller& caller,
                                           const RequestFilter& filter);
  // The data owner (sending party) changes the handling code of its
  // message; every holder sees the new code at once.
  absl::StatusOr<MessageView> SetHandling(const Caller& caller,
                                          const std::string& id,
                                          Choice<HandlingCode> code,
                                          const std::string& restriction);

  // Applies `limiter` (calls per second per user) to this service's calls.
  void set_rate_limiter(RateLimiter* limiter) {
    gate_.set_rate_limiter(limiter);
  }

 private:
  // Loads a message the caller's party may read for `action`; refusals are
  // recorded. NOT_FOUND both for missing and for hidden messages.
  absl::StatusOr<Message> LoadReadable(Call& call, const std::string& id,
                                       absl::string_view field);
  // LoadReadable's decision, leaving the refusal to be recorded.
  std::variant<Message, PendingRefusal> ExamineReadable(
      Call& call, const std::string& id, absl::string_view field);
  // SendMessage's checks once the gate let the call in: the fields (into
  // `m`), and that a follow-up stays within the exchange it follows.
  std::optional<PendingRefusal> CheckSend(Call& call,
                                          const SendCommand& command,
                                          Message& m);
  // Stores `message` (or replays an earlier one with the same key) after
  // judging every recipient; `request` is set for replies.
  // `original` is set for a forwarded copy (onward transmission rules).
  absl::StatusOr<SendResult> Deliver(Call& call, Message message,
                                     const Message* original,
                                     const Message* request);
  // Deliver's parts, shared by the waiting and the asynchronous sends.
  struct Delivery;
  std::unique_ptr<Delivery> PrepareDelivery(Call call, Message m,
                                            const Message* original,
                                            const Message* request);
  // In the send's transaction: decides and writes (or replays).
  absl::Status DeliverIn(WriteTransaction& txn, Delivery& d);
  // The refusal to record when the transaction did not commit.
  static std::optional<absl::Status> DeliveryFailure(
      const absl::Status& written);
  // The answer once the transaction has committed.
  absl::StatusOr<SendResult> Delivered(Delivery& d);
  // Deliver for a new message or a follow-up (no original, no request),
  // without waiting for the commit: `done` gets the answer on the store's
  // thread.
  void DeliverAsync(Call call, Message m,
                    absl::AnyInvocable<void(absl::StatusOr<SendResult>)> done);
  // Within a send's transaction: the refusal if the sender's party or any
  // recipient may not exchange `m` under their current status.
  std::optional<absl::Status> Judge(WriteTransaction& txn, const Call& call,
                                    const Message& m, const MessageFacts& facts,
                                    const MessageFacts* request_facts);
  absl::StatusOr<MessagePage> List(const Caller& caller, Action action,
                                   const PageQuery& query);

  // Moves the caller's party's copy of request `id` to a new state, as
  // `transition` says (FAILED_PRECONDITION to refuse).
  absl::StatusOr<MessageView> Transition(
      const Caller& caller, Action action, const std::string& id,
      const absl::Status& field_check,
      absl::FunctionRef<absl::Status(Recipient& mine, absl::Time now)>
          transition);
  // Filters, redacts and records a listing.
  absl::StatusOr<MessagePage> Present(Call& call, std::vector<Message> found,
                                      int page_size, absl::string_view listing,
                                      bool record_delivery);

  Store& store_;
  AuditLog& audit_;
  CallGate gate_;
  MessageIdGenerator ids_;
  const DeadlineOptions deadlines_;
  const SubscriptionOptions subscriptions_;
  EventHub hub_;
  std::atomic<bool> stopping_{false};
  const ExchangeLimits limits_;
  absl::Mutex streams_mu_;
  // Open Subscribe streams per party.
  absl::flat_hash_map<std::string, int> open_streams_
      ABSL_GUARDED_BY(streams_mu_);
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_EXCHANGE_H_

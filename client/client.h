// A small client library over the generated Exchange stub: mutual TLS from
// PEM files, a deadline on every call, errors as absl::Status. The CLI is
// built on it; national systems may use it or generate their own clients
// from proto/.
#ifndef LIAISON_CLIENT_CLIENT_H_
#define LIAISON_CLIENT_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "liaison/v1/admin.grpc.pb.h"
#include "liaison/v1/audit.grpc.pb.h"
#include "liaison/v1/cases.grpc.pb.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "liaison/v1/reports.grpc.pb.h"

namespace liaison::client {

struct ClientOptions {
  std::string server = "localhost:7443";  // HOST:PORT
  std::string ca;    // CA that issued the server's certificate (PEM file).
  std::string cert;  // This user's certificate (PEM file).
  std::string key;   // Its private key (PEM file).
  absl::Duration timeout = absl::Seconds(30);
};

// Thread-safe; one channel shared by all calls.
class Client {
 public:
  // Reads the TLS files and prepares a channel (connecting lazily).
  // NOT_FOUND / PERMISSION_DENIED / INVALID_ARGUMENT for unusable files.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(
      const ClientOptions& options);

  // Each returns the server's status unchanged (see exchange.proto), or
  // UNAVAILABLE / DEADLINE_EXCEEDED when the server cannot be reached.
  absl::StatusOr<v1::WhoAmIResponse> WhoAmI();
  absl::StatusOr<v1::SendMessageResponse> SendMessage(
      const v1::SendMessageRequest& request);
  absl::StatusOr<v1::Message> GetMessage(const std::string& message_id);
  absl::StatusOr<v1::ListInboxResponse> ListInbox(
      const v1::ListInboxRequest& request);
  absl::StatusOr<v1::ListOutboxResponse> ListOutbox(
      const v1::ListOutboxRequest& request);
  absl::StatusOr<v1::ReplyResponse> Reply(const v1::ReplyRequest& request);
  absl::StatusOr<v1::Message> AcknowledgeRequest(const std::string& id);
  absl::StatusOr<v1::Message> RefuseRequest(
      const v1::RefuseRequestRequest& request);
  absl::StatusOr<v1::ListRequestsResponse> ListRequests(
      const v1::ListRequestsRequest& request);
  absl::StatusOr<v1::Message> SetHandling(
      const v1::SetHandlingRequest& request);
  absl::StatusOr<v1::SendMessageResponse> Forward(
      const v1::ForwardRequest& request);
  absl::StatusOr<v1::Consent> RequestConsent(
      const v1::RequestConsentRequest& request);
  absl::StatusOr<v1::Consent> DecideConsent(
      const v1::DecideConsentRequest& request);
  absl::StatusOr<v1::ListConsentsResponse> ListConsents();

  // Live delivery: calls `on_event` for each event after `cursor` until it
  // returns false (then OK) or the stream ends (its status). No deadline
  // unless `deadline` is set.
  absl::Status Subscribe(int64_t cursor,
                         const std::function<bool(const v1::Event&)>& on_event,
                         std::optional<absl::Duration> deadline = std::nullopt);

  // Called with (bytes done, bytes in all) as a transfer proceeds.
  using Progress = std::function<void(int64_t done, int64_t total)>;

  // Uploads the file at `path` to `message_id` in 1 MiB pieces, with its
  // size and SHA-256 computed first. NOT_FOUND / PERMISSION_DENIED for an
  // unreadable file; otherwise the server's status.
  absl::StatusOr<v1::AttachmentInfo> UploadAttachment(
      const std::string& message_id, const std::string& path,
      const Progress& progress);
  // Downloads an attachment to `path` (written next to it first, then
  // renamed), checking size and SHA-256; DATA_LOSS and nothing left behind
  // if they do not match.
  absl::StatusOr<v1::AttachmentInfo> DownloadAttachment(
      const std::string& attachment_id, const std::string& path,
      const Progress& progress);

  // liaison.v1.Audit.
  absl::StatusOr<v1::GetCheckpointResponse> GetCheckpoint(bool fresh);
  absl::StatusOr<v1::ListEntriesResponse> ListAuditEntries(
      const v1::ListEntriesRequest& request);
  absl::StatusOr<v1::InclusionProof> GetInclusionProof(int64_t seq,
                                                       int64_t tree_size);
  absl::StatusOr<v1::ConsistencyProof> GetConsistencyProof(int64_t old_size,
                                                           int64_t new_size);
  // Streams the export up to the checkpoint of `tree_size` (0: a fresh one)
  // to `chunk`, which may stop it by returning an error. No deadline: an
  // export of a large log takes as long as it takes.
  absl::Status ExportAudit(
      int64_t tree_size,
      const std::function<absl::Status(const v1::ExportChunk&)>& chunk);
  absl::StatusOr<v1::ListAccessesResponse> ListAccesses(
      const std::string& message_id);

  // liaison.v1.Reports.
  absl::StatusOr<v1::Statistics> GetStatistics(
      const v1::StatisticsRequest& request);

  // liaison.v1.Cases.
  absl::StatusOr<v1::Case> OpenCase(const v1::OpenCaseRequest& request);
  absl::StatusOr<v1::Case> AddParticipant(
      const v1::ParticipantRequest& request);
  absl::StatusOr<v1::Case> RemoveParticipant(
      const v1::ParticipantRequest& request);
  absl::StatusOr<v1::Case> AttachMessage(
      const v1::AttachMessageRequest& request);
  absl::StatusOr<v1::CaseDetails> GetCase(const std::string& case_id);
  absl::StatusOr<v1::ListCasesResponse> ListCases();
  absl::StatusOr<v1::Case> CloseCase(const std::string& case_id);

  // liaison.v1.Admin (HQ admins only).
  absl::StatusOr<v1::Party> RegisterParty(
      const v1::RegisterPartyRequest& request);
  absl::StatusOr<v1::Party> SetPartyTier(
      const v1::SetPartyTierRequest& request);
  absl::StatusOr<v1::Party> SetCeiling(const v1::SetCeilingRequest& request);
  absl::StatusOr<v1::Party> SetAgreement(
      const v1::SetAgreementRequest& request);
  absl::StatusOr<v1::Party> SuspendParty(
      const v1::SuspendPartyRequest& request);
  absl::StatusOr<v1::Party> ReinstateParty(
      const v1::ReinstatePartyRequest& request);
  absl::StatusOr<v1::ListPartiesResponse> ListParties();
  absl::StatusOr<v1::PartyDetails> GetParty(const std::string& code);
  absl::StatusOr<v1::Revocation> RevokeCertificate(
      const v1::RevokeCertificateRequest& request);
  absl::StatusOr<v1::ListRevocationsResponse> ListRevocations();

 private:
  Client(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout);

  // One unary call on `stub` with the deadline.
  template <typename Response, typename Stub, typename Method, typename Request>
  absl::StatusOr<Response> Call(Stub& stub, Method method,
                                const Request& request);

  std::unique_ptr<v1::Exchange::Stub> exchange_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Cases::Stub> cases_;
  std::unique_ptr<v1::Reports::Stub> reports_;
  std::unique_ptr<v1::Audit::Stub> audit_;
  absl::Duration timeout_;
};

}  // namespace liaison::client

#endif  // LIAISON_CLIENT_CLIENT_H_

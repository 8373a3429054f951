// gRPC adapter for liaison.v1.Exchange: identify the peer, convert the
// request, call the domain, convert the result and the status. No decisions
// are made here.
#ifndef LIAISON_SERVER_EXCHANGE_HANDLER_H_
#define LIAISON_SERVER_EXCHANGE_HANDLER_H_

#include <string>

#include "common/worker_pool.h"
#include "domain/exchange.h"
#include "liaison/v1/exchange.grpc.pb.h"
#include "server/peer_identity.h"

namespace liaison::server {

// SendMessage is served with gRPC's callback API. Its handler returns at
// once: with a store that serves without waiting (SQLite) the store's
// finishing thread answers the call after its commit, so that no thread
// waits on a commit per call; with one whose reads and commits wait
// (PostgreSQL over the network) the call runs on the server's waiting
// pool, never on gRPC's few callback threads. The other methods are
// synchronous.
class ExchangeHandler final
    : public v1::Exchange::WithCallbackMethod_SendMessage<
          v1::Exchange::Service> {
 public:
  // All must outlive the handler. `waiting_pool` set: SendMessage runs
  // there, waiting for its store; null: on gRPC's thread, through
  // ExchangeService::SendMessageAsync (for stores that serve without
  // waiting).
  ExchangeHandler(ExchangeService& exchange, PeerIdentifier& peers,
                  WorkerPool* waiting_pool)
      : exchange_(exchange), peers_(peers), waiting_pool_(waiting_pool) {}

  // liaison.v1.Exchange
  grpc::ServerUnaryReactor* SendMessage(
      grpc::CallbackServerContext* context,
      const v1::SendMessageRequest* request,
      v1::SendMessageResponse* response) override;
  grpc::Status GetMessage(grpc::ServerContext* context,
                          const v1::GetMessageRequest* request,
                          v1::Message* response) override;
  grpc::Status ListInbox(grpc::ServerContext* context,
                         const v1::ListInboxRequest* request,
                         v1::ListInboxResponse* response) override;
  grpc::Status ListOutbox(grpc::ServerContext* context,
                          const v1::ListOutboxRequest* request,
                          v1::ListOutboxResponse* response) override;
  grpc::Status Reply(grpc::ServerContext* context,
                     const v1::ReplyRequest* request,
                     v1::ReplyResponse* response) override;
  grpc::Status WhoAmI(grpc::ServerContext* context,
                      const v1::WhoAmIRequest* request,
                      v1::WhoAmIResponse* response) override;
  grpc::Status AcknowledgeRequest(grpc::ServerContext* context,
                                  const v1::AcknowledgeRequestRequest* request,
                                  v1::Message* response) override;
  grpc::Status RefuseRequest(grpc::ServerContext* context,
                             const v1::RefuseRequestRequest* request,
                             v1::Message* response) override;
  grpc::Status ListRequests(grpc::ServerContext* context,
                            const v1::ListRequestsRequest* request,
                            v1::ListRequestsResponse* response) override;
  grpc::Status SetHandling(grpc::ServerContext* context,
                           const v1::SetHandlingRequest* request,
                           v1::Message* response) override;
  grpc::Status Forward(grpc::ServerContext* context,
                       const v1::ForwardRequest* request,
                       v1::SendMessageResponse* response) override;
  grpc::Status RequestConsent(grpc::ServerContext* context,
                              const v1::RequestConsentRequest* request,
                              v1::Consent* response) override;
  grpc::Status DecideConsent(grpc::ServerContext* context,
                             const v1::DecideConsentRequest* request,
                             v1::Consent* response) override;
  grpc::Status ListConsents(grpc::ServerContext* context,
                            const v1::ListConsentsRequest* request,
                            v1::ListConsentsResponse* response) override;
  grpc::Status Subscribe(grpc::ServerContext* context,
                         const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status UploadAttachment(
      grpc::ServerContext* context,
      grpc::ServerReader<v1::UploadAttachmentRequest>* reader,
      v1::AttachmentInfo* response) override;
  grpc::Status DownloadAttachment(
      grpc::ServerContext* context,
      const v1::DownloadAttachmentRequest* request,
      grpc::ServerWriter<v1::AttachmentChunk>* writer) override;

 private:
  ExchangeService& exchange_;
  PeerIdentifier& peers_;
  WorkerPool* const waiting_pool_;  // Null: SendMessageAsync.
};

}  // namespace liaison::server

#endif  // LIAISON_SERVER_EXCHANGE_HANDLER_H_

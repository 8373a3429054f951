// A small client library over the generated Exchange stub: mutual TLS from
// PEM files, a deadline on every call, errors as absl::Status. The CLI is
// built on it; national systems may use it or generate their own clients
// from proto/.
#ifndef LIAISON_CLIENT_CLIENT_H_
#define LIAISON_CLIENT_CLIENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "liaison/v1/exchange.grpc.pb.h"

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

 private:
  Client(std::unique_ptr<v1::Exchange::Stub> stub, absl::Duration timeout)
      : stub_(std::move(stub)), timeout_(timeout) {}

  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(Method method, const Request& request);

  std::unique_ptr<v1::Exchange::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace liaison::client

#endif  // LIAISON_CLIENT_CLIENT_H_

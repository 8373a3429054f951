#include "server/decode_failure_interceptor.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/grpc_status.h"

namespace liaison::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The action of a gRPC method name, "/liaison.v1.Exchange/SendMessage" for
// Exchange.SendMessage; none for services outside Liaison's (health,
// reflection).
std::optional<Action> ActionForMethod(absl::string_view method) {
  static const auto* const kMethods = [] {
    auto* methods = new absl::flat_hash_map<std::string, Action>();
    for (Action action : kAllActions) {
      methods->emplace(
          absl::StrCat("/liaison.v1.",
                       absl::StrReplaceAll(ActionName(action), {{".", "/"}})),
          action);
    }
    return methods;
  }();
  const auto it = kMethods->find(method);
  if (it == kMethods->end()) return std::nullopt;
  return it->second;
}

// One per call. A unary call whose request was decoded passes
// POST_RECV_MESSAGE with the message; one that was not reaches
// PRE_SEND_STATUS without it, and its handler never ran.
class DecodeFailureInterceptor final : public grpc::experimental::Interceptor {
 public:
  DecodeFailureInterceptor(grpc::experimental::ServerRpcInfo* info,
                           Action action, CallGate& gate, PeerIdentifier& peers,
                           WorkerPool* waiting_pool)
      : info_(info),
        action_(action),
        gate_(gate),
        peers_(peers),
        waiting_pool_(waiting_pool) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      decoded_ = true;
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS) &&
        !decoded_) {
      const grpc::Status status = methods->GetSendStatus();
      if (!status.ok()) {
        // gRPC's message is empty for a callback method's request.
        std::string detail = status.error_message().empty()
                                 ? "not a valid request message"
                                 : status.error_message();
        // The status is sent once the refusal is recorded (Proceed may be
        // called later, from another thread).
        auto send = [methods](absl::Status refusal) {
          methods->ModifySendStatus(ToGrpcStatus(refusal));
          methods->Proceed();
        };
        Caller caller = peers_.Identify(*info_->server_context());
        if (waiting_pool_ != nullptr) {
          waiting_pool_->Run([this, caller = std::move(caller),
                              detail = std::move(detail), send]() mutable {
            send(gate_.RejectUndecodable(caller, action_, detail));
          });
        } else {
          gate_.RejectUndecodableAsync(caller, action_, detail, send);
        }
        return;
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const Action action_;
  CallGate& gate_;
  PeerIdentifier& peers_;
  WorkerPool* const waiting_pool_;
  bool decoded_ = false;
};

}  // namespace

grpc::experimental::Interceptor*
DecodeFailureInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const std::optional<Action> action = ActionForMethod(info->method());
  if (!action.has_value()) return nullptr;  // health, reflection
  return new DecodeFailureInterceptor(info, *action, gate_, peers_,
                                      waiting_pool_);
}

}  // namespace liaison::server

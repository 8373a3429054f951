#include "server/decode_failure_interceptor.h"

#include <array>
#include <optional>
#include <utility>

#include "common/grpc_status.h"

namespace liaison::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

std::optional<Action> ActionForMethod(absl::string_view method) {
  static constexpr std::array<std::pair<absl::string_view, Action>, 16>
      kMethods = {{
          {"/liaison.v1.Exchange/SendMessage", Action::kSendMessage},
          {"/liaison.v1.Exchange/GetMessage", Action::kGetMessage},
          {"/liaison.v1.Exchange/ListInbox", Action::kListInbox},
          {"/liaison.v1.Exchange/ListOutbox", Action::kListOutbox},
          {"/liaison.v1.Exchange/Reply", Action::kReply},
          {"/liaison.v1.Exchange/WhoAmI", Action::kWhoAmI},
          {"/liaison.v1.Admin/RegisterParty", Action::kRegisterParty},
          {"/liaison.v1.Admin/SetPartyTier", Action::kSetPartyTier},
          {"/liaison.v1.Admin/SetCeiling", Action::kSetCeiling},
          {"/liaison.v1.Admin/SetAgreement", Action::kSetAgreement},
          {"/liaison.v1.Admin/SuspendParty", Action::kSuspendParty},
          {"/liaison.v1.Admin/ReinstateParty", Action::kReinstateParty},
          {"/liaison.v1.Admin/ListParties", Action::kListParties},
          {"/liaison.v1.Admin/GetParty", Action::kGetParty},
          {"/liaison.v1.Admin/RevokeCertificate", Action::kRevokeCertificate},
          {"/liaison.v1.Admin/ListRevocations", Action::kListRevocations},
      }};
  for (const auto& [name, action] : kMethods) {
    if (name == method) return action;
  }
  return std::nullopt;
}

// One per call. A unary call whose request was decoded passes
// POST_RECV_MESSAGE with the message; one that was not reaches
// PRE_SEND_STATUS without it, and its handler never ran.
class DecodeFailureInterceptor final : public grpc::experimental::Interceptor {
 public:
  DecodeFailureInterceptor(grpc::experimental::ServerRpcInfo* info,
                           Action action, CallGate& gate, PeerIdentifier& peers)
      : info_(info), action_(action), gate_(gate), peers_(peers) {}

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
        const absl::Status refusal =
            gate_.RejectUndecodable(peers_.Identify(*info_->server_context()),
                                    action_, status.error_message());
        methods->ModifySendStatus(ToGrpcStatus(refusal));
      }
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const Action action_;
  CallGate& gate_;
  PeerIdentifier& peers_;
  bool decoded_ = false;
};

}  // namespace

grpc::experimental::Interceptor*
DecodeFailureInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  const std::optional<Action> action = ActionForMethod(info->method());
  if (!action.has_value()) return nullptr;  // health, reflection
  return new DecodeFailureInterceptor(info, *action, gate_, peers_);
}

}  // namespace liaison::server

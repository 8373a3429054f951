// The one place where absl::Status and grpc::Status meet. Used by the server's
// handlers and by the client library; nothing below them sees grpc::Status.
#ifndef LIAISON_COMMON_GRPC_STATUS_H_
#define LIAISON_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace liaison {

// Code and message carry over unchanged (the numeric codes are the same).
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace liaison

#endif  // LIAISON_COMMON_GRPC_STATUS_H_

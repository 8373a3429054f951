// Limits over the wire: a user over the rate limit gets RESOURCE_EXHAUSTED
// naming it while everyone else is served; a request over the size limit is
// refused by gRPC and the server goes on.
#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include "tests/testing/requests.h"
#include "tests/testing/test_server.h"

namespace liaison {
namespace {

using ::testing::HasSubstr;
using testing::TestServer;

grpc::Status WhoAmI(v1::Exchange::Stub& stub) {
  grpc::ClientContext context;
  v1::WhoAmIRequest request;
  v1::WhoAmIResponse response;
  return stub.WhoAmI(&context, request, &response);
}

TEST(LimitsE2eTest, OneUserOverTheRateLimitDoesNotStopOthers) {
  TestServer server;  // --rate-limit=50 --rate-burst=100 (the defaults)
  auto flood = server.Stub("RO", "liaison-officer", "flood");
  auto colleague = server.Stub("RO", "liaison-officer", "calm");
  // Calls as fast as they go, until refused: the burst of 100 goes
  // through, then only 50 a second.
  int allowed = 0;
  grpc::Status last;
  for (int i = 0; i < 5000 && last.ok(); ++i) {
    last = WhoAmI(*flood);
    if (last.ok()) ++allowed;
  }
  ASSERT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << last.error_message();
  EXPECT_GE(allowed, 100);
  EXPECT_THAT(last.error_message(),
              HasSubstr("at most 50 calls per second per user (burst 100, "
                        "--rate-limit)"));
  EXPECT_TRUE(WhoAmI(*colleague).ok());
  EXPECT_TRUE(WhoAmI(*server.Stub("HU", "focal-point", "nfp")).ok());
}

TEST(LimitsE2eTest, ARequestOverTheSizeLimitIsRefusedAndTheServerGoesOn) {
  TestServer server;  // --max-request-size=4 MiB
  auto ro = server.Stub("RO", "liaison-officer", "ion");
  v1::SendMessageRequest big =
      testing::NewSendRequest({"HU"}, "big", v1::MESSAGE_KIND_SPONTANEOUS,
                              "Big", std::string(5 << 20, 'x'));
  grpc::ClientContext context;
  v1::SendMessageResponse response;
  const grpc::Status status = ro->SendMessage(&context, big, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(WhoAmI(*ro).ok());
}

}  // namespace
}  // namespace liaison

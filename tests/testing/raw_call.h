// A unary call with raw request bytes, as a client in another language
// might send them (for requests that no generated stub would encode).
#ifndef LIAISON_TESTS_TESTING_RAW_CALL_H_
#define LIAISON_TESTS_TESTING_RAW_CALL_H_

#include <grpcpp/grpcpp.h>

#include <string>

namespace liaison::testing {

// Calls `method` ("/liaison.v1.Exchange/SendMessage") at `target` with
// `bytes` as the request, as RO's liaison officer of the shared test PKI;
// returns the call's status.
grpc::Status CallRaw(const std::string& target, const std::string& method,
                     const std::string& bytes);

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_RAW_CALL_H_

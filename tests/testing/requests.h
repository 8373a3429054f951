// Building valid requests for end-to-end tests, so each test states only
// what it varies.
#ifndef LIAISON_TESTS_TESTING_REQUESTS_H_
#define LIAISON_TESTS_TESTING_REQUESTS_H_

#include <string>
#include <vector>

#include "liaison/v1/exchange.pb.h"

namespace liaison::testing {

// A valid SendMessage request: ROUTINE, UNCLASSIFIED, handling H0, no
// personal data.
inline v1::SendMessageRequest NewSendRequest(const std::vector<std::string>& to,
                                             const std::string& key,
                                             v1::MessageKind kind,
                                             const std::string& subject,
                                             const std::string& body) {
  v1::SendMessageRequest r;
  for (const std::string& party : to) r.add_recipients(party);
  r.set_idempotency_key(key);
  r.set_kind(kind);
  r.set_subject(subject);
  r.set_body(body);
  r.set_priority(v1::PRIORITY_ROUTINE);
  r.set_classification(v1::CLASSIFICATION_UNCLASSIFIED);
  r.mutable_handling()->set_code(v1::HANDLING_CODE_H0);
  return r;
}

}  // namespace liaison::testing

#endif  // LIAISON_TESTS_TESTING_REQUESTS_H_

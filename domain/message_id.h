// Server-assigned message ids: 26 characters of Crockford base32 encoding 48
// bits of Unix milliseconds and 80 bits of randomness (the ULID layout), so
// ids sort by creation time. Within one millisecond, ids from one generator
// increase strictly.
#ifndef LIAISON_DOMAIN_MESSAGE_ID_H_
#define LIAISON_DOMAIN_MESSAGE_ID_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace liaison {

// True if `id` has the form of a message id.
bool IsValidMessageId(absl::string_view id);

// Thread-safe.
class MessageIdGenerator {
 public:
  explicit MessageIdGenerator(const Clock& clock) : clock_(clock) {}

  std::string Next();

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  absl::BitGen bitgen_ ABSL_GUARDED_BY(mu_);
  unsigned __int128 last_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace liaison

#endif  // LIAISON_DOMAIN_MESSAGE_ID_H_

// SHA-256 over byte strings (OpenSSL EVP).
#ifndef LIAISON_COMMON_SHA256_H_
#define LIAISON_COMMON_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace liaison {

// The 32-byte digest of `data`, raw.
std::string Sha256(absl::string_view data);

// Lower-case hex of `bytes`.
std::string HexEncode(absl::string_view bytes);

}  // namespace liaison

#endif  // LIAISON_COMMON_SHA256_H_

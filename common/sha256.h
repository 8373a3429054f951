// SHA-256 over byte strings (OpenSSL EVP).
#ifndef LIAISON_COMMON_SHA256_H_
#define LIAISON_COMMON_SHA256_H_

#include <openssl/types.h>

#include <string>

#include "absl/strings/string_view.h"

namespace liaison {

// The 32-byte digest of `data`, raw.
std::string Sha256(absl::string_view data);

// SHA-256 over data given in pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(absl::string_view data);
  // The 32-byte digest, raw. Call once.
  std::string Finish();

 private:
  EVP_MD_CTX* ctx_;
};

// Lower-case hex of `bytes`.
std::string HexEncode(absl::string_view bytes);

}  // namespace liaison

#endif  // LIAISON_COMMON_SHA256_H_

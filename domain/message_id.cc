#include "domain/message_id.h"

#include <algorithm>

namespace liaison {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kIdLength = 26;

std::string Encode(unsigned __int128 value) {
  std::string out(kIdLength, '0');
  for (size_t i = kIdLength; i-- > 0;) {
    out[i] = kAlphabet[static_cast<int>(value & 0x1f)];
    value >>= 5;
  }
  return out;
}

}  // namespace

bool IsValidMessageId(absl::string_view id) {
  if (id.size() != kIdLength) return false;
  // 26 characters carry 130 bits; the top two must be zero.
  if (id[0] > '7') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::find(std::begin(kAlphabet), std::end(kAlphabet) - 1, c) !=
           std::end(kAlphabet) - 1;
  });
}

std::string MessageIdGenerator::Next() {
  const uint64_t millis =
      static_cast<uint64_t>(absl::ToUnixMillis(clock_.Now())) &
      ((uint64_t{1} << 48) - 1);
  absl::MutexLock lock(&mu_);
  const unsigned __int128 random =
      (static_cast<unsigned __int128>(absl::Uniform<uint16_t>(bitgen_)) << 64) |
      absl::Uniform<uint64_t>(bitgen_);
  unsigned __int128 id =
      (static_cast<unsigned __int128>(millis) << 80) | random;
  // Never go backwards, even if the clock does: continue from the last id.
  if (id <= last_) id = last_ + 1;
  last_ = id;
  return Encode(id);
}

}  // namespace liaison

#include "store/sqlite/access_cache.h"

namespace liaison {

template <typename Map>
absl::StatusOr<typename Map::mapped_type> AccessCache::Lookup(
    Map& map, typename Map::key_type key,
    absl::FunctionRef<absl::StatusOr<typename Map::mapped_type>()> read) {
  int64_t generation;
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = map.find(key);
    if (it != map.end()) return it->second;
    generation = generation_;
  }
  absl::StatusOr<typename Map::mapped_type> value = read();
  if (!value.ok()) return value;
  absl::MutexLock lock(&mu_);
  // A change committed while it was read may not be in it.
  if (generation != generation_) return value;
  if (map.size() >= kMaxEntries) map.clear();
  map.emplace(std::move(key), *value);
  return value;
}

absl::StatusOr<std::optional<Party>> AccessCache::FindParty(
    absl::string_view code, PartyRead read) {
  return Lookup(parties_, std::string(code), read);
}

absl::StatusOr<std::optional<Revocation>> AccessCache::FindRevocation(
    absl::string_view serial, absl::string_view user, RevocationRead read) {
  return Lookup(revocations_, {std::string(serial), std::string(user)}, read);
}

void AccessCache::Invalidate() {
  absl::MutexLock lock(&mu_);
  ++generation_;
  parties_.clear();
  revocations_.clear();
}

}  // namespace liaison

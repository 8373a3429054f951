// What every call reads before anything else: its party's record and
// whether its certificate is revoked (design §4). The SQLite store keeps the
// last committed answers here, so that a call does not open a read
// transaction for them.
//
// Sound only for the process that is the database's one writer, which
// drops the cache after every commit that changed a party or a revocation
// and before that commit's writers return: a change is read by the next
// call. An answer read from the database is kept only if no such commit
// ended while it was being read (the generation is unchanged).
//
// Thread-safe.
#ifndef LIAISON_STORE_SQLITE_ACCESS_CACHE_H_
#define LIAISON_STORE_SQLITE_ACCESS_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "domain/model.h"

namespace liaison {

class AccessCache {
 public:
  // A party by code: nullopt if it is not registered. `read` reads it from
  // the database on a miss; its errors are returned and not kept.
  using PartyRead = absl::FunctionRef<absl::StatusOr<std::optional<Party>>()>;
  absl::StatusOr<std::optional<Party>> FindParty(absl::string_view code,
                                                 PartyRead read);

  // The revocation matching a certificate serial or user path, if any.
  using RevocationRead =
      absl::FunctionRef<absl::StatusOr<std::optional<Revocation>>()>;
  absl::StatusOr<std::optional<Revocation>> FindRevocation(
      absl::string_view serial, absl::string_view user, RevocationRead read);

  // After a commit that changed parties or revocations (or may have).
  void Invalidate();

  // Entries kept per kind before the cache starts over (a bound on memory;
  // parties are few, revocation answers one per certificate seen).
  static constexpr size_t kMaxEntries = 10000;

 private:
  template <typename Map>
  absl::StatusOr<typename Map::mapped_type> Lookup(
      Map& map, typename Map::key_type key,
      absl::FunctionRef<absl::StatusOr<typename Map::mapped_type>()> read);

  absl::Mutex mu_;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::optional<Party>> parties_
      ABSL_GUARDED_BY(mu_);
  // By (serial, user path).
  absl::flat_hash_map<std::pair<std::string, std::string>,
                      std::optional<Revocation>>
      revocations_ ABSL_GUARDED_BY(mu_);
};

}  // namespace liaison

#endif  // LIAISON_STORE_SQLITE_ACCESS_CACHE_H_

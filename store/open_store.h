// Chooses a Store implementation from a URL.
#ifndef LIAISON_STORE_OPEN_STORE_H_
#define LIAISON_STORE_OPEN_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/store.h"

namespace liaison {

// `sqlite:PATH` opens (creating if needed) the SQLite database at PATH;
// `sqlite::memory:` a private in-memory one (tests only).
// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS]` (or
// `postgres://...`, as libpq reads them) opens the PostgreSQL database
// several replicas share. INVALID_ARGUMENT for an unknown scheme (the
// message quotes only the scheme); otherwise the implementation's Open
// errors.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url);

}  // namespace liaison

#endif  // LIAISON_STORE_OPEN_STORE_H_

// Chooses a Store implementation from a URL.
#ifndef LIAISON_STORE_OPEN_STORE_H_
#define LIAISON_STORE_OPEN_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "domain/store.h"

namespace liaison {

// `sqlite:PATH` opens (creating if needed) the SQLite database at PATH;
// `sqlite::memory:` a private in-memory one (tests only). INVALID_ARGUMENT
// for an unknown scheme; otherwise the implementation's Open errors.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url);

}  // namespace liaison

#endif  // LIAISON_STORE_OPEN_STORE_H_

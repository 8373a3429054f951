#include "store/open_store.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sqlite/sqlite_store.h"

namespace liaison {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(absl::string_view url) {
  constexpr absl::string_view kSqlite = "sqlite:";
  if (absl::StartsWith(url, kSqlite) && url.size() > kSqlite.size()) {
    LIAISON_ASSIGN_OR_RETURN(
        std::unique_ptr<SqliteStore> store,
        SqliteStore::Open(std::string(url.substr(kSqlite.size()))));
    return std::unique_ptr<Store>(std::move(store));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown store URL '", url, "' (expected sqlite:PATH)"));
}

}  // namespace liaison

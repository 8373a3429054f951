#include "store/open_store.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/postgres/postgres_store.h"
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
  // The whole URL goes to libpq, which accepts both schemes.
  if (absl::StartsWith(url, "postgres://") ||
      absl::StartsWith(url, "postgresql://")) {
    LIAISON_ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store,
                             PostgresStore::Open(std::string(url)));
    return std::unique_ptr<Store>(std::move(store));
  }
  // The URL is not repeated past its scheme: it might carry a password.
  const size_t colon = url.find(':');
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown store URL scheme '",
      colon == absl::string_view::npos ? url : url.substr(0, colon),
      "' (expected sqlite:PATH or postgresql://USER@HOST[:PORT]/DATABASE)"));
}

}  // namespace liaison

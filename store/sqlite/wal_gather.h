// A SQLite VFS that writes a write-ahead log's frames in a few large writes
// per commit instead of two per page.
//
// SQLite appends each WAL frame as two writes (its 24-byte header, then the
// page), so a commit of 50 pages is 100 `pwrite`s, each paying the system
// call and the page-cache lookups of a write that is not page-aligned. This
// VFS wraps another (the default, unix) and, for WAL files only, gathers
// consecutive appends (and rewrites of them) in memory and writes them as
// one block (in writes of up to 124 KiB, the most the unix VFS takes at
// once): before the file is synced, truncated or closed, before a read
// that reaches past the gathered block or a write that neither continues
// nor rewrites it, and whenever 1 MiB is gathered.
// Every other file, and every other operation, goes to the wrapped VFS
// unchanged, but for a truncate of a file that is not gathered (the
// database file, mostly) to the size it has already, which is skipped:
// SQLite truncates the database file to its size after every checkpoint
// that copies the whole WAL, and `ftruncate` would mark the inode dirty even
// then, so that the checkpoint's sync would write the inode too.
//
// Sound only for a connection that syncs the WAL at every commit
// (synchronous=FULL or EXTRA): SQLite makes a commit visible to other
// connections (in the WAL index) only after that sync, which writes what is
// gathered first, so no reader can see a frame that is still in memory. A
// WAL without power-safe overwrite (psow=0) is not gathered: SQLite pads its
// commits with frames written after the sync. Reads of gathered bytes (a
// spilled page read back) are answered from memory. Gathered bytes that
// could not be written stay gathered until they are, and every sync fails
// meanwhile, so a write error fails the commit that needs them and never
// loses what SQLite was told is written. While writes fail (a full disk),
// nothing commits, even into WAL space allocated before; the first write
// that succeeds again ends that, without a restart. What is gathered and
// lost in a crash was not yet synced, which SQLite already survives.
//
// Thread-safe: registration is once per process; each open file is used as
// SQLite uses any file (by one connection at a time).
#ifndef LIAISON_STORE_SQLITE_WAL_GATHER_H_
#define LIAISON_STORE_SQLITE_WAL_GATHER_H_

#include <cstdint>

#include "absl/status/statusor.h"

namespace liaison {

// Registers (once) a gathering VFS over the process's default VFS and
// returns its name, for sqlite3_open_v2. UNAVAILABLE if SQLite has no
// default VFS or refuses the registration.
absl::StatusOr<const char*> WalGatherVfs();

// Registers (once) a gathering VFS named `name` over the VFS named `base`,
// for tests that wrap a VFS of their own. Both names must outlive the
// process's use of SQLite. INVALID_ARGUMENT if `base` is not registered.
absl::StatusOr<const char*> RegisterWalGatherVfs(const char* name,
                                                 const char* base);

// Counts over every file of every gathering VFS in the process, since it
// started: WAL writes SQLite asked for, and the writes made for them.
struct WalGatherCounts {
  int64_t writes_asked = 0;
  int64_t writes_made = 0;
};
WalGatherCounts WalGatherCountsNow();

}  // namespace liaison

#endif  // LIAISON_STORE_SQLITE_WAL_GATHER_H_

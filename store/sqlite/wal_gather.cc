#include "store/sqlite/wal_gather.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <map>
#include <new>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace liaison {
namespace {

// Gathered bytes are written once they reach this much.
constexpr size_t kMaxGathered = size_t{1} << 20;
// The most one write to the wrapped VFS may carry: the unix VFS keeps only
// the low 17 bits of a write's size (seekAndWrite: nBuf &= 0x1ffff), since
// its own writes are a page and a frame header at most. Whole 4 KiB pages
// below that.
constexpr size_t kMaxWrite = 0x1ffff & ~size_t{0xfff};

std::atomic<int64_t> writes_asked{0};
std::atomic<int64_t> writes_made{0};

// The appends gathered for one WAL file, not yet written: `bytes` belong at
// offset `start`.
struct Gathered {
  sqlite3_int64 start = 0;
  std::string bytes;
};

// SQLite allocates szOsFile bytes per open file and hands them to xOpen
// uninitialized; the wrapped VFS's file follows this header in them.
struct GatherFile {
  sqlite3_file base;   // pMethods: kMethods once open
  sqlite3_file* real;  // the wrapped VFS's file, right after this header
  Gathered* gathered;  // null: not a WAL file, everything passes through
};

constexpr size_t kHeaderSize =
    (sizeof(GatherFile) + alignof(std::max_align_t) - 1) /
    alignof(std::max_align_t) * alignof(std::max_align_t);

GatherFile* Self(sqlite3_file* file) {
  return reinterpret_cast<GatherFile*>(file);
}
sqlite3_file* Real(sqlite3_file* file) { return Self(file)->real; }
const sqlite3_io_methods& RealMethods(sqlite3_file* file) {
  return *Real(file)->pMethods;
}
sqlite3_vfs* BaseVfs(sqlite3_vfs* vfs) {
  return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

sqlite3_int64 End(const Gathered& g) {
  return g.start + static_cast<sqlite3_int64>(g.bytes.size());
}

// Writes what is gathered, if anything. Bytes that could not be written
// stay gathered, to be written by the next flush: SQLite was told they are
// in the file, so they are never dropped while it may still use them, and
// every sync fails until they are written.
int Flush(sqlite3_file* file) {
  Gathered* g = Self(file)->gathered;
  if (g == nullptr || g->bytes.empty()) return SQLITE_OK;
  size_t done = 0;
  while (done < g->bytes.size()) {
    const size_t size = std::min(kMaxWrite, g->bytes.size() - done);
    writes_made.fetch_add(1, std::memory_order_relaxed);
    const int rc = RealMethods(file).xWrite(
        Real(file), g->bytes.data() + done, static_cast<int>(size),
        g->start + static_cast<sqlite3_int64>(done));
    if (rc != SQLITE_OK) {
      g->bytes.erase(0, done);
      g->start += static_cast<sqlite3_int64>(done);
      return rc;
    }
    done += size;
  }
  g->bytes.clear();
  return SQLITE_OK;
}

// Flushes if [offset, offset + amount) touches what is gathered.
int FlushIfOverlapping(sqlite3_file* file, sqlite3_int64 offset,
                       sqlite3_int64 amount) {
  Gathered* g = Self(file)->gathered;
  if (g == nullptr || g->bytes.empty()) return SQLITE_OK;
  if (offset >= End(*g) || offset + amount <= g->start) return SQLITE_OK;
  return Flush(file);
}

int Close(sqlite3_file* file) {
  // Anything still gathered is past the last sync, so uncommitted.
  const int flushed = Flush(file);
  const int closed = RealMethods(file).xClose(Real(file));
  delete Self(file)->gathered;
  Self(file)->gathered = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  Gathered* g = Self(file)->gathered;
  if (g != nullptr && !g->bytes.empty() && offset >= g->start &&
      offset + amount <= End(*g)) {
    // The newest bytes of the range are the gathered ones (a frame the
    // writer spilled and reads back): no write needed to read them.
    std::memcpy(out, g->bytes.data() + (offset - g->start),
                static_cast<size_t>(amount));
    return SQLITE_OK;
  }
  const int rc = FlushIfOverlapping(file, offset, amount);
  if (rc != SQLITE_OK) return rc;
  return RealMethods(file).xRead(Real(file), out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount,
          sqlite3_int64 offset) {
  Gathered* g = Self(file)->gathered;
  if (g == nullptr) {
    return RealMethods(file).xWrite(Real(file), data, amount, offset);
  }
  writes_asked.fetch_add(1, std::memory_order_relaxed);
  const size_t size = static_cast<size_t>(amount);
  // An append to the gathered bytes, or a rewrite of some of them (a frame
  // written again in the same transaction), is applied to them.
  const bool joins =
      !g->bytes.empty() && offset >= g->start && offset <= End(*g) &&
      static_cast<size_t>(offset - g->start) + size <= kMaxGathered;
  if (!joins) {
    // Anything else (a new header at the start, a rewrite of a frame
    // written already) goes to the file after what came before it.
    const int rc = Flush(file);
    if (rc != SQLITE_OK) return rc;
    g->start = offset;
  }
  const size_t at = static_cast<size_t>(offset - g->start);
  try {
    if (at + size > g->bytes.size()) g->bytes.resize(at + size);
  } catch (const std::bad_alloc&) {
    // No memory to gather: write through, in order.
    const int rc = Flush(file);
    if (rc != SQLITE_OK) return rc;
    writes_made.fetch_add(1, std::memory_order_relaxed);
    return RealMethods(file).xWrite(Real(file), data, amount, offset);
  }
  std::memcpy(g->bytes.data() + at, data, size);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  Gathered* g = Self(file)->gathered;
  if (g == nullptr) {
    // SQLite truncates the database file to the database's size after every
    // checkpoint that copies the whole WAL, which is almost always the size
    // the file has. ftruncate marks the inode dirty even then, so the
    // checkpoint's sync wrote the inode too, synchronously. A truncate to
    // the file's own size is skipped, for any file that is not gathered.
    sqlite3_int64 now = 0;
    if (RealMethods(file).xFileSize(Real(file), &now) == SQLITE_OK &&
        now == size) {
      return SQLITE_OK;
    }
    return RealMethods(file).xTruncate(Real(file), size);
  }
  if (!g->bytes.empty() && End(*g) > size) {
    // What lies past the new end is cut off, written or not.
    g->bytes.resize(g->start >= size ? 0
                                     : static_cast<size_t>(size - g->start));
  }
  const int rc = Flush(file);
  if (rc != SQLITE_OK) return rc;
  return RealMethods(file).xTruncate(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  const int rc = Flush(file);
  if (rc != SQLITE_OK) return rc;
  return RealMethods(file).xSync(Real(file), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  const int rc = RealMethods(file).xFileSize(Real(file), size);
  Gathered* g = Self(file)->gathered;
  if (rc == SQLITE_OK && g != nullptr && !g->bytes.empty()) {
    *size = std::max(*size, End(*g));
  }
  return rc;
}

int Lock(sqlite3_file* file, int level) {
  return RealMethods(file).xLock(Real(file), level);
}
int Unlock(sqlite3_file* file, int level) {
  return RealMethods(file).xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return RealMethods(file).xCheckReservedLock(Real(file), out);
}
int FileControl(sqlite3_file* file, int op, void* arg) {
  return RealMethods(file).xFileControl(Real(file), op, arg);
}
int SectorSize(sqlite3_file* file) {
  return RealMethods(file).xSectorSize(Real(file));
}
int DeviceCharacteristics(sqlite3_file* file) {
  return RealMethods(file).xDeviceCharacteristics(Real(file));
}

// Version 2 and 3 methods: the main database file's shared memory and
// memory map, passed through where the wrapped file has them.
int ShmMap(sqlite3_file* file, int region, int size, int extend,
           void volatile** out) {
  const sqlite3_io_methods& m = RealMethods(file);
  if (m.iVersion < 2 || m.xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return m.xShmMap(Real(file), region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  const sqlite3_io_methods& m = RealMethods(file);
  if (m.iVersion < 2 || m.xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
  return m.xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) {
  const sqlite3_io_methods& m = RealMethods(file);
  if (m.iVersion >= 2 && m.xShmBarrier != nullptr) m.xShmBarrier(Real(file));
}
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  const sqlite3_io_methods& m = RealMethods(file);
  if (m.iVersion < 2 || m.xShmUnmap == nullptr) return SQLITE_OK;
  return m.xShmUnmap(Real(file), delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  const sqlite3_io_methods& m = RealMethods(file);
  *out = nullptr;
  if (m.iVersion < 3 || m.xFetch == nullptr) return SQLITE_OK;
  const int rc = FlushIfOverlapping(file, offset, amount);
  if (rc != SQLITE_OK) return rc;
  return m.xFetch(Real(file), offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  const sqlite3_io_methods& m = RealMethods(file);
  if (m.iVersion < 3 || m.xUnfetch == nullptr) return SQLITE_OK;
  return m.xUnfetch(Real(file), offset, page);
}

constexpr sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

// Whether the database file whose WAL is `wal_name` (as given to xOpen)
// declares power-safe overwrite.
bool PowersafeOverwrite(const char* wal_name) {
  sqlite3_file* db =
      wal_name != nullptr ? sqlite3_database_file_object(wal_name) : nullptr;
  return db != nullptr && db->pMethods != nullptr &&
         (db->pMethods->xDeviceCharacteristics(db) &
          SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags,
         int* out_flags) {
  GatherFile* self = Self(file);
  self->base.pMethods = nullptr;
  self->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) +
                                               kHeaderSize);
  self->gathered = nullptr;
  self->real->pMethods = nullptr;
  sqlite3_vfs* base = BaseVfs(vfs);
  const int rc = base->xOpen(base, name, self->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // The wrapped file may need closing even though it failed to open.
    if (self->real->pMethods != nullptr) {
      self->real->pMethods->xClose(self->real);
    }
    return rc;
  }
  // Without power-safe overwrite, SQLite pads a commit to the sector
  // boundary with frames it writes after the sync and still publishes;
  // those must reach the file unsynced, so such a WAL is not gathered.
  // SQLite decides by the database file's characteristics, read when it
  // opens the WAL, as here (a psow=0 URI sets them on that file only).
  if ((flags & SQLITE_OPEN_WAL) != 0 && PowersafeOverwrite(name)) {
    self->gathered = new (std::nothrow) Gathered;
    if (self->gathered == nullptr) {
      self->real->pMethods->xClose(self->real);
      return SQLITE_NOMEM;
    }
  }
  self->base.pMethods = &kMethods;
  return SQLITE_OK;
}

// The VFS's other methods are the wrapped VFS's.
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return BaseVfs(vfs)->xDelete(BaseVfs(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return BaseVfs(vfs)->xAccess(BaseVfs(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
  return BaseVfs(vfs)->xFullPathname(BaseVfs(vfs), name, size, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
  return BaseVfs(vfs)->xDlOpen(BaseVfs(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int size, char* out) {
  BaseVfs(vfs)->xDlError(BaseVfs(vfs), size, out);
}
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return BaseVfs(vfs)->xDlSym(BaseVfs(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) {
  BaseVfs(vfs)->xDlClose(BaseVfs(vfs), handle);
}
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
  return BaseVfs(vfs)->xRandomness(BaseVfs(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int microseconds) {
  return BaseVfs(vfs)->xSleep(BaseVfs(vfs), microseconds);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
  return BaseVfs(vfs)->xCurrentTime(BaseVfs(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
  sqlite3_vfs* base = BaseVfs(vfs);
  return base->xGetLastError != nullptr ? base->xGetLastError(base, size, out)
                                        : 0;
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  sqlite3_vfs* base = BaseVfs(vfs);
  if (base->iVersion >= 2 && base->xCurrentTimeInt64 != nullptr) {
    return base->xCurrentTimeInt64(base, out);
  }
  double days = 0;
  const int rc = base->xCurrentTime(base, &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

struct Registry {
  absl::Mutex mu;
  // By name; never freed, since SQLite keeps pointers to them.
  std::map<std::string, sqlite3_vfs*> vfs ABSL_GUARDED_BY(mu);
};

Registry& TheRegistry() {
  static Registry* const registry = new Registry;  // never destroyed
  return *registry;
}

}  // namespace

absl::StatusOr<const char*> RegisterWalGatherVfs(const char* name,
                                                 const char* base_name) {
  Registry& registry = TheRegistry();
  absl::MutexLock lock(&registry.mu);
  auto it = registry.vfs.find(name);
  if (it != registry.vfs.end()) return it->second->zName;
  if (sqlite3_initialize() != SQLITE_OK) {
    return absl::UnavailableError("storage: SQLite cannot be initialized");
  }
  sqlite3_vfs* base = sqlite3_vfs_find(base_name);
  if (base == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("storage: no SQLite VFS named ",
                     base_name == nullptr ? "(default)" : base_name));
  }
  auto* vfs = new sqlite3_vfs{};
  vfs->iVersion = 2;
  vfs->szOsFile = static_cast<int>(kHeaderSize) + base->szOsFile;
  vfs->mxPathname = base->mxPathname;
  vfs->zName = name;
  vfs->pAppData = base;
  vfs->xOpen = Open;
  vfs->xDelete = Delete;
  vfs->xAccess = Access;
  vfs->xFullPathname = FullPathname;
  vfs->xDlOpen = DlOpen;
  vfs->xDlError = DlError;
  vfs->xDlSym = DlSym;
  vfs->xDlClose = DlClose;
  vfs->xRandomness = Randomness;
  vfs->xSleep = Sleep;
  vfs->xCurrentTime = CurrentTime;
  vfs->xGetLastError = GetLastError;
  vfs->xCurrentTimeInt64 = CurrentTimeInt64;
  if (sqlite3_vfs_register(vfs, /*makeDflt=*/0) != SQLITE_OK) {
    delete vfs;
    return absl::UnavailableError(
        absl::StrCat("storage: SQLite refused the VFS ", name));
  }
  registry.vfs.emplace(name, vfs);
  return vfs->zName;
}

absl::StatusOr<const char*> WalGatherVfs() {
  return RegisterWalGatherVfs("liaison-wal-gather", nullptr);
}

WalGatherCounts WalGatherCountsNow() {
  WalGatherCounts counts;
  counts.writes_asked = writes_asked.load(std::memory_order_relaxed);
  counts.writes_made = writes_made.load(std::memory_order_relaxed);
  return counts;
}

}  // namespace liaison

// ThreadSanitizer annotations for Debian's uninstrumented Abseil.
//
// Debian ships libabsl_synchronization without -fsanitize=thread, so TSan
// never sees an absl::Mutex being taken and reports every access the mutex
// guards as a race. Linked only into executables of a TSan build
// (LIAISON_SANITIZE=thread), this file defines absl::Mutex's, CondVar's and
// Notification's exported entry points itself. The dynamic linker binds
// every call to them, ours and those from inside gRPC and Abseil, to these
// definitions; each one tells TSan what the operation does to the mutex
// (the same annotations Abseil makes when it is built with TSan) and calls
// the real function, found with dlsym(RTLD_NEXT).
//
// Not covered: Abseil evaluates a waiter's absl::Condition in the thread that
// unlocks; those reads happen inside Abseil, after the unlock annotation, and
// are hidden by the `race:libabsl_*` suppression (tsan.supp).
//
// This file is deliberately not instrumented (see deploy/sanitizers/
// CMakeLists.txt) and depends on nothing but libc and the TSan runtime.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

// The real function of `symbol` in the next object after this executable
// (libabsl_synchronization.so). Aborts if it is missing: running on with a
// wrong binding would make every TSan finding meaningless.
void* Real(const char* symbol) {
  void* real = dlsym(RTLD_NEXT, symbol);
  if (real == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found: %s\n", symbol,
                 dlerror());
    std::abort();
  }
  return real;
}

// Resolves `symbol` once per call site.
#define LIAISON_REAL(type, symbol) \
  static const auto real = reinterpret_cast<type>(Real(symbol))

// Abseil calls its own entry points too (CondVar::WaitWithTimeout calls
// WaitWithDeadline, Notification takes its mutex): only the outermost call
// of a thread is annotated, or one wait would be announced twice.
thread_local int depth = 0;

class Outermost {
 public:
  Outermost() : outermost_(depth++ == 0) {}
  ~Outermost() { --depth; }
  Outermost(const Outermost&) = delete;
  Outermost& operator=(const Outermost&) = delete;
  explicit operator bool() const { return outermost_; }

 private:
  const bool outermost_;
};

}  // namespace

// Options every TSan executable of this build starts with (TSAN_OPTIONS adds
// to them). Memory accesses made by gRPC, protobuf and Abseil themselves
// (memcpy, malloc and free called from those uninstrumented libraries) are
// not checked: the synchronisation ordering them often lives in atomics TSan
// cannot see, so they would be reported as races they are not.
extern "C" const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1";
}

// Abseil's types, declared with the layout-free shape needed to name their
// member functions. Only pointers and the by-value Duration/Time (a 12-byte
// and 16-byte POD, passed as Abseil passes them) cross this file.
namespace absl {
inline namespace debian3 {

class Duration {
  int64_t rep_hi_;
  uint32_t rep_lo_;
};
class Time {
  Duration rep_;
};
class Condition;

class Mutex {
 public:
  void Lock();
  void Unlock();
  bool TryLock();
  void ReaderLock();
  void ReaderUnlock();
  bool ReaderTryLock();
  void LockWhen(const Condition& cond);
  bool LockWhenWithTimeout(const Condition& cond, Duration timeout);
  bool LockWhenWithDeadline(const Condition& cond, Time deadline);
  void ReaderLockWhen(const Condition& cond);
  bool ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout);
  bool ReaderLockWhenWithDeadline(const Condition& cond, Time deadline);
  void Await(const Condition& cond);
  bool AwaitWithTimeout(const Condition& cond, Duration timeout);
  bool AwaitWithDeadline(const Condition& cond, Time deadline);
};

class CondVar {
 public:
  void Wait(Mutex* mu);
  bool WaitWithTimeout(Mutex* mu, Duration timeout);
  bool WaitWithDeadline(Mutex* mu, Time deadline);
};

class Notification {
 public:
  void Notify();
  void WaitForNotification() const;
  bool WaitForNotificationWithTimeout(Duration timeout) const;
  bool WaitForNotificationWithDeadline(Time deadline) const;
};

namespace {

constexpr unsigned kWrite = 0;
constexpr unsigned kRead = __tsan_mutex_read_lock;

void PreLock(Mutex* mu, unsigned flags) { __tsan_mutex_pre_lock(mu, flags); }
void PostLock(Mutex* mu, unsigned flags) {
  __tsan_mutex_post_lock(mu, flags, 0);
}
void AfterTryLock(Mutex* mu, unsigned flags, bool locked) {
  __tsan_mutex_post_lock(mu,
                         flags | __tsan_mutex_try_lock |
                             (locked ? 0 : __tsan_mutex_try_lock_failed),
                         0);
}
void PreUnlock(Mutex* mu, unsigned flags) {
  __tsan_mutex_pre_unlock(mu, flags);
}
void PostUnlock(Mutex* mu, unsigned flags) {
  __tsan_mutex_post_unlock(mu, flags);
}
// Await and CondVar waits release the mutex and take it again before they
// return. Announcing the release before the call is sound: no other thread
// can take the mutex before the real release, so none can be seen to hold it
// while this one still does.
void Released(Mutex* mu) {
  PreUnlock(mu, kWrite);
  PostUnlock(mu, kWrite);
}
void Retaken(Mutex* mu) {
  PreLock(mu, kWrite);
  PostLock(mu, kWrite);
}

}  // namespace

void Mutex::Lock() {
  LIAISON_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  Outermost outer;
  if (outer) PreLock(this, kWrite);
  real(this);
  if (outer) PostLock(this, kWrite);
}

void Mutex::Unlock() {
  LIAISON_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Outermost outer;
  if (outer) PreUnlock(this, kWrite);
  real(this);
  if (outer) PostUnlock(this, kWrite);
}

bool Mutex::TryLock() {
  LIAISON_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  Outermost outer;
  if (outer) PreLock(this, kWrite | __tsan_mutex_try_lock);
  bool locked = real(this);
  if (outer) AfterTryLock(this, kWrite, locked);
  return locked;
}

void Mutex::ReaderLock() {
  LIAISON_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  Outermost outer;
  if (outer) PreLock(this, kRead);
  real(this);
  if (outer) PostLock(this, kRead);
}

void Mutex::ReaderUnlock() {
  LIAISON_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Outermost outer;
  if (outer) PreUnlock(this, kRead);
  real(this);
  if (outer) PostUnlock(this, kRead);
}

bool Mutex::ReaderTryLock() {
  LIAISON_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  Outermost outer;
  if (outer) PreLock(this, kRead | __tsan_mutex_try_lock);
  bool locked = real(this);
  if (outer) AfterTryLock(this, kRead, locked);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  LIAISON_REAL(void (*)(Mutex*, const Condition&),
               "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  Outermost outer;
  if (outer) PreLock(this, kWrite);
  real(this, cond);
  if (outer) PostLock(this, kWrite);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  LIAISON_REAL(
      bool (*)(Mutex*, const Condition&, Duration),
      "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_"
      "8DurationE");
  Outermost outer;
  if (outer) PreLock(this, kWrite);
  bool met = real(this, cond, timeout);
  if (outer) PostLock(this, kWrite);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  LIAISON_REAL(
      bool (*)(Mutex*, const Condition&, Time),
      "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_"
      "4TimeE");
  Outermost outer;
  if (outer) PreLock(this, kWrite);
  bool met = real(this, cond, deadline);
  if (outer) PostLock(this, kWrite);
  return met;
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  LIAISON_REAL(void (*)(Mutex*, const Condition&),
               "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Outermost outer;
  if (outer) PreLock(this, kRead);
  real(this, cond);
  if (outer) PostLock(this, kRead);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  LIAISON_REAL(
      bool (*)(Mutex*, const Condition&, Duration),
      "_ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_"
      "8DurationE");
  Outermost outer;
  if (outer) PreLock(this, kRead);
  bool met = real(this, cond, timeout);
  if (outer) PostLock(this, kRead);
  return met;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  LIAISON_REAL(
      bool (*)(Mutex*, const Condition&, Time),
      "_ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_"
      "4TimeE");
  Outermost outer;
  if (outer) PreLock(this, kRead);
  bool met = real(this, cond, deadline);
  if (outer) PostLock(this, kRead);
  return met;
}

void Mutex::Await(const Condition& cond) {
  LIAISON_REAL(void (*)(Mutex*, const Condition&),
               "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Outermost outer;
  if (outer) Released(this);
  real(this, cond);
  if (outer) Retaken(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  LIAISON_REAL(bool (*)(Mutex*, const Condition&, Duration),
               "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_"
               "8DurationE");
  Outermost outer;
  if (outer) Released(this);
  bool met = real(this, cond, timeout);
  if (outer) Retaken(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  LIAISON_REAL(bool (*)(Mutex*, const Condition&, Time),
               "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_"
               "4TimeE");
  Outermost outer;
  if (outer) Released(this);
  bool met = real(this, cond, deadline);
  if (outer) Retaken(this);
  return met;
}

void CondVar::Wait(Mutex* mu) {
  LIAISON_REAL(void (*)(CondVar*, Mutex*),
               "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Outermost outer;
  if (outer) Released(mu);
  real(this, mu);
  if (outer) Retaken(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  LIAISON_REAL(bool (*)(CondVar*, Mutex*, Duration),
               "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_"
               "8DurationE");
  Outermost outer;
  if (outer) Released(mu);
  bool timed_out = real(this, mu, timeout);
  if (outer) Retaken(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  LIAISON_REAL(bool (*)(CondVar*, Mutex*, Time),
               "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_"
               "4TimeE");
  Outermost outer;
  if (outer) Released(mu);
  bool timed_out = real(this, mu, deadline);
  if (outer) Retaken(mu);
  return timed_out;
}

// Notification's fast path (already notified) reads an atomic inside Abseil
// without taking its mutex, so the edge from Notify to a waiter is made
// explicit on the Notification's address.
void Notification::Notify() {
  LIAISON_REAL(void (*)(Notification*),
               "_ZN4absl7debian312Notification6NotifyEv");
  Outermost outer;
  if (outer) __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  LIAISON_REAL(void (*)(const Notification*),
               "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  Outermost outer;
  real(this);
  if (outer) __tsan_acquire(const_cast<Notification*>(this));
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  LIAISON_REAL(
      bool (*)(const Notification*, Duration),
      "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_"
      "8DurationE");
  Outermost outer;
  bool notified = real(this, timeout);
  if (outer && notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  LIAISON_REAL(
      bool (*)(const Notification*, Time),
      "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_"
      "4TimeE");
  Outermost outer;
  bool notified = real(this, deadline);
  if (outer && notified) __tsan_acquire(const_cast<Notification*>(this));
  return notified;
}

}  // namespace debian3
}  // namespace absl

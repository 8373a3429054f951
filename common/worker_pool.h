// A fixed set of threads that run queued tasks in order of arrival. For
// work that must not run on the thread that hands it over (for example a
// gRPC callback thread that serves other calls meanwhile).
//
// Thread-safe.
#ifndef LIAISON_COMMON_WORKER_POOL_H_
#define LIAISON_COMMON_WORKER_POOL_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace liaison {

class WorkerPool {
 public:
  // Starts `threads` threads (at least one), named `name` for `top -H` and
  // debuggers (at most 15 characters; longer names are cut).
  explicit WorkerPool(int threads, absl::string_view name = "liaison-worker");
  // Runs every task queued so far, then joins the threads. No task may be
  // queued once destruction has begun.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; a free thread runs it.
  void Run(absl::AnyInvocable<void() &&> task);

  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace liaison

#endif  // LIAISON_COMMON_WORKER_POOL_H_

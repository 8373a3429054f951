// Names threads so that `top -H`, `perf` and debuggers tell them apart.
#ifndef LIAISON_COMMON_THREAD_NAME_H_
#define LIAISON_COMMON_THREAD_NAME_H_

#include <thread>

#include "absl/strings/string_view.h"

namespace liaison {

// Names `thread` `name`, cut to the 15 characters Linux keeps. Naming is
// best effort: a failure leaves the name the thread inherited from the one
// that started it.
void NameThread(std::thread& thread, absl::string_view name);

}  // namespace liaison

#endif  // LIAISON_COMMON_THREAD_NAME_H_

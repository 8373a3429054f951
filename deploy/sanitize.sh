#!/usr/bin/env bash
# Builds Liaison with sanitizers and runs every test under them:
#
#   deploy/sanitize.sh address,undefined     # into build-asan/
#   deploy/sanitize.sh thread                # into build-tsan/
#
# Only this project's code is instrumented (Debian's gRPC, protobuf and
# Abseil are not). Any report fails the run (-fno-sanitize-recover).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sanitizers=${1:-address,undefined}
case $sanitizers in
  address,undefined) dir=build-asan ;;
  thread) dir=build-tsan ;;
  *) echo "usage: $0 address,undefined|thread" >&2; exit 2 ;;
esac

bash deploy/install-deps.sh
echo "== build with -fsanitize=$sanitizers into $dir/"
# -O1 and line tables only: a third less build time than -O2 -g, and the
# reports keep their file:line stacks.
BUILD_DIR=$root/$dir bash deploy/build.sh -DLIAISON_SANITIZE="$sanitizers" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/deploy/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/deploy/sanitizers/tsan.supp}
echo "== tests under $sanitizers"
cd "$root/$dir"
ctest --output-on-failure -j "$(nproc)" --timeout 600

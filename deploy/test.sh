#!/usr/bin/env bash
# The test command: installs dependencies, builds, checks formatting and runs
# every test (unit, store conformance, in-process mTLS end-to-end, CLI, and
# liaisond as a process). Nothing is assumed to be running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash deploy/install-deps.sh
bash deploy/build.sh

echo "== clang-format"
git ls-files '*.cc' '*.h' '*.proto' 2>/dev/null \
  | xargs -r clang-format --dry-run -Werror
echo "formatting clean"

echo "== tests"
(cd "${BUILD_DIR:-$root/build}" &&
  ctest --output-on-failure -j "$(nproc)" --timeout 300)

# Every test again under AddressSanitizer and UndefinedBehaviorSanitizer
# (LIAISON_SANITIZE=0 skips it; deploy/sanitize.sh thread runs ThreadSanitizer).
if [ "${LIAISON_SANITIZE:-1}" != 0 ]; then
  bash deploy/sanitize.sh address,undefined
fi

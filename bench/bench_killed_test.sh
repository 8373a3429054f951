#!/bin/bash
# A liaison-bench that is killed leaves no server behind: kills the
# benchmark with SIGKILL once its liaisond and echo server run, and checks
# that both end within 10 s. (bench/disk_compare.sh relies on it to
# unmount its RAM file system after an interrupted run.)
#
#   bench/bench_killed_test.sh BENCH DIR
set -euo pipefail
bench="$1"
# The killed benchmark cannot remove its data; this run's own directory
# holds it and is removed here.
dir="$(mktemp -d "$2/bench-killed.XXXXXX")"
trap 'rm -rf "$dir"' EXIT

"$bench" --callers=1 --rounds=1 --duration=60s --slices=1 --warmup=100ms \
  --inbox-sizes= --delivery-samples=0 --dir="$dir" >/dev/null 2>&1 &
bench_pid=$!

# Running: exists and is not a zombie waiting for its new parent to reap it.
running() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]]
}

# Its two servers: liaisond, and itself again as --serve-echo.
children=""
for _ in $(seq 1 300); do
  children="$(pgrep -P "$bench_pid" | tr '\n' ' ' || true)"
  if [[ $(wc -w <<<"$children") -ge 2 ]]; then break; fi
  sleep 0.1
done
if [[ $(wc -w <<<"$children") -lt 2 ]]; then
  echo "FAIL: liaison-bench did not start its two servers in 30 s" >&2
  kill -9 "$bench_pid" $children 2>/dev/null || true
  exit 1
fi
kill -9 "$bench_pid"
wait "$bench_pid" 2>/dev/null || true

for _ in $(seq 1 100); do
  alive=""
  for pid in $children; do
    if running "$pid"; then alive="$alive $pid"; fi
  done
  if [[ -z "$alive" ]]; then
    echo "PASS: the servers ($children) ended with liaison-bench"
    exit 0
  fi
  sleep 0.1
done
echo "FAIL: still running 10 s after liaison-bench was killed:$alive" >&2
ps -o pid,args -p ${alive// /,} >&2 || true
kill -9 $alive 2>/dev/null || true
exit 1

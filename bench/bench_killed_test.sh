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
# holds it, and its output, and is removed here.
dir="$(mktemp -d "$2/bench-killed.XXXXXX")"
bench_pid=""
servers=""
cleanup() {
  # On any failure, nothing of this test keeps running.
  # shellcheck disable=SC2086
  kill -9 $bench_pid $servers 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

"$bench" --callers=1 --rounds=1 --duration=60s --slices=1 --warmup=100ms \
  --inbox-sizes= --delivery-samples=0 --dir="$dir" >"$dir/bench.out" 2>&1 &
bench_pid=$!

# Running: exists and is not a zombie waiting for its new parent to reap it
# (an orphan's new parent may never reap it).
running() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]]
}

# Its two servers, children of the benchmark: liaisond, and the benchmark
# itself again as --serve-echo.
for _ in $(seq 1 300); do
  liaisond="$(pgrep -P "$bench_pid" -x liaisond || true)"
  echo_server="$(pgrep -P "$bench_pid" -f -- --serve-echo || true)"
  servers="$liaisond $echo_server"
  if [[ -n "$liaisond" && -n "$echo_server" ]]; then break; fi
  if ! running "$bench_pid"; then
    echo "FAIL: liaison-bench ended before its servers ran:" >&2
    cat "$dir/bench.out" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z "$liaisond" || -z "$echo_server" ]]; then
  echo "FAIL: liaison-bench did not start its two servers in 30 s" >&2
  cat "$dir/bench.out" >&2
  exit 1
fi
kill -9 "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true

for _ in $(seq 1 100); do
  alive=""
  for pid in $servers; do
    if running "$pid"; then alive="$alive $pid"; fi
  done
  if [[ -z "$alive" ]]; then
    echo "PASS: the servers ($liaisond, $echo_server) ended with liaison-bench"
    exit 0
  fi
  sleep 0.1
done
echo "FAIL: still running 10 s after liaison-bench was killed:$alive" >&2
ps -o pid,args -p "$(tr ' ' ',' <<<"${alive# }")" >&2 || true
exit 1

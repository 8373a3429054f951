#!/bin/bash
# What the disk's syncs cost the durable send: runs liaison-bench at 32
# callers with its data first on this machine's disk and then on an ext4 file
# system over a loop device whose backing file is in RAM (/dev/shm), one
# round each, alternating, and prints every run and the medians.
#
# The RAM side keeps everything but the device: the same liaisond and
# synchronous=FULL, an ext4 with a journal if the disk's ext4 has one and
# without if not (both sides are described in the first line printed),
# fdatasync and cache flushes
# through the same block layer; only the flushes then reach no disk. So the
# difference between the two is what the device costs (its write and flush
# requests, their latency and their interrupts), not what Liaison's code
# costs. See docs/performance.md, "The disk against RAM, rerunnable".
#
# Needs root (losetup, mount), mkfs.ext4, 4 GiB free in /dev/shm and a
# built tree. Exits 2 on a usage error, 1 on any other failure.
usage() {
  cat <<'EOF'
usage: bench/disk_compare.sh [--pairs=N] [--build=DIR] [--disk-dir=DIR]
  --pairs     alternating pairs of runs (default 4; about 30 s a pair)
  --build     the build directory with bench/liaison-bench and
              server/liaisond (default: build)
  --disk-dir  where on the disk the data goes (default /var/tmp)
EOF
}
set -euo pipefail

pairs=4
build=build
disk_dir=/var/tmp
for arg in "$@"; do
  case "$arg" in
    --pairs=*) pairs="${arg#*=}" ;;
    --build=*) build="${arg#*=}" ;;
    --disk-dir=*) disk_dir="${arg#*=}" ;;
    --help | -h)
      usage
      exit 0
      ;;
    *)
      echo "disk_compare.sh: unknown argument: $arg" >&2
      usage >&2
      exit 2
      ;;
  esac
done
if ! [[ "$pairs" =~ ^[1-9][0-9]*$ ]]; then
  echo "disk_compare.sh: --pairs must be a positive number" >&2
  exit 2
fi
fail() {
  echo "disk_compare.sh: $*" >&2
  exit 1
}
[[ $EUID -eq 0 ]] || fail "needs root, for losetup and mount"
for tool in mkfs.ext4 losetup mount umount mountpoint; do
  command -v "$tool" >/dev/null || fail "$tool not found (e2fsprogs, mount)"
done
bench="$build/bench/liaison-bench"
liaisond="$build/server/liaisond"
for program in "$bench" "$liaisond"; do
  [[ -x "$program" ]] || fail "$program not found; build first"
done
[[ -d "$disk_dir" ]] || fail "--disk-dir=$disk_dir is not a directory"
shm_free_kib="$(df --output=avail -k /dev/shm | tail -1)"
((shm_free_kib >= 4 * 1024 * 1024)) || fail "less than 4 GiB free in /dev/shm"

# The RAM side: a 4 GiB sparse file in tmpfs (pages used only as written;
# a 32-caller round writes a few hundred MiB), ext4 on a loop device over it,
# with a journal only if the disk's has one, and with its inode tables
# written at once, so that no lazy initialisation writes during the runs.
work="$(mktemp -d /dev/shm/liaison-disk-compare.XXXXXX)"
disk_data=""
loop=""
bench_pid=""
cleanup() {
  set +e
  if [[ -n "$bench_pid" ]]; then
    # Its servers die with it (PR_SET_PDEATHSIG), but not at once: wait for
    # them, so that the file system is no longer in use.
    local servers
    servers="$(pgrep -P "$bench_pid")"
    kill "$bench_pid" 2>/dev/null
    wait "$bench_pid" 2>/dev/null
    for _ in $(seq 1 100); do
      local left=""
      for pid in $servers; do
        state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
        if [[ -n "$state" && "$state" != Z ]]; then left=1; fi
      done
      [[ -z "$left" ]] && break
      sleep 0.1
    done
  fi
  if mountpoint -q "$work/mnt"; then
    umount "$work/mnt" || umount -l "$work/mnt"
  fi
  if [[ -n "$loop" ]]; then losetup -d "$loop"; fi
  if [[ -n "$disk_data" ]]; then rm -rf "$disk_data"; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# The disk's file system: ext4 with a journal has an entry in
# /proc/fs/jbd2 named after its device.
disk_source="$(df --output=source "$disk_dir" | tail -1)"
disk_type="$(df --output=fstype "$disk_dir" | tail -1)"
journal=without
if compgen -G "/proc/fs/jbd2/$(basename "$disk_source")-*" >/dev/null; then
  journal=with
fi
if [[ "$disk_type" != ext4 ]]; then
  echo "disk_compare.sh: warning: $disk_dir is on $disk_type, not ext4;" \
    "the two sides differ by more than the device" >&2
fi
truncate -s 4G "$work/ram.img"
if [[ "$journal" == with ]]; then
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$work/ram.img"
else
  mkfs.ext4 -q -F -O ^has_journal -E lazy_itable_init=0 "$work/ram.img"
fi
loop="$(losetup -f --show "$work/ram.img")"
mkdir "$work/mnt"
mount "$loop" "$work/mnt"
# On the disk, a directory of this run's, removed at the end even if a
# run is interrupted (liaison-bench removes its own only when it ends).
disk_data="$(mktemp -d "$disk_dir/liaison-disk-compare.XXXXXX")"

echo "disk_compare.sh: $(nproc) cores; disk: $disk_dir ($disk_source," \
  "$disk_type, $journal journal); RAM: $work/mnt ($loop, ext4, $journal" \
  "journal); $pairs pairs of one 32-caller round"
printf '%-4s %-5s %9s %9s %10s %9s %9s %s\n' pair where "echo/s" "send/s" \
  send/echo "p50 ms" "p99 ms" "machine CPU per send (idle)"
ratios_disk=()
ratios_ram=()
for ((i = 1; i <= pairs; ++i)); do
  for where in disk ram; do
    dir="$disk_data"
    if [[ "$where" == ram ]]; then dir="$work/mnt"; fi
    "$bench" --callers=32 --rounds=1 --inbox-sizes= --delivery-samples=0 \
      --dir="$dir" --liaisond="$liaisond" >"$work/run.out" 2>"$work/run.err" &
    bench_pid=$!
    bench_status=0
    wait "$bench_pid" || bench_status=$?
    bench_pid=""
    if ((bench_status != 0)); then
      cat "$work/run.out" "$work/run.err" >&2
      fail "liaison-bench failed (exit $bench_status)"
    fi
    # The throughput row: "32 | echo: calls/s p50 p99 p999 cpu | send: ...
    # | ratio", and the machine's CPU line for the send under it.
    row="$(grep -E '^32 +\|' "$work/run.out" | head -1 || true)"
    cpu="$(grep -E '^ +send: server' "$work/run.out" | head -1 || true)"
    if [[ -z "$row" || -z "$cpu" ]]; then
      cat "$work/run.out" >&2
      fail "no 32-caller row in liaison-bench's output"
    fi
    read -r echo_rate <<<"$(cut -d'|' -f2 <<<"$row" | awk '{print $1}')"
    read -r send_rate send_p50 send_p99 <<<"$(cut -d'|' -f3 <<<"$row" |
      awk '{print $1, $2, $3}')"
    ratio="$(cut -d'|' -f4 <<<"$row" | tr -d ' ')"
    per_send="$(sed -E 's/^ +send: //' <<<"$cpu")"
    printf '%-4s %-5s %9s %9s %10s %9s %9s %s\n' "$i" "$where" "$echo_rate" \
      "$send_rate" "$ratio" "$send_p50" "$send_p99" "$per_send"
    if [[ "$where" == ram ]]; then
      ratios_ram+=("$ratio")
    else
      ratios_disk+=("$ratio")
    fi
  done
done

median() {
  printf '%s\n' "$@" | LC_ALL=C sort -n | awk '{v[NR] = $1} END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.3f\n", m }'
}
echo "send/echo, median of $pairs: disk $(median "${ratios_disk[@]}")," \
  "RAM $(median "${ratios_ram[@]}")"

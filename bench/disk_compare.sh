#!/bin/bash
# What the disk's syncs cost the durable send: runs liaison-bench at 32
# callers with its data first on this machine's disk and then on an ext4 file
# system over a loop device whose backing file is in RAM (/dev/shm), one
# round each, alternating, and prints every run and the medians.
#
# The RAM side keeps everything but the device: the same liaisond and
# synchronous=FULL, the same file system, fdatasync and cache flushes through
# the same block layer; only the flushes then reach no disk. So the
# difference between the two is what the device costs (its write and flush
# requests, their latency and their interrupts), not what Liaison's code
# costs. See docs/performance.md ("The disk").
#
# Needs root (losetup, mount) and a built tree.
#
#   bench/disk_compare.sh [--pairs=N] [--build=DIR] [--disk-dir=DIR]
#
#   --pairs     alternating pairs of runs (default 4; about 30 s a pair)
#   --build     the build directory with bench/liaison-bench and
#               server/liaisond (default: build)
#   --disk-dir  where on the disk the data goes (default /var/tmp)
set -euo pipefail

pairs=4
build=build
disk_dir=/var/tmp
for arg in "$@"; do
  case "$arg" in
    --pairs=*) pairs="${arg#*=}" ;;
    --build=*) build="${arg#*=}" ;;
    --disk-dir=*) disk_dir="${arg#*=}" ;;
    *)
      echo "disk_compare.sh: unknown argument: $arg" >&2
      exit 2
      ;;
  esac
done
if ! [[ "$pairs" =~ ^[1-9][0-9]*$ ]]; then
  echo "disk_compare.sh: --pairs must be a positive number" >&2
  exit 2
fi
if [[ $EUID -ne 0 ]]; then
  echo "disk_compare.sh: needs root, for losetup and mount" >&2
  exit 2
fi
bench="$build/bench/liaison-bench"
liaisond="$build/server/liaisond"
for program in "$bench" "$liaisond"; do
  if [[ ! -x "$program" ]]; then
    echo "disk_compare.sh: $program not found; build first" >&2
    exit 2
  fi
done
if [[ ! -d "$disk_dir" ]]; then
  echo "disk_compare.sh: --disk-dir=$disk_dir is not a directory" >&2
  exit 2
fi

# The RAM side: a 4 GiB sparse file in tmpfs (pages used only as written;
# a 32-caller round writes a few hundred MiB), ext4 on a loop device over it.
work="$(mktemp -d /dev/shm/liaison-disk-compare.XXXXXX)"
loop=""
cleanup() {
  if mountpoint -q "$work/mnt"; then umount "$work/mnt"; fi
  if [[ -n "$loop" ]]; then losetup -d "$loop"; fi
  rm -rf "$work"
}
trap cleanup EXIT
truncate -s 4G "$work/ram.img"
mkfs.ext4 -q -F "$work/ram.img"
loop="$(losetup -f --show "$work/ram.img")"
mkdir "$work/mnt"
mount "$loop" "$work/mnt"
disk_device="$(df --output=source "$disk_dir" | tail -1)"

echo "disk_compare.sh: $(nproc) cores; disk: $disk_dir on $disk_device;" \
  "RAM: $work/mnt on $loop; $pairs pairs of one 32-caller round"
printf '%-4s %-5s %9s %9s %10s %9s %9s %s\n' pair where "echo/s" "send/s" \
  send/echo "p50 ms" "p99 ms" "machine CPU per send (idle)"
ratios_disk=()
ratios_ram=()
for ((i = 1; i <= pairs; ++i)); do
  for where in disk ram; do
    dir="$disk_dir"
    if [[ "$where" == ram ]]; then dir="$work/mnt"; fi
    if ! out="$("$bench" --callers=32 --rounds=1 --inbox-sizes= \
      --delivery-samples=0 --dir="$dir" --liaisond="$liaisond" 2>&1)"; then
      echo "$out" >&2
      echo "disk_compare.sh: liaison-bench failed" >&2
      exit 1
    fi
    # The throughput row: "32 | echo: calls/s p50 p99 p999 cpu | send: ...
    # | ratio", and the machine's CPU line for the send under it.
    row="$(grep -E '^32 +\|' <<<"$out" | head -1)"
    cpu="$(grep -E '^ +send: server' <<<"$out" | head -1)"
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
  printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {
    if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "send/echo, median of $pairs: disk $(median "${ratios_disk[@]}")," \
  "RAM $(median "${ratios_ram[@]}")"

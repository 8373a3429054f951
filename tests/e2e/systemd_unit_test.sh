#!/usr/bin/env bash
# deploy/systemd/liaisond.service: systemd accepts the unit, and liaisond
# starts with exactly the flags of its ExecStart (paths moved into a temp
# dir, the port to a free one), answers a call, and exits 0 on SIGTERM as
# the unit's KillSignal expects. The sandbox directives themselves take a
# running systemd to apply, which this test does not have.
#
#   systemd_unit_test.sh LIAISOND LIAISON_CLI SOURCE_DIR
# Exit 77 (skipped) without systemd-analyze.
set -euo pipefail
liaisond=$1
cli=$2
src=$3
unit="$src/deploy/systemd/liaisond.service"
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed"
  exit 77
fi
sed "s|/usr/local/bin/liaisond|$liaisond|" "$unit" >"$tmp/liaisond.service"
systemd-analyze verify "$tmp/liaisond.service"
echo "systemd-analyze verify: OK"

# The unit's command line, continuation lines joined.
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/\\$//' \
  | tr -s ' \n' ' ' | sed 's/^ExecStart=//')
[ -n "$exec_start" ] || { echo "FAIL: no ExecStart" >&2; exit 1; }

bash "$src/certs/dev-pki.sh" "$tmp/pki" >/dev/null 2>&1
bash "$src/certs/issue.sh" "$tmp/pki" RO liaison-officer ion >/dev/null 2>&1
mkdir -p "$tmp/etc/tls"
cp "$tmp/pki/server.crt" "$tmp/pki/server.key" "$tmp/pki/ca.crt" "$tmp/etc/tls/"
cp "$tmp/pki/audit-signing.key" "$tmp/etc/"
cp "$src/deploy/parties.example" "$tmp/etc/parties"

read -r -a args <<<"$(echo "$exec_start" \
  | sed -e "s|/usr/local/bin/liaisond|$liaisond|" \
        -e "s|/etc/liaison|$tmp/etc|g" \
        -e "s|/var/lib/liaison|$tmp/state|g" \
        -e "s|--listen=0.0.0.0:7443|--listen=127.0.0.1:0|")"
"${args[@]}" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  grep -q "^liaisond listening on 127.0.0.1:" "$tmp/out" && break
  sleep 0.1
done
grep -q "^liaisond listening on 127.0.0.1:" "$tmp/out" \
  || { echo "FAIL: liaisond did not start with the unit's flags" >&2
       cat "$tmp/out" >&2; exit 1; }
[ -f "$tmp/state/liaison.db" ] || { echo "FAIL: no store in the state dir" >&2; exit 1; }
port=$(sed -n 's/^liaisond listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")
LIAISON_SERVER="localhost:$port" LIAISON_CA="$tmp/pki/ca.crt" \
  LIAISON_CERT="$tmp/pki/RO-liaison-officer-ion.crt" \
  LIAISON_KEY="$tmp/pki/RO-liaison-officer-ion.key" \
  "$cli" whoami >"$tmp/whoami" 2>&1 \
  || { echo "FAIL: whoami against the unit's liaisond" >&2; cat "$tmp/whoami" >&2; exit 1; }
grep -q "RO" "$tmp/whoami" || { echo "FAIL: whoami did not answer RO" >&2; exit 1; }
kill -TERM "$pid"
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: liaisond still running 30 s after SIGTERM" >&2
  exit 1
fi
if ! wait "$pid"; then
  echo "FAIL: liaisond did not exit 0 on SIGTERM" >&2
  cat "$tmp/out" >&2
  exit 1
fi
pid=""
echo "unit flags: liaisond started, answered whoami and stopped cleanly"

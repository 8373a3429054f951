#!/usr/bin/env bash
# deploy/systemd/liaisond.service: systemd accepts the unit, and liaisond
# starts with exactly the flags of its ExecStart (paths moved into a temp
# dir, the port to a free one), serves, and exits 0 on SIGTERM as the unit's
# KillSignal expects.
#
#   systemd_unit_test.sh LIAISOND SOURCE_DIR
set -euo pipefail
liaisond=$1
src=$2
unit="$src/deploy/systemd/liaisond.service"
tmp=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/liaisond|$liaisond|" "$unit" >"$tmp/liaisond.service"
  systemd-analyze verify "$tmp/liaisond.service"
  echo "systemd-analyze verify: OK"
else
  echo "systemd-analyze not installed: unit syntax not verified"
fi

# The unit's command line, continuation lines joined.
exec_start=$(sed -n '/^ExecStart=/,/[^\\]$/p' "$unit" | sed 's/\\$//' \
  | tr -s ' \n' ' ' | sed 's/^ExecStart=//')
[ -n "$exec_start" ] || { echo "FAIL: no ExecStart" >&2; exit 1; }

bash "$src/certs/dev-pki.sh" "$tmp/pki" >/dev/null 2>&1
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
kill -TERM "$pid"
if ! wait "$pid"; then
  echo "FAIL: liaisond did not exit 0 on SIGTERM" >&2
  cat "$tmp/out" >&2
  exit 1
fi
pid=""
echo "unit flags: liaisond started, served and stopped cleanly"

#!/usr/bin/env bash
# The Python focal-point example (examples/python) against a real liaisond:
# HU's system answers requests on its own; RO's system sends one, follows
# its event stream and receives HU's reply. HU's system, run again, resumes
# after its kept cursor and answers nothing twice. A certificate of another
# CA is refused, and the server exits 0 on SIGTERM afterwards.
#
#   python_example_test.sh LIAISOND SOURCE_DIR
set -euo pipefail
liaisond=$1
src=$2
# Debian's interpreter: python3-grpcio and python3-grpc-tools live there.
python=/usr/bin/python3
example="$src/examples/python/focal_point.py"

tmp=$(mktemp -d)
server_pid=""
answer_pid=""
cleanup() {
  [ -n "$answer_pid" ] && kill "$answer_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
stop_server() {  # SIGTERM, then at most 30 s for a clean exit
  kill -TERM "$server_pid"
  for _ in $(seq 1 300); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && fail "liaisond still running 30 s after SIGTERM"
  wait "$server_pid" || fail "liaisond exited $? on SIGTERM"
  server_pid=""
}
fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.out; do echo "--- $f" >&2; cat "$f" >&2; done
  exit 1
}

bash "$src/certs/dev-pki.sh" "$tmp/pki" >/dev/null 2>&1
bash "$src/certs/issue.sh" "$tmp/pki" RO focal-point nfp >/dev/null 2>&1
bash "$src/certs/issue.sh" "$tmp/pki" HU focal-point nfp >/dev/null 2>&1
bash "$src/certs/dev-pki.sh" "$tmp/other" >/dev/null 2>&1
bash "$src/certs/issue.sh" "$tmp/other" RO focal-point nfp >/dev/null 2>&1

"$liaisond" --listen=127.0.0.1:0 --data-dir="$tmp/data" \
  --tls-cert="$tmp/pki/server.crt" --tls-key="$tmp/pki/server.key" \
  --tls-ca="$tmp/pki/ca.crt" --audit-key="$tmp/pki/audit-signing.key" \
  --parties="$src/deploy/parties.example" >"$tmp/liaisond.out" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/^liaisond listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
    "$tmp/liaisond.out")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "liaisond did not start"

# Replaces the (sub)shell it runs in with the example, so that `as ... &`
# leaves the example's own pid in $!; call it in ( ) in the foreground.
as() {  # as PARTY PKI_DIR ARGS...
  local party=$1 pki=$2
  shift 2
  exec "$python" "$example" --server "localhost:$port" --ca "$tmp/pki/ca.crt" \
    --cert "$pki/$party-focal-point-nfp.crt" \
    --key "$pki/$party-focal-point-nfp.key" \
    --cursor-file "$tmp/$party.cursor" "$@"
}

as HU "$tmp/pki" answer --count 1 --timeout 60 >"$tmp/answer.out" 2>&1 &
answer_pid=$!
(as RO "$tmp/pki" ask --to HU --subject "Vehicle check" \
  --body "Who holds plate B-123-XYZ?" --timeout 60) >"$tmp/ask.out" 2>&1 \
  || fail "ask exited $?"
wait "$answer_pid" || fail "answer exited $?"
answer_pid=""

grep -q "^connected as spiffe://selec.test/party/RO/focal-point/nfp" \
  "$tmp/ask.out" || fail "RO did not connect as itself"
grep -q "^sent request " "$tmp/ask.out" || fail "no request sent"
grep -q "^answered request .* from RO" "$tmp/answer.out" \
  || fail "HU did not answer"
grep -q "^reply from HU (.*): Checked 'Vehicle check' against" \
  "$tmp/ask.out" || fail "RO did not receive HU's reply"
# HU's cursor was kept past the request: run again, its system finds
# nothing new to answer (it would have answered the same request again, as
# a replay, had it started from the beginning).
grep -qx '[1-9][0-9]*' "$tmp/HU.cursor" || fail "no cursor kept"
set +e
(as HU "$tmp/pki" answer --count 1 --timeout 3) >"$tmp/again.out" 2>&1
code=$?
set -e
[ "$code" = 1 ] || fail "the second answer run exited $code, not 1 (timed out)"
grep -q "answered 0 of 1 requests" "$tmp/again.out" \
  || fail "the second answer run did not resume after its cursor"
grep -q "^answered request\|^left request\|was answered before" \
  "$tmp/again.out" && fail "the second answer run handled the request again"

# Another CA's certificate never gets in.
set +e
(as RO "$tmp/other" ask --to HU --subject s --body b --timeout 5) \
  >"$tmp/foreign.out" 2>&1
code=$?
set -e
[ "$code" = 2 ] || fail "a foreign certificate got exit $code, not 2"
grep -q "^refused: UNAVAILABLE" "$tmp/foreign.out" \
  || fail "a foreign certificate was not refused at the handshake"

stop_server
cat "$tmp/ask.out" "$tmp/answer.out"
echo "python example: OK"

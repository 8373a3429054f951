#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine: installs dependencies, builds,
# makes a development PKI, starts liaisond on embedded SQLite and runs a short
# exchange through the CLI:
#   - an RO liaison officer sends a request with personal data to HU,
#   - an HU liaison officer reads it and replies,
#   - a request with personal data to an observer is refused.
# With --serve the server keeps running afterwards (Ctrl-C stops it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
serve=0
[ "${1:-}" = "--serve" ] && serve=1

bash deploy/install-deps.sh
bash deploy/build.sh
build=${BUILD_DIR:-$root/build}
liaisond=$build/server/liaisond
liaison=$build/client/liaison

work=$root/.liaison
pki=$work/pki
data=$work/data
rm -rf "$data"
mkdir -p "$work"
bash certs/dev-pki.sh "$pki" >/dev/null
for who in "RO liaison-officer ion" "HU liaison-officer anna" \
           "XOB liaison-officer olaf" "HQ auditor aurelia"; do
  bash certs/issue.sh "$pki" $who >/dev/null
done

log=$work/liaisond.log
"$liaisond" --listen=127.0.0.1:0 --data-dir="$data" \
  --tls-cert="$pki/server.crt" --tls-key="$pki/server.key" \
  --tls-ca="$pki/ca.crt" --trust-domain=selec.test \
  --audit-key="$pki/audit-signing.key" \
  --parties=deploy/parties.example >"$log" 2>&1 &
server_pid=$!
trap 'kill -TERM $server_pid 2>/dev/null; wait $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "liaisond listening on" "$log" && break
  kill -0 $server_pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
address=$(sed -n 's/^liaisond listening on //p' "$log")
port=${address##*:}
grep '^liaisond' "$log" | sed 's/^/== /'

# The audit verifier key comes from the PKI directory, not from the server.
export LIAISON_SERVER=localhost:$port LIAISON_CA=$pki/ca.crt \
  LIAISON_AUDIT_KEY=$pki/audit.vkey
as() {  # as PARTY ROLE USER liaison-args...
  local cert=$pki/$1-$2-$3
  shift 3
  LIAISON_CERT=$cert.crt LIAISON_KEY=$cert.key "$liaison" "$@"
}
step() { printf '\n== %s\n' "$*"; }

step "RO liaison officer: whoami"
as RO liaison-officer ion whoami
step "RO sends a request with personal data to HU"
sent=$(as RO liaison-officer ion send --to HU --kind REQUEST \
  --subject "Suspected trafficking of minors via border crossing" \
  --body "Vehicle B-123-XYZ seen with two minors. Please check the driver's identity." \
  --personal-data --classification RESTRICTED --handling H2 --evaluation B2 \
  --priority URGENT --justification "Crossing expected tonight")
echo "$sent"
id=$(echo "$sent" | awk '{print $2}')
step "HU liaison officer: inbox"
as HU liaison-officer anna inbox
step "HU reads the request"
as HU liaison-officer anna show "$id"
step "HU replies"
as HU liaison-officer anna reply "$id" --body "Driver identified; file follows via NFP." \
  --personal-data --classification RESTRICTED --handling H2
step "RO: inbox (the reply) and outbox (request now ANSWERED)"
as RO liaison-officer ion inbox
as RO liaison-officer ion outbox
step "RO tries to send personal data to the observer XOB (refused, nothing sent)"
if as RO liaison-officer ion send --to XOB --subject "Suspect list" \
     --body "Names and dates of birth" --personal-data; then
  echo "UNEXPECTED: the observer was sent personal data" >&2
  exit 1
else
  echo "(refused with exit code $?, as it must be)"
fi
step "XOB observer: inbox"
as XOB liaison-officer olaf inbox

step "RO, the data owner: who accessed its request (each access proven in the signed audit log)"
as RO liaison-officer ion audit accesses "$id"
step "HQ auditor: a signed checkpoint of the audit log (kept for later)"
as HQ auditor aurelia audit checkpoint --fresh --out "$work/checkpoint.txt"
cat "$work/checkpoint.txt"
step "HQ auditor: export the whole log"
as HQ auditor aurelia audit export --out "$work/audit-export.jsonl"
step "anyone, with no server and no database: verify the export"
"$liaison" audit verify "$work/audit-export.jsonl" --key "$pki/audit.vkey" \
  --checkpoint "$work/checkpoint.txt"

if [ $serve -eq 1 ]; then
  step "liaisond keeps running on localhost:$port (Ctrl-C to stop). Try:"
  echo "  export LIAISON_SERVER=localhost:$port LIAISON_CA=$pki/ca.crt"
  echo "  export LIAISON_CERT=$pki/RO-liaison-officer-ion.crt LIAISON_KEY=$pki/RO-liaison-officer-ion.key"
  echo "  $liaison inbox"
  wait $server_pid
else
  step "stopping liaisond (SIGTERM drains in-flight calls)"
fi

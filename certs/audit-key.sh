#!/usr/bin/env bash
# Makes the Ed25519 key that signs Liaison's audit checkpoints (C2SP signed
# notes, https://c2sp.org/signed-note).
#
#   certs/audit-key.sh DIR [--name NAME] [--force]
#
# Writes DIR/audit-signing.key, the private key text
# "PRIVATE+KEY+<name>+<key id>+<base64>" (mode 0600, never printed), and
# DIR/audit.vkey, the verifier key "<name>+<key id>+<base64>" that auditors
# check checkpoints with. Both are in the format of Go's
# golang.org/x/mod/sumdb/note. NAME defaults to selec.example/liaison-audit;
# here it is limited to printable ASCII without spaces or '+'. An existing key
# is kept unless --force is given (signatures by the old key then no longer
# verify against the new audit.vkey). Needs only openssl and coreutils.
set -euo pipefail
export LC_ALL=C

usage() { echo "usage: $0 DIR [--name NAME] [--force]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dir=$1; shift
[ -n "$dir" ] || usage
name=selec.example/liaison-audit
force=0
while [ $# -gt 0 ]; do
  case $1 in
    --name) [ $# -ge 2 ] || usage; name=$2; shift 2 ;;
    --name=*) name=${1#*=}; shift ;;
    --force) force=1; shift ;;
    *) usage ;;
  esac
done
if ! [[ $name =~ ^[[:graph:]]+$ ]] || [[ $name == *+* ]]; then
  echo "$0: key name '$name' must be printable ASCII without spaces or '+'" >&2
  exit 2
fi

key=$dir/audit-signing.key
vkey=$dir/audit.vkey
if [ "$force" = 0 ] && { [ -e "$key" ] || [ -e "$vkey" ]; }; then
  echo "$0: $key or $vkey already exists; not replacing the audit key" \
    "(pass --force to replace it: checkpoints signed by the old key will" \
    "no longer verify against the new audit.vkey)" >&2
  exit 1
fi

umask 077
mkdir -p "$dir"
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; rm -f "$key.new" "$vkey.new"; }
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

# hex_of FILE N: the first N bytes of FILE as lower-case hex.
hex_of() { head -c "$2" "$1" | od -An -v -tx1 | tr -d ' \n'; }

openssl genpkey -algorithm ed25519 -out "$tmp/key.pem"
openssl pkey -in "$tmp/key.pem" -outform DER -out "$tmp/key.der"
openssl pkey -in "$tmp/key.pem" -pubout -outform DER -out "$tmp/pub.der"
# The PKCS#8 and SubjectPublicKeyInfo DER of an Ed25519 key are fixed
# prefixes followed by the 32-byte seed and the 32-byte public key.
if [ "$(wc -c < "$tmp/key.der")" -ne 48 ] ||
   [ "$(hex_of "$tmp/key.der" 16)" != 302e020100300506032b657004220420 ] ||
   [ "$(wc -c < "$tmp/pub.der")" -ne 44 ] ||
   [ "$(hex_of "$tmp/pub.der" 12)" != 302a300506032b6570032100 ]; then
  echo "$0: unexpected DER encoding of the Ed25519 key from openssl" >&2
  exit 1
fi

# Key id: SHA-256(name || "\n" || 0x01 || public key)[:4], as 8 hex digits.
{ printf '%s\n\001' "$name"; tail -c 32 "$tmp/pub.der"; } > "$tmp/id-input"
openssl dgst -sha256 -binary -out "$tmp/id-hash" "$tmp/id-input"
id=$(hex_of "$tmp/id-hash" 4)
[[ $id =~ ^[0-9a-f]{8}$ ]] || { echo "$0: cannot compute the key id" >&2; exit 1; }

{ printf '\001'; tail -c 32 "$tmp/pub.der"; } > "$tmp/pub.raw"
{ printf '\001'; tail -c 32 "$tmp/key.der"; } > "$tmp/seed.raw"
public=$(openssl base64 -A -in "$tmp/pub.raw")
private=$(openssl base64 -A -in "$tmp/seed.raw")
if [ ${#public} != 44 ] || [ ${#private} != 44 ]; then
  echo "$0: cannot encode the key" >&2
  exit 1
fi

# printf is a builtin: the private key never appears in a process list.
printf 'PRIVATE+KEY+%s+%s+%s\n' "$name" "$id" "$private" > "$key.new"
printf '%s+%s+%s\n' "$name" "$id" "$public" > "$vkey.new"
private=
chmod 600 "$key.new"
chmod 644 "$vkey.new"
mv -f "$key.new" "$key"
mv -f "$vkey.new" "$vkey"
echo "audit signing key (secret): $key"
echo "audit verifier key: $vkey"
cat "$vkey"

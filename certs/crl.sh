#!/usr/bin/env bash
# Revokes certificates at the development CA and writes its CRL.
#
#   certs/crl.sh DIR [CERT...]
#
# Adds each CERT (a PEM file issued from DIR's CA) to the CA's revocation
# database and writes DIR/crl.pem, signed by the CA, listing every
# certificate revoked so far. With no CERT it (re)writes the CRL as it is.
# liaisond reads it with --crl=DIR/crl.pem and rereads it when it changes.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DIR [CERT...]" >&2; exit 2; }
dir=$1; shift
[ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ] || {
  echo "$0: no CA in $dir; run certs/dev-pki.sh $dir first" >&2; exit 1; }

db=$dir/crl-db
mkdir -p "$db"
touch "$db/index.txt"
[ -f "$db/crlnumber" ] || echo 1000 > "$db/crlnumber"
config=$(mktemp)
trap 'rm -f "$config"' EXIT
cat > "$config" <<CONF
[ ca ]
default_ca = dev
[ dev ]
database = $db/index.txt
crlnumber = $db/crlnumber
certificate = $dir/ca.crt
private_key = $dir/ca.key
default_md = sha256
default_crl_days = 30
CONF
for cert in "$@"; do
  openssl ca -config "$config" -revoke "$cert" -batch 2>/dev/null \
    || { echo "$0: cannot revoke $cert" >&2; exit 1; }
done
openssl ca -config "$config" -gencrl -out "$dir/crl.pem.tmp" -batch 2>/dev/null
mv "$dir/crl.pem.tmp" "$dir/crl.pem"
echo "$dir/crl.pem"

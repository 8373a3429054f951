#!/usr/bin/env bash
# Makes a DEVELOPMENT PKI for Liaison: a CA and a server certificate.
#
#   certs/dev-pki.sh DIR [--trust-domain D] [--days N]
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/server.crt (SANs localhost, 127.0.0.1),
# DIR/server.key and DIR/trust-domain. Keys are ECDSA P-256, mode 0600. An
# existing CA in DIR is kept (so certificates issued earlier stay valid).
# Also makes the audit checkpoint signing key, DIR/audit-signing.key and
# DIR/audit.vkey, named D/liaison-audit (certs/audit-key.sh), unless DIR
# already has one.
# Client certificates: certs/issue.sh. Never use this PKI in production.
set -euo pipefail

usage() { echo "usage: $0 DIR [--trust-domain D] [--days N]" >&2; exit 2; }
[ $# -ge 1 ] || usage
dir=$1; shift
trust_domain=selec.test
days=825
while [ $# -gt 0 ]; do
  case $1 in
    --trust-domain) trust_domain=${2:?}; shift 2 ;;
    --trust-domain=*) trust_domain=${1#*=}; shift ;;
    --days) days=${2:?}; shift 2 ;;
    --days=*) days=${1#*=}; shift ;;
    *) usage ;;
  esac
done
if ! [[ $trust_domain =~ ^[a-z0-9._-]+$ ]]; then
  echo "$0: trust domain '$trust_domain' must be lower-case letters, digits, '.', '-', '_'" >&2
  exit 2
fi

umask 077
mkdir -p "$dir"
if [ ! -f "$dir/ca.crt" ] || [ ! -f "$dir/ca.key" ]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
  openssl req -new -x509 -key "$dir/ca.key" -sha256 -days "$days" \
    -subj "/O=Liaison development/CN=Liaison development CA ($trust_domain)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.crt"
fi
echo "$trust_domain" > "$dir/trust-domain"

openssl ecparam -name prime256v1 -genkey -noout -out "$dir/server.key"
ext=$(mktemp)
trap 'rm -f "$ext" "$dir/server.csr"' EXIT
cat > "$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl req -new -key "$dir/server.key" -subj "/O=Liaison development/CN=localhost" \
  -out "$dir/server.csr"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
  -CAcreateserial -sha256 -days "$days" -extfile "$ext" -out "$dir/server.crt" 2>/dev/null
chmod 600 "$dir"/*.key
chmod 644 "$dir"/*.crt
if [ ! -e "$dir/audit-signing.key" ]; then
  bash "$(dirname "$0")/audit-key.sh" "$dir" --name "$trust_domain/liaison-audit" >/dev/null
fi
echo "dev PKI for trust domain $trust_domain in $dir (ca.crt, server.crt, audit.vkey)"

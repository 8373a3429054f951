#!/usr/bin/env bash
# Issues a client certificate from a dev PKI made by certs/dev-pki.sh.
#
#   certs/issue.sh DIR PARTY ROLE USER [--trust-domain D] [--days N]
#                  [--san-uri URI]...
#
# Writes DIR/PARTY-ROLE-USER.crt and DIR/PARTY-ROLE-USER.key (mode 0600). The
# certificate carries exactly one URI SAN,
#   spiffe://D/party/PARTY/ROLE/USER
# with D from DIR/trust-domain unless --trust-domain is given. ROLE is
# focal-point, liaison-officer, admin or auditor. --san-uri replaces that SAN
# with the URIs given (each once; none with --san-uri=) and skips the checks:
# it exists to make the malformed certificates that refusal tests need.
set -euo pipefail

usage() {
  echo "usage: $0 DIR PARTY ROLE USER [--trust-domain D] [--days N] [--san-uri URI]..." >&2
  exit 2
}
[ $# -ge 4 ] || usage
dir=$1 party=$2 role=$3 user=$4; shift 4
trust_domain=$(cat "$dir/trust-domain" 2>/dev/null || echo selec.test)
days=397
custom_sans=0
sans=()
while [ $# -gt 0 ]; do
  case $1 in
    --trust-domain) trust_domain=${2:?}; shift 2 ;;
    --trust-domain=*) trust_domain=${1#*=}; shift ;;
    --days) days=${2:?}; shift 2 ;;
    --days=*) days=${1#*=}; shift ;;
    --san-uri) custom_sans=1; sans+=("${2?}"); shift 2 ;;
    --san-uri=*) custom_sans=1; [ -n "${1#*=}" ] && sans+=("${1#*=}"); shift ;;
    *) usage ;;
  esac
done
[ -f "$dir/ca.crt" ] && [ -f "$dir/ca.key" ] || {
  echo "$0: no CA in $dir; run certs/dev-pki.sh $dir first" >&2; exit 1; }

if [ $custom_sans -eq 0 ]; then
  [[ $party =~ ^[A-Z][A-Z0-9]{1,15}$ ]] || { echo "$0: bad party code '$party'" >&2; exit 2; }
  case $role in
    focal-point|liaison-officer|admin|auditor) ;;
    *) echo "$0: role must be focal-point, liaison-officer, admin or auditor" >&2; exit 2 ;;
  esac
  [[ $user =~ ^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$ ]] || { echo "$0: bad user id '$user'" >&2; exit 2; }
  sans=("spiffe://$trust_domain/party/$party/$role/$user")
fi

umask 077
name="$party-$role-$user"
ext=$(mktemp)
trap 'rm -f "$ext" "$dir/$name.csr"' EXIT
{
  echo "basicConstraints=critical,CA:FALSE"
  echo "keyUsage=critical,digitalSignature"
  echo "extendedKeyUsage=clientAuth"
  if [ ${#sans[@]} -gt 0 ]; then
    san=""
    for uri in "${sans[@]}"; do san="${san:+$san,}URI:$uri"; done
    echo "subjectAltName=$san"
  fi
} > "$ext"
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key"
openssl req -new -key "$dir/$name.key" -subj "/O=Liaison development/OU=$party/CN=$user" \
  -out "$dir/$name.csr"
openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
  -CAcreateserial -sha256 -days "$days" -extfile "$ext" -out "$dir/$name.crt" 2>/dev/null
chmod 600 "$dir/$name.key"
chmod 644 "$dir/$name.crt"
echo "$dir/$name.crt"

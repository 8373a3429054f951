#!/usr/bin/env bash
# Installs what Liaison needs to build, run and test on Debian 12 (as root,
# or with sudo). Debian packages only; installs nothing that is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config openssl
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libssl-dev libsqlite3-dev
  # The PostgreSQL store (libpq), and the server binaries its tests start
  # (/usr/lib/postgresql/15/bin on Debian 12).
  libpq-dev postgresql
  libgtest-dev libgmock-dev clang-format
  # examples/python and its test: a focal point's integration in Python.
  python3 python3-grpcio python3-grpc-tools python3-protobuf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"

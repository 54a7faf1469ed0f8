#!/usr/bin/env bash
# Installs the system packages the server's build needs, when missing (Debian
# and Ubuntu; elsewhere it says what to install): a C toolchain, and OpenSSL's
# headers with pkg-config, since the PostgreSQL driver's TLS is OpenSSL's, as
# libpq's is (it takes the self-signed certificates psql takes).
set -euo pipefail
packages=(build-essential pkg-config libssl-dev)
if ! command -v dpkg >/dev/null; then
  command -v pkg-config >/dev/null && pkg-config --exists openssl && exit 0
  echo "warning: cannot check the build's system packages here; it needs a C compiler, pkg-config and OpenSSL's headers" >&2
  exit 0
fi
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing ${missing[*]}…"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }
as_root apt-get update -qq && as_root apt-get install -y -qq "${missing[@]}"

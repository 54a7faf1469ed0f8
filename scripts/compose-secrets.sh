#!/usr/bin/env bash
# Creates the secrets docker-compose.yaml mounts, once: secrets/postgres_password
# (random) and secrets/database_url (the URL the migrations and the server use).
# A file that exists is kept: PostgreSQL takes its password from the first start
# of its volume only, so a new password would lock the stack out. Never prints
# a password.
#
# Permissions: compose mounts a file secret as it is on the host (outside Swarm
# it ignores uid/gid/mode), and the image runs as uid 10001, so database_url
# must be readable by others (0644); the folder (0700) keeps both files private
# on the host. postgres_password is read by the postgres image as root (0600).
set -euo pipefail
cd "$(dirname "$0")/.."

umask 077
mkdir -p secrets
chmod 700 secrets

# Writes stdin to secrets/$1 unless it exists, through a temporary file so
# that a failed run leaves no empty secret behind.
create() {
  local tmp
  tmp=$(mktemp "secrets/.$1.XXXXXX")
  cat >"$tmp"
  mv "$tmp" "secrets/$1"
  echo "created secrets/$1"
}

if [ ! -s secrets/postgres_password ]; then
  # 256 random bits as hex: safe in a URL without escaping.
  password=$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
  [ ${#password} -eq 64 ] || { echo "error: could not read /dev/urandom" >&2; exit 1; }
  printf '%s' "$password" | create postgres_password
fi
chmod 600 secrets/postgres_password

# Only shell builtins see the password: no command line shows it.
password=$(<secrets/postgres_password)
if [ ! -s secrets/database_url ]; then
  printf 'postgres://revenue:%s@postgres:5432/revenue\n' "$password" | create database_url
elif [[ $(<secrets/database_url) != *":$password@"* ]]; then
  echo "note: secrets/database_url does not use secrets/postgres_password; kept as it is" >&2
fi
chmod 644 secrets/database_url

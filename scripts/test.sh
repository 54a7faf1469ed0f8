#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test against a real SQLite
# file and a real PostgreSQL. Installs what it needs (skipping what is present).
#
#   TEST_DATABASE_URL  admin URL of a PostgreSQL server; each test creates its own
#                      database there (default: postgres://postgres@127.0.0.1:5432/postgres
#                      when a server answers there).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest…"
  cargo install cargo-nextest --locked
fi

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  default_url="postgres://postgres@127.0.0.1:5432/postgres"
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
    export TEST_DATABASE_URL="$default_url"
  elif [ "${CI:-}" = "true" ]; then
    echo "error: CI=true but no PostgreSQL answers at 127.0.0.1:5432 and TEST_DATABASE_URL is unset" >&2
    exit 1
  else
    echo "warning: no PostgreSQL found: PostgreSQL tests will be skipped (set TEST_DATABASE_URL)" >&2
  fi
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo nextest run --workspace --locked --no-fail-fast
if [ -x scripts/test-frontend.sh ]; then
  scripts/test-frontend.sh
fi

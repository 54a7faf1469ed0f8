#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test against a real SQLite
# file and a real PostgreSQL. Installs what it needs (skipping what is present).
#
#   TEST_DATABASE_URL  admin URL of a PostgreSQL server; each test creates its own
#                      database there (default: postgres://postgres@127.0.0.1:5432/postgres
#                      when a server answers there). Without one, the PostgreSQL
#                      variants are skipped and counted (outside CI only).
#
# Every test that does not run its checks says so (helpers::skip): the skips
# are counted and listed at the end, and under CI=true any skip but those
# EXPECTED_SKIPS names (what a CI machine cannot have) fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-build-deps.sh
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest…"
  cargo install cargo-nextest --locked
fi

# Citus for the tests that start a local cluster (migration/tests/citus_tls.rs):
# built from ../shared/vendor once (about 3 minutes with its Debian packages),
# then skipped. Where it cannot be built (no root or sudo), those tests skip
# and are counted; CI must build it.
if ! scripts/citus.sh build; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: CI=true but scripts/citus.sh build failed" >&2
    exit 1
  fi
  echo "warning: Citus could not be built: the Citus tests will be skipped and counted" >&2
fi

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  default_url="postgres://postgres@127.0.0.1:5432/postgres"
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then
    export TEST_DATABASE_URL="$default_url"
  elif [ "${CI:-}" = "true" ]; then
    echo "error: CI=true but no PostgreSQL answers at 127.0.0.1:5432 and TEST_DATABASE_URL is unset" >&2
    exit 1
  else
    echo "warning: no PostgreSQL found: the PostgreSQL variants will be skipped and counted (set TEST_DATABASE_URL)" >&2
    export SKIP_POSTGRES=1
  fi
fi

# Skips a CI machine cannot avoid: it has no Docker engine or Compose plugin,
# it runs as root (who may write a read-only file), and a checkout without
# ../shared has no copy of the user's real export (never committed).
EXPECTED_SKIPS='no Docker Compose here|running as root, who may write a 0444 file|seed-input'
TEST_SKIP_LOG=$(mktemp)
export TEST_SKIP_LOG
report_skips() {
  local n
  n=$(wc -l <"$TEST_SKIP_LOG")
  if [ "$n" -gt 0 ]; then
    echo "$n test(s) skipped their checks:"
    sed 's/^/  /' "$TEST_SKIP_LOG"
  else
    echo "no test skipped its checks"
  fi
  if [ "${CI:-}" = "true" ] && grep -vqE "$EXPECTED_SKIPS" "$TEST_SKIP_LOG"; then
    echo "error: CI=true and tests were skipped that CI must run:" >&2
    grep -vE "$EXPECTED_SKIPS" "$TEST_SKIP_LOG" >&2
    return 1
  fi
}

scripts/fmt.sh --check
cargo clippy --workspace --all-targets --locked -- -D warnings
status=0
cargo nextest run --workspace --locked --no-fail-fast || status=$?
report_skips || status=1
rm -f "$TEST_SKIP_LOG"
[ "$status" = 0 ] || exit "$status"
if [ -x scripts/test-frontend.sh ]; then
  scripts/test-frontend.sh
fi

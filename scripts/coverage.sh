#!/usr/bin/env bash
# Line coverage of the Rust tests (cargo-llvm-cov over the same nextest run as
# scripts/test.sh), with Debian's LLVM tools of the compiler's LLVM major
# version (rustup's llvm-tools component is not needed). Prints the summary;
# the TOTAL line is the figure the README reports.
#
#   COVERAGE_HTML=1   also writes target/llvm-cov/html
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }
major=$(rustc --version --verbose | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
if ! command -v "llvm-profdata-$major" >/dev/null; then
  echo "installing llvm-$major…"
  as_root apt-get update -qq && as_root apt-get install -y -qq "llvm-$major" >/dev/null
fi
export LLVM_COV="llvm-cov-$major" LLVM_PROFDATA="llvm-profdata-$major"
if ! cargo llvm-cov --version >/dev/null 2>&1; then
  echo "installing cargo-llvm-cov…"
  cargo install cargo-llvm-cov --locked
fi

if [ -z "${TEST_DATABASE_URL:-}" ] && pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
fi
# Coverage builds go to their own target directory (instrumented objects).
cargo llvm-cov nextest --workspace --exclude frontend --locked --no-fail-fast --summary-only \
  --ignore-filename-regex 'tests/' 2>&1 | tee /tmp/coverage-summary.txt | tail -30
if [ "${COVERAGE_HTML:-0}" = 1 ]; then
  cargo llvm-cov report --html --ignore-filename-regex 'tests/'
fi
grep '^TOTAL' /tmp/coverage-summary.txt

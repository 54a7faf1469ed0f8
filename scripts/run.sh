#!/usr/bin/env bash
# The main job: load input/ into the database (SQLite file data/revenue.db by
# default, PostgreSQL with DATABASE_URL=postgres://…) and serve the API and the
# dashboard at http://127.0.0.1:8080/ until Ctrl-C.
#
#   scripts/run.sh [serve options…]   build what is missing, then serve
#   scripts/run.sh --plan             say what would be installed and built, and stop
#
# A first run installs tools and compiles everything (typically 15–40 minutes
# on two cores); later runs rebuild only what changed (seconds). The tools'
# output goes to a log file (RUN_LOG, default data/logs/run-<time>.log) whose
# path is printed; RUN_VERBOSE=1 shows it on the terminal instead.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-target}"
BIN="$TARGET/release/backend"
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')

have_frontend_tools() {
  trunk --version 2>/dev/null | grep -q "0.21.14" &&
    wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"
}

# One line per step of the plan, from what is already on this machine.
plan() {
  local step=1
  echo "plan:"
  if [ ! -x scripts/build-frontend.sh ]; then
    :
  elif have_frontend_tools && [ -f frontend/dist/index.html ]; then
    echo "  $step. dashboard: rebuild what changed in frontend/ (seconds when nothing did)"
    step=$((step + 1))
  elif have_frontend_tools; then
    echo "  $step. dashboard: compile the WebAssembly app with Trunk (about 3–8 minutes)"
    step=$((step + 1))
  else
    echo "  $step. dashboard: install the WebAssembly toolchain, Trunk and wasm-bindgen-cli once (apt and cargo install, about 5–15 minutes), then compile the app (about 3–8 minutes)"
    step=$((step + 1))
  fi
  if [ -x "$BIN" ]; then
    echo "  $step. server: rebuild what changed in the release binary $BIN (seconds when nothing did)"
  else
    echo "  $step. server: compile the release binary $BIN (about 5–20 minutes the first time)"
  fi
  step=$((step + 1))
  echo "  $step. serve at http://${BIND:-127.0.0.1:8080}/ — loading ${INPUT_DIR:-input}/ first if the database is empty"
}

if [ "${1:-}" = "--plan" ]; then
  plan
  exit 0
fi

mkdir -p data/logs
LOG="${RUN_LOG:-data/logs/run-$(date -u +%Y%m%dT%H%M%SZ).log}"
: >"$LOG"

plan
echo "full output of the tools: $LOG"

# Runs one step, its output into the log (or the terminal with RUN_VERBOSE=1),
# and prints one line with its duration. Returns the step's exit status.
step() {
  local name="$1" started status=0
  shift
  started=$(date +%s)
  printf '%s… ' "$name"
  if [ "${RUN_VERBOSE:-}" = 1 ]; then
    echo
    "$@" 2>&1 | tee -a "$LOG" || status=$?
  else
    "$@" >>"$LOG" 2>&1 || status=$?
  fi
  local took=$(($(date +%s) - started))
  if [ "$status" = 0 ]; then
    printf 'done in %dm%02ds\n' $((took / 60)) $((took % 60))
  else
    printf 'FAILED after %dm%02ds (exit %d)\n' $((took / 60)) $((took % 60)) "$status"
    echo "last lines of $LOG:" >&2
    tail -n 25 "$LOG" | sed 's/^/  /' >&2
  fi
  return "$status"
}

if [ -x scripts/build-frontend.sh ]; then
  step "dashboard" scripts/build-frontend.sh ||
    echo "warning: the dashboard could not be built (see $LOG); serving the API only" >&2
fi
step "system packages" scripts/ensure-build-deps.sh ||
  { echo "error: the build's system packages could not be installed; the full output is in $LOG" >&2; exit 1; }
step "server" cargo build --release -p backend --locked ||
  { echo "error: the server could not be built; the full output is in $LOG" >&2; exit 1; }

echo "serving; the same binary runs every other command, e.g. $BIN token create --name me --role admin"
# The sample (or INPUT_DIR) is loaded into an empty database only: data loaded
# since — appended exports, say — is never replaced by a restart.
exec "$BIN" serve --ingest-if-empty "${INPUT_DIR:-input}" "$@"

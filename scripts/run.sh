#!/usr/bin/env bash
# The main job: load input/ into the database (SQLite file data/revenue.db by
# default, PostgreSQL with DATABASE_URL=postgres://…) and serve the API and the
# dashboard at http://127.0.0.1:8080/ until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/build-frontend.sh ]; then
  scripts/build-frontend.sh || echo "warning: the dashboard could not be built; serving the API only" >&2
fi
cargo build --release -p backend --locked
BIN="${CARGO_TARGET_DIR:-target}/release/backend"
# The sample (or INPUT_DIR) is loaded into an empty database only: data loaded
# since — appended exports, say — is never replaced by a restart.
exec "$BIN" serve --ingest-if-empty "${INPUT_DIR:-input}" "$@"

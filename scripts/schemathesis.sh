#!/usr/bin/env bash
# OpenAPI-driven fuzzing of the running API: schemathesis generates requests
# from /openapi.json (valid and invalid parameters, edge cases) and checks
# every response against the contract (status codes, content types, schemas,
# no server errors). The server runs on 127.0.0.1 over a SQLite file loaded
# from input/; the run is bounded in examples and time.
#
#   SCHEMATHESIS_EXAMPLES  examples per operation (default 40)
#   SCHEMATHESIS_SEED      replay a run (the seed a failed run printed)
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=${TOOLS_DIR:-$HOME/.cache/revenue-analytics-tools}
VENV=$TOOLS/schemathesis-4.32.5
if [ ! -x "$VENV/bin/st" ]; then
  echo "installing schemathesis…"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi

cargo build -p backend --locked 2>&1 | tail -1
BIN="${CARGO_TARGET_DIR:-target}/debug/backend"
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/st.db?mode=rwc"
"$BIN" ingest --input input >/dev/null
# An admin token: protected operations are called with it, and schemathesis
# checks that each one refuses the same request without it (ignored_auth).
token=$("$BIN" token create --name schemathesis --role admin 2>/dev/null | grep -o 'rak_[0-9a-f]*')
# The fuzzer's wrong sign-ins must not get 127.0.0.1 blocked for the rest of the run.
REQUEST_LOG=off AUTH_FAILURES_PER_MINUTE=1000000 \
  "$BIN" serve --bind 127.0.0.1:0 --static-dir /nonexistent >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { cat "$work/serve.log"; exit 1; }

# Every check, but those scripts/schemathesis.toml turns off (and says why).
timeout 900 "$VENV/bin/st" --config-file scripts/schemathesis.toml \
  run "http://127.0.0.1:$port/openapi.json" \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
  --request-timeout 10 \
  --header "Authorization: Bearer $token" \
  --workers 1 \
  ${SCHEMATHESIS_SEED:+--seed "$SCHEMATHESIS_SEED"} \
  --no-color
if grep -qiE 'panicked|internal error' "$work/serve.log"; then
  echo "the server logged internal errors:"; grep -iE 'panicked|internal error' "$work/serve.log" | head; exit 1
fi

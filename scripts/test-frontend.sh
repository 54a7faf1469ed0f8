#!/usr/bin/env bash
# Dashboard tests in a real headless Chromium (Debian's; never a downloaded one):
# builds the dashboard, serves it with the API on a random port over a fresh
# SQLite database loaded from input/, and drives it with playwright-core.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; else sudo apt-get install -y -qq chromium; fi
fi
scripts/build-frontend.sh
if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund)
fi
cargo build -p backend --locked

BIN="${CARGO_TARGET_DIR:-target}/debug/backend"
work=$(mktemp -d)
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/e2e.db?mode=rwc"
"$BIN" ingest --input input >/dev/null
"$BIN" serve --bind 127.0.0.1:0 --static-dir frontend/dist >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "${port:-}" ] || { cat "$work/serve.log"; exit 1; }
curl -fsS "http://127.0.0.1:$port/" | grep -q 'frontend' || { echo "dashboard not served at /"; exit 1; }
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 node e2e/dashboard.mjs "http://127.0.0.1:$port"

#!/usr/bin/env bash
# Dashboard tests in a real headless Chromium (Debian's; never a downloaded one):
# builds the dashboard, serves it with the API on a random port over a fresh
# SQLite database loaded from input/ (plus two small appends, one with rejected
# rows, so the run history and the quality trend have something to show), and
# drives it with playwright-core. That server has no token (open mode); a second
# one, on another random port over its own database, has a reader and an admin
# token: the e2e signs in with each and the admin uploads the real export
# (../shared/seed-input/ when present beside the checkout, else input/).
#   SCREENSHOT_DIR  when set, the e2e saves screenshots of every page there.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; else sudo apt-get install -y -qq chromium; fi
fi
scripts/build-frontend.sh
if [ ! -d e2e/node_modules/playwright-core ] || [ ! -d e2e/node_modules/axe-core ]; then
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-audit --no-fund)
fi
cargo build -p backend --locked

BIN="${CARGO_TARGET_DIR:-target}/debug/backend"
work=$(mktemp -d)
trap 'kill "${server:-}" "${auth_server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/e2e.db?mode=rwc"
"$BIN" ingest --input input >/dev/null

# A second export, appended, with a few rows the ingest rejects (a bad date, an
# amount, a currency; a customer without id but with an e-mail address, which
# the API must show masked). Tab-separated with CRLF, like the real exports.
fixture="$work/append"
mkdir -p "$fixture"
crlf() { sed 's/$/\r/'; }
{
  printf 'subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus\n'
  printf 'sub_e2e0000001\tE2E Starter monthly\tE2E Starter\tmonth\t1900\tactive\n'
  printf 'sub_e2e0000002\tE2E Pro yearly\tE2E Pro\tyear\t49900\tactive\n'
} | crlf >"$fixture/products.csv"
{
  printf 'Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency\n'
  for i in $(seq 1 18); do
    printf '%d/%d/24 10:%02d\ttxn_e2e%012d\tcus_e2e%06d\tsub_e2e000000%d\t%d.00\tusd\n' \
      $((i % 6 + 1)) $((i % 27 + 1)) "$i" "$i" $((i % 5 + 1)) $((i % 2 + 1)) $((19 + i))
  done
  printf 'yesterday\ttxn_e2e_bad_date\tcus_e2e000001\tsub_e2e0000001\t19.00\tusd\n'
  printf '3/3/24 11:00\ttxn_e2e_bad_amount\tcus_e2e000002\tsub_e2e0000001\tabc\tusd\n'
  printf '3/4/24 11:00\ttxn_e2e_bad_currency\tcus_e2e000003\tsub_e2e0000002\t499.00\txxx\n'
} | crlf >"$fixture/transactions.csv"
{
  printf 'Customer ID\tCustomer Name\tCustomer Email\n'
  for i in 1 2 3 4 5; do printf 'cus_e2e%06d\tE2E Customer %d\te2e.customer%d@example.com\n' "$i" "$i" "$i"; done
  printf '\tNo Id Person\tno.id.person@example.org\n'
} | crlf >"$fixture/users.csv"
# First refused by the default guard rail (exit 3), which puts a red run in the
# history, then loaded with a looser one.
"$BIN" ingest --mode append --input "$fixture" >/dev/null 2>&1 || true
"$BIN" ingest --mode append --input "$fixture" --max-reject-pct 50 >/dev/null

# A third run of different quality, so the quality page has a trend: a product
# sent again, a repeated transaction (uniqueness), one on an unknown
# subscription (integrity), a customer under another name (consistency). It
# rejects no row: the e2e takes the newest run with rejections to be the one above.
third="$work/third"
mkdir -p "$third"
{
  printf 'subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus\n'
  printf 'sub_e2e0000001\tE2E Starter monthly\tE2E Starter\tmonth\t1900\tactive\n'
} | crlf >"$third/products.csv"
{
  printf 'Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency\n'
  printf '7/1/24 09:00\ttxn_e2e_third1\tcus_e2e000001\tsub_e2e0000001\t19.00\tusd\n'
  printf '7/1/24 09:00\ttxn_e2e_third1\tcus_e2e000001\tsub_e2e0000001\t19.00\tusd\n'
  printf '7/2/24 09:00\ttxn_e2e_third2\tcus_e2e000002\tsub_e2e_unknown\t29.00\tusd\n'
  printf '7/3/24 09:00\ttxn_e2e_third3\tcus_e2e000003\tsub_e2e0000001\t19.00\tusd\n'
} | crlf >"$third/transactions.csv"
{
  printf 'Customer ID\tCustomer Name\tCustomer Email\n'
  printf 'cus_e2e000001\tSomeone Else\te2e.customer1@example.com\n'
} | crlf >"$third/users.csv"
"$BIN" ingest --mode append --input "$third" >/dev/null
# The port a server in the background printed in its log.
port_of() {
  local log=$1 port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log" >&2; return 1; }
  echo "$port"
}

"$BIN" serve --bind 127.0.0.1:0 --static-dir frontend/dist >"$work/serve.log" 2>&1 &
server=$!
port=$(port_of "$work/serve.log")
curl -fsS "http://127.0.0.1:$port/" | grep -q 'frontend' || { echo "dashboard not served at /"; exit 1; }

# The server with tokens: its own database, holding the small third export (so
# the reader has reports to see) until the admin uploads the real one.
auth_db="sqlite://$work/auth.db?mode=rwc"
DATABASE_URL="$auth_db" "$BIN" ingest --input "$third" >/dev/null
token_of() { DATABASE_URL="$auth_db" "$BIN" token create --name "$1" --role "$2" | grep -o 'rak_[0-9a-f]\{64\}' | head -1; }
reader_token=$(token_of e2e-reader reader)
admin_token=$(token_of e2e-admin admin)
[ -n "$reader_token" ] && [ -n "$admin_token" ] || { echo "backend token create printed no token"; exit 1; }
upload_dir=input
[ -d ../shared/seed-input ] && upload_dir=../shared/seed-input
DATABASE_URL="$auth_db" "$BIN" serve --bind 127.0.0.1:0 --static-dir frontend/dist >"$work/auth-serve.log" 2>&1 &
auth_server=$!
auth_port=$(port_of "$work/auth-serve.log")

E2E_READER_TOKEN="$reader_token" E2E_ADMIN_TOKEN="$admin_token" E2E_UPLOAD_DIR="$(cd "$upload_dir" && pwd)" E2E_REFUSED_DIR="$fixture" \
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 node e2e/dashboard.mjs "http://127.0.0.1:$port" "http://127.0.0.1:$auth_port"
# No token in either server's log.
if grep -l -e "$reader_token" -e "$admin_token" "$work/serve.log" "$work/auth-serve.log"; then
  echo "FAIL a token appears in a server log"; exit 1
fi

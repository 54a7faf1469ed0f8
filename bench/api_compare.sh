#!/usr/bin/env bash
# Two builds of the server compared in one run, on the same PostgreSQL
# database: every report and /quality with default and typical parameters,
# the subscription reports, and a browser's compressed request, each
# against the server's own limit, /health/live, measured in the same round.
# Rounds alternate between the builds (a busy machine slows both alike).
# Prints, per build, the median requests/s and p99 of each endpoint and its
# ratio to /health/live's (issue 24's goal: >= 0.90 and p99 <= 1.5x),
# and the server's CPU time per request (steadier on a shared machine).
#
#   bench/api_compare.sh OLD_BINARY NEW_BINARY [SIZE] [ROUNDS]
#   API_OWN_DATABASES=1 bench/api_compare.sh …   # each build loads its own database
#
# SIZE defaults to 1000000 transactions, ROUNDS to 3; API_CONNS (32) and
# API_DURATION (5s) set the load: wrk on 127.0.0.1 for a fixed time per
# endpoint, so the run is bounded (about 17 endpoints x DURATION x 2 builds
# x ROUNDS, plus one warm-up request per endpoint and server; API_BOUND=1
# adds a third, no-work server per round, below). Build the old
# binary from its commit in a worktree of its own (see bench/compare.sh).
# Needs PostgreSQL at $BENCH_PG (default postgres://postgres@127.0.0.1:5432),
# psql, curl and wrk. Results: bench/out/api-compare/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OLD=$(realpath "$1")
NEW=$(realpath "$2")
SIZE=${3:-1000000}
ROUNDS=${4:-3}
CONNS=${API_CONNS:-32}
DURATION=${API_DURATION:-5s}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
OUT=$ROOT/bench/out/api-compare
DB=bench_api_compare
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
printf 'kind\tname\tsize\trun\tvalue\tunit\n' >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }
# shellcheck source=bench/copy_limit.sh
source bench/copy_limit.sh
# wrk's latency (`512.00us`, `3.2ms`, `1.1s`) in milliseconds (as common.sh).
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else {sub(/s$/,"",v); print v*1000}}'; }

data=$ROOT/bench/out/data-$SIZE
if [ ! -f "$data/.done" ]; then
  "$NEW" generate --transactions "$SIZE" --seed 1 --out "$data" >/dev/null
  touch "$data/.done"
fi
fresh_db $DB
DATABASE_URL=$PG/$DB RUST_LOG=warn "$NEW" ingest --input "$data" >/dev/null
# API_OWN_DATABASES=1: the old build loads the same data into a database of
# its own and serves from it. A build older than one of the new build's
# migrations refuses the database the new build migrated.
DB_OLD=$DB
if [ -n "${API_OWN_DATABASES:-}" ]; then
  DB_OLD=${DB}_old
  fresh_db "$DB_OLD"
  DATABASE_URL=$PG/$DB_OLD RUST_LOG=warn "$OLD" ingest --input "$data" >/dev/null
fi

server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null || true' EXIT
start_server() { # binary log [database]
  local bin=$1 log=$2 db=${3:-$DB}
  : >"$log"
  DATABASE_URL=$PG/$db RUST_LOG=warn,backend=info "$bin" serve --bind 127.0.0.1:0 --static-dir /nonexistent >>"$log" 2>&1 &
  server=$!
  await_server "$log" /health/ready
}
# Waits until the server logging to LOG says where it listens and answers PATH.
await_server() { # log path
  local log=$1 ready=$2
  port=
  for _ in $(seq 1 1000); do
    port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
    if [ -n "$port" ] && curl -fs "http://127.0.0.1:$port$ready" >/dev/null; then return 0; fi
    sleep 0.01
  done
  echo "the server did not become ready: $(tail -3 "$log")" >&2
  exit 1
}

# A month with movements: two before the data's latest.
start_server "$NEW" "$OUT/serve-probe.log"
latest=$(curl -fs "http://127.0.0.1:$port/reports/meta" | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest_month"])')
kill $server; wait $server 2>/dev/null || true; server=""
month=$(python3 -c "y,m=map(int,'$latest'.split('-')); m-=2; y+=(m<1); m+=12*(m<1); print(f'{y}-{m:02d}')")

# API_BOUND=1: each round also measures a server that does no work per
# request (backend/server/examples/body_bound.rs) at a body of each view's
# size (the new build's, this round; /health/live's 15 bytes as its
# reference): what the transfer of that many bytes costs by itself here.
measure_bound() { # round
  local round=$1 log=$OUT/serve-bound-$1.log bytes
  : >"$log"
  "$BOUND" 127.0.0.1:0 >"$log" 2>&1 &
  server=$!
  await_server "$log" /health/live
  for e in "${ENDPOINTS[@]}"; do
    IFS='|' read -r name path _ <<<"$e"
    bytes=$(awk -F'\t' -v n="new $name" -v r="$round" '$1=="body" && $2==n && $4==r {print $5}' "$RESULTS")
    # Its own reference is a body of 15 bytes from the same route: its
    # /health/live skips the path parameter, which costs on its own.
    path=/bytes/$bytes
    wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 5s --latency "http://127.0.0.1:$port$path" >"$OUT/wrk-bound.log"
    record api "bound $name" "$SIZE" "$round" "$(awk '/Requests\/sec/ {print $2}' "$OUT/wrk-bound.log")" req/s
    record api_p99 "bound $name" "$SIZE" "$round" "$(awk '$1=="99%" {print $2}' "$OUT/wrk-bound.log" | to_ms)" ms
  done
  kill $server; wait $server 2>/dev/null || true; server=""
}
if [ -n "${API_BOUND:-}" ]; then
  cargo build --release --locked -p server --example body_bound 2>&1 | tail -1
  BOUND=${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/body_bound
fi

# The server's CPU time (user and system, in clock ticks) so far: the CPU a
# request costs is steadier than requests/s on a machine shared with others,
# whose load takes the wall time but not the process's CPU time.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

BROWSER='gzip, deflate, br, zstd'
# name|path|Accept-Encoding ('' for none, as wrk sends by default)
ENDPOINTS=(
  "/health/live|/health/live|"
  "/reports/monthly-transactions|/reports/monthly-transactions|"
  "/reports/monthly-transactions?currency=usd&months=12|/reports/monthly-transactions?currency=usd&months=12|"
  "/reports/revenue-growth|/reports/revenue-growth|"
  "/reports/revenue-growth?months=24|/reports/revenue-growth?months=24|"
  "/reports/top-products|/reports/top-products|"
  "/reports/top-products?limit=25|/reports/top-products?limit=25|"
  "/reports/top-users|/reports/top-users|"
  "/reports/top-users?limit=50&currency=usd|/reports/top-users?limit=50&currency=usd|"
  "/reports/top-users?format=csv|/reports/top-users?format=csv|"
  "/reports/meta|/reports/meta|"
  "/quality|/quality|"
  "/reports/saas/mrr|/reports/saas/mrr|"
  "/reports/saas/cohorts|/reports/saas/cohorts|"
  "/reports/saas/movements?month=M&kind=churn|/reports/saas/movements?month=$month&kind=churn|"
  "/reports/top-users (browser: br)|/reports/top-users|$BROWSER"
  "/reports/saas/mrr (browser: br)|/reports/saas/mrr|$BROWSER"
)

for round in $(seq 1 "$ROUNDS"); do
  for which in old new; do
    bin=$OLD db=$DB_OLD
    [ "$which" = new ] && bin=$NEW db=$DB
    start_server "$bin" "$OUT/serve-$which-$round.log" "$db"
    # Warm-up, untimed: the report snapshot and the subscription figures
    # are computed by the first request after a start (seconds at 5M).
    for e in "${ENDPOINTS[@]}"; do
      IFS='|' read -r name path enc <<<"$e"
      bytes=$(curl -fs -o /dev/null -w '%{size_download}' ${enc:+-H "Accept-Encoding: $enc"} "http://127.0.0.1:$port$path") || { echo "warm-up of $path failed" >&2; exit 1; }
      record body "$which $name" "$SIZE" "$round" "$bytes" bytes
    done
    for e in "${ENDPOINTS[@]}"; do
      IFS='|' read -r name path enc <<<"$e"
      log=$OUT/wrk-$which-$round-$(echo "$name" | tr -c 'a-zA-Z0-9' '_').log
      cpu_before=$(cpu_ticks $server)
      wrk -t2 -c"$CONNS" -d"$DURATION" --timeout 5s --latency ${enc:+-H "Accept-Encoding: $enc"} "http://127.0.0.1:$port$path" >"$log"
      cpu_after=$(cpu_ticks $server)
      record api_cpu "$which $name" "$SIZE" "$round" "$(awk -v b="$cpu_before" -v a="$cpu_after" -v hz="$HZ" \
        '/ requests in / {printf "%.2f", (a - b) * 1e6 / hz / $1}' "$log")" us/request
      errs=$(awk '/Non-2xx/ {s+=$NF} /Socket errors/ {gsub(/,/,""); s+=$4+$6+$8+$10} END {print s+0}' "$log")
      record api "$which $name" "$SIZE" "$round" "$(awk '/Requests\/sec/ {print $2}' "$log")" req/s
      record api_p99 "$which $name" "$SIZE" "$round" "$(awk '$1=="99%" {print $2}' "$log" | to_ms)" ms
      record api_errors "$which $name" "$SIZE" "$round" "$errs" count
    done
    kill $server; wait $server 2>/dev/null || true; server=""
  done
  if [ -n "${API_BOUND:-}" ]; then measure_bound "$round"; fi
done
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${DB}_old WITH (FORCE)" >/dev/null

python3 - "$RESULTS" "$CONNS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
def med(kind, name):
    return statistics.median(float(r["value"]) for r in rows if r["kind"] == kind and r["name"] == name)
names = list(dict.fromkeys(r["name"].split(" ", 1)[1] for r in rows if r["kind"] == "api"))
rounds = len({r["run"] for r in rows})
errors = sum(float(r["value"]) for r in rows if r["kind"] == "api_errors")
print(f"{rows[0]['size']} transactions, {sys.argv[2]} connections, median of {rounds} rounds; {errors:.0f} errors")
print("| endpoint | body bytes | old req/s · p99 ms | old vs live | new req/s · p99 ms | new vs live |")
print("|---|---:|---:|---:|---:|---:|")
for n in names:
    cells = []
    for which in ["old", "new"]:
        rps, p99 = med("api", f"{which} {n}"), med("api_p99", f"{which} {n}")
        live, live_p99 = med("api", f"{which} /health/live"), med("api_p99", f"{which} /health/live")
        cells += [f"{rps:,.0f} · {p99:.1f}", f"{rps / live:.2f} · {p99 / live_p99:.2f}x"]
    print(f"| `{n}` | {med('body', f'new {n}'):,.0f} | " + " | ".join(cells) + " |")
# The server's CPU per request: what a view costs beyond /health/live in
# the process itself, apart from the machine's other load.
print()
print("| endpoint | old CPU µs/request | new | new − old | new more than live |")
print("|---|---:|---:|---:|---:|")
for n in names:
    old, new = med("api_cpu", f"old {n}"), med("api_cpu", f"new {n}")
    print(f"| `{n}` | {old:.1f} | {new:.1f} | {new - old:+.1f} | {new - med('api_cpu', 'new /health/live'):.1f} |")
if any(r["name"].startswith("bound ") for r in rows):
    # What a body costs beyond /health/live's, in microseconds of the whole
    # machine per request (the inverse of requests/s at a fixed load): the
    # new build's view against the no-work server's body of the same size.
    # Where the two are equal the gap is the transfer's, not the server's.
    print()
    print("| endpoint | body bytes | no-work server: body vs its live | µs more than live: new build · no-work server |")
    print("|---|---:|---:|---:|")
    for n in names:
        bound, bound_live = med("api", f"bound {n}"), med("api", "bound /health/live")
        new, new_live = med("api", f"new {n}"), med("api", "new /health/live")
        extra = lambda rps, live: 1e6 / rps - 1e6 / live
        print(f"| `{n}` | {med('body', f'new {n}'):,.0f} | {bound / bound_live:.2f} | "
              f"{extra(new, new_live):.1f} · {extra(bound, bound_live):.1f} |")
PY

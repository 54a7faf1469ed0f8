#!/usr/bin/env bash
# Citus beside single PostgreSQL, in one run (issue 23): for each size, a
# replace into a fresh database, an append of 10,000 transactions, the peak
# memory of both, where the replace's time goes (the ETL's own step log), the
# first requests that read the distributed tables, and report throughput.
#
#   bench/citus.sh              1M and 5M transactions, 1 run each
#   bench/citus.sh --quick      100k, short loads (proves the harness works)
#   BENCH_RUNS=3 bench/citus.sh
#
# Single PostgreSQL is the server at $BENCH_PG (default
# postgres://postgres@127.0.0.1:5432); Citus is a local cluster of a
# coordinator and two workers from scripts/citus.sh (built if missing),
# started afresh for every load, on the same machine and disk: the comparison
# is of the software's overhead, not of a cluster's capacity (SCALING.md).
# Results: bench/out/citus.tsv (kind, engine, size, run, name, value, unit).
# Every load is bounded in time; servers listen on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
if [ "${1:-}" = "--quick" ]; then SIZES=(100000); RUNS=1; DURATION=2s
else SIZES=(1000000 5000000); RUNS=${BENCH_RUNS:-1}; DURATION=${BENCH_DURATION:-5s}; fi
CONNS=32
mkdir -p "$OUT"
RESULTS=$OUT/citus.tsv
printf 'kind\tengine\tsize\trun\tname\tvalue\tunit\n' >"$RESULTS"
# kind engine size run name value unit; common.sh's generate_data records
# bench/run.sh's six columns (kind name size run value unit).
record() {
  if [ $# -eq 6 ]; then set -- "$1" - "$3" "$4" "$2" "$5" "$6"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# shellcheck source=bench/tools.sh
. "$ROOT/bench/tools.sh"
scripts/citus.sh build >&2

# shellcheck source=bench/copy_limit.sh
. "$ROOT/bench/copy_limit.sh"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

export CITUS_DIR=$OUT/citus-cluster
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  scripts/citus.sh down >/dev/null 2>&1 || true
}
trap cleanup EXIT

# A fresh, empty database of the engine; its URL on stdout.
fresh() {
  case $1 in
  postgres)
    fresh_db bench_citus_single
    echo "$PG/bench_citus_single"
    ;;
  citus)
    scripts/citus.sh down >/dev/null 2>&1 || true
    scripts/citus.sh up 2>/dev/null
    ;;
  esac
}

# The ETL's step lines (info level): "step<TAB>ms".
steps() {
  sed -n 's/.*\(phase\|step\)[=:]"\{0,1\}\([^"]*\)"\{0,1\} elapsed_ms=\([0-9]*\).*/\2\t\3/p' "$1" | sed 's/^ *//'
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Serve $1 and measure: the first requests (the cache's load, the subscription
# figures' read of the facts, a month's drill-down and a customer page, which
# read the distributed tables on Citus), then wrk on the kept reports.
measure_api() {
  local engine=$1 url=$2 n=$3 run=$4 port
  port=$(free_port)
  DATABASE_URL=$url RUST_LOG=warn "$BIN" serve --bind "127.0.0.1:$port" >"$OUT/citus-serve-$engine-$n.log" 2>&1 &
  server_pid=$!
  local base=http://127.0.0.1:$port i
  for i in $(seq 1 600); do
    curl -sf "$base/health/live" >/dev/null && break
    sleep 0.1
  done
  local month customer t
  month=$(curl -sf "$base/reports/meta" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["latest_month"])' 2>/dev/null || echo 2024-06)
  customer=$(curl -sf "$base/reports/top-users?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["users"][0]["customer_id"])' 2>/dev/null || echo "")
  for path in "/reports/monthly-transactions" "/reports/saas/mrr" "/reports/month/$month" "/customers/$customer"; do
    t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 600 "$base$path")
    record first "$engine" "$n" "$run" "$path" "${t#* }" s
    [ "${t%% *}" = 200 ] || echo "warning: $engine $path answered ${t%% *}" >&2
  done
  for path in /health/live /reports/monthly-transactions /reports/top-users /reports/saas/mrr "/reports/month/$month" "/customers/$customer"; do
    local w rps p99
    w=$(wrk -t2 -c$CONNS -d"$DURATION" --timeout 10s --latency "$base$path")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$w")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$w" | to_ms)
    grep -q "Non-2xx" <<<"$w" && echo "warning: $engine $path: non-2xx answers under load" >&2
    record api "$engine" "$n" "$run" "$path" "$rps" req/s
    record p99 "$engine" "$n" "$run" "$path" "$p99" ms
  done
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

append_input
for n in "${SIZES[@]}"; do
  generate_data "$n"
  for run in $(seq 1 "$RUNS"); do
    for engine in postgres citus; do
      url=$(fresh "$engine")
      log=$OUT/citus-etl-$engine-$n-$run.log
      read -r wall rss < <(DATABASE_URL=$url RUST_LOG=info NO_COLOR=1 timed "$log" timeout 3600 "$BIN" ingest --input "$OUT/data-$n")
      record etl "$engine" "$n" "$run" replace "$wall" s
      record rss "$engine" "$n" "$run" replace "$rss" MB
      steps "$log" | while IFS=$'\t' read -r step ms; do record step "$engine" "$n" "$run" "$step" "$ms" ms; done
      measure_api "$engine" "$url" "$n" "$run"
      read -r wall rss < <(DATABASE_URL=$url RUST_LOG=warn timed "$OUT/citus-append-$engine-$n-$run.log" timeout 600 "$BIN" ingest --mode append --input "$append_data")
      grep -q 'transactions.csv *10000 *10000' "$OUT/citus-append-$engine-$n-$run.log.out" || { cat "$OUT/citus-append-$engine-$n-$run.log.out"; exit 1; }
      record etl "$engine" "$n" "$run" append "$wall" s
      record rss "$engine" "$n" "$run" append "$rss" MB
    done
  done
done
scripts/citus.sh down >/dev/null 2>&1 || true
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS bench_citus_single WITH (FORCE)" >/dev/null
# Medians per (kind, engine, size, name).
python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
groups = {}
for r in rows:
    if r["engine"] == "-":
        continue
    groups.setdefault((r["kind"], r["name"], r["size"], r["unit"]), {}).setdefault(r["engine"], []).append(float(r["value"]))
print("kind\tname\tsize\tpostgres\tcitus\tcitus/postgres")
for (kind, name, size, unit), by in sorted(groups.items()):
    pg = statistics.median(by["postgres"]) if "postgres" in by else None
    ci = statistics.median(by["citus"]) if "citus" in by else None
    ratio = f"{ci / pg:.2f}" if pg and ci is not None else "-"
    print(f"{kind}\t{name}\t{size}\t{pg if pg is not None else '-'} {unit}\t{ci if ci is not None else '-'} {unit}\t{ratio}")
PY
echo "results: $RESULTS" >&2

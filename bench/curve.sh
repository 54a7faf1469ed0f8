#!/usr/bin/env bash
# The cost curve: how the cost of the service grows with the history, from 1M to
# 50M generated transactions (the customers growing with them, as the
# generator makes them). At each size, on PostgreSQL and SQLite:
#   - the ETL (a replace): wall time and peak RSS; the database's size on disk;
#   - PostgreSQL's COPY limit of the same cleaned rows (bench/copy_limit.sh);
#   - appending 10,000 transactions onto it;
#   - (PostgreSQL) the report cache's refresh after an ingest (the first
#     request of a new server: it reads every aggregate) and the p99 of
#     /reports/top-users and /reports/monthly-transactions at 32 connections.
# Then bench/chart draws the curve (bench/out/curve.png).
#
#   bench/curve.sh                       1M 5M 20M 50M, one run each (about an hour on 2 cores, ~40 GB of disk at 50M)
#   CURVE_SIZES="1000000 5000000" CURVE_RUNS=3 bench/curve.sh
#
# A benchmark, not a CI job (bench/run.sh --quick is). Results: bench/out/curve.tsv
# (kind, name, size, run, value, unit). Every load is bounded in time; servers
# listen on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
read -r -a SIZES <<<"${CURVE_SIZES:-1000000 5000000 20000000 50000000}"
RUNS=${CURVE_RUNS:-1}
mkdir -p "$OUT"
RESULTS=$OUT/curve.tsv
printf 'kind\tname\tsize\trun\tvalue\tunit\n' >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# shellcheck source=bench/copy_limit.sh
. "$ROOT/bench/copy_limit.sh"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"
for tool in psql wrk /usr/bin/time curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool (bench/run.sh installs it)" >&2; exit 1; }
done

append_input

server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null || true' EXIT

for n in "${SIZES[@]}"; do
  generate_data "$n"
  data=$OUT/data-$n
  for run in $(seq 1 "$RUNS"); do
    # PostgreSQL: the replace into a fresh database.
    fresh_db bench_curve
    read -r wall rss < <(DATABASE_URL=$PG/bench_curve RUST_LOG=warn timed "$OUT/curve-pg-$n-$run.log" "$BIN" ingest --input "$data")
    record etl postgres "$n" "$run" "$wall" s
    record rss postgres "$n" "$run" "$rss" MB
    psql -q "$PG/bench_curve" -c "VACUUM ANALYZE" >/dev/null
    record size postgres "$n" "$run" "$(psql -Atq "$PG/bench_curve" -c "SELECT pg_database_size(current_database())")" bytes

    # The COPY limit of the same cleaned rows.
    export_limit_rows bench_curve
    prepare_limit_db bench_copy
    start=$(date +%s.%N)
    run_limit bench_copy
    end=$(date +%s.%N)
    record copy postgres "$n" "$run" "$(awk "BEGIN {print $end - $start}")" s
    rm -f "$OUT"/*.bin
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)" >/dev/null

    # Let the load's (and the dropped limit database's) background writes
    # settle: measured at once, the first endpoint's p99 rose from ~4 to ~20 ms
    # at 20M and 50M, the second's did not.
    psql -q "$PG/bench_curve" -c "CHECKPOINT" >/dev/null
    sleep "${CURVE_SETTLE_S:-20}"

    # A new server: its first report request loads the cache (every aggregate).
    log=$OUT/curve-serve-$n-$run.log
    : >"$log"
    DATABASE_URL=$PG/bench_curve RUST_LOG=warn,backend=info "$BIN" serve --bind 127.0.0.1:0 --static-dir /nonexistent >>"$log" 2>&1 &
    server=$!
    port=
    for _ in $(seq 1 2000); do
      port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log" | head -1)
      if [ -n "$port" ] && curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null; then break; fi
      sleep 0.01
    done
    first=$(curl -fs -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/reports/meta")
    record cache_refresh postgres "$n" "$run" "$(awk "BEGIN {print $first * 1000}")" ms
    for ep in /reports/top-users /reports/monthly-transactions; do
      wlog=$OUT/curve-wrk-$(echo "$ep" | tr '/' '_')-$n-$run.log
      wrk -t2 -c32 -d10s --timeout 5s --latency "http://127.0.0.1:$port$ep" >"$wlog"
      record api_p99 "$ep c=32" "$n" "$run" "$(awk '$1=="99%" {print $2}' "$wlog" | to_ms)" ms
      record api "$ep c=32" "$n" "$run" "$(awk '/Requests\/sec/ {print $2}' "$wlog")" req/s
    done
    kill $server; wait $server 2>/dev/null || true
    server=""

    # Appending 10,000 new transactions onto it.
    read -r wall rss < <(DATABASE_URL=$PG/bench_curve RUST_LOG=warn timed "$OUT/curve-append-pg-$n-$run.log" "$BIN" ingest --mode append --input "$append_data")
    grep -q 'transactions.csv *10000 *10000' "$OUT/curve-append-pg-$n-$run.log.out" || { cat "$OUT/curve-append-pg-$n-$run.log.out"; exit 1; }
    record append postgres "$n" "$run" "$wall" s

    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS bench_curve WITH (FORCE)" >/dev/null

    # SQLite: the replace into a fresh file, its size, an append.
    rm -f "$OUT"/curve.db*
    read -r wall rss < <(DATABASE_URL="sqlite://$OUT/curve.db?mode=rwc" RUST_LOG=warn timed "$OUT/curve-sqlite-$n-$run.log" "$BIN" ingest --input "$data")
    record etl sqlite "$n" "$run" "$wall" s
    record rss sqlite "$n" "$run" "$rss" MB
    record size sqlite "$n" "$run" "$(cat "$OUT"/curve.db* | wc -c)" bytes
    read -r wall rss < <(DATABASE_URL="sqlite://$OUT/curve.db?mode=rwc" RUST_LOG=warn timed "$OUT/curve-append-sqlite-$n-$run.log" "$BIN" ingest --mode append --input "$append_data")
    grep -q 'transactions.csv *10000 *10000' "$OUT/curve-append-sqlite-$n-$run.log.out" || { cat "$OUT/curve-append-sqlite-$n-$run.log.out"; exit 1; }
    record append sqlite "$n" "$run" "$wall" s
    rm -f "$OUT"/curve.db*
  done
  # The largest inputs take gigabytes: kept only when asked.
  [ "${CURVE_KEEP_DATA:-0}" = 1 ] || [ "$n" -le 5000000 ] || rm -rf "$data"
done
echo "results: $RESULTS"

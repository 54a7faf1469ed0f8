#!/usr/bin/env bash
# Where the ETL's time goes, by CPU: the machine's busy CPU seconds (from
# /proc/stat, all processes: the ETL, PostgreSQL, psql) while one ETL run into
# PostgreSQL, and while one run of the COPY limit, executes; plus the ETL
# process's own user+system time. Needs the data and the limit's exported rows
# of an earlier bench/run.sh (bench/out/data-N, bench/out/*.bin).
#
#   bench/cpu_split.sh [N]     N transactions (default 1000000), 3 runs each
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$PWD/bench/out
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
N=${1:-1000000}
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release/backend
[ -f "$OUT/data-$N/.done" ] || { echo "run bench/run.sh first (no $OUT/data-$N)" >&2; exit 1; }

export PGOPTIONS="-c client_min_messages=warning"
busy() { awk '/^cpu / {print $2+$3+$4+$7+$8}' /proc/stat; }
hz=$(getconf CLK_TCK)
# shellcheck source=bench/copy_limit.sh
. bench/copy_limit.sh
report() { awk -v b="$2" -v hz="$hz" -v w="$3" -v own="${4:-}" -v what="$1" \
  'BEGIN {printf "%-6s wall %.2f s, machine busy %.2f CPU-s (%.2f cores)%s\n", what, w, b/hz, b/hz/w, own}'; }

for run in 1 2 3; do
  fresh_db bench_cpu
  b0=$(busy); t0=$(date +%s.%N)
  own=$( { DATABASE_URL=$PG/bench_cpu RUST_LOG=warn /usr/bin/time -f "%U %S" "$BIN" ingest --input "$OUT/data-$N" >/dev/null; } 2>&1 | tail -1)
  t1=$(date +%s.%N); b1=$(busy)
  report ETL $((b1 - b0)) "$(awk "BEGIN {print $t1 - $t0}")" ", of which the ETL process $(awk -v o="$own" 'BEGIN {split(o, a, " "); printf "%.2f", a[1] + a[2]}') CPU-s"
done
export_limit_rows bench_cpu
for run in 1 2 3; do
  prepare_limit_db bench_cpu_copy
  b0=$(busy); t0=$(date +%s.%N)
  run_limit bench_cpu_copy
  t1=$(date +%s.%N); b1=$(busy)
  report limit $((b1 - b0)) "$(awk "BEGIN {print $t1 - $t0}")"
done
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS bench_cpu WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_cpu_copy WITH (FORCE)" >/dev/null

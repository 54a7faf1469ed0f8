#!/usr/bin/env bash
# Two builds of the backend compared in one run, on the same data and machine:
# the replace of SIZE generated transactions on PostgreSQL and on SQLite, runs
# alternating between the builds (so that a busy machine slows both alike),
# and PostgreSQL's COPY limit for the same rows. Prints the medians, each
# build's ETL/COPY ratio, and the ratio of the two builds.
#
#   bench/compare.sh OLD_BINARY NEW_BINARY [SIZE] [RUNS]
#
# SIZE defaults to 1000000, RUNS to 3. Build the old binary from its commit in
# a worktree of its own (`git worktree add /tmp/old <commit>` and
# `cargo build --release -p backend` there). Needs PostgreSQL at $BENCH_PG
# (default postgres://postgres@127.0.0.1:5432), psql and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OLD=$(realpath "$1")
NEW=$(realpath "$2")
SIZE=${3:-1000000}
RUNS=${4:-3}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
OUT=$ROOT/bench/out/compare
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
printf 'kind\tname\tsize\trun\tvalue\tunit\n' >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }
# shellcheck source=bench/copy_limit.sh
source bench/copy_limit.sh
# The timing helper of common.sh, without its build (the binaries are given).
timed() {
  local log=$1; shift
  /usr/bin/time -v "$@" >"$log.out" 2>"$log"
  sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'
}

data=$OUT/data-$SIZE
if [ ! -f "$data/.done" ]; then
  "$NEW" generate --transactions "$SIZE" --seed 1 --out "$data" >/dev/null
  touch "$data/.done"
fi

for run in $(seq 1 "$RUNS"); do
  for which in old new; do
    bin=$OLD; [ "$which" = new ] && bin=$NEW
    fresh_db bench_compare
    wall=$(DATABASE_URL=$PG/bench_compare RUST_LOG=warn timed "$OUT/pg-$which-$run.log" "$bin" ingest --input "$data")
    record etl "postgres-$which" "$SIZE" "$run" "$wall" s
    rm -f "$OUT"/compare.db*
    wall=$(DATABASE_URL="sqlite://$OUT/compare.db?mode=rwc" RUST_LOG=warn timed "$OUT/sqlite-$which-$run.log" "$bin" ingest --input "$data")
    record etl "sqlite-$which" "$SIZE" "$run" "$wall" s
  done
done

# The COPY limit of the same rows (loaded by the new build).
fresh_db bench_compare
DATABASE_URL=$PG/bench_compare RUST_LOG=warn "$NEW" ingest --input "$data" >/dev/null
export_limit_rows bench_compare
for run in $(seq 1 "$RUNS"); do
  prepare_limit_db bench_compare_copy
  start=$(date +%s.%N)
  run_limit bench_compare_copy
  record copy copy-limit "$SIZE" "$run" "$(echo "$(date +%s.%N) - $start" | bc)" s
done
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS bench_compare WITH (FORCE)" \
  -c "DROP DATABASE IF EXISTS bench_compare_copy WITH (FORCE)" >/dev/null

python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = {}
for name in sorted({r["name"] for r in rows}):
    med[name] = statistics.median(float(r["value"]) for r in rows if r["name"] == name)
copy = med["copy-limit"]
print(f"medians of {len({r['run'] for r in rows})} runs at {rows[0]['size']} transactions:")
for engine in ["postgres", "sqlite"]:
    old, new = med[f"{engine}-old"], med[f"{engine}-new"]
    line = f"  {engine:8} old {old:6.2f} s  new {new:6.2f} s  new/old {new / old:5.3f}"
    if engine == "postgres":
        line += f"  ETL/COPY old {old / copy:4.2f} new {new / copy:4.2f}"
    print(line)
print(f"  COPY limit {copy:.2f} s")
PY

#!/usr/bin/env bash
# A recorded experiment, ended by migration m20261203_000008 (BENCHMARKS.md,
# "Month partitions: an ended experiment"): it measures this tree as
# `partitioned`, so it reproduces the figures only from a tree whose loads
# still partition by month (bb11ff3 or earlier, after 8038c5b).
#
# The fact table partitioned by month against the single table it replaced,
# in one run on one machine: at each size, each binary loads a fresh PostgreSQL
# database (a replace), then appends 10,000 transactions spread over every
# loaded month, then 10,000 transactions of a new month (November 2024: the
# monthly export a team appends).
#
#   OLD_BIN=/path/to/backend-before-partitions bench/partitions.sh
#   PARTS_SIZES="1000000 5000000" PARTS_RUNS=3 OLD_BIN=… bench/partitions.sh
#
# OLD_BIN is a release build of the version before month partitions (9bf0d04:
# `git worktree add /tmp/old 9bf0d04 && cargo build --release` there). A
# benchmark, not a CI job. Results: bench/out/partitions.tsv (kind, name, size,
# run, value, unit) with name `single` (OLD_BIN) or `partitioned` (this tree),
# and the time the migration to month partitions takes on the database OLD_BIN
# loaded (kind `migrate`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
read -r -a SIZES <<<"${PARTS_SIZES:-1000000 5000000 20000000 50000000}"
RUNS=${PARTS_RUNS:-1}
: "${OLD_BIN:?set OLD_BIN to a release build of the version before month partitions}"
mkdir -p "$OUT"
RESULTS=$OUT/partitions.tsv
printf 'kind\tname\tsize\trun\tvalue\tunit\n' >"$RESULTS"
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# shellcheck source=bench/copy_limit.sh
. "$ROOT/bench/copy_limit.sh"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

cargo build --release -p migration --locked 2>&1 | tail -1
MIGRATION_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/migration

append_input
new_month=$OUT/data-append-new-month-$APPEND_ROWS
if [ ! -f "$new_month/.done" ]; then
  "$BIN" generate --transactions $APPEND_ROWS --seed 3 --from 2024-11-01 --days 29 --out "$new_month" >/dev/null
  touch "$new_month/.done"
fi

# $1 name, $2 binary, $3 size, $4 run, $5 kind, $6 input: a timed append that
# must load every one of its transactions.
append() {
  local log=$OUT/parts-$5-$1-$3-$4.log wall
  read -r wall _ < <(DATABASE_URL=$PG/bench_parts RUST_LOG=warn timed "$log" "$2" ingest --mode append --input "$6")
  grep -q "transactions.csv *$APPEND_ROWS *$APPEND_ROWS" "$log.out" || { cat "$log.out"; exit 1; }
  record "$5" "$1" "$3" "$4" "$wall" s
}

for n in "${SIZES[@]}"; do
  generate_data "$n"
  for run in $(seq 1 "$RUNS"); do
    for variant in "single:$OLD_BIN" "partitioned:$BIN"; do
      name=${variant%%:*}
      bin=${variant#*:}
      fresh_db bench_parts
      read -r wall rss < <(DATABASE_URL=$PG/bench_parts RUST_LOG=warn timed "$OUT/parts-etl-$name-$n-$run.log" "$bin" ingest --input "$OUT/data-$n")
      record etl "$name" "$n" "$run" "$wall" s
      record rss "$name" "$n" "$run" "$rss" MB
      # As in curve.sh: the load's background writes settle before the appends.
      psql -q "$PG/bench_parts" -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
      sleep "${PARTS_SETTLE_S:-10}"
      append "$name" "$bin" "$n" "$run" append "$append_data"
      append "$name" "$bin" "$n" "$run" append_new_month "$new_month"
      record size "$name" "$n" "$run" "$(psql -Atq "$PG/bench_parts" -c "SELECT pg_database_size(current_database())")" bytes
      if [ "$name" = single ]; then
        # The upgrade of the database the old version loaded: migration 6
        # copies every transaction into its month's partition.
        read -r wall _ < <(DATABASE_URL=$PG/bench_parts timed "$OUT/parts-migrate-$n-$run.log" "$MIGRATION_BIN" up)
        record migrate single "$n" "$run" "$wall" s
      fi
    done
  done
done
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS bench_parts WITH (FORCE)" >/dev/null
echo "results: $RESULTS"

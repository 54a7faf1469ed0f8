#!/usr/bin/env bash
# Where a load's time goes at each size: the ETL's own phase and load-step log
# lines (info level) of a replace into PostgreSQL and into SQLite, side by side.
#   bench/phases.sh 5000000 20000000     → bench/out/phases.tsv (engine, size, step, ms)
#   PHASE_ENGINES=sqlite bench/phases.sh 20000000   one engine only
# Used to find where the cost curve (bench/curve.sh) stops being linear.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
mkdir -p "$OUT"
cargo build --release -p backend --locked 2>&1 | tail -1
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/backend
# shellcheck source=bench/copy_limit.sh
. "$ROOT/bench/copy_limit.sh"
RESULTS=$OUT/phases.tsv
printf 'engine\tsize\tstep\tms\n' >"$RESULTS"
steps() { # engine size log
  sed -n 's/.*\(phase\|step\)[=:]"\{0,1\}\([^"]*\)"\{0,1\} elapsed_ms=\([0-9]*\).*/\2\t\3/p' "$3" |
    sed 's/^ *//' | while IFS=$'\t' read -r step ms; do printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$step" "$ms"; done >>"$RESULTS"
}
for n in "$@"; do
  data=$OUT/data-$n
  [ -f "$data/.done" ] || { "$BIN" generate --transactions "$n" --seed 1 --out "$data" >/dev/null; touch "$data/.done"; }
  if [[ " ${PHASE_ENGINES:-postgres sqlite} " == *" postgres "* ]]; then
    fresh_db bench_phases
    DATABASE_URL=$PG/bench_phases RUST_LOG=info NO_COLOR=1 "$BIN" ingest --input "$data" >/dev/null 2>"$OUT/phases-pg-$n.log"
    steps postgres "$n" "$OUT/phases-pg-$n.log"
    psql -q "$PG/postgres" -c "DROP DATABASE bench_phases WITH (FORCE)" >/dev/null
  fi
  if [[ " ${PHASE_ENGINES:-postgres sqlite} " == *" sqlite "* ]]; then
    rm -f "$OUT"/phases.db*
    DATABASE_URL="sqlite://$OUT/phases.db?mode=rwc" RUST_LOG=info NO_COLOR=1 "$BIN" ingest --input "$data" >/dev/null 2>"$OUT/phases-sqlite-$n.log"
    steps sqlite "$n" "$OUT/phases-sqlite-$n.log"
    rm -f "$OUT"/phases.db*
  fi
done
echo "results: $RESULTS"

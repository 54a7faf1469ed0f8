#!/usr/bin/env bash
# Two builds of the ETL compared in one run: the peak resident memory and
# the wall time of a replace into PostgreSQL and into SQLite, per size.
# Runs alternate between the builds (a busy machine slows both alike); each
# load starts from an empty database. Prints, per engine, size and build,
# the median seconds and peak RSS (issue 24 goal 3: <= 1 GB at 50M, <= 5%
# more time at 1M).
#
#   bench/load_memory.sh OLD_BINARY NEW_BINARY [RUNS] SIZE...
#   e.g. bench/load_memory.sh /tmp/backend-old target/release/backend 3 1000000 5000000
#   LOAD_ENGINES=postgres bench/load_memory.sh OLD NEW 1 50000000
#   LOAD_BUILDS=new bench/load_memory.sh OLD NEW 1 50000000   # one build only
#   LOAD_TRACE=1 LOAD_BUILDS=new bench/load_memory.sh OLD NEW 1 50000000
#     # also the resident memory every 0.25 s (seconds since the start, MB)
#     # in a .rss file beside each log: where a peak between phases is
#
# Build the old binary from its commit in a worktree of its own (see
# bench/compare.sh). Data: bench/out/data-SIZE (generated with seed 1 by the
# new build when missing; 50M is 6.7 GB). Needs PostgreSQL at $BENCH_PG
# (default postgres://postgres@127.0.0.1:5432), psql and /usr/bin/time.
# Results: bench/out/load-memory/results.tsv, logs (debug level: the RSS
# of each phase, the per-customer structures) beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OLD=$(realpath "$1")
NEW=$(realpath "$2")
RUNS=$3
shift 3
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
OUT=$ROOT/bench/out/load-memory
DB=bench_load_memory
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv
printf 'engine\tsize\tbuild\trun\tseconds\trss_mb\n' >"$RESULTS"
# shellcheck source=bench/copy_limit.sh
source bench/copy_limit.sh

# The resident memory of /usr/bin/time's child (the ingest) every 0.25 s
# until it ends: timer pid, output file (seconds, MB).
trace() {
  local child="" start t kb
  start=$(date +%s%N)
  : >"$2"
  while kill -0 "$1" 2>/dev/null; do
    [ -n "$child" ] || child=$(pgrep -P "$1" | head -1)
    kb=$([ -n "$child" ] && awk '/^VmRSS/ { print $2 }' "/proc/$child/status" 2>/dev/null || true)
    t=$((($(date +%s%N) - start) / 1000000))
    [ -z "$kb" ] || printf '%d.%03d\t%d\n' $((t / 1000)) $((t % 1000)) $((kb / 1024)) >>"$2"
    sleep 0.25
  done
}

# One replace: engine size build binary run → a row of $RESULTS.
load() {
  local engine=$1 n=$2 build=$3 bin=$4 run=$5 url log wall rss
  log=$OUT/$engine-$n-$build-$run.log
  if [ "$engine" = postgres ]; then
    fresh_db $DB
    url=$PG/$DB
  else
    rm -f "$OUT/$DB".db*
    url="sqlite://$OUT/$DB.db?mode=rwc"
  fi
  DATABASE_URL=$url RUST_LOG=debug NO_COLOR=1 /usr/bin/time -v "$bin" ingest --input "$ROOT/bench/out/data-$n" >/dev/null 2>"$log" &
  local timer=$!
  if [ -n "${LOAD_TRACE:-}" ]; then trace "$timer" "${log%.log}.rss"; fi
  wait "$timer"
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$engine" "$n" "$build" "$run" "$wall" "$((rss / 1024))" >>"$RESULTS"
  if [ "$engine" = postgres ]; then
    psql -q "$PG/postgres" -c "DROP DATABASE $DB WITH (FORCE)" >/dev/null
  else
    rm -f "$OUT/$DB".db*
  fi
}

for n in "$@"; do
  data=$ROOT/bench/out/data-$n
  if [ ! -f "$data/.done" ]; then
    "$NEW" generate --transactions "$n" --seed 1 --out "$data" >/dev/null
    touch "$data/.done"
  fi
  for engine in ${LOAD_ENGINES:-postgres sqlite}; do
    for run in $(seq "$RUNS"); do
      for build in ${LOAD_BUILDS:-old new}; do
        if [ "$build" = old ]; then bin=$OLD; else bin=$NEW; fi
        load "$engine" "$n" "$build" "$bin" "$run"
      done
    done
  done
done

# Medians per engine, size and build.
awk -F'\t' 'NR > 1 { k = $1 "\t" $2 "\t" $3; s[k] = s[k] " " $5; r[k] = r[k] " " $6 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END { print "engine\tsize\tbuild\tmedian_s\tmedian_rss_mb"; for (k in s) print k "\t" median(s[k]) "\t" median(r[k]) }' "$RESULTS" | sort
echo "results: $RESULTS"

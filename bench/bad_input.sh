#!/usr/bin/env bash
# Two builds of the ETL on bad input, the load's memory and time compared:
#   doubled  transactions.csv pasted twice into itself (every id repeats:
#            the load keeps one row of each and counts the rest)
#   baddates every date written 1.1.24 instead of 1/1/24 (every row
#            rejected: the run is refused, exit 3, its rejects stored)
# Each replace goes into a database holding the same data read correctly
# (what a refused run is judged against), builds alternating. Prints the
# medians per engine, input and build.
#
#   bench/bad_input.sh OLD_BINARY NEW_BINARY [RUNS] [SIZE]
#   e.g. bench/bad_input.sh /tmp/backend-old target/release/backend 3 1000000
#
# Data: bench/out/data-SIZE (generated with seed 1 when missing) and the
# two bad inputs made from it beside it. Needs PostgreSQL at $BENCH_PG
# (default postgres://postgres@127.0.0.1:5432), psql and /usr/bin/time.
# Results: bench/out/bad-input/results.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OLD=$(realpath "$1")
NEW=$(realpath "$2")
RUNS=${3:-3}
N=${4:-1000000}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
OUT=$ROOT/bench/out/bad-input
DB=bench_bad_input
mkdir -p "$OUT"
RESULTS=$OUT/results.tsv

data=$ROOT/bench/out/data-$N
if [ ! -f "$data/.done" ]; then
  "$NEW" generate --transactions "$N" --seed 1 --out "$data" >/dev/null
  touch "$data/.done"
fi
# The generator's last line has no line break: one is added between the copies.
make_input() {
  local kind=$1 dir=$ROOT/bench/out/data-$1-$N
  [ -f "$dir/.done" ] && return
  mkdir -p "$dir"
  cp "$data/users.csv" "$data/products.csv" "$dir/"
  case $kind in
    doubled) { cat "$data/transactions.csv"; echo; tail -n +2 "$data/transactions.csv"; } >"$dir/transactions.csv" ;;
    baddates) awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { print; next } { gsub("/", ".", $1); print }' \
      "$data/transactions.csv" >"$dir/transactions.csv" ;;
  esac
  touch "$dir/.done"
}
make_input doubled
make_input baddates

url_of() {
  if [ "$1" = postgres ]; then
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null 2>&1
    echo "$PG/$DB"
  else
    rm -f "$OUT/$DB".db*
    echo "sqlite://$OUT/$DB.db?mode=rwc"
  fi
}

printf 'engine\tinput\tbuild\trun\tseconds\trss_mb\texit\n' >"$RESULTS"
for run in $(seq "$RUNS"); do
  for engine in postgres sqlite; do
    for kind in doubled baddates; do
      for build in old new; do
        bin=$OLD
        [ "$build" = new ] && bin=$NEW
        url=$(url_of "$engine")
        DATABASE_URL=$url "$bin" ingest --input "$data" >/dev/null 2>&1
        log=$OUT/$engine-$kind-$build-$run.log
        rc=0
        DATABASE_URL=$url /usr/bin/time -v "$bin" ingest --input "$ROOT/bench/out/data-$kind-$N" >/dev/null 2>"$log" || rc=$?
        # 0: loaded; 3: refused (the bad dates). Anything else is a failure.
        if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
          echo "$engine $kind $build: exit $rc (see $log)" >&2
          exit 1
        fi
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
        printf '%s\t%s-%s\t%s\t%s\t%s\t%s\t%s\n' "$engine" "$kind" "$N" "$build" "$run" "$wall" "$((rss / 1024))" "$rc" >>"$RESULTS"
      done
    done
  done
done
[ "${DB_KEEP:-}" ] || { psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1; rm -f "$OUT/$DB".db*; }

awk -F'\t' 'NR > 1 { k = $1 "\t" $2 "\t" $3; s[k] = s[k] " " $5; r[k] = r[k] " " $6; e[k] = $7 }
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END { print "engine\tinput\tbuild\tmedian_s\tmedian_rss_mb\texit"; for (k in s) print k "\t" median(s[k]) "\t" median(r[k]) "\t" e[k] }' "$RESULTS" | sort
echo "results: $RESULTS"

#!/usr/bin/env bash
# The subscription figures kept current (issue 22, "Speed"): per size and
# engine, a replace into a fresh database, a server, the first
# /reports/saas/mrr after it; then an append of 10,000 transactions and the
# first /reports/saas/mrr after the server picked the append up. The server's
# own log line for each computation gives its read and compute times, and its
# /proc status its resident memory (now and at its peak) after each.
#
#   bench/saas_catchup.sh             1M and 5M, PostgreSQL and SQLite, 3 runs
#   bench/saas_catchup.sh --quick     100k, 1 run (proves the harness works)
#   SAAS_SIZES="5000000" SAAS_ENGINES=postgres SAAS_RUNS=1 bench/saas_catchup.sh
#   SAAS_BINS="/tmp/backend-before target/release/backend" bench/saas_catchup.sh
#                                     two builds, alternating run by run (their
#                                     results labelled engine@1, engine@2 in
#                                     the order given)
#
# Results: bench/out/saas-catchup.tsv (kind, engine, size, run, name, value,
# unit). Every load and request is bounded in time; servers listen on
# 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
if [ "${1:-}" = "--quick" ]; then read -r -a SIZES <<<"100000"; RUNS=1
else read -r -a SIZES <<<"${SAAS_SIZES:-1000000 5000000}"; RUNS=${SAAS_RUNS:-3}; fi
read -r -a ENGINES <<<"${SAAS_ENGINES:-postgres sqlite}"
mkdir -p "$OUT"
RESULTS=$OUT/saas-catchup.tsv
printf 'kind\tengine\tsize\trun\tname\tvalue\tunit\n' >"$RESULTS"
record() {
  if [ $# -eq 6 ]; then set -- "$1" - "$3" "$4" "$2" "$5" "$6"; fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
}

# shellcheck source=bench/tools.sh
. "$ROOT/bench/tools.sh"
# shellcheck source=bench/copy_limit.sh
. "$ROOT/bench/copy_limit.sh"
# shellcheck source=bench/common.sh
. "$ROOT/bench/common.sh"

cleanup() { [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

fresh() {
  case $1 in
  postgres) fresh_db bench_saas_catchup; echo "$PG/bench_saas_catchup" ;;
  sqlite) rm -f "$OUT"/saas-catchup.db*; echo "sqlite://$OUT/saas-catchup.db?mode=rwc" ;;
  esac
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The first /reports/saas/mrr's seconds, and the read/compute times of the
# computation it caused (the server log's latest such line).
first_mrr() {
  local engine=$1 n=$2 run=$3 after=$4 base=$5 log=$6 t
  t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 600 "$base/reports/saas/mrr")
  [ "${t%% *}" = 200 ] || { echo "$engine $n: /reports/saas/mrr answered ${t%% *}" >&2; exit 1; }
  record first "$engine" "$n" "$run" "mrr after $after" "${t#* }" s
  local line
  line=$(grep 'subscription metrics computed' "$log" | tail -1)
  for field in read_ms compute_ms appended; do
    record detail "$engine" "$n" "$run" "$field after $after" "$(sed -n "s/.*$field=\([0-9]*\).*/\1/p" <<<"$line")" "${field##*_}"
  done
  # The server's memory with the run's invoices kept: resident now and at its peak.
  for field in VmRSS VmHWM; do
    record detail "$engine" "$n" "$run" "server $field after $after" "$(awk -v f="$field:" '$1 == f {print int($2 / 1024)}' "/proc/$server_pid/status")" MB
  done
}

read -r -a BINS <<<"${SAAS_BINS:-$BIN}"
append_input
for n in "${SIZES[@]}"; do
  generate_data "$n"
  for run in $(seq 1 "$RUNS"); do
    for engine_name in "${ENGINES[@]}"; do
    for b in "${!BINS[@]}"; do
      BIN=${BINS[$b]}
      engine=$engine_name
      [ ${#BINS[@]} -gt 1 ] && engine=$engine_name@$((b + 1))
      url=$(fresh "$engine_name")
      read -r wall rss < <(DATABASE_URL=$url RUST_LOG=warn timed "$OUT/saas-etl-$engine-$n.log" timeout 3600 "$BIN" ingest --input "$OUT/data-$n")
      record etl "$engine" "$n" "$run" replace "$wall" s
      port=$(free_port)
      log=$OUT/saas-serve-$engine-$n-$run.log
      DATABASE_URL=$url RUST_LOG=info NO_COLOR=1 "$BIN" serve --bind "127.0.0.1:$port" >"$log" 2>&1 &
      server_pid=$!
      base=http://127.0.0.1:$port
      for _ in $(seq 1 600); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.1; done
      first_mrr "$engine" "$n" "$run" replace "$base" "$log"
      before=$(curl -sf -D - -o /dev/null "$base/reports/meta" | tr -d '\r' | sed -n 's/^etag: //Ip')
      read -r wall rss < <(DATABASE_URL=$url RUST_LOG=warn timed "$OUT/saas-append-$engine-$n.log" timeout 600 "$BIN" ingest --mode append --input "$append_data")
      record etl "$engine" "$n" "$run" "append $APPEND_ROWS" "$wall" s
      # The server looks for a newer run once a second: wait until it serves it.
      for _ in $(seq 1 300); do
        now=$(curl -sf -D - -o /dev/null "$base/reports/meta" | tr -d '\r' | sed -n 's/^etag: //Ip')
        [ "$now" != "$before" ] && break
        sleep 0.05
      done
      first_mrr "$engine" "$n" "$run" append "$base" "$log"
      kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    done
    done
  done
done
python3 - "$RESULTS" <<'PY'
import csv, statistics, sys
from collections import defaultdict
rows = defaultdict(list)
for r in csv.DictReader(open(sys.argv[1]), delimiter='\t'):
    if r['value']:
        rows[(r['engine'], int(r['size']), r['kind'], r['name'])].append(float(r['value']))
for key in sorted(rows):
    v = rows[key]
    print('\t'.join(map(str, key)), f'median {statistics.median(v):g}', f'({min(v):g}-{max(v):g}, n={len(v)})', sep='\t')
PY

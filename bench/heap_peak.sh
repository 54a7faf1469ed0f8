#!/usr/bin/env bash
# What the load's heap holds at its peak, by the ETL function that
# allocated it (issue 24 goal 3): one replace under heaptrack, then the
# peak's allocations summed by their deepest `etl::` frame and its caller.
#
#   bench/heap_peak.sh BINARY SIZE [postgres|sqlite]
#   e.g. bench/heap_peak.sh target/release/backend 50000000 postgres
#
# heaptrack slows the load by about half and adds its own memory; its peak
# is the heap's (capacity of every live allocation), not the resident set
# (`bench/load_memory.sh` measures that). Needs heaptrack and heaptrack_print
# (Debian package heaptrack, installed when missing), python3, and the data
# in bench/out/data-SIZE (`backend generate --transactions SIZE --seed 1`).
# Output: bench/out/heap-peak/SIZE-ENGINE.txt (and the raw .zst beside it).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(realpath "$1")
N=$2
ENGINE=${3:-postgres}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
OUT=bench/out/heap-peak
DB=bench_heap_peak
mkdir -p "$OUT"
if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null; then
  sudo_if() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if apt-get install -y heaptrack >/dev/null
fi
if [ "$ENGINE" = postgres ]; then
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
  URL=$PG/$DB
else
  rm -f "$OUT/$DB".db*
  URL="sqlite://$PWD/$OUT/$DB.db?mode=rwc"
fi
RAW=$OUT/$N-$ENGINE
rm -f "$RAW".zst
DATABASE_URL=$URL NO_COLOR=1 heaptrack -o "$RAW" "$BIN" ingest --input "bench/out/data-$N" >"$RAW.log" 2>&1
heaptrack_print -f "$RAW.zst" --flamegraph-cost-type peak -F "$RAW.stacks" >/dev/null 2>&1
python3 - "$RAW.stacks" <<'EOF' | tee "$RAW.txt"
import collections, re, sys
by = collections.Counter()
total = 0
for line in open(sys.argv[1]):
    stack, _, n = line.rstrip().rpartition(' ')
    n = int(n)
    total += n
    frames = [re.sub(r'::h[0-9a-f]{16}', '', f) for f in stack.split(';')]
    etl = [f for f in frames if 'etl::' in f]
    by[' < '.join(reversed(etl[-2:])) if etl else '(outside the ETL)'] += n
print(f"heap at its peak: {total >> 20} MB")
for where, n in by.most_common(15):
    print(f"{n >> 20:>7} MB  {where[:160]}")
EOF

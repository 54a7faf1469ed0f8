# shellcheck shell=bash
# Helpers shared by bench/run.sh and bench/curve.sh (sourced; needs $ROOT,
# $OUT and a `record kind name size run value unit` function; sets $BIN).

# The release build of the backend, as $BIN.
cargo build --release -p backend --locked 2>&1 | tail -1
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/backend

# /usr/bin/time -v → wall seconds and peak RSS in MB.
timed() {
  local log=$1; shift
  /usr/bin/time -v "$@" >"$log.out" 2>"$log"
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  echo "$wall $((rss / 1024))"
}

generate_data() {
  local n=$1 data=$OUT/data-$1
  if [ ! -f "$data/.done" ]; then
    read -r wall _ < <(timed "$OUT/gen-$n.log" "$BIN" generate --transactions "$n" --seed 1 --out "$data")
    touch "$data/.done"
    record generate "generate" "$n" 1 "$wall" s
  fi
}

# wrk's latency (`512.00us`, `3.2ms`, `1.1s`) in milliseconds.
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); print v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v); print v} else {sub(/s$/,"",v); print v*1000}}'; }

# The input of the append measurements: APPEND_ROWS new transactions (another
# seed: new ids, customers and subscriptions shared with the loaded data,
# every month touched), in $append_data.
APPEND_ROWS=10000
append_data=$OUT/data-append-$APPEND_ROWS
append_input() {
  if [ ! -f "$append_data/.done" ]; then
    "$BIN" generate --transactions $APPEND_ROWS --seed 2 --out "$append_data" >/dev/null
    touch "$append_data/.done"
  fi
}

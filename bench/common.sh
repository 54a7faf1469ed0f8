# shellcheck shell=bash
# Helpers shared by bench/run.sh and bench/curve.sh (sourced; needs $BIN, $OUT
# and a `record kind name size run value unit` function).

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

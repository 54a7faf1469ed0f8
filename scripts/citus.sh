#!/usr/bin/env bash
# A local Citus cluster (a coordinator and two workers) for tests and benchmarks.
#
#   scripts/citus.sh build    build and install Citus 13.2.2 from the vendored
#                             tarball into Debian's PostgreSQL 15 (skipped when
#                             13.2.2 is already installed)
#   scripts/citus.sh up       start the cluster (or report the running one); the
#                             coordinator URL is the only line on stdout
#   scripts/citus.sh down     stop the cluster and remove its data folder
#   scripts/citus.sh status   say what runs (exit 0: all three run, 3: not all)
#   scripts/citus.sh check    smoke test: a distributed table's rows land on both
#                             workers
#
# In CI:  scripts/citus.sh build && DATABASE_URL=$(scripts/citus.sh up)
#
# Environment:
#   CITUS_DIR      data, logs and coordinator.url of the cluster
#                  (default /tmp/citus-<user>-<checkout folder name>)
#   CITUS_PORT     first port tried; three free ports from there are used
#                  (default 5440, i.e. 5440-5442 when they are free)
#   CITUS_WAIT     seconds to wait for each instance to start or stop (default 60)
#   CITUS_TARBALL  Citus source (default ../shared/vendor/citus-13.2.2.tar.gz
#                  relative to the repository)
#
# Progress goes to stderr. Root is needed for `build` (apt, make install; sudo is
# used when available); as root the instances run as the `postgres` user.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)

readonly CITUS_VERSION=13.2.2
readonly CITUS_SHA256=c8fc76dc8294636a52b1a0dd75a20d8b4a36937df6443e30ca84d8d0464a6bb9
readonly PG_MAJOR=15
# Debian's layout for PostgreSQL 15 (postgresql-15 and postgresql-server-dev-15).
readonly PG_BINDIR=/usr/lib/postgresql/$PG_MAJOR/bin
readonly PG_LIBDIR=/usr/lib/postgresql/$PG_MAJOR/lib
readonly PG_SHAREDIR=/usr/share/postgresql/$PG_MAJOR
# Never add postgresql-15 here: an upgrade of the server package restarts the
# PostgreSQL on port 5432 that everyone on the machine uses.
readonly BUILD_PACKAGES=("postgresql-server-dev-$PG_MAJOR" liblz4-dev libzstd-dev libkrb5-dev)

CITUS_TARBALL=${CITUS_TARBALL:-$ROOT/../shared/vendor/citus-$CITUS_VERSION.tar.gz}
CITUS_DIR=${CITUS_DIR:-/tmp/citus-$(id -un)-$(basename "$ROOT")}
CITUS_PORT=${CITUS_PORT:-5440}
CITUS_WAIT=${CITUS_WAIT:-60}
case $CITUS_DIR in
/*) ;;
*) CITUS_DIR=$(pwd)/$CITUS_DIR ;;
esac

readonly NODES=(coordinator worker1 worker2)
# Marks a folder as made by this script: `down` removes only such folders.
readonly MARKER=.citus-sh-cluster

say() { printf '%s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# Microseconds since the epoch, for step timings.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }
# "12.3s" since a now_us value.
since() {
  local d=$((($(now_us) - $1) / 100000))
  printf '%d.%ds' $((d / 10)) $((d % 10))
}

is_root() { [ "$(id -u)" -eq 0 ]; }
as_root() {
  if is_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "root is needed for: $*"
  fi
}
# PostgreSQL refuses to run as root: as root, the instances are the postgres user's.
as_pg() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

psql_at() { # port sql…: runs SQL on a node, prints unaligned tuples
  local port=$1
  shift
  "$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres "$@"
}

# ---------------------------------------------------------------------- build

# The installed Citus is 13.2.2: citus.so carries the exact string that
# `SELECT citus_version()` returns ("Citus 13.2.2 on …"), and the extension's
# control file is there (a half-finished install has no usable extension).
citus_installed() {
  [ -f "$PG_LIBDIR/citus.so" ] && [ -f "$PG_SHAREDIR/extension/citus.control" ] &&
    grep -qaF "Citus $CITUS_VERSION on " "$PG_LIBDIR/citus.so"
}

STEP_NOTE=
note() { printf '%s' "$*" >"$STEP_NOTE"; }

# Runs one build step with its output in $LOG; one line with its time.
# The subshell keeps `set -e` in force inside the step (an `if` would turn it off).
step() {
  local label=$1 start rc
  shift
  start=$(now_us)
  printf '  %-44s' "$label" >&2
  : >"$STEP_NOTE"
  printf '\n=== %s\n' "$label" >>"$LOG"
  set +e
  ("$@") >>"$LOG" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    printf 'FAILED after %s\n' "$(since "$start")" >&2
    say "full output: $LOG"
    tail -n 15 "$LOG" | sed 's/^/    /' >&2
    exit 1
  fi
  printf '%7s  %s\n' "$(since "$start")" "$(cat "$STEP_NOTE")" >&2
}

verify_tarball() {
  [ -f "$CITUS_TARBALL" ] || die "no Citus source at $CITUS_TARBALL"
  local sum
  sum=$(sha256sum "$CITUS_TARBALL" | cut -d' ' -f1)
  echo "sha256 $sum"
  [ "$sum" = "$CITUS_SHA256" ] || die "$CITUS_TARBALL has sha256 $sum, expected $CITUS_SHA256"
}

install_build_packages() {
  local wanted=("${BUILD_PACKAGES[@]}") missing=() p
  command -v gcc >/dev/null 2>&1 || wanted+=(gcc)
  command -v make >/dev/null 2>&1 || wanted+=(make)
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    note "already installed"
    return 0
  fi
  local apt=(apt-get -o DPkg::Lock::Timeout=600)
  as_root "${apt[@]}" update
  # A dependency could still drag in a newer server package; refuse rather
  # than restart the shared server.
  if as_root "${apt[@]}" -s install --no-install-recommends "${missing[@]}" | grep -q "^Inst postgresql-$PG_MAJOR "; then
    die "installing ${missing[*]} would upgrade postgresql-$PG_MAJOR (and restart the server on 5432); install them by hand"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
  note "installed ${missing[*]}"
}

# PostgreSQL 15.20 (Debian security update) declares have_createdb_privilege()
# in its headers, which clashes with Citus' static copy of it for older 15.x:
# renaming Citus' copy builds with 15.20 and with earlier headers alike.
patch_source() {
  local f=$SRC/src/include/pg_version_compat.h
  local line='#define have_createdb_privilege citus_have_createdb_privilege_compat'
  if grep -qxF "$line" "$f"; then
    note "already patched"
    return 0
  fi
  [ "$(grep -cx 'have_createdb_privilege(void)' "$f")" -eq 1 ] ||
    die "$f: the line 'have_createdb_privilege(void)' is not there exactly once; the patch needs a review"
  sed -i "/^have_createdb_privilege(void)\$/i $line" "$f"
  grep -qxF "$line" "$f"
}

# A throwaway instance (no TCP, socket in its own folder) proves the installed
# library loads into this PostgreSQL and reports the expected version.
verify_with_instance() {
  local dir version rc=0
  dir=$(mktemp -d /tmp/citus-verify.XXXXXX)
  is_root && chown postgres: "$dir"
  as_pg "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
  as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t "$CITUS_WAIT" \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c shared_preload_libraries=citus -c fsync=off" start
  version=$("$PG_BINDIR/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$dir" -U postgres -d postgres \
    -c 'CREATE EXTENSION citus' -c 'SELECT citus_version()') || rc=$?
  as_pg "$PG_BINDIR/pg_ctl" -D "$dir/data" -m immediate -w stop || true
  echo "citus_version(): $version"
  [ "$rc" -eq 0 ] || { cat "$dir/log"; die "CREATE EXTENSION citus failed on a throwaway instance"; }
  rm -rf "$dir"
  case $version in
  "Citus $CITUS_VERSION "*) note "${version%%,*}" ;;
  *) die "the installed Citus reports '$version', expected $CITUS_VERSION" ;;
  esac
}

# libcurl serves only Citus' usage statistics, which are off anyway.
configure_source() {
  cd "$SRC"
  PG_CONFIG=$PG_BINDIR/pg_config ./configure --without-libcurl
}

cmd_build() {
  if citus_installed; then
    say "Citus $CITUS_VERSION is already installed ($PG_LIBDIR/citus.so): nothing to build"
    return 0
  fi
  local work start
  work=$(mktemp -d /tmp/citus-build.XXXXXX)
  LOG=$work/build.log
  STEP_NOTE=$work/step-note
  SRC=$work/citus-$CITUS_VERSION
  start=$(now_us)
  say "Building Citus $CITUS_VERSION for PostgreSQL $PG_MAJOR in $work:"
  say "  verify the tarball, install missing build packages, unpack, patch for"
  say "  PostgreSQL 15.20, configure --without-libcurl, make with_llvm=no, install"
  say "  into $PG_LIBDIR, check with a throwaway instance. Log: $LOG"
  step "verify $(basename "$CITUS_TARBALL")" verify_tarball
  step "install build packages" install_build_packages
  step "unpack" tar -xzf "$CITUS_TARBALL" -C "$work"
  step "patch for PostgreSQL 15.20 headers" patch_source
  step "configure --without-libcurl" configure_source
  step "compile (make -j$(nproc))" make -C "$SRC" -j"$(nproc)" with_llvm=no
  step "install" as_root make -C "$SRC" install with_llvm=no
  step "check: CREATE EXTENSION, citus_version()" verify_with_instance
  citus_installed || die "citus.so does not carry 'Citus $CITUS_VERSION' after the install; see $LOG"
  rm -rf "$work"
  say "Citus $CITUS_VERSION built and installed in $(since "$start")"
}

# ---------------------------------------------------------------------- cluster

data_dir() { echo "$CITUS_DIR/$1"; }
node_port() { sed -n 's/^port = \([0-9]*\)$/\1/p' "$(data_dir "$1")/citus-port.conf" 2>/dev/null; }
node_running() { as_pg "$PG_BINDIR/pg_ctl" -D "$(data_dir "$1")" status >/dev/null 2>&1; }
coordinator_url() { echo "postgres://postgres@127.0.0.1:$(node_port coordinator)/postgres"; }

# Nothing listens on the port, on any address (ss), or answers on localhost.
port_free() {
  local p=$1
  if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
    return 1
  fi
  ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null &&
    ! timeout 2 bash -c "exec 3<>/dev/tcp/::1/$p" 2>/dev/null
}

# First free port at or after $1 that is not one of the ports taken by the
# nodes already started ($2…).
next_free_port() {
  local p=$1 limit=$(($1 + 200)) taken t
  shift
  for ((; p < limit; p++)); do
    taken=0
    for t in "$@"; do [ "$t" = "$p" ] && taken=1; done
    [ "$taken" -eq 0 ] && port_free "$p" && {
      echo "$p"
      return 0
    }
  done
  return 1
}

start_node() { # name: bounded start on the configured port
  local name=$1 dir
  dir=$(data_dir "$name")
  # pg_ctl's own failure message says only "examine the log"; callers show it.
  as_pg "$PG_BINDIR/pg_ctl" -D "$dir" -l "$CITUS_DIR/$name.log" -w -t "$CITUS_WAIT" start >/dev/null 2>&1
}

stop_node() { # name: fast stop, immediate when fast does not finish in time
  local dir
  dir=$(data_dir "$1")
  [ -f "$dir/postmaster.pid" ] || return 0
  if as_pg "$PG_BINDIR/pg_ctl" -D "$dir" -m fast -w -t "$CITUS_WAIT" stop >/dev/null 2>&1; then
    return 0
  fi
  say "$1 did not stop within ${CITUS_WAIT}s: stopping it immediately"
  as_pg "$PG_BINDIR/pg_ctl" -D "$dir" -m immediate -w -t "$CITUS_WAIT" stop >/dev/null 2>&1 || true
  if node_running "$1"; then
    die "$1 ($dir) did not stop"
  fi
}

init_node() { # name
  local dir
  dir=$(data_dir "$1")
  # --no-sync: flushing ~120 MB of fresh files to a busy disk took seconds, and
  # the instances run with fsync = off anyway.
  as_pg "$PG_BINDIR/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$CITUS_DIR/$1.initdb.log" 2>&1
  # Test settings: durability is not needed for a throwaway cluster;
  # max_wal_size keeps each worker's WAL from growing to ~0.5 GB on a 1M-row
  # load; 4 shards make DDL far faster than the default 32.
  as_pg tee -a "$dir/postgresql.conf" >/dev/null <<EOF

# ---- scripts/citus.sh
shared_preload_libraries = 'citus'
listen_addresses = 'localhost'
unix_socket_directories = '$CITUS_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = '256MB'
citus.shard_count = 4
citus.enable_statistics_collection = off
include 'citus-port.conf'
EOF
}

# Starts a freshly initialised node on the first free port from $2, moving on
# when another process took the port between the check and the start.
start_new_node() { # name first-port taken-ports…
  local name=$1 from=$2 port attempt
  shift 2
  for attempt in 1 2 3 4 5; do
    port=$(next_free_port "$from" "$@") || die "no free port in $from-$((from + 199))"
    echo "port = $port" | as_pg tee "$(data_dir "$name")/citus-port.conf" >/dev/null
    # Only this attempt's log decides whether the port was the problem.
    [ ! -f "$CITUS_DIR/$name.log" ] || : >"$CITUS_DIR/$name.log"
    if start_node "$name"; then
      return 0
    fi
    if ! grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' "$CITUS_DIR/$name.log"; then
      say "$name did not start (waited at most ${CITUS_WAIT}s); its log ($CITUS_DIR/$name.log) ends with:"
      tail -n 15 "$CITUS_DIR/$name.log" | sed 's/^/    /' >&2
      exit 1
    fi
    say "  port $port was taken meanwhile (attempt $attempt); trying the next one"
    from=$((port + 1))
  done
  die "$name: no free port found after 5 attempts"
}

up_failed() {
  [ $? -eq 0 ] || say "up failed; the logs are in $CITUS_DIR (scripts/citus.sh down removes it)"
}

cmd_up() {
  local start name
  start=$(now_us)
  [ -f "$PG_LIBDIR/citus.so" ] || die "Citus is not installed: run scripts/citus.sh build first"
  if [ -f "$CITUS_DIR/ready" ]; then
    for name in "${NODES[@]}"; do
      if ! node_running "$name"; then
        say "starting $name (port $(node_port "$name"))"
        if ! start_node "$name"; then
          tail -n 15 "$CITUS_DIR/$name.log" | sed 's/^/    /' >&2
          die "$name did not start; see $CITUS_DIR/$name.log (or run down, then up)"
        fi
      fi
    done
    say "the cluster in $CITUS_DIR is up"
    coordinator_url
    return 0
  fi
  if [ -e "$CITUS_DIR" ]; then
    if [ -f "$CITUS_DIR/$MARKER" ]; then
      say "$CITUS_DIR holds an unfinished cluster: removing it"
      remove_cluster
    elif [ -n "$(ls -A "$CITUS_DIR")" ]; then
      die "$CITUS_DIR exists and was not made by this script; set CITUS_DIR to another folder"
    fi
  fi
  # The socket path (folder + /.s.PGSQL.NNNNN) must fit in 107 bytes, and the
  # folder is written into postgresql.conf between single quotes.
  [ ${#CITUS_DIR} -le 90 ] || die "CITUS_DIR is too long for a socket path (at most 90 characters)"
  case $CITUS_DIR in *"'"* | *" "*) die "CITUS_DIR must not contain quotes or spaces" ;; esac

  say "Starting a Citus cluster (coordinator + 2 workers) in $CITUS_DIR"
  trap 'up_failed' EXIT
  mkdir -p "$CITUS_DIR"
  touch "$CITUS_DIR/$MARKER"
  if is_root; then
    chown postgres: "$CITUS_DIR"
    runuser -u postgres -- test -w "$CITUS_DIR" || die "the postgres user cannot write to $CITUS_DIR (choose another CITUS_DIR)"
  fi

  local t pids=() rc=0
  t=$(now_us)
  for name in "${NODES[@]}"; do
    init_node "$name" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || {
      rc=1
      say "initdb of ${NODES[$i]} failed: see $CITUS_DIR/${NODES[$i]}.initdb.log"
    }
  done
  [ "$rc" -eq 0 ] || exit 1
  say "  initdb ×3 $(since "$t")"

  local ports=() port
  for name in "${NODES[@]}"; do
    t=$(now_us)
    start_new_node "$name" "$CITUS_PORT" "${ports[@]}"
    port=$(node_port "$name")
    ports+=("$port")
    say "  $name on port $port $(since "$t")"
  done

  # CREATE EXTENSION citus runs a large script: the three run side by side.
  t=$(now_us)
  pids=()
  for port in "${ports[@]}"; do
    psql_at "$port" -c 'CREATE EXTENSION citus' >/dev/null &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || die "CREATE EXTENSION citus failed on ${NODES[$i]} (port ${ports[$i]})"
  done
  psql_at "${ports[0]}" \
    -c "SELECT citus_set_coordinator_host('localhost', ${ports[0]})" \
    -c "SELECT citus_add_node('localhost', ${ports[1]})" \
    -c "SELECT citus_add_node('localhost', ${ports[2]})" >/dev/null
  say "  citus extension and nodes registered $(since "$t")"

  coordinator_url >"$CITUS_DIR/coordinator.url"
  touch "$CITUS_DIR/ready"
  trap - EXIT
  say "up in $(since "$start"); coordinator URL (also in $CITUS_DIR/coordinator.url):"
  coordinator_url
}

# Stops every node of the folder and removes it; only a folder made by `up`.
remove_cluster() {
  [ -f "$CITUS_DIR/$MARKER" ] || die "$CITUS_DIR was not made by this script: not removing it"
  local name t
  for name in "${NODES[@]}"; do
    t=$(now_us)
    stop_node "$name"
    say "  $name stopped $(since "$t")"
  done
  t=$(now_us)
  rm -rf "$CITUS_DIR"
  say "  folder removed $(since "$t")"
}

cmd_down() {
  local start
  start=$(now_us)
  if [ ! -e "$CITUS_DIR" ]; then
    say "no cluster in $CITUS_DIR: nothing to stop"
    return 0
  fi
  remove_cluster
  say "stopped and removed $CITUS_DIR in $(since "$start")"
}

# "ssl=on, X.509 v1 certificate, subject CN = citus-auto-ssl" for a running node.
tls_summary() { # name
  local ssl dir crt version subject
  ssl=$(psql_at "$(node_port "$1")" -c 'SHOW ssl' 2>/dev/null) || ssl="?"
  dir=$(data_dir "$1")
  crt=$dir/server.crt
  if [ "$ssl" = on ] && [ -f "$crt" ] && command -v openssl >/dev/null 2>&1; then
    version=$(openssl x509 -in "$crt" -noout -text | sed -n 's/^ *Version: \([0-9]*\).*/\1/p')
    subject=$(openssl x509 -in "$crt" -noout -subject | sed 's/^subject= *//')
    echo "ssl=$ssl, X.509 v$version certificate, subject $subject"
  else
    echo "ssl=$ssl"
  fi
}

cmd_status() {
  if [ ! -f "$CITUS_DIR/$MARKER" ]; then
    say "no cluster in $CITUS_DIR"
    return 3
  fi
  [ -f "$CITUS_DIR/ready" ] || say "$CITUS_DIR holds an unfinished cluster (run down, then up)"
  local name running=0 pid
  for name in "${NODES[@]}"; do
    if node_running "$name"; then
      running=$((running + 1))
      pid=$(head -n 1 "$(data_dir "$name")/postmaster.pid")
      printf '%-12s port %-5s running (pid %s), %s\n' "$name" "$(node_port "$name")" "$pid" "$(tls_summary "$name")"
    else
      printf '%-12s port %-5s stopped\n' "$name" "$(node_port "$name")"
    fi
  done
  if node_running coordinator; then
    echo "coordinator URL: $(coordinator_url)"
    echo "nodes known to the coordinator: $(psql_at "$(node_port coordinator)" \
      -c "SELECT string_agg(nodename || ':' || nodeport || CASE WHEN groupid = 0 THEN ' (coordinator)' ELSE '' END, ', ' ORDER BY nodeport) FROM pg_dist_node")"
  fi
  if [ "$running" -eq ${#NODES[@]} ]; then
    return 0
  fi
  return 3
}

# Smoke test: rows of a distributed table are spread over both workers, as
# seen by each worker itself (not only through the coordinator).
cmd_check() {
  [ -f "$CITUS_DIR/ready" ] || die "no cluster in $CITUS_DIR: run scripts/citus.sh up first"
  local name
  for name in "${NODES[@]}"; do
    node_running "$name" || die "$name is not running: run scripts/citus.sh up"
  done
  local rows=1000 total=0 w wport shards count through c table
  # Globals: the EXIT trap runs after this function's locals are gone.
  CHECK_PORT=$(node_port coordinator)
  CHECK_TABLE=citus_sh_check_$$
  c=$CHECK_PORT
  table=$CHECK_TABLE
  trap 'psql_at "$CHECK_PORT" -c "DROP TABLE IF EXISTS $CHECK_TABLE" >/dev/null 2>&1 || true' EXIT
  psql_at "$c" \
    -c "CREATE TABLE $table (customer_id bigint NOT NULL, amount_minor bigint NOT NULL)" \
    -c "SELECT create_distributed_table('$table', 'customer_id')" \
    -c "INSERT INTO $table SELECT g, g * 100 FROM generate_series(1, $rows) g" >/dev/null
  through=$(psql_at "$c" -c "SELECT count(*) FROM $table")
  echo "coordinator: $rows rows inserted, $through counted through the coordinator"
  for w in worker1 worker2; do
    wport=$(node_port "$w")
    shards=$(psql_at "$c" -c "SELECT string_agg(shard_name, ' ') FROM citus_shards WHERE table_name = '$table'::regclass AND nodeport = $wport")
    [ -n "$shards" ] || die "$w (port $wport) holds no shard of $table"
    # shellcheck disable=SC2086 # one shard name per word
    count=$(psql_at "$wport" -c "SELECT sum(n) FROM ($(printf 'SELECT count(*) AS n FROM %s UNION ALL ' $shards) SELECT 0) s")
    echo "$w (port $wport): shards $shards hold $count rows"
    [ "$count" -gt 0 ] || die "$w holds no rows of $table"
    total=$((total + count))
  done
  if [ "$total" -ne "$rows" ] || [ "$through" -ne "$rows" ]; then
    die "the workers hold $total rows and the coordinator counts $through, expected $rows"
  fi
  echo "ok: the $rows rows are spread over both workers"
}

case ${1:-} in
build) cmd_build ;;
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
check) cmd_check ;;
*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
  ;;
esac

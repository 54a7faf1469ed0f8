# shellcheck shell=bash
# The tools the benchmark scripts run, installed from Debian when missing
# (sourced by bench/run.sh and bench/citus.sh).
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi; }
for tool in psql pg_dump wrk /usr/bin/time curl sqlite3; do
  command -v "$tool" >/dev/null || {
    echo "installing $tool…"
    as_root apt-get update -qq && as_root apt-get install -y -qq postgresql-client wrk time curl sqlite3 >/dev/null
    break
  }
done

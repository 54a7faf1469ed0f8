#!/usr/bin/env bash
# Moves a single-node PostgreSQL database of this service onto a Citus
# coordinator (README, "Running on Citus"):
#
#   scripts/move-to-citus.sh SOURCE_URL COORDINATOR_URL
#
# 1. The coordinator's database gets the schema from the migrations
#    (`migration up`: the customer tables distributed, the rest local).
# 2. It must hold no data yet, and both databases must have the same
#    migrations applied (run `migration up` on the source first, with the
#    same release).
# 3. The source's rows are copied with pg_dump --data-only (one snapshot of
#    the source, so a load running there meanwhile is either wholly in or
#    wholly out) into the coordinator in ONE transaction: Citus routes each
#    customer's rows to its shard; a failure leaves the coordinator empty.
# 4. The row counts of every table are compared; the script fails on any
#    difference.
#
# The source is only read. Stop the loads into the source for the duration,
# and point the servers at the coordinator afterwards.
#
# Environment: MIGRATION, the migration command (default: the workspace's
# `cargo run --release -p migration --`; in the container image `migration`).
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -eq 2 ] || { sed -n '2,22p' "$0" >&2; exit 2; }
SOURCE=$1
TARGET=$2
MIGRATION=${MIGRATION:-cargo run -q --release --locked -p migration --}

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"; }

has_citus=$(q "$TARGET" "SELECT COUNT(*) FROM pg_extension WHERE extname = 'citus'") ||
  die "cannot reach the coordinator (psql said why above)"
[ "$has_citus" = 1 ] || die "the target database has no citus extension: not a Citus coordinator"
[ "$(q "$SOURCE" "SELECT COUNT(*) FROM pg_extension WHERE extname = 'citus'")" = 0 ] ||
  die "the source is a Citus database already"

say "1/4 schema on the coordinator (migration up)"
# shellcheck disable=SC2086 # MIGRATION is a command line
DATABASE_URL=$TARGET $MIGRATION up >&2

say "2/4 checks"
runs=$(q "$TARGET" "SELECT (SELECT COUNT(*) FROM etl_run) + (SELECT COUNT(*) FROM fct_transaction) + (SELECT COUNT(*) FROM dim_user)")
[ "$runs" = 0 ] || die "the coordinator's database holds data already (runs, transactions or customers): refusing to mix two databases"
applied="SELECT string_agg(version, ' ' ORDER BY version) FROM seaql_migrations"
[ "$(q "$SOURCE" "$applied")" = "$(q "$TARGET" "$applied")" ] ||
  die "the source and the coordinator differ in their applied migrations: run \`migration up\` on the source with this release first"

# Tables the migrations fill (reference data such as the currencies' minor
# units) are the coordinator's own: not copied, compared with the rest.
tables="SELECT string_agg(format('SELECT %L AS t, COUNT(*) AS n FROM %I', c.relname, c.relname), ' UNION ALL ' ORDER BY c.relname)
        FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE s.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'seaql_migrations'"
counts() { q "$1" "$(q "$1" "$tables")"; }
seeded=()
while IFS='|' read -r table n; do
  [ "$n" = 0 ] || seeded+=("--exclude-table-data=$table")
done < <(counts "$TARGET")

say "3/4 copying the rows (one snapshot of the source, one transaction on the coordinator)"
started=$SECONDS
# No migrations table (the coordinator has its own rows), no owners or grants
# (the coordinator's roles may differ: grant again there). Rows go through
# the partitioned tables' roots: the partitions' names change with each swap.
pg_dump --data-only --load-via-partition-root --no-owner --no-privileges \
  --exclude-table=seaql_migrations "${seeded[@]}" "$SOURCE" |
  psql -X -q -v ON_ERROR_STOP=1 --single-transaction "$TARGET" >/dev/null
say "    copied in $((SECONDS - started)) s"
q "$TARGET" "ANALYZE" >/dev/null

say "4/4 comparing the row count of every table"
source_counts=$(counts "$SOURCE")
target_counts=$(counts "$TARGET")
if [ "$source_counts" != "$target_counts" ]; then
  diff <(echo "$source_counts") <(echo "$target_counts") >&2 || true
  die "the row counts differ (above: < source, > coordinator)"
fi
say "    $(echo "$source_counts" | wc -l) tables, the same row counts:"
echo "$source_counts" | sed 's/|/: /; s/^/      /' >&2
say "moved: point DATABASE_URL at the coordinator"

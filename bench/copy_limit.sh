# PostgreSQL's COPY limit, shared by bench/run.sh and bench/cpu_split.sh (sourced;
# needs $PG and $OUT): the ETL's cleaned rows exported in binary, then copied
# into empty tables with the same column types and collations, keys built after
# — no parsing, no cleaning, no aggregates.
# Every benchmark script sources this file, so the tools they run (psql,
# wrk, /usr/bin/time, curl, sqlite3) are installed here when missing: a
# fresh machine once stopped bench/api_compare.sh at its first wrk.
# shellcheck source=bench/tools.sh
. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

# A fresh, empty database named $1.
fresh_db() {
  psql -q -v ON_ERROR_STOP=1 "$PG/postgres" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}

# The star schema's rows of database $1, as $OUT/<table>.bin.
export_limit_rows() {
  local t
  for t in dim_user dim_product fct_transaction; do
    psql -q "$PG/$1" -c "\\copy (SELECT * FROM $t) TO '$OUT/$t.bin' WITH (FORMAT binary)"
  done
}

# A fresh database $1 with the three tables, no keys (untimed).
prepare_limit_db() {
  fresh_db "$1"
  psql -q "$PG/$1" -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE TABLE dim_user (customer_id text COLLATE "C", customer_name text, customer_email text, currency text, total_spending_cents bigint, transactions bigint, in_users_file boolean, conflicting_name boolean, conflicting_email boolean, null_subscription boolean, unknown_subscription boolean);
CREATE TABLE dim_product (subscription_id text COLLATE "C", plan text COLLATE "C", product text, "interval" text, amount_cents bigint, status text);
CREATE TABLE fct_transaction (transaction_id text COLLATE "C", date_utc timestamp, customer_id text COLLATE "C", subscription_id text COLLATE "C", total_cents bigint, currency text);
SQL
}

# The limit itself (timed by the caller): one transaction of binary COPY, then keys.
run_limit() {
  psql -q "$PG/$1" -v ON_ERROR_STOP=1 >/dev/null <<SQL
BEGIN;
\\copy dim_user FROM '$OUT/dim_user.bin' WITH (FORMAT binary)
\\copy dim_product FROM '$OUT/dim_product.bin' WITH (FORMAT binary)
\\copy fct_transaction FROM '$OUT/fct_transaction.bin' WITH (FORMAT binary)
ALTER TABLE dim_user ADD PRIMARY KEY (customer_id);
ALTER TABLE dim_product ADD PRIMARY KEY (subscription_id, plan);
ALTER TABLE fct_transaction ADD PRIMARY KEY (transaction_id);
COMMIT;
SQL
}

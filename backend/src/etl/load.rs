//! Writing a run into the database atomically.
//!
//! PostgreSQL: inside one transaction, rows are `COPY`ed into fresh `*__load`
//! tables without indexes; at the end the old tables are dropped, the new ones
//! renamed, and the live tables' own constraints and indexes (read from the
//! catalog, so the migrations stay the one definition) rebuilt on them. Readers
//! keep seeing the previous data until the commit; a crash rolls everything back.
//!
//! SQLite: one write transaction that deletes the old rows and inserts the new
//! ones with prepared multi-row statements; WAL readers see the old data until
//! the commit.

use chrono::NaiveDateTime;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use super::error::EtlError;
use super::rows::{CellWriter, Row};

/// Tables replaced by every run, children first.
pub const REPLACED: &[&str] = &[
    "fct_transaction",
    "agg_product_month",
    "agg_customer_spending",
    "agg_monthly",
    "dim_product",
    "dim_user",
];

pub enum Loader {
    Postgres(Transaction<'static, Postgres>),
    /// A dedicated connection inside `BEGIN IMMEDIATE`; closed (never returned to
    /// the pool) when the load ends, so an unfinished transaction is rolled back
    /// and its pragmas do not leak to other users of the pool.
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
}

impl Loader {
    pub async fn begin_postgres(pool: &sqlx::PgPool) -> Result<Self, EtlError> {
        let mut tx = pool
            .begin()
            .await
            .map_err(EtlError::db("starting the load transaction"))?;
        // Keys are built after the load; give their sorts room to stay in memory.
        sqlx::raw_sql("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *tx)
            .await
            .map_err(EtlError::db("configuring the load transaction"))?;
        for table in REPLACED {
            let sql = format!(
                "DROP TABLE IF EXISTS {table}__load; CREATE TABLE {table}__load (LIKE {table} INCLUDING DEFAULTS)"
            );
            sqlx::raw_sql(&sql)
                .execute(&mut *tx)
                .await
                .map_err(EtlError::db("creating load tables"))?;
        }
        Ok(Loader::Postgres(tx))
    }

    pub async fn begin_sqlite(pool: &sqlx::SqlitePool) -> Result<Self, EtlError> {
        let mut conn = pool.acquire().await.map_err(EtlError::db("connecting for the load"))?;
        conn.close_on_drop();
        // Foreign keys are checked once at the end (PRAGMA foreign_key_check, using the
        // parent's primary key) instead of per row: SQLite's per-row checks scan the
        // child table for every parent row inserted after its children.
        sqlx::raw_sql(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; \
             BEGIN IMMEDIATE",
        )
        .execute(&mut *conn)
        .await
        .map_err(EtlError::db("starting the load transaction"))?;
        for table in REPLACED {
            sqlx::raw_sql(&format!("DELETE FROM {table}"))
                .execute(&mut *conn)
                .await
                .map_err(EtlError::db("clearing the previous data"))?;
        }
        // Facts are appended to an unindexed staging table, then moved in key order
        // (see `commit`): sorted inserts into the primary key's b-tree are sequential,
        // random ones are not.
        sqlx::raw_sql(&format!(
            "CREATE TEMP TABLE {SQLITE_FACT_STAGE} AS SELECT * FROM fct_transaction WHERE 0"
        ))
        .execute(&mut *conn)
        .await
        .map_err(EtlError::db("creating the staging table"))?;
        Ok(Loader::Sqlite(conn))
    }

    /// Writes rows of a replaced table (into its load table on PostgreSQL).
    pub async fn write<R: Row>(&mut self, rows: &[R]) -> Result<(), EtlError> {
        if matches!(self, Loader::Sqlite(_)) && R::TABLE == "fct_transaction" {
            return self.write_into::<R>(SQLITE_FACT_STAGE, rows).await;
        }
        let staged = matches!(self, Loader::Postgres(_)) && REPLACED.contains(&R::TABLE);
        let table = if staged {
            format!("{}__load", R::TABLE)
        } else {
            R::TABLE.to_owned()
        };
        self.write_into::<R>(&table, rows).await
    }

    async fn write_into<R: Row>(&mut self, table: &str, rows: &[R]) -> Result<(), EtlError> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Loader::Postgres(tx) => copy_rows(tx, table, rows).await,
            Loader::Sqlite(tx) => insert_rows(tx, table, rows).await,
        }
    }

    /// Writes a batch of transactions.
    pub async fn write_facts(&mut self, batch: super::rows::FactBatch) -> Result<(), EtlError> {
        use super::rows::{FactBatch, FactRow};
        match (batch, self) {
            (FactBatch::Rows(rows), loader) => loader.write(&rows).await,
            (FactBatch::Copy { bytes, .. }, Loader::Postgres(tx)) => {
                copy_bytes(tx, "fct_transaction__load", FactRow::COLUMNS, bytes).await
            }
            (FactBatch::Copy { .. }, Loader::Sqlite(_)) => {
                Err(EtlError::Aborted("COPY data sent to a SQLite load".to_owned()))
            }
        }
    }

    /// Runs one statement inside the load transaction.
    pub async fn execute(&mut self, sql: &str, binds: &[BindValue]) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(tx) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = match b {
                        BindValue::Int(v) => q.bind(*v),
                        BindValue::Text(v) => q.bind(v.clone()),
                        BindValue::Ts(v) => q.bind(*v),
                    };
                }
                q.execute(&mut **tx).await.map_err(EtlError::db("recording the run"))?;
            }
            Loader::Sqlite(conn) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = match b {
                        BindValue::Int(v) => q.bind(*v),
                        BindValue::Text(v) => q.bind(v.clone()),
                        BindValue::Ts(v) => q.bind(*v),
                    };
                }
                q.execute(&mut **conn)
                    .await
                    .map_err(EtlError::db("recording the run"))?;
            }
        }
        Ok(())
    }

    /// Makes the new data visible: swaps tables (PostgreSQL) and commits.
    pub async fn commit(self) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(mut tx) => {
                swap_postgres(&mut tx).await?;
                tx.commit().await.map_err(EtlError::db("committing the load"))?;
            }
            Loader::Sqlite(mut conn) => {
                sqlx::raw_sql(&format!(
                    "INSERT INTO fct_transaction SELECT * FROM {SQLITE_FACT_STAGE} ORDER BY transaction_id; \
                     DROP TABLE {SQLITE_FACT_STAGE}"
                ))
                .execute(&mut *conn)
                .await
                .map_err(EtlError::db("moving staged transactions"))?;
                let violations: Vec<(String,)> =
                    sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 5")
                        .fetch_all(&mut *conn)
                        .await
                        .map_err(EtlError::db("checking foreign keys"))?;
                if !violations.is_empty() {
                    return Err(EtlError::Aborted(format!("foreign key violations in {violations:?}")));
                }
                sqlx::raw_sql("COMMIT")
                    .execute(&mut *conn)
                    .await
                    .map_err(EtlError::db("committing the load"))?;
            }
        }
        Ok(())
    }
}

/// SQLite's staging table for facts (a TEMP table: private to the load connection).
const SQLITE_FACT_STAGE: &str = "temp.fct_transaction_stage";

pub enum BindValue {
    Int(i64),
    Text(String),
    Ts(NaiveDateTime),
}

/// Appends one transaction to a COPY text buffer.
pub fn encode_fact(out: &mut Vec<u8>, fact: &super::rows::FactRef<'_>) {
    fact.write(&mut CopyText { out, first: true });
    out.push(b'\n');
}

/// Encodes cells in PostgreSQL's COPY text format.
struct CopyText<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl CopyText<'_> {
    fn sep(&mut self) {
        if !self.first {
            self.out.push(b'\t');
        }
        self.first = false;
    }
}

impl CellWriter for CopyText<'_> {
    fn text(&mut self, value: &str) {
        self.sep();
        for &b in value.as_bytes() {
            match b {
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                _ => self.out.push(b),
            }
        }
    }
    fn opt_text(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.text(v),
            None => {
                self.sep();
                self.out.extend_from_slice(b"\\N");
            }
        }
    }
    fn int(&mut self, value: i64) {
        use std::io::Write;
        self.sep();
        let _ = write!(self.out, "{value}");
    }
    fn boolean(&mut self, value: bool) {
        self.sep();
        self.out.push(if value { b't' } else { b'f' });
    }
    fn timestamp(&mut self, value: &NaiveDateTime) {
        use chrono::{Datelike, Timelike};
        use std::io::Write;
        self.sep();
        // Hand-formatted: chrono's strftime was a hot spot at millions of rows.
        let _ = write!(
            self.out,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            value.year(),
            value.month(),
            value.day(),
            value.hour(),
            value.minute(),
            value.second()
        );
        if value.nanosecond() != 0 {
            let _ = write!(self.out, ".{:06}", value.nanosecond() / 1000);
        }
    }
}

async fn copy_rows<R: Row>(conn: &mut PgConnection, table: &str, rows: &[R]) -> Result<(), EtlError> {
    let mut buf = Vec::with_capacity(rows.len() * 96);
    for row in rows {
        row.write(&mut CopyText {
            out: &mut buf,
            first: true,
        });
        buf.push(b'\n');
    }
    copy_bytes(conn, table, R::COLUMNS, buf).await
}

async fn copy_bytes(conn: &mut PgConnection, table: &str, columns: &[&str], buf: Vec<u8>) -> Result<(), EtlError> {
    let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut copy = conn.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
    copy.send(buf).await.map_err(EtlError::db("sending COPY data"))?;
    copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
    Ok(())
}

#[derive(Clone)]
enum SqliteValue {
    Text(String),
    Null,
    Int(i64),
    Ts(NaiveDateTime),
}

struct SqliteCells(Vec<SqliteValue>);

impl CellWriter for SqliteCells {
    fn text(&mut self, value: &str) {
        self.0.push(SqliteValue::Text(value.to_owned()));
    }
    fn opt_text(&mut self, value: Option<&str>) {
        self.0
            .push(value.map_or(SqliteValue::Null, |v| SqliteValue::Text(v.to_owned())));
    }
    fn int(&mut self, value: i64) {
        self.0.push(SqliteValue::Int(value));
    }
    fn boolean(&mut self, value: bool) {
        self.0.push(SqliteValue::Int(i64::from(value)));
    }
    fn timestamp(&mut self, value: &NaiveDateTime) {
        self.0.push(SqliteValue::Ts(*value));
    }
}

/// SQLite allows at most 32,766 bound parameters per statement.
const SQLITE_MAX_PARAMS: usize = 32_766;

async fn insert_rows<R: Row>(conn: &mut SqliteConnection, table: &str, rows: &[R]) -> Result<(), EtlError> {
    let ncols = R::COLUMNS.len();
    let per_stmt = (SQLITE_MAX_PARAMS / ncols).min(1000);
    let placeholders = format!("({})", vec!["?"; ncols].join(","));
    for chunk in rows.chunks(per_stmt) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            R::COLUMNS.join(","),
            vec![placeholders.as_str(); chunk.len()].join(",")
        );
        let mut cells = SqliteCells(Vec::with_capacity(chunk.len() * ncols));
        for row in chunk {
            row.write(&mut cells);
        }
        let mut q = sqlx::query(&sql);
        for v in cells.0 {
            q = match v {
                SqliteValue::Text(t) => q.bind(t),
                SqliteValue::Null => q.bind(Option::<String>::None),
                SqliteValue::Int(i) => q.bind(i),
                SqliteValue::Ts(t) => q.bind(t),
            };
        }
        q.execute(&mut *conn).await.map_err(EtlError::db("inserting rows"))?;
    }
    Ok(())
}

/// Replaces each live table by its load table, rebuilding the live table's
/// constraints and indexes exactly as the migrations defined them.
async fn swap_postgres(conn: &mut PgConnection) -> Result<(), EtlError> {
    let mut keys = Vec::new(); // primary keys and unique constraints
    let mut foreign = Vec::new();
    let mut indexes = Vec::new();
    for table in REPLACED {
        let constraints: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT conname::text, contype::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = to_regclass($1) ORDER BY conname",
        )
        .bind(*table)
        .fetch_all(&mut *conn)
        .await
        .map_err(EtlError::db("reading constraints"))?;
        for (name, kind, def) in constraints {
            let stmt = format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}");
            match kind.as_str() {
                "f" => foreign.push(stmt),
                _ => keys.push(stmt),
            }
        }
        let defs: Vec<(String,)> = sqlx::query_as(
            "SELECT indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = $1 \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = to_regclass($1)) \
             ORDER BY indexname",
        )
        .bind(*table)
        .fetch_all(&mut *conn)
        .await
        .map_err(EtlError::db("reading indexes"))?;
        indexes.extend(defs.into_iter().map(|d| d.0));
    }
    let drop = format!("DROP TABLE {}", REPLACED.join(", "));
    sqlx::raw_sql(&drop)
        .execute(&mut *conn)
        .await
        .map_err(EtlError::db("dropping the previous tables"))?;
    for table in REPLACED {
        let sql = format!("ALTER TABLE {table}__load RENAME TO {table}");
        sqlx::raw_sql(&sql)
            .execute(&mut *conn)
            .await
            .map_err(EtlError::db("renaming the load tables"))?;
    }
    for stmt in keys.iter().chain(&foreign).chain(&indexes) {
        sqlx::raw_sql(stmt)
            .execute(&mut *conn)
            .await
            .map_err(EtlError::db("rebuilding keys and indexes"))?;
    }
    Ok(())
}

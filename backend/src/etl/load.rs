//! Writing a run into the database atomically.
//!
//! PostgreSQL: rows are `COPY`ed into fresh `*__load` tables without indexes,
//! whose keys are built after the load; then, in one transaction, the old tables
//! are dropped, the new ones renamed, and the live tables' foreign keys and
//! indexes rebuilt (all read from the catalog, so the migrations stay the one
//! definition). The fact table is loaded and keyed on a connection of its own,
//! so its primary key is built while customers and aggregates are written.
//! Readers keep seeing the previous data until the commit; a failure before it
//! leaves at most an orphan `fct_transaction__load`, dropped by the next run.
//!
//! SQLite: one write transaction that deletes the old rows and inserts the new
//! ones with prepared multi-row statements; WAL readers see the old data until
//! the commit.

use chrono::NaiveDateTime;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, Transaction};
use tokio::sync::mpsc;

use super::error::EtlError;
use super::rows::{timestamp_text, CellWriter, FactRow, Row};

/// Tables replaced by every run, children first.
pub const REPLACED: &[&str] = &[
    "fct_transaction",
    "agg_product_month",
    "agg_customer_spending",
    "agg_monthly",
    "dim_product",
    "dim_user",
];

/// The fact table of a run, and the tables every run replaces with it.
const FACTS: &str = "fct_transaction";

/// Serializes ingests into one PostgreSQL database (any constant; "revenue").
const INGEST_LOCK: i64 = 0x0072_6576_656e_7565;

pub enum Loader {
    Postgres {
        tx: Transaction<'static, Postgres>,
        facts: FactLoad,
    },
    /// A dedicated connection inside `BEGIN IMMEDIATE`; closed (never returned to
    /// the pool) when the load ends, so an unfinished transaction is rolled back
    /// and its pragmas do not leak to other users of the pool.
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
}

impl Loader {
    pub async fn begin_postgres(pool: &PgPool) -> Result<Self, EtlError> {
        let mut tx = begin_keyed(pool).await?;
        // A second ingest waits here until this one commits or fails.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(INGEST_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(EtlError::db("waiting for another ingest to finish"))?;
        let facts = FactLoad::start(pool.clone());
        for table in REPLACED.iter().filter(|t| **t != FACTS) {
            let sql = format!(
                "DROP TABLE IF EXISTS {table}__load; CREATE TABLE {table}__load (LIKE {table} INCLUDING DEFAULTS)"
            );
            sqlx::raw_sql(&sql)
                .execute(&mut *tx)
                .await
                .map_err(EtlError::db("creating load tables"))?;
        }
        Ok(Loader::Postgres { tx, facts })
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
        if matches!(self, Loader::Postgres { .. }) && R::TABLE == FACTS {
            return Err(EtlError::Aborted("facts must be sent with write_facts".to_owned()));
        }
        let staged = matches!(self, Loader::Postgres { .. }) && REPLACED.contains(&R::TABLE);
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
            Loader::Postgres { tx, .. } => {
                // Load tables are new in this transaction: their rows can be frozen.
                let options = if table.ends_with("__load") {
                    " WITH (FREEZE)"
                } else {
                    ""
                };
                copy_rows(tx, table, options, rows).await
            }
            Loader::Sqlite(tx) => insert_rows(tx, table, rows).await,
        }
    }

    /// Writes a batch of transactions.
    pub async fn write_facts(&mut self, batch: super::rows::FactBatch) -> Result<(), EtlError> {
        use super::rows::FactBatch;
        match (batch, self) {
            (FactBatch::Rows(rows), loader @ Loader::Sqlite(_)) => loader.write::<FactRow>(&rows).await,
            (FactBatch::Copy { bytes, .. }, Loader::Postgres { facts, .. }) => facts.send(bytes).await,
            // The parsing thread encodes for the loader it was started for.
            _ => Err(EtlError::Aborted("a batch encoded for the other database".to_owned())),
        }
    }

    /// Marks the end of the facts: on PostgreSQL their keys are built from now
    /// on, while the rest of the run is written.
    pub async fn facts_complete(&mut self) -> Result<(), EtlError> {
        match self {
            Loader::Postgres { facts, .. } => facts.complete().await,
            Loader::Sqlite(_) => Ok(()),
        }
    }

    /// Runs one statement inside the load transaction.
    pub async fn execute(&mut self, sql: &str, binds: &[BindValue]) -> Result<(), EtlError> {
        match self {
            Loader::Postgres { tx, .. } => {
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
            Loader::Postgres { mut tx, facts } => {
                swap_postgres(&mut tx, facts).await?;
                tx.commit().await.map_err(EtlError::db("committing the load"))?;
            }
            Loader::Sqlite(mut conn) => {
                let started = std::time::Instant::now();
                let step = |name: &str| {
                    tracing::debug!(
                        step = name,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "sqlite commit"
                    )
                };
                // The foreign key is checked on the staged rows, before they move: the
                // staging table and dim_user are still in cache then, and the staged
                // rows are exactly the rows that move.
                let orphans: Vec<(String,)> = sqlx::query_as(&format!(
                    "SELECT s.customer_id FROM {SQLITE_FACT_STAGE} s \
                     WHERE NOT EXISTS (SELECT 1 FROM dim_user u WHERE u.customer_id = s.customer_id) LIMIT 5"
                ))
                .fetch_all(&mut *conn)
                .await
                .map_err(EtlError::db("checking foreign keys"))?;
                if !orphans.is_empty() {
                    return Err(EtlError::Aborted(format!(
                        "foreign key violation: transactions of customers missing from dim_user: {orphans:?}"
                    )));
                }
                step("checked foreign keys of the staged transactions");
                sqlx::raw_sql(&format!(
                    "INSERT INTO fct_transaction SELECT * FROM {SQLITE_FACT_STAGE} ORDER BY transaction_id; \
                     DROP TABLE {SQLITE_FACT_STAGE}"
                ))
                .execute(&mut *conn)
                .await
                .map_err(EtlError::db("moving staged transactions"))?;
                step("moved staged transactions");
                // The audit trail's references to the run.
                let violations: Vec<(String,)> = sqlx::query_as(
                    "SELECT \"table\" FROM pragma_foreign_key_check('etl_run_file') \
                     UNION ALL SELECT \"table\" FROM pragma_foreign_key_check('etl_rejected_row') LIMIT 5",
                )
                .fetch_all(&mut *conn)
                .await
                .map_err(EtlError::db("checking foreign keys"))?;
                if !violations.is_empty() {
                    return Err(EtlError::Aborted(format!("foreign key violations in {violations:?}")));
                }
                step("checked foreign keys");
                sqlx::raw_sql("COMMIT")
                    .execute(&mut *conn)
                    .await
                    .map_err(EtlError::db("committing the load"))?;
                step("committed");
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

/// PostgreSQL's binary COPY format for the fact rows: no text to format on our
/// side and none to parse on the server's (timestamps especially).
pub mod copy_binary {
    use chrono::NaiveDateTime;

    use crate::etl::rows::{CellWriter, FactRef};

    const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
    /// 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix microseconds.
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

    /// Starts a COPY data stream (then any number of rows).
    pub fn start(out: &mut Vec<u8>) {
        out.extend_from_slice(HEADER);
    }

    /// Ends a COPY data stream.
    pub fn finish(out: &mut Vec<u8>) {
        out.extend_from_slice(&(-1i16).to_be_bytes());
    }

    /// Appends one transaction (the columns of `FactRow::COLUMNS`).
    pub fn fact(out: &mut Vec<u8>, fact: &FactRef<'_>) {
        out.extend_from_slice(&6i16.to_be_bytes());
        fact.write(&mut Binary(out));
    }

    struct Binary<'a>(&'a mut Vec<u8>);

    impl CellWriter for Binary<'_> {
        fn text(&mut self, value: &str) {
            self.0.extend_from_slice(&(value.len() as i32).to_be_bytes());
            self.0.extend_from_slice(value.as_bytes());
        }
        fn opt_text(&mut self, value: Option<&str>) {
            match value {
                Some(v) => self.text(v),
                None => self.0.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        fn int(&mut self, value: i64) {
            self.0.extend_from_slice(&8i32.to_be_bytes());
            self.0.extend_from_slice(&value.to_be_bytes());
        }
        fn boolean(&mut self, value: bool) {
            self.0.extend_from_slice(&1i32.to_be_bytes());
            self.0.push(u8::from(value));
        }
        fn timestamp(&mut self, value: &NaiveDateTime) {
            self.int(value.and_utc().timestamp_micros() - PG_EPOCH_MICROS);
        }
    }
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
        self.sep();
        let mut text = String::with_capacity(26);
        timestamp_text(&mut text, value);
        self.out.extend_from_slice(text.as_bytes());
    }
}

async fn copy_rows<R: Row>(conn: &mut PgConnection, table: &str, options: &str, rows: &[R]) -> Result<(), EtlError> {
    let mut buf = Vec::with_capacity(rows.len() * 96);
    for row in rows {
        row.write(&mut CopyText {
            out: &mut buf,
            first: true,
        });
        buf.push(b'\n');
    }
    let sql = format!("COPY {table} ({}) FROM STDIN{options}", R::COLUMNS.join(", "));
    let mut copy = conn.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
    copy.send(buf).await.map_err(EtlError::db("sending COPY data"))?;
    copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
    Ok(())
}

/// Binds the cells of one row to a prepared SQLite statement (`?1`, `?2`, …).
struct SqliteBind<'s, 'c> {
    stmt: &'s mut rusqlite::Statement<'c>,
    index: usize,
    error: Option<rusqlite::Error>,
    scratch: String,
}

impl SqliteBind<'_, '_> {
    fn bind<T: rusqlite::ToSql>(&mut self, value: T) {
        self.index += 1;
        if let Err(e) = self.stmt.raw_bind_parameter(self.index, value) {
            self.error.get_or_insert(e);
        }
    }
}

impl CellWriter for SqliteBind<'_, '_> {
    fn text(&mut self, value: &str) {
        self.bind(value);
    }
    fn opt_text(&mut self, value: Option<&str>) {
        self.bind(value);
    }
    fn int(&mut self, value: i64) {
        self.bind(value);
    }
    fn boolean(&mut self, value: bool) {
        self.bind(i64::from(value));
    }
    fn timestamp(&mut self, value: &NaiveDateTime) {
        // Bound as the text sqlx (and so SeaORM) reads back.
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        timestamp_text(&mut text, value);
        self.bind(text.as_str());
        self.scratch = text;
    }
}

fn sqlite_error(during: &'static str) -> impl Fn(rusqlite::Error) -> EtlError {
    move |e| EtlError::Database {
        during,
        message: e.to_string(),
    }
}

/// Inserts rows with one prepared statement executed per row, on the raw handle
/// of the load connection: binding values through sqlx cost more than SQLite's
/// own insert work (a boxed argument per value, a statement per chunk).
#[allow(unsafe_code)]
async fn insert_rows<R: Row>(conn: &mut SqliteConnection, table: &str, rows: &[R]) -> Result<(), EtlError> {
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        R::COLUMNS.join(","),
        vec!["?"; R::COLUMNS.len()].join(",")
    );
    let mut handle = conn
        .lock_handle()
        .await
        .map_err(EtlError::db("locking the load connection"))?;
    // SAFETY: while `handle` lives, sqlx's worker thread makes no calls on this
    // connection; `from_handle` borrows it and does not close it when dropped.
    // The statement is finalized before the handle is released.
    let raw = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }
        .map_err(sqlite_error("opening the load connection"))?;
    let mut stmt = raw.prepare(&sql).map_err(sqlite_error("preparing inserts"))?;
    let mut bind = SqliteBind {
        stmt: &mut stmt,
        index: 0,
        error: None,
        scratch: String::with_capacity(32),
    };
    for row in rows {
        bind.index = 0;
        row.write(&mut bind);
        if let Some(e) = bind.error.take() {
            return Err(sqlite_error("binding row values")(e));
        }
        bind.stmt.raw_execute().map_err(sqlite_error("inserting rows"))?;
    }
    drop(stmt);
    drop(raw);
    Ok(())
}

/// A transaction with room for building keys: their sorts, and the join that
/// validates a foreign key, stay in memory.
async fn begin_keyed(pool: &PgPool) -> Result<Transaction<'static, Postgres>, EtlError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(EtlError::db("starting the load transaction"))?;
    for setting in [
        "SET LOCAL maintenance_work_mem = '256MB'",
        "SET LOCAL work_mem = '128MB'",
    ] {
        ddl(&mut tx, setting)
            .await
            .map_err(EtlError::db("configuring the load transaction"))?;
    }
    Ok(tx)
}

/// One statement, not prepared for reuse. (`sqlx::raw_sql` would do, but its
/// future cannot be spawned: sqlx issue #3150.)
async fn ddl(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).persistent(false).execute(conn).await.map(|_| ())
}

/// The fact table's load, on its own connection and transaction: `COPY` of the
/// batches as they come, then its keys, then commit (only when told the load is
/// complete: a run that stops half-way rolls it back).
pub struct FactLoad {
    sender: mpsc::Sender<FactMessage>,
    task: tokio::task::JoinHandle<Result<(), EtlError>>,
}

enum FactMessage {
    Copy(Vec<u8>),
    Finish,
}

impl FactLoad {
    fn start(pool: PgPool) -> Self {
        let (sender, receiver) = mpsc::channel(2);
        let task = tokio::spawn(Self::run(pool, receiver));
        Self { sender, task }
    }

    async fn run(pool: PgPool, mut receiver: mpsc::Receiver<FactMessage>) -> Result<(), EtlError> {
        let mut tx = begin_keyed(&pool).await?;
        for stmt in [
            format!("DROP TABLE IF EXISTS {FACTS}__load"),
            format!("CREATE TABLE {FACTS}__load (LIKE {FACTS} INCLUDING DEFAULTS)"),
        ] {
            ddl(&mut tx, &stmt)
                .await
                .map_err(EtlError::db("creating load tables"))?;
        }
        // One COPY for all the batches. FREEZE (the table is new in this
        // transaction): rows are written frozen and the pages marked all-visible,
        // so the first scans (the foreign-key check, analysts' queries) and
        // autovacuum need not revisit and rewrite every page afterwards.
        let sql = format!(
            "COPY {FACTS}__load ({}) FROM STDIN WITH (FORMAT binary, FREEZE)",
            FactRow::COLUMNS.join(", ")
        );
        let mut copy = tx.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
        let mut header = Vec::new();
        copy_binary::start(&mut header);
        copy.send(header).await.map_err(EtlError::db("sending COPY data"))?;
        loop {
            match receiver.recv().await {
                Some(FactMessage::Copy(bytes)) => {
                    copy.send(bytes).await.map_err(EtlError::db("sending COPY data"))?;
                }
                Some(FactMessage::Finish) => break,
                None => {
                    let _ = copy.abort("the load stopped").await;
                    return Err(EtlError::Aborted(
                        "the load stopped before the last transaction".to_owned(),
                    ));
                }
            }
        }
        let mut trailer = Vec::new();
        copy_binary::finish(&mut trailer);
        copy.send(trailer).await.map_err(EtlError::db("sending COPY data"))?;
        copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
        build_keys(&mut tx, FACTS).await?;
        tx.commit().await.map_err(EtlError::db("committing the fact table"))?;
        Ok(())
    }

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), EtlError> {
        if self.sender.send(FactMessage::Copy(bytes)).await.is_ok() {
            return Ok(());
        }
        // The load only stops early on an error: report it.
        match (&mut self.task).await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(EtlError::Aborted("the fact table's load ended early".to_owned())),
            Err(e) => Err(EtlError::Aborted(format!("the fact table's load failed: {e}"))),
        }
    }

    /// Tells the load it is complete: it goes on to build the keys.
    async fn complete(&mut self) -> Result<(), EtlError> {
        if self.sender.send(FactMessage::Finish).await.is_ok() {
            return Ok(());
        }
        match (&mut self.task).await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Ok(()),
            Err(e) => Err(EtlError::Aborted(format!("the fact table's load failed: {e}"))),
        }
    }

    /// Waits for the keys and the commit.
    async fn finish(self) -> Result<(), EtlError> {
        drop(self.sender);
        self.task
            .await
            .map_err(|e| EtlError::Aborted(format!("the fact table's load failed: {e}")))?
    }
}

/// The primary key and unique constraints of a live table, as (name, definition).
async fn key_constraints(conn: &mut PgConnection, table: &str) -> Result<Vec<(String, String)>, EtlError> {
    sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = to_regclass($1) AND contype IN ('p', 'u') ORDER BY conname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(EtlError::db("reading constraints"))
}

/// Builds the live table's keys on its load table, named `<name>__load` until the swap.
async fn build_keys(conn: &mut PgConnection, table: &str) -> Result<(), EtlError> {
    for (name, def) in key_constraints(conn, table).await? {
        let started = std::time::Instant::now();
        let stmt = format!("ALTER TABLE {table}__load ADD CONSTRAINT {name}__load {def}");
        ddl(conn, &stmt).await.map_err(EtlError::db("building keys"))?;
        tracing::debug!(statement = %stmt, elapsed_ms = started.elapsed().as_millis() as u64, "keys");
    }
    Ok(())
}

/// Replaces each live table by its load table: keys, indexes and statistics
/// are built on the load tables first (while the fact table's key is built on
/// its own connection), then names swapped, then foreign keys validated.
async fn swap_postgres(conn: &mut PgConnection, facts: FactLoad) -> Result<(), EtlError> {
    let small: Vec<&str> = REPLACED.iter().copied().filter(|t| *t != FACTS).collect();
    let mut renames = Vec::new();
    let mut foreign = Vec::new();
    for table in &small {
        build_keys(conn, table).await?;
    }
    for table in REPLACED {
        // Keys (built on the load tables above) get their names back; foreign keys
        // are added after the swap, validated against the renamed parents.
        let constraints: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT conname::text, contype::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = to_regclass($1) ORDER BY conname",
        )
        .bind(*table)
        .fetch_all(&mut *conn)
        .await
        .map_err(EtlError::db("reading constraints"))?;
        for (name, kind, def) in constraints {
            match kind.as_str() {
                "p" | "u" => renames.push(format!("ALTER TABLE {table} RENAME CONSTRAINT {name}__load TO {name}")),
                _ => foreign.push(format!("ALTER TABLE {table} ADD CONSTRAINT {name} {def}")),
            }
        }
        // Plain indexes, built on the load table under a temporary name.
        let defs: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT indexname::text, schemaname::text, indexdef FROM pg_indexes i \
             WHERE schemaname = current_schema() AND tablename = $1 \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = to_regclass($1)) \
             ORDER BY indexname",
        )
        .bind(*table)
        .fetch_all(&mut *conn)
        .await
        .map_err(EtlError::db("reading indexes"))?;
        for (name, schema, def) in defs {
            let live = format!(" INDEX {name} ON {schema}.{table} ");
            let load = format!(" INDEX {name}__load ON {schema}.{table}__load ");
            if !def.contains(&live) {
                return Err(EtlError::Aborted(format!("unexpected index definition: {def}")));
            }
            let stmt = def.replacen(&live, &load, 1);
            let started = std::time::Instant::now();
            ddl(conn, &stmt).await.map_err(EtlError::db("building indexes"))?;
            tracing::debug!(statement = %stmt, elapsed_ms = started.elapsed().as_millis() as u64, "keys");
            renames.push(format!("ALTER INDEX {name}__load RENAME TO {name}"));
        }
    }
    // Fresh tables have no statistics, and the planner needs them for analysts'
    // queries. (The fact table is left to autovacuum: no report reads it.)
    let analyze = format!(
        "ANALYZE {}",
        small
            .iter()
            .map(|t| format!("{t}__load"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    ddl(conn, &analyze)
        .await
        .map_err(EtlError::db("analyzing the new tables"))?;
    facts.finish().await?;
    let drop = format!("DROP TABLE {}", REPLACED.join(", "));
    ddl(conn, &drop)
        .await
        .map_err(EtlError::db("dropping the previous tables"))?;
    for table in REPLACED {
        ddl(conn, &format!("ALTER TABLE {table}__load RENAME TO {table}"))
            .await
            .map_err(EtlError::db("renaming the load tables"))?;
    }
    for stmt in renames.iter().chain(&foreign) {
        let started = std::time::Instant::now();
        ddl(conn, stmt)
            .await
            .map_err(EtlError::db("renaming keys and validating foreign keys"))?;
        tracing::debug!(statement = %stmt, elapsed_ms = started.elapsed().as_millis() as u64, "swap");
    }
    Ok(())
}

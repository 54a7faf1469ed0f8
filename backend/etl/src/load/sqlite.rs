//! Loads into SQLite: everything inside one `BEGIN IMMEDIATE` transaction on a
//! dedicated connection; readers (WAL) see the previous data until the commit.
//!
//! Every run inserts into temporary `<table>__stage` tables first.
//! **Replace** deletes the previous rows and moves the staged ones into
//! the tables in key order: sorted inserts into a primary key's b-tree are
//! sequential, random ones are not (the customers come in the order the
//! transactions first name them, and at 50M their b-tree outgrows the page
//! cache: inserting them took minutes, BENCHMARKS.md "SQLite's rows in key
//! order"). **Append** merges the staged rows into the tables by each
//! table's [`Append`](crate::tables::Append) rule, the facts in key order.
//! Either way the facts' foreign key is checked once on the staged rows
//! instead of per row.

use std::time::Duration;

use sqlx::{Sqlite, SqliteConnection};

use super::{BindValue, LoadMode, Step};
use crate::encode::SqliteBind;
use crate::error::EtlError;
use crate::rows::{CellReader, FactBatch, FactRow, LookupKey, Row};
use crate::tables::{Table, LOOKUP_KEYS};
use store::entities::{etl_appended_transaction, is_star, FACTS, STAR};

/// Staging tables (TEMP: private to the load's connection).
const STAGE: &str = "__stage";

/// The load connection's page cache (KiB) for its reads, the moves in key
/// order and the foreign-key check, which walk b-trees larger than it.
const READING_CACHE_KIB: u32 = 64 * 1024;
/// The page cache (KiB) while pass 2 and the subscription feed write: they
/// append to staging tables and the feed's parts, pages that are written
/// once and not read again before the moves, and a cache of 64 MB only
/// held them in memory at the load's peak (BENCHMARKS.md, "Load memory,
/// sixth look").
const WRITING_CACHE_KIB: u32 = 4 * 1024;

/// How long an ingest waits for another one to finish before giving up.
const WAIT_FOR_OTHER_INGEST: Duration = Duration::from_secs(6 * 3600);

pub struct SqliteLoader {
    /// Closed (never returned to the pool) when the load ends, so an unfinished
    /// transaction is rolled back and its pragmas do not leak to other users.
    conn: sqlx::pool::PoolConnection<Sqlite>,
    mode: LoadMode,
    staged: Vec<(&'static Table, &'static [&'static str])>,
    /// A replace deletes the previous rows just before its first write, so
    /// that the run can read what is loaded until then (in the same transaction).
    cleared: bool,
}

impl SqliteLoader {
    pub async fn begin(pool: &sqlx::SqlitePool, mode: LoadMode) -> Result<Self, EtlError> {
        let mut conn = pool.acquire().await.map_err(EtlError::db("connecting for the load"))?;
        conn.close_on_drop();
        // Foreign keys are checked once at the end (on the staged transactions,
        // using the parent's primary key) instead of per row: SQLite's per-row
        // checks scan the child table for every parent row inserted after its children.
        // The moves in key order and the foreign-key check are sorts, which
        // SQLite splits across helper threads when allowed: one per other
        // core (grouping 50M facts' customers: 61 s alone, 33 s with one
        // helper on two cores; a sort's memory each, during the commit
        // phase, which peaks below the read).
        let helpers = std::thread::available_parallelism().map_or(0, |n| n.get() - 1).min(8);
        sqlx::raw_sql(&format!(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{READING_CACHE_KIB}; \
             PRAGMA threads = {helpers}"
        ))
        .execute(&mut *conn)
        .await
        .map_err(EtlError::db("configuring the load connection"))?;
        begin_immediate(&mut conn).await?;
        ensure_in_place(&mut conn).await?;
        let mut loader = Self {
            conn,
            mode,
            staged: Vec::new(),
            cleared: false,
        };
        if mode == LoadMode::Audit {
            return Ok(loader);
        }
        loader
            .raw(
                &format!("CREATE TEMP TABLE {} (k TEXT PRIMARY KEY)", LOOKUP_KEYS.name),
                "creating the lookup table",
            )
            .await?;
        for table in STAR {
            let t = table.name;
            loader
                .raw(
                    &format!("CREATE TEMP TABLE {t}{STAGE} AS SELECT * FROM {t} WHERE 0"),
                    "creating staging tables",
                )
                .await?;
        }
        Ok(loader)
    }

    /// Sizes the page cache for writing rows (`true`) or for what reads
    /// them after (`false`).
    pub async fn writing_rows(&mut self, writing: bool) -> Result<(), EtlError> {
        let kib = match writing {
            true => WRITING_CACHE_KIB,
            false => READING_CACHE_KIB,
        };
        self.raw(&format!("PRAGMA cache_size = -{kib}"), "sizing the page cache")
            .await
    }

    async fn raw(&mut self, sql: &str, during: &'static str) -> Result<(), EtlError> {
        let started = std::time::Instant::now();
        sqlx::raw_sql(sql)
            .execute(&mut *self.conn)
            .await
            .map_err(EtlError::db(during))?;
        tracing::debug!(statement = %sql, elapsed_ms = started.elapsed().as_millis() as u64, "{during}");
        Ok(())
    }

    fn target(&mut self, table: &'static Table, columns: &'static [&'static str]) -> Result<String, EtlError> {
        if !is_star(table) {
            return Ok(table.name.to_owned());
        }
        if !self.staged.iter().any(|(t, _)| t.name == table.name) {
            self.staged.push((table, columns));
        }
        match self.mode {
            LoadMode::Audit => Err(EtlError::Internal(format!(
                "an audit-only transaction cannot write {}",
                table.name
            ))),
            LoadMode::Replace | LoadMode::Append => Ok(format!("temp.{}{STAGE}", table.name)),
        }
    }

    /// Deletes the previous data of a replace (once).
    async fn clear(&mut self) -> Result<(), EtlError> {
        if self.mode != LoadMode::Replace || self.cleared {
            return Ok(());
        }
        self.cleared = true;
        let step = Step::start("delete the previous data");
        for table in STAR.iter().rev() {
            self.raw(&format!("DELETE FROM {}", table.name), "clearing the previous data")
                .await?;
        }
        step.done(None);
        Ok(())
    }

    pub async fn write<R: Row>(&mut self, rows: &[R]) -> Result<(), EtlError> {
        if rows.is_empty() {
            return Ok(());
        }
        if is_star(R::TABLE) {
            self.clear().await?;
        }
        let table = self.target(R::TABLE, R::COLUMNS)?;
        insert_rows(&mut self.conn, &table, R::COLUMNS, rows.iter(), |row, bind| {
            row.write(bind)
        })
        .await
    }

    pub async fn write_facts(&mut self, batch: &FactBatch) -> Result<(), EtlError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.clear().await?;
        let table = self.target(FACTS, FactRow::COLUMNS)?;
        insert_rows(&mut self.conn, &table, FactRow::COLUMNS, batch.iter(), |row, bind| {
            row.write(bind)
        })
        .await
    }

    pub async fn set_lookup_keys(&mut self, keys: &[LookupKey]) -> Result<(), EtlError> {
        self.raw(
            &format!("DELETE FROM {}", LOOKUP_KEYS.name),
            "clearing the lookup table",
        )
        .await?;
        self.write(keys).await
    }

    pub async fn fetch<T>(
        &mut self,
        sql: &str,
        decode: impl Fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        let rows = sqlx::query(sql)
            .fetch_all(&mut *self.conn)
            .await
            .map_err(EtlError::db("reading the stored data"))?;
        rows.iter()
            .map(|r| decode(r))
            .collect::<Result<_, _>>()
            .map_err(EtlError::db("decoding the stored data"))
    }

    pub async fn execute(&mut self, sql: &str, binds: &[BindValue]) -> Result<(), EtlError> {
        let mut q = sqlx::query(sql);
        for b in binds {
            q = match b {
                BindValue::Int(v) => q.bind(*v),
                BindValue::Text(v) => q.bind(v.clone()),
                BindValue::Ts(v) => q.bind(*v),
                BindValue::Bool(v) => q.bind(*v),
                BindValue::Bytes(v) => q.bind(v.clone()),
                BindValue::Null => q.bind(None::<String>),
            };
        }
        q.execute(&mut *self.conn)
            .await
            .map_err(EtlError::db("recording the run"))?;
        Ok(())
    }

    /// Makes the new data visible in the load's transaction: replaces the
    /// rows (replace) or merges the staged ones (append), and records which
    /// transactions run `run` appended. Whether it wrote the data tables
    /// (not a record-only run).
    pub async fn publish(&mut self, run: i64) -> Result<bool, EtlError> {
        match self.mode {
            LoadMode::Audit => return Ok(false),
            LoadMode::Replace => {
                self.clear().await?;
                // Parents first: the facts are checked against the new customers.
                for table in STAR {
                    let Some(&(_, columns)) = self.staged.iter().find(|(t, _)| t.name == table.name) else {
                        continue;
                    };
                    self.move_in_key_order(table, columns).await?;
                }
                self.record_appended(None).await?;
            }
            LoadMode::Append => {
                // Before the facts move: that drops their stage.
                self.record_appended(Some(run)).await?;
                for table in STAR {
                    let Some(&(_, columns)) = self.staged.iter().find(|(t, _)| t.name == table.name) else {
                        continue;
                    };
                    if table.name == FACTS.name {
                        self.move_in_key_order(table, columns).await?;
                        continue;
                    }
                    let from = format!("temp.{}{STAGE}", table.name);
                    if let Some(sql) = table.merge_sql(columns, &from) {
                        let step = Step::start(format!("merge into {}", table.name));
                        self.raw(&sql, "merging the new rows").await?;
                        if let Some(prune) = table.prune_sql(columns, &from) {
                            self.raw(&prune, "deleting rows that came to zero").await?;
                        }
                        step.done(None);
                    }
                }
            }
        }
        // Published once: a second call finds nothing left to do.
        self.mode = LoadMode::Audit;
        Ok(true)
    }

    /// Commits what [`Self::publish`] made visible and the run's record.
    pub async fn commit(mut self) -> Result<(), EtlError> {
        // The audit trail's references to the run.
        let violations: Vec<(String,)> = sqlx::query_as(
            "SELECT \"table\" FROM pragma_foreign_key_check('etl_run_file') \
             UNION ALL SELECT \"table\" FROM pragma_foreign_key_check('etl_rejected_row') LIMIT 5",
        )
        .fetch_all(&mut *self.conn)
        .await
        .map_err(EtlError::db("checking foreign keys"))?;
        if !violations.is_empty() {
            return Err(EtlError::ForeignKey(format!(
                "foreign key violations in {violations:?}"
            )));
        }
        // Just before the commit: the file may have gone while the run ran.
        ensure_in_place(&mut self.conn).await?;
        let step = Step::start("commit");
        self.raw("COMMIT", "committing the load").await?;
        step.done(None);
        // A load writes its pages into the write-ahead log; copied back and
        // truncated now, they cost this run, not the next process to open the
        // file (which otherwise reads the whole log to rebuild its index:
        // about a second per GB).
        let step = Step::start("checkpoint the write-ahead log");
        if let Err(e) = sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut *self.conn)
            .await
        {
            // Readers can hold the log; the data is committed either way.
            tracing::warn!(error = %e, "could not checkpoint the write-ahead log");
        }
        step.done(None);
        Ok(())
    }

    /// Checks that every staged fact's customer is in `dim_user`.
    async fn check_facts(&mut self) -> Result<(), EtlError> {
        let facts = FACTS.name;
        let step = Step::start(format!("check the foreign key of the new {facts}"));
        // Checked on the staged rows, which are exactly the rows that move.
        // Each distinct customer is looked up once, in key order: the
        // grouping sorts them (sequential work), after which the lookups
        // walk dim_user's b-tree from one end to the other. Looked up per
        // fact, in the facts' order, each lookup was a random page of a
        // b-tree larger than the page cache: 248 s of a 700 s load at 50M,
        // against 83 s grouped (BENCHMARKS.md, "SQLite's rows in key order").
        let orphans: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT s.customer_id FROM (SELECT customer_id FROM temp.{facts}{STAGE} GROUP BY customer_id) s \
             WHERE NOT EXISTS (SELECT 1 FROM dim_user u WHERE u.customer_id = s.customer_id) LIMIT 5"
        ))
        .fetch_all(&mut *self.conn)
        .await
        .map_err(EtlError::db("checking foreign keys"))?;
        if !orphans.is_empty() {
            return Err(EtlError::ForeignKey(format!(
                "foreign key violation: transactions of customers missing from dim_user: {orphans:?}"
            )));
        }
        step.done(None);
        Ok(())
    }

    /// Inserts `table`'s staged `columns` in its key's order (the facts
    /// checked first), then drops the stage. The columns are named: the
    /// stage has no defaults, the table does.
    async fn move_in_key_order(&mut self, table: &Table, columns: &[&str]) -> Result<(), EtlError> {
        if table.name == FACTS.name {
            self.check_facts().await?;
        }
        let t = table.name;
        let step = Step::start(format!("move the new {t} into place, in key order"));
        let columns = columns.join(", ");
        self.raw(
            &format!(
                "INSERT INTO {t} ({columns}) SELECT {columns} FROM temp.{t}{STAGE} ORDER BY {}; \
                 DROP TABLE temp.{t}{STAGE}",
                table.key.join(", ")
            ),
            "moving staged rows",
        )
        .await?;
        step.done(None);
        Ok(())
    }

    /// Empties `etl_appended_transaction`, then (an append, `Some(run)`)
    /// copies the staged transactions into it as the run's.
    async fn record_appended(&mut self, run: Option<i64>) -> Result<(), EtlError> {
        let step = Step::start("record the appended transactions");
        let [clear, insert] = etl_appended_transaction::record_sql(&format!("temp.{}{STAGE}", FACTS.name));
        let during = "recording the appended transactions";
        sqlx::query(&clear)
            .execute(&mut *self.conn)
            .await
            .map_err(EtlError::db(during))?;
        let mut rows = 0;
        if let Some(run) = run {
            let done = sqlx::query(&insert).bind(run).execute(&mut *self.conn).await;
            rows = done.map_err(EtlError::db(during))?.rows_affected();
        }
        step.done(Some(rows));
        Ok(())
    }

    pub async fn rollback(mut self) -> Result<(), EtlError> {
        self.raw("ROLLBACK", "discarding the load").await
    }
}

/// `BEGIN IMMEDIATE`, waiting (and saying so) while another ingest holds the
/// write lock — as PostgreSQL's ingests wait for each other.
async fn begin_immediate(conn: &mut SqliteConnection) -> Result<(), EtlError> {
    sqlx::raw_sql("PRAGMA busy_timeout = 0")
        .execute(&mut *conn)
        .await
        .map_err(EtlError::db("configuring the load connection"))?;
    let busy = |e: &sqlx::Error| {
        e.as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c == "5" || c == "6")
    };
    match sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut *conn).await {
        Ok(_) => {}
        Err(e) if busy(&e) => {
            tracing::info!("another ingest is writing to this database: waiting for it to finish");
            let started = std::time::Instant::now();
            sqlx::raw_sql(&format!("PRAGMA busy_timeout = {}", WAIT_FOR_OTHER_INGEST.as_millis()))
                .execute(&mut *conn)
                .await
                .map_err(EtlError::db("configuring the load connection"))?;
            sqlx::raw_sql("BEGIN IMMEDIATE")
                .execute(&mut *conn)
                .await
                .map_err(EtlError::db("waiting for another ingest to finish"))?;
            tracing::info!(
                waited_ms = started.elapsed().as_millis() as u64,
                "the other ingest finished"
            );
        }
        Err(e) => return Err(EtlError::db("starting the load transaction")(e)),
    }
    // Statements inside the transaction wait like any other connection's would.
    sqlx::raw_sql("PRAGMA busy_timeout = 5000")
        .execute(&mut *conn)
        .await
        .map_err(EtlError::db("configuring the load connection"))?;
    Ok(())
}

/// Fails when the database file `conn` has open is no longer at its path
/// (deleted, renamed, or replaced since it was opened): a commit would go into
/// a file no one reads any more and be reported as loaded. SQLite itself
/// refuses such writes only in rollback-journal mode, not in WAL mode.
#[allow(unsafe_code)]
async fn ensure_in_place(conn: &mut SqliteConnection) -> Result<(), EtlError> {
    use rusqlite::ffi;
    let mut handle = conn
        .lock_handle()
        .await
        .map_err(EtlError::db("locking the load connection"))?;
    let mut moved: std::os::raw::c_int = 0;
    // SAFETY: while `handle` lives, sqlx's worker thread makes no calls on this
    // connection; the call writes one int into `moved`, which outlives it.
    let rc = unsafe {
        ffi::sqlite3_file_control(
            handle.as_raw_handle().as_ptr(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_HAS_MOVED,
            (&mut moved as *mut std::os::raw::c_int).cast(),
        )
    };
    // Not SQLITE_OK: a database without a file (in memory), nothing to check.
    if rc == ffi::SQLITE_OK && moved != 0 {
        return Err(EtlError::DatabaseFileMoved);
    }
    Ok(())
}

fn sqlite_error(during: &'static str) -> impl Fn(rusqlite::Error) -> EtlError {
    move |e| EtlError::Database {
        during,
        source: Box::new(e),
    }
}

/// Inserts rows with one prepared statement executed per row, on the raw handle
/// of the load connection: binding values through sqlx cost more than SQLite's
/// own insert work (a boxed argument per value, a statement per chunk).
#[allow(unsafe_code)]
/// Inserts `rows` into `table`, each bound by `write` (in `columns`' order).
async fn insert_rows<T>(
    conn: &mut SqliteConnection,
    table: &str,
    columns: &[&str],
    rows: impl Iterator<Item = T>,
    write: impl Fn(&T, &mut SqliteBind<'_, '_>),
) -> Result<(), EtlError> {
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(","),
        vec!["?"; columns.len()].join(",")
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
        write(&row, &mut bind);
        if let Some(e) = bind.error.take() {
            return Err(sqlite_error("binding row values")(e));
        }
        bind.stmt.raw_execute().map_err(sqlite_error("inserting rows"))?;
    }
    drop(stmt);
    drop(raw);
    Ok(())
}

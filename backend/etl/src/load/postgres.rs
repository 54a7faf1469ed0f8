//! Loads into PostgreSQL.
//!
//! Every table of [`STAR`] is a partitioned table with one `DEFAULT`
//! partition, `<table>__data`, holding all its rows (migrations
//! `m20261129_000004` and, for the fact table, `m20261203_000008`). The tables
//! themselves — and with them GRANTs, views, comments and policies that users
//! add — are never dropped or renamed.
//!
//! **Replace**: rows are `COPY`ed into fresh `<table>__load` tables without
//! indexes (the fact table on a connection of its own, so its primary key is
//! built while customers and aggregates are written); their keys and indexes
//! are built from the parents' definitions; then, in one transaction, the old
//! partitions are detached and dropped and the load tables attached in their
//! place (attaching the facts validates their foreign key). Readers see the
//! previous data until the commit; a failure before it leaves at most an
//! orphan `fct_transaction__load`, dropped by the next run.
//!
//! **Append**: rows are `COPY`ed into temporary `<table>__stage` tables, then
//! merged into the tables by each table's [`Append`](crate::tables::Append)
//! rule, in one transaction.
//!
//! The exclusive locks of the swap are taken by [`lock_exclusively`], which
//! waits for the sessions using the tables without queueing the readers that
//! come after.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::mpsc;

use super::{BindValue, LoadMode, Step};
use crate::encode::{copy_binary, copy_text};
use crate::error::EtlError;
use crate::rows::{CellReader, FactRow, LookupKey, Row};
use crate::tables::{Table, FACTS, LOOKUP_KEYS, STAR};
use migration::names::{quote_ident, suffixed};
use migration::DATA_PARTITION_SUFFIX as DATA;

/// Suffix of a replace's new tables until they are attached.
const LOAD: &str = "__load";
/// Suffix of an append's staging tables (temporary, dropped at commit).
const STAGE: &str = "__stage";

pub struct PgLoader {
    tx: Transaction<'static, Postgres>,
    mode: Mode,
    /// Star tables written so far, with the columns written (an append merges these).
    staged: Vec<(&'static Table, &'static [&'static str])>,
}

enum Mode {
    Replace { facts: FactLoad },
    Append,
    Audit,
}

impl PgLoader {
    pub async fn begin(pool: &PgPool, mode: LoadMode) -> Result<Self, EtlError> {
        let mut tx = begin_keyed(pool).await?;
        if mode == LoadMode::Audit {
            return Ok(Self {
                tx,
                mode: Mode::Audit,
                staged: Vec::new(),
            });
        }
        // A dry or refused run rolls back to here, then removes what the fact
        // table's own connection committed.
        ddl(&mut tx, "SAVEPOINT load")
            .await
            .map_err(EtlError::db("starting the load"))?;
        ddl(
            &mut tx,
            &format!(
                "CREATE TEMP TABLE {} (k text COLLATE \"C\" PRIMARY KEY) ON COMMIT DROP",
                LOOKUP_KEYS.name
            ),
        )
        .await
        .map_err(EtlError::db("creating the lookup table"))?;
        let mode = match mode {
            LoadMode::Replace => {
                let facts = FactLoad::start(pool.clone());
                for table in STAR.iter().filter(|t| t.name != FACTS.name) {
                    let t = table.name;
                    let sql =
                        format!("DROP TABLE IF EXISTS {t}{LOAD}; CREATE TABLE {t}{LOAD} (LIKE {t} INCLUDING DEFAULTS)");
                    sqlx::raw_sql(&sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(EtlError::db("creating load tables"))?;
                }
                Mode::Replace { facts }
            }
            LoadMode::Append | LoadMode::Audit => {
                for table in STAR {
                    let t = table.name;
                    ddl(
                        &mut tx,
                        &format!("CREATE TEMP TABLE {t}{STAGE} (LIKE {t} INCLUDING DEFAULTS) ON COMMIT DROP"),
                    )
                    .await
                    .map_err(EtlError::db("creating staging tables"))?;
                }
                Mode::Append
            }
        };
        Ok(Self {
            tx,
            mode,
            staged: Vec::new(),
        })
    }

    /// Where rows of `table` go in this load.
    fn target(&mut self, table: &'static Table, columns: &'static [&'static str]) -> Result<String, EtlError> {
        if !table.is_star() {
            return Ok(table.name.to_owned());
        }
        if !self.staged.iter().any(|(t, _)| t.name == table.name) {
            self.staged.push((table, columns));
        }
        match self.mode {
            Mode::Replace { .. } if table.name == FACTS.name => Err(EtlError::Internal(
                "transactions must be sent with write_facts".to_owned(),
            )),
            Mode::Replace { .. } => Ok(format!("{}{LOAD}", table.name)),
            Mode::Append => Ok(format!("{}{STAGE}", table.name)),
            Mode::Audit => Err(EtlError::Internal(format!(
                "an audit-only transaction cannot write {}",
                table.name
            ))),
        }
    }

    pub async fn write<R: Row>(&mut self, rows: &[R]) -> Result<(), EtlError> {
        if rows.is_empty() {
            return Ok(());
        }
        let table = self.target(R::TABLE, R::COLUMNS)?;
        // Load tables are new in this transaction: their rows can be frozen.
        let options = if table.ends_with(LOAD) { " WITH (FREEZE)" } else { "" };
        let sql = format!("COPY {table} ({}) FROM STDIN{options}", R::COLUMNS.join(", "));
        let mut copy = self.tx.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
        copy.send(copy_text(rows))
            .await
            .map_err(EtlError::db("sending COPY data"))?;
        copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
        Ok(())
    }

    /// Transactions in binary COPY format (without the stream's header and trailer).
    pub async fn write_facts(&mut self, bytes: Vec<u8>) -> Result<(), EtlError> {
        if let Mode::Replace { facts } = &mut self.mode {
            return facts.send(bytes).await;
        }
        let table = self.target(FACTS, FactRow::COLUMNS)?;
        let sql = format!(
            "COPY {table} ({}) FROM STDIN WITH (FORMAT binary)",
            FactRow::COLUMNS.join(", ")
        );
        let mut data = Vec::with_capacity(bytes.len() + 32);
        copy_binary::start(&mut data);
        data.extend_from_slice(&bytes);
        copy_binary::finish(&mut data);
        let mut copy = self.tx.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
        copy.send(data).await.map_err(EtlError::db("sending COPY data"))?;
        copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
        Ok(())
    }

    /// Marks the end of the transactions: a replace builds their keys from now on.
    pub async fn facts_complete(&mut self) -> Result<(), EtlError> {
        match &mut self.mode {
            Mode::Replace { facts } => facts.complete().await,
            _ => Ok(()),
        }
    }

    /// Replaces the keys that [`fetch`](Self::fetch) can join `etl_lookup_keys` with.
    pub async fn set_lookup_keys(&mut self, keys: &[LookupKey]) -> Result<(), EtlError> {
        ddl(&mut self.tx, &format!("TRUNCATE {}", LOOKUP_KEYS.name))
            .await
            .map_err(EtlError::db("clearing the lookup table"))?;
        self.write(keys).await?;
        // Temporary tables have no statistics otherwise: without them the planner
        // scans whole tables instead of looking the keys up.
        ddl(&mut self.tx, &format!("ANALYZE {}", LOOKUP_KEYS.name))
            .await
            .map_err(EtlError::db("analyzing the lookup table"))
    }

    /// Stored rows, read inside the load transaction.
    pub async fn fetch<T>(
        &mut self,
        sql: &str,
        decode: impl Fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        let rows = sqlx::query(sql)
            .fetch_all(&mut *self.tx)
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
                BindValue::Null => q.bind(None::<String>),
            };
        }
        q.execute(&mut *self.tx)
            .await
            .map_err(EtlError::db("recording the run"))?;
        Ok(())
    }

    /// Makes the new data visible: swaps partitions (replace) or merges the
    /// staged rows (append), then commits.
    pub async fn commit(self) -> Result<(), EtlError> {
        let Self { mut tx, mode, staged } = self;
        match mode {
            Mode::Replace { facts } => swap(&mut tx, facts).await?,
            Mode::Append => {
                for table in STAR {
                    let Some((_, columns)) = staged.iter().find(|(t, _)| t.name == table.name) else {
                        continue;
                    };
                    let Some(sql) = table.merge_sql(columns, &format!("{}{STAGE}", table.name)) else {
                        continue;
                    };
                    let step = Step::start(format!("merge into {}", table.name));
                    let rows = timed(&mut tx, &sql, "merging the new rows").await?;
                    step.done(Some(rows));
                }
            }
            Mode::Audit => {}
        }
        let step = Step::start("commit");
        tx.commit().await.map_err(EtlError::db("committing the load"))?;
        step.done(None);
        Ok(())
    }

    /// Discards everything written (a dry or refused run), including the fact
    /// table a replace loaded on its own connection.
    pub async fn rollback(self) -> Result<(), EtlError> {
        let Self { mut tx, mode, .. } = self;
        if let Mode::Replace { facts } = mode {
            // Its result does not matter: whatever it committed is dropped below.
            let _ = facts.finish().await;
            sqlx::raw_sql(&format!(
                "ROLLBACK TO SAVEPOINT load; DROP TABLE IF EXISTS {}{LOAD}",
                FACTS.name
            ))
            .execute(&mut *tx)
            .await
            .map_err(EtlError::db("discarding the load"))?;
            return tx.commit().await.map_err(EtlError::db("discarding the load"));
        }
        tx.rollback().await.map_err(EtlError::db("discarding the load"))
    }
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
        // "table … does not exist, skipping" and the like are not news.
        "SET LOCAL client_min_messages = warning",
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

/// How long one try to lock tables exclusively waits for the sessions using them.
const LOCK_TRY: &str = "1s";
/// The pause between two tries, in which the readers that queued behind a try run.
const LOCK_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Locks `tables` (with their partitions) in ACCESS EXCLUSIVE mode, the lock
/// the DDL that follows takes anyway, without making readers queue behind the
/// wait. A lock request waits for the sessions using a table, and every
/// reader that comes after it waits behind it: one analyst's long query would
/// stall every report until it ended. So each try waits at most [`LOCK_TRY`];
/// a try that times out is rolled back to its savepoint (giving up its place
/// in the queue), and after [`LOCK_PAUSE`] the next one starts. It tries
/// until it has the locks, as long as the sessions in the way keep them.
async fn lock_exclusively(conn: &mut PgConnection, tables: &[&str]) -> Result<(), EtlError> {
    const DURING: &str = "locking tables exclusively";
    let (previous,): (String,) = sqlx::query_as("SELECT current_setting('lock_timeout')")
        .fetch_one(&mut *conn)
        .await
        .map_err(EtlError::db(DURING))?;
    let list = tables.join(", ");
    let started = std::time::Instant::now();
    let mut next_warning = std::time::Duration::from_secs(10);
    loop {
        ddl(conn, "SAVEPOINT lock_try").await.map_err(EtlError::db(DURING))?;
        ddl(conn, &format!("SET LOCAL lock_timeout = '{LOCK_TRY}'"))
            .await
            .map_err(EtlError::db(DURING))?;
        match ddl(conn, &format!("LOCK TABLE {list} IN ACCESS EXCLUSIVE MODE")).await {
            Ok(()) => {
                ddl(conn, "RELEASE SAVEPOINT lock_try")
                    .await
                    .map_err(EtlError::db(DURING))?;
                sqlx::query("SELECT set_config('lock_timeout', $1, true)")
                    .bind(&previous)
                    .execute(&mut *conn)
                    .await
                    .map_err(EtlError::db(DURING))?;
                return Ok(());
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                // Also undoes the SET LOCAL. Released too: savepoints left
                // open would nest one level deeper per try, and past 64
                // subtransactions every snapshot of the server slows down.
                for sql in ["ROLLBACK TO SAVEPOINT lock_try", "RELEASE SAVEPOINT lock_try"] {
                    ddl(conn, sql).await.map_err(EtlError::db(DURING))?;
                }
                if started.elapsed() >= next_warning {
                    tracing::warn!(
                        tables = %list,
                        waited_s = started.elapsed().as_secs(),
                        "other sessions are using the tables to lock; trying again (their readers are not held up)"
                    );
                    next_warning += std::time::Duration::from_secs(30);
                }
                tokio::time::sleep(LOCK_PAUSE).await;
            }
            Err(e) => return Err(EtlError::db(DURING)(e)),
        }
    }
}

/// One statement, logged with its duration at debug level; the rows it affected.
async fn timed(conn: &mut PgConnection, sql: &str, during: &'static str) -> Result<u64, EtlError> {
    let started = std::time::Instant::now();
    let done = sqlx::query(sql)
        .persistent(false)
        .execute(conn)
        .await
        .map_err(EtlError::db(during))?;
    tracing::debug!(statement = %sql, elapsed_ms = started.elapsed().as_millis() as u64, "{during}");
    Ok(done.rows_affected())
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
        let facts = FACTS.name;
        let mut tx = begin_keyed(&pool).await?;
        // A killed run's table (committed before its swap) is an orphan:
        // only one ingest runs at a time, so nothing else uses it.
        for stmt in [
            format!("DROP TABLE IF EXISTS {facts}{LOAD}"),
            format!("CREATE TABLE {facts}{LOAD} (LIKE {facts} INCLUDING DEFAULTS)"),
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
            "COPY {facts}{LOAD} ({}) FROM STDIN WITH (FORMAT binary, FREEZE)",
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
                    return Err(EtlError::FactLoad(
                        "the load stopped before the last transaction".to_owned(),
                    ));
                }
            }
        }
        let mut trailer = Vec::new();
        copy_binary::finish(&mut trailer);
        copy.send(trailer).await.map_err(EtlError::db("sending COPY data"))?;
        let rows = copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
        let step = Step::start(format!("build the keys of {facts}"));
        build_keys(&mut tx, FACTS).await?;
        tx.commit().await.map_err(EtlError::db("committing the fact table"))?;
        step.done(Some(rows));
        Ok(())
    }

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), EtlError> {
        if self.sender.send(FactMessage::Copy(bytes)).await.is_ok() {
            return Ok(());
        }
        // The load only stops early on an error: report it.
        match (&mut self.task).await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(EtlError::FactLoad("the fact table's load ended early".to_owned())),
            Err(e) => Err(EtlError::FactLoad(format!("the fact table's load failed: {e}"))),
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
            Err(e) => Err(EtlError::FactLoad(format!("the fact table's load failed: {e}"))),
        }
    }

    /// Waits for the keys and the commit.
    async fn finish(self) -> Result<(), EtlError> {
        drop(self.sender);
        self.task
            .await
            .map_err(|e| EtlError::FactLoad(format!("the fact table's load failed: {e}")))?
    }
}

/// The primary key and unique constraints of a table, as (name, definition).
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

/// The indexes of a table that are not constraints (users' own included), as
/// (name, definition), e.g. `CREATE INDEX i ON ONLY public.t USING btree (c)`.
async fn plain_indexes(conn: &mut PgConnection, table: &str) -> Result<Vec<(String, String)>, EtlError> {
    sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes i \
         WHERE schemaname = current_schema() AND tablename = $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = to_regclass($1)) \
         ORDER BY indexname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(EtlError::db("reading indexes"))
}

/// Builds the table's keys and indexes on its load table, each named
/// `<name>__load` until the swap: attaching the partition then adopts them
/// instead of building them again.
async fn build_keys(conn: &mut PgConnection, table: &Table) -> Result<(), EtlError> {
    let t = table.name;
    let target = format!("{t}{LOAD}");
    let name = |index: &str| suffixed(index, LOAD);
    for (key, def) in key_constraints(conn, t).await? {
        let sql = format!("ALTER TABLE {target} ADD CONSTRAINT {} {def}", quote_ident(&name(&key)));
        timed(conn, &sql, "building keys").await?;
    }
    for (index, def) in plain_indexes(conn, t).await? {
        // `CREATE [UNIQUE] INDEX name ON ONLY schema.t USING …` → the target.
        // The catalog quotes a name only where it must ("Mixed Case").
        let (head, rest) = [index.clone(), quote_ident(&index)]
            .iter()
            .find_map(|name| def.split_once(&format!(" INDEX {name} ON ")))
            .ok_or_else(|| EtlError::Internal(format!("unexpected index definition: {def}")))?;
        let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
        let (_, using) = rest
            .split_once(" USING ")
            .ok_or_else(|| EtlError::Internal(format!("unexpected index definition: {def}")))?;
        let sql = format!("{head} INDEX {} ON {target} USING {using}", quote_ident(&name(&index)));
        timed(conn, &sql, "building indexes").await?;
    }
    Ok(())
}

/// Index names of a partition: the parent's index names with the partition's suffix.
async fn rename_indexes(conn: &mut PgConnection, table: &Table) -> Result<(), EtlError> {
    let t = table.name;
    let mut names: Vec<String> = key_constraints(conn, t).await?.into_iter().map(|(n, _)| n).collect();
    names.extend(plain_indexes(conn, t).await?.into_iter().map(|(n, _)| n));
    for name in names {
        let sql = format!(
            "ALTER INDEX IF EXISTS {} RENAME TO {}",
            quote_ident(&suffixed(&name, LOAD)),
            quote_ident(&suffixed(&name, DATA))
        );
        timed(conn, &sql, "renaming keys").await?;
    }
    Ok(())
}

/// Replaces each table's partition by its load table: keys, indexes and
/// statistics are built on the load tables first (while the fact table's key is
/// built on its own connection); then the old partitions are detached and
/// dropped, children first (a referenced partition can only be detached once
/// nothing references it), and the load tables attached, parents first (the
/// facts' foreign key is validated against the new customers).
async fn swap(conn: &mut PgConnection, facts: FactLoad) -> Result<(), EtlError> {
    let small: Vec<&Table> = STAR.iter().copied().filter(|t| t.name != FACTS.name).collect();
    let step = Step::start("build the keys and indexes of the other tables");
    for table in &small {
        build_keys(conn, table).await?;
    }
    step.done(None);
    // Fresh tables have no statistics, and the planner needs them for analysts'
    // queries. (The fact table is left to autovacuum: no report reads it.)
    let analyze = small
        .iter()
        .map(|t| format!("{}{LOAD}", t.name))
        .collect::<Vec<_>>()
        .join(", ");
    let step = Step::start("analyze the new tables");
    timed(conn, &format!("ANALYZE {analyze}"), "analyzing the new tables").await?;
    step.done(None);
    let step = Step::start(format!("wait for the keys of {}", FACTS.name));
    facts.finish().await?;
    step.done(None);
    let step = Step::start("wait for the sessions reading the tables");
    // Children first: the order of the report cache's shared locks
    // (`ReportContext::load`), else the two could deadlock.
    let star: Vec<&str> = STAR.iter().rev().map(|t| t.name).collect();
    lock_exclusively(conn, &star).await?;
    step.done(None);
    let step = Step::start("detach and drop the previous data");
    for table in STAR.iter().rev() {
        let t = table.name;
        timed(
            conn,
            &format!("ALTER TABLE {t} DETACH PARTITION {t}{DATA}"),
            "detaching the previous data",
        )
        .await?;
        timed(conn, &format!("DROP TABLE {t}{DATA}"), "dropping the previous data").await?;
    }
    step.done(None);
    for table in STAR {
        let t = table.name;
        let step = Step::start(match table.name == FACTS.name {
            true => format!("attach the new {t} (validates its foreign key)"),
            false => format!("attach the new {t}"),
        });
        timed(
            conn,
            &format!("ALTER TABLE {t}{LOAD} RENAME TO {t}{DATA}"),
            "renaming the load tables",
        )
        .await?;
        timed(
            conn,
            &format!("ALTER TABLE {t} ATTACH PARTITION {t}{DATA} DEFAULT"),
            "attaching the new data and validating foreign keys",
        )
        .await?;
        rename_indexes(conn, table).await?;
        step.done(None);
    }
    Ok(())
}

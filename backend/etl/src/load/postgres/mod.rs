//! Loads into PostgreSQL.
//!
//! Every table of [`STAR`] is a partitioned table with one `DEFAULT`
//! partition, `<table>__data`, holding all its rows (migrations
//! `m20261129_000004` and, for the fact table, `m20261203_000008`). The tables
//! themselves — and with them GRANTs, views, comments and policies that users
//! add — are never dropped or renamed.
//!
//! **Replace**: rows are `COPY`ed into fresh `<table>__load` tables without
//! indexes (the fact table and each customer's spending on connections of
//! their own, [`side::SideLoad`]: the facts' primary key is built while
//! customers and aggregates are written, the spending's keys while the other
//! tables' are built and the facts' foreign key validated); their keys and
//! indexes are built from the parents' definitions; then, in one
//! transaction, the old partitions are detached and dropped and the load
//! tables attached in their place (attaching the facts validates their
//! foreign key). Readers see the previous data until the commit; a failure
//! before it leaves at most orphan `fct_transaction__load` and
//! `agg_customer_spending__load` tables, dropped by the next run.
//!
//! **Append**: rows are `COPY`ed into temporary `<table>__stage` tables, then
//! merged into the tables by each table's [`Append`](crate::tables::Append)
//! rule, in one transaction.
//!
//! The exclusive locks of the swap are taken by [`connection::lock_exclusively`], which
//! waits for the sessions using the tables without queueing the readers that
//! come after.

use sqlx::{PgPool, Postgres, Transaction};

use super::{BindValue, LoadMode, Step};
use crate::encode::{copy_binary, copy_text};
use crate::error::EtlError;
use crate::rows::{CellReader, FactBatch, FactRow, LookupKey, Row};
use crate::tables::{Table, LOOKUP_KEYS};
use store::entities::{etl_appended_transaction, etl_saas_feed, is_star, FACTS, STAR};

mod catalog;
mod connection;
mod feed;
mod side;
mod swap;

use connection::{begin_keyed, ddl, timed};
use feed::FeedLoad;
use side::SideLoad;
use swap::swap;

/// Rows per message of a text COPY (about 100 bytes each).
const COPY_ROWS: usize = 8192;
/// Suffix of a replace's new tables until they are attached.
const LOAD: &str = "__load";
/// Suffix of an append's staging tables (temporary, dropped at commit).
const STAGE: &str = "__stage";

pub struct PgLoader {
    tx: Transaction<'static, Postgres>,
    mode: Mode,
    /// Star tables written so far, with the columns written (an append merges these).
    staged: Vec<(&'static Table, &'static [&'static str])>,
    /// A replace's subscription feed, on its own connection until the commit.
    feed: Option<FeedLoad>,
}

enum Mode {
    Replace { facts: SideLoad, spending: SideLoad },
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
                feed: None,
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
                let facts = SideLoad::facts(pool.clone());
                let spending = SideLoad::spending(pool.clone());
                let side = [facts.table().name, spending.table().name];
                for table in STAR.iter().filter(|t| !side.contains(&t.name)) {
                    let t = table.name;
                    let sql =
                        format!("DROP TABLE IF EXISTS {t}{LOAD}; CREATE TABLE {t}{LOAD} (LIKE {t} INCLUDING DEFAULTS)");
                    sqlx::raw_sql(&sql)
                        .execute(&mut *tx)
                        .await
                        .map_err(EtlError::db("creating load tables"))?;
                }
                Mode::Replace { facts, spending }
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
        let feed = matches!(mode, Mode::Replace { .. }).then(|| FeedLoad::start(pool.clone()));
        Ok(Self {
            tx,
            mode,
            staged: Vec::new(),
            feed,
        })
    }

    /// Where rows of `table` go in this load.
    fn target(&mut self, table: &'static Table, columns: &'static [&'static str]) -> Result<String, EtlError> {
        if !is_star(table) {
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
        if let Mode::Replace { spending, .. } = &mut self.mode {
            if spending.table().name == R::TABLE.name {
                for piece in rows.chunks(COPY_ROWS) {
                    spending.send(copy_text(piece)).await?;
                }
                return Ok(());
            }
        }
        let table = self.target(R::TABLE, R::COLUMNS)?;
        // Load tables are new in this transaction: their rows can be frozen.
        let options = if table.ends_with(LOAD) { " WITH (FREEZE)" } else { "" };
        let sql = format!("COPY {table} ({}) FROM STDIN{options}", R::COLUMNS.join(", "));
        let mut copy = self.tx.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
        // In pieces: sqlx copies what is sent into the connection's write
        // buffer, which keeps its size for the rest of the run (dim_product
        // sent whole was 115 MB at 50M transactions, held to the load's peak).
        for piece in rows.chunks(COPY_ROWS) {
            copy.send(copy_text(piece))
                .await
                .map_err(EtlError::db("sending COPY data"))?;
        }
        copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
        Ok(())
    }

    /// Transactions, encoded here in binary COPY format: no text to format on
    /// our side and none to parse on the server's (timestamps especially).
    pub async fn write_facts(&mut self, batch: &FactBatch) -> Result<(), EtlError> {
        // About 110 bytes per row in binary COPY for the exports seen.
        let mut bytes = Vec::with_capacity(batch.len() * 128);
        for fact in batch.iter() {
            copy_binary::fact(&mut bytes, &fact);
        }
        if let Mode::Replace { facts, .. } = &mut self.mode {
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

    /// Writes part `part` of run `run`'s subscription feed: a replace on the
    /// feed's own connection (committed with the load), an append in the
    /// load's transaction.
    pub async fn write_feed_part(&mut self, run: i64, part: u32, bytes: Vec<u8>) -> Result<(), EtlError> {
        if let Some(feed) = &mut self.feed {
            return feed.send(run, part, bytes).await;
        }
        sqlx::query(etl_saas_feed::INSERT_PART)
            .bind(run)
            .bind(part as i32)
            .bind(bytes)
            .execute(&mut *self.tx)
            .await
            .map_err(EtlError::db("writing the subscription feed"))?;
        Ok(())
    }

    /// Marks the end of the transactions: a replace builds their keys from now on.
    pub async fn facts_complete(&mut self) -> Result<(), EtlError> {
        match &mut self.mode {
            Mode::Replace { facts, .. } => facts.complete().await,
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
        self.fetch_query(sqlx::query(sql), decode).await
    }

    /// Stored rows, read inside the load transaction, `keys` bound as `$1`
    /// (a text array).
    pub async fn fetch_bound<T>(
        &mut self,
        sql: &str,
        keys: &[&str],
        decode: impl Fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        self.fetch_query(sqlx::query(sql).bind(keys), decode).await
    }

    async fn fetch_query<T>(
        &mut self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        decode: impl Fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        let rows = query
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
                BindValue::Bytes(v) => q.bind(v.clone()),
                BindValue::Null => q.bind(None::<String>),
            };
        }
        q.execute(&mut *self.tx)
            .await
            .map_err(EtlError::db("recording the run"))?;
        Ok(())
    }

    /// Makes the new data visible in the load's transaction: swaps the
    /// partitions (replace) or merges the staged rows (append), and records
    /// which transactions run `run` appended. Whether it wrote the data
    /// tables (not a record-only run).
    pub async fn publish(&mut self, run: i64) -> Result<bool, EtlError> {
        match std::mem::replace(&mut self.mode, Mode::Audit) {
            Mode::Replace { facts, spending } => {
                swap(&mut self.tx, facts, spending).await?;
                self.record_appended(None).await?;
            }
            Mode::Append => {
                for table in STAR {
                    let Some((_, columns)) = self.staged.iter().find(|(t, _)| t.name == table.name) else {
                        continue;
                    };
                    let Some(sql) = table.merge_sql(columns, &format!("{}{STAGE}", table.name)) else {
                        continue;
                    };
                    let step = Step::start(format!("merge into {}", table.name));
                    let rows = timed(&mut self.tx, &sql, "merging the new rows").await?;
                    if let Some(prune) = table.prune_sql(columns, &format!("{}{STAGE}", table.name)) {
                        timed(&mut self.tx, &prune, "deleting rows that came to zero").await?;
                    }
                    step.done(Some(rows));
                }
                self.record_appended(Some(run)).await?;
            }
            Mode::Audit => return Ok(false),
        }
        Ok(true)
    }

    /// Empties `etl_appended_transaction`, then (an append, `Some(run)`)
    /// copies the staged transactions into it as the run's.
    async fn record_appended(&mut self, run: Option<i64>) -> Result<(), EtlError> {
        let step = Step::start("record the appended transactions");
        let [clear, insert] = etl_appended_transaction::record_sql(&format!("{}{STAGE}", FACTS.name));
        let during = "recording the appended transactions";
        sqlx::query(&clear)
            .execute(&mut *self.tx)
            .await
            .map_err(EtlError::db(during))?;
        let mut rows = 0;
        if let Some(run) = run {
            let done = sqlx::query(&insert).bind(run).execute(&mut *self.tx).await;
            rows = done.map_err(EtlError::db(during))?.rows_affected();
        }
        step.done(Some(rows));
        Ok(())
    }

    /// Commits what [`Self::publish`] made visible and the run's record.
    pub async fn commit(mut self) -> Result<(), EtlError> {
        if let Some(mut feed) = self.feed.take() {
            let step = Step::start("commit the subscription feed");
            feed.commit().await?;
            step.done(None);
        }
        let step = Step::start("commit");
        self.tx.commit().await.map_err(EtlError::db("committing the load"))?;
        step.done(None);
        Ok(())
    }

    /// Discards everything written (a dry or refused run), including the
    /// tables a replace loaded on connections of their own.
    pub async fn rollback(self) -> Result<(), EtlError> {
        // The feed's connection rolls back as it is dropped.
        let Self { mut tx, mode, .. } = self;
        if let Mode::Replace { facts, spending } = mode {
            let side = [facts.table().name, spending.table().name];
            // Their results do not matter: whatever they committed is dropped below.
            let _ = facts.finish().await;
            let _ = spending.finish().await;
            sqlx::raw_sql(&format!(
                "ROLLBACK TO SAVEPOINT load; DROP TABLE IF EXISTS {}{LOAD}, {}{LOAD}",
                side[0], side[1]
            ))
            .execute(&mut *tx)
            .await
            .map_err(EtlError::db("discarding the load"))?;
            return tx.commit().await.map_err(EtlError::db("discarding the load"));
        }
        tx.rollback().await.map_err(EtlError::db("discarding the load"))
    }
}

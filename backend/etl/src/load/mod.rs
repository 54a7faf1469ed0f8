//! The last phase, load: writing a run into the database atomically, split by
//! engine ([`postgres`], [`sqlite`]), with the row encoders in [`encode`] and
//! the reads of stored data an append needs in [`stored`].

pub mod lock;
pub mod postgres;
pub mod sqlite;
pub mod stored;
#[cfg(test)]
mod tests;
mod top_customers;

use chrono::NaiveDateTime;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use super::error::EtlError;
use super::rows::{CellReader, FactBatch, LookupKey, Row};
use postgres::PgLoader;
use sqlite::SqliteLoader;
use store::tables::LOOKUP_KEYS;

/// Where [`Loader::fetch_in`]'s SQL tests its column against the keys.
pub const IN_KEYS: &str = "{in_keys}";

/// What a load transaction does with the star schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// Every star table's rows are replaced by the run's.
    Replace,
    /// The run's rows are merged into the stored ones.
    Append,
    /// Audit tables only (the record of a run that changes no data).
    Audit,
}

/// A step of a load (building keys, validating foreign keys, swapping, merging),
/// logged at info level with its duration when it ends: these are the steps
/// that take seconds at millions of rows, and nothing else reports them.
pub(crate) struct Step {
    name: String,
    started: std::time::Instant,
}

impl Step {
    pub fn start(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            started: std::time::Instant::now(),
        }
    }

    /// Ends the step; `rows` it wrote, when known.
    pub fn done(self, rows: Option<u64>) {
        let elapsed_ms = self.started.elapsed().as_millis() as u64;
        match rows {
            Some(rows) => tracing::info!(step = %self.name, elapsed_ms, rows, "load step done"),
            None => tracing::info!(step = %self.name, elapsed_ms, "load step done"),
        }
    }
}

/// A value bound to a statement.
pub enum BindValue {
    Int(i64),
    Text(String),
    Ts(NaiveDateTime),
    Bool(bool),
    Bytes(Vec<u8>),
    /// A text NULL.
    Null,
}

/// The aggregates write their rows into the load.
impl crate::aggregates::Sink for Loader {
    fn write<R: Row>(&mut self, rows: &[R]) -> impl std::future::Future<Output = Result<(), EtlError>> {
        Loader::write(self, rows)
    }
}

/// One run's load transaction.
pub enum Loader {
    Postgres(PgLoader),
    Sqlite(SqliteLoader),
}

impl Loader {
    /// Starts the load (the caller holds the [`lock::IngestLock`]).
    pub async fn begin(db: &DatabaseConnection, mode: LoadMode) -> Result<Self, EtlError> {
        match db.get_database_backend() {
            DbBackend::Postgres => Ok(Loader::Postgres(
                PgLoader::begin(db.get_postgres_connection_pool(), mode).await?,
            )),
            DbBackend::Sqlite => Ok(Loader::Sqlite(
                SqliteLoader::begin(db.get_sqlite_connection_pool(), mode).await?,
            )),
            DbBackend::MySql => Err(EtlError::UnsupportedDatabase("MySQL")),
        }
    }

    /// Writes rows of a table (star tables: into this load's load or staging tables).
    pub async fn write<R: Row>(&mut self, rows: &[R]) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.write(rows).await,
            Loader::Sqlite(l) => l.write(rows).await,
        }
    }

    /// Writes a batch of transactions, encoded for this loader's database.
    pub async fn write_facts(&mut self, batch: &FactBatch) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.write_facts(batch).await,
            Loader::Sqlite(l) => l.write_facts(batch).await,
        }
    }

    /// Writes part `part` of run `run`'s subscription feed (`crate::feed`).
    pub async fn write_feed_part(&mut self, run: i64, part: u32, bytes: Vec<u8>) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.write_feed_part(run, part, bytes).await,
            Loader::Sqlite(l) => {
                let binds = [
                    BindValue::Int(run),
                    BindValue::Int(i64::from(part)),
                    BindValue::Bytes(bytes),
                ];
                l.execute(store::entities::etl_saas_feed::INSERT_PART, &binds).await
            }
        }
    }

    /// Says that the run now writes its transactions and their feed
    /// (`true`), or has written them (`false`): SQLite keeps a small page
    /// cache while they are written, at the load's peak of memory.
    pub async fn writing_rows(&mut self, writing: bool) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(_) => Ok(()),
            Loader::Sqlite(l) => l.writing_rows(writing).await,
        }
    }

    /// Marks the end of the transactions.
    pub async fn facts_complete(&mut self) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.facts_complete().await,
            Loader::Sqlite(_) => Ok(()),
        }
    }

    /// Fills the lookup table (`etl_lookup_keys (k)`) that [`fetch`](Self::fetch)
    /// queries can join.
    pub async fn set_lookup_keys(&mut self, keys: &[LookupKey]) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.set_lookup_keys(keys).await,
            Loader::Sqlite(l) => l.set_lookup_keys(keys).await,
        }
    }

    /// Reads stored rows whose column is one of `keys`, inside the load
    /// transaction: `sql` says [`IN_KEYS`] once, after the column. PostgreSQL
    /// is given the keys as one array (a query that reads a temporary table
    /// never runs in parallel: one pass over 5M facts with the keys in
    /// `etl_lookup_keys` took 635 ms, with an array and two workers 175 ms);
    /// SQLite reads them from `etl_lookup_keys`.
    pub async fn fetch_in<T>(
        &mut self,
        sql: &str,
        keys: &[LookupKey],
        decode: impl Fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        if sql.matches(IN_KEYS).count() != 1 {
            return Err(EtlError::Internal(format!("a keyed read without one {IN_KEYS}: {sql}")));
        }
        match self {
            Loader::Postgres(l) => {
                let sql = sql.replace(IN_KEYS, "= ANY($1)");
                let keys: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
                l.fetch_bound(&sql, &keys, decode).await
            }
            Loader::Sqlite(l) => {
                l.set_lookup_keys(keys).await?;
                let sql = sql.replace(IN_KEYS, &format!("IN (SELECT k FROM {})", LOOKUP_KEYS.name));
                l.fetch(&sql, decode).await
            }
        }
    }

    /// Reads stored rows inside the load transaction (the same SQL on both engines).
    pub async fn fetch<T>(
        &mut self,
        sql: &str,
        decode: impl Fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        match self {
            Loader::Postgres(l) => l.fetch(sql, decode).await,
            Loader::Sqlite(l) => l.fetch(sql, decode).await,
        }
    }

    /// Runs one statement inside the load transaction (`$1`, `$2`, … on both engines).
    pub async fn execute(&mut self, sql: &str, binds: &[BindValue]) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.execute(sql, binds).await,
            Loader::Sqlite(l) => l.execute(sql, binds).await,
        }
    }

    /// Makes run `run`'s data visible (recording the transactions it
    /// appended, see `etl_appended_transaction`), ranks the top customers
    /// of the data it leaves, and commits: all in one transaction.
    pub async fn commit(mut self, run: i64) -> Result<(), EtlError> {
        let published = match &mut self {
            Loader::Postgres(l) => l.publish(run).await?,
            Loader::Sqlite(l) => l.publish(run).await?,
        };
        if published {
            top_customers::rank(&mut self).await?;
        }
        match self {
            Loader::Postgres(l) => l.commit().await,
            Loader::Sqlite(l) => l.commit().await,
        }
    }

    /// Discards everything the run wrote.
    pub async fn rollback(self) -> Result<(), EtlError> {
        match self {
            Loader::Postgres(l) => l.rollback().await,
            Loader::Sqlite(l) => l.rollback().await,
        }
    }
}

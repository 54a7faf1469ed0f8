//! Tables loaded on connections of their own while the rest loads: the
//! facts, and each customer's spending.

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::super::Step;
use super::catalog::key_statements;
use super::connection::{begin_keyed, ddl, timed};
use super::LOAD;
use crate::encode::copy_binary;
use crate::error::EtlError;
use crate::rows::{CustomerSpendingRow, FactRow, Row};
use crate::tables::Table;

/// A table's load on its own connection and transaction: `COPY` of the
/// pieces as they come, then its keys (and statistics), then commit — only
/// when told the table is complete (a run that stops half-way rolls it
/// back). Its keys are built while the load's own connection builds the
/// other tables' and validates the facts' foreign key: on 2 cores at 5M
/// transactions, the facts' primary key took 4.1 s and the spending's two
/// indexes 2.9 s, each on one core.
pub struct SideLoad {
    table: &'static Table,
    sender: mpsc::Sender<Message>,
    task: tokio::task::JoinHandle<Result<(), EtlError>>,
}

enum Message {
    Copy(Vec<u8>),
    /// The last piece was sent; answered once received (see [`SideLoad::complete`]).
    Finish(oneshot::Sender<()>),
}

/// How a side load's rows are sent.
#[derive(Clone, Copy)]
enum Format {
    /// Binary COPY framed by its header and trailer; no statistics (no
    /// report reads the table: it is left to autovacuum).
    Binary,
    /// Text COPY; the table is analyzed before its commit (the planner
    /// needs statistics for analysts' queries).
    Text,
}

impl SideLoad {
    /// The fact table, its rows in binary COPY format.
    pub(super) fn facts(pool: PgPool) -> Self {
        Self::start(pool, FactRow::TABLE, FactRow::COLUMNS, Format::Binary)
    }

    /// Each customer's spending, its rows in text COPY format.
    pub(super) fn spending(pool: PgPool) -> Self {
        let (table, columns) = (CustomerSpendingRow::TABLE, CustomerSpendingRow::COLUMNS);
        Self::start(pool, table, columns, Format::Text)
    }

    /// The table this loads.
    pub(super) fn table(&self) -> &'static Table {
        self.table
    }

    fn start(pool: PgPool, table: &'static Table, columns: &'static [&'static str], format: Format) -> Self {
        let (sender, receiver) = mpsc::channel(2);
        let task = tokio::spawn(run(pool, table, columns, format, receiver));
        Self { table, sender, task }
    }

    pub(super) async fn send(&mut self, bytes: Vec<u8>) -> Result<(), EtlError> {
        if self.sender.send(Message::Copy(bytes)).await.is_ok() {
            return Ok(());
        }
        // The load only stops early on an error: report it.
        match (&mut self.task).await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(self.failed("ended early")),
            Err(e) => Err(self.failed(&format!("failed: {e}"))),
        }
    }

    /// Tells the load it is complete, and waits until it has heard: it goes
    /// on to build the keys. From then on it uses nothing but its own
    /// table, so the swap may lock the parents (before, it could still be
    /// reading the parent's definition, and wait for the swap's locks).
    pub(super) async fn complete(&mut self) -> Result<(), EtlError> {
        let (heard, answer) = oneshot::channel();
        if self.sender.send(Message::Finish(heard)).await.is_ok() && answer.await.is_ok() {
            return Ok(());
        }
        match (&mut self.task).await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Ok(()),
            Err(e) => Err(self.failed(&format!("failed: {e}"))),
        }
    }

    /// Waits for the keys and the commit.
    pub(super) async fn finish(self) -> Result<(), EtlError> {
        let failed = self.failed("failed");
        drop(self.sender);
        self.task
            .await
            .map_err(|e| EtlError::FactLoad(format!("{failed}: {e}")))?
    }

    fn failed(&self, how: &str) -> EtlError {
        EtlError::FactLoad(format!("the load of {} {how}", self.table.name))
    }
}

async fn run(
    pool: PgPool,
    table: &'static Table,
    columns: &'static [&'static str],
    format: Format,
    mut receiver: mpsc::Receiver<Message>,
) -> Result<(), EtlError> {
    let t = table.name;
    let (columns_sql, keys) = definition(&pool, table).await?;
    let mut tx = begin_keyed(&pool).await?;
    // A killed run's table (committed before its swap) is an orphan: only
    // one ingest runs at a time, so nothing else uses it.
    for stmt in [
        format!("DROP TABLE IF EXISTS {t}{LOAD}"),
        format!("CREATE TABLE {t}{LOAD} ({columns_sql})"),
    ] {
        ddl(&mut tx, &stmt)
            .await
            .map_err(EtlError::db("creating load tables"))?;
    }
    // One COPY for all the pieces. FREEZE (the table is new in this
    // transaction): rows are written frozen and the pages marked all-visible,
    // so the first scans (the foreign-key check, analysts' queries) and
    // autovacuum need not revisit and rewrite every page afterwards.
    let options = match format {
        Format::Binary => "FORMAT binary, FREEZE",
        Format::Text => "FREEZE",
    };
    let sql = format!("COPY {t}{LOAD} ({}) FROM STDIN WITH ({options})", columns.join(", "));
    let mut copy = tx.copy_in_raw(&sql).await.map_err(EtlError::db("starting COPY"))?;
    let framed = matches!(format, Format::Binary);
    if framed {
        let mut header = Vec::new();
        copy_binary::start(&mut header);
        copy.send(header).await.map_err(EtlError::db("sending COPY data"))?;
    }
    loop {
        match receiver.recv().await {
            Some(Message::Copy(bytes)) => {
                copy.send(bytes).await.map_err(EtlError::db("sending COPY data"))?;
            }
            Some(Message::Finish(heard)) => {
                // The swap goes on whether or not it still listens.
                let _ = heard.send(());
                break;
            }
            None => {
                let _ = copy.abort("the load stopped").await;
                return Err(EtlError::FactLoad(format!(
                    "the load stopped before the last row of {t}"
                )));
            }
        }
    }
    if framed {
        let mut trailer = Vec::new();
        copy_binary::finish(&mut trailer);
        copy.send(trailer).await.map_err(EtlError::db("sending COPY data"))?;
    }
    let rows = copy.finish().await.map_err(EtlError::db("finishing COPY"))?;
    let step = Step::start(format!("build the keys of {t}"));
    for (sql, during) in &keys {
        timed(&mut tx, sql, during).await?;
    }
    if matches!(format, Format::Text) {
        timed(&mut tx, &format!("ANALYZE {t}{LOAD}"), "analyzing the new tables").await?;
    }
    tx.commit()
        .await
        .map_err(EtlError::db("committing a table loaded on its own connection"))?;
    step.done(Some(rows));
    Ok(())
}

/// The columns of `table` as `CREATE TABLE` takes them (what `LIKE …
/// INCLUDING DEFAULTS` copies: names, types, collations, `NOT NULL`,
/// defaults), and the statements that will build its keys, read outside the
/// load's transaction. `LIKE` would lock the parent until that transaction
/// ends, and the swap locks the parents exclusively while the spending's
/// keys are still being built: it would wait for them, or they for it.
async fn definition(pool: &PgPool, table: &'static Table) -> Result<(String, Vec<(String, &'static str)>), EtlError> {
    const COLUMNS: &str = "SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod) \
           || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation \
              THEN ' COLLATE ' || quote_ident(n.nspname) || '.' || quote_ident(c.collname) ELSE '' END \
           || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END \
           || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum) \
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_collation c ON c.oid = a.attcollation \
         LEFT JOIN pg_namespace n ON n.oid = c.collnamespace \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped";
    let mut conn = pool
        .acquire()
        .await
        .map_err(EtlError::db("reading the tables' definitions"))?;
    let columns: Option<String> = sqlx::query_scalar(COLUMNS)
        .bind(table.name)
        .fetch_one(&mut *conn)
        .await
        .map_err(EtlError::db("reading the tables' definitions"))?;
    let columns = columns.ok_or_else(|| EtlError::Internal(format!("{} has no columns", table.name)))?;
    let keys = key_statements(&mut conn, table).await?;
    Ok((columns, keys))
}

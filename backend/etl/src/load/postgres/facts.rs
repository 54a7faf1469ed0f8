//! The fact table's COPY, on its own connection while the rest loads.

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::super::Step;
use super::catalog::build_keys;
use super::connection::{begin_keyed, ddl};
use super::LOAD;
use crate::encode::copy_binary;
use crate::error::EtlError;
use crate::rows::{FactRow, Row};
use store::entities::FACTS;

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
    pub(super) fn start(pool: PgPool) -> Self {
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

    pub(super) async fn send(&mut self, bytes: Vec<u8>) -> Result<(), EtlError> {
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
    pub(super) async fn complete(&mut self) -> Result<(), EtlError> {
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
    pub(super) async fn finish(self) -> Result<(), EtlError> {
        drop(self.sender);
        self.task
            .await
            .map_err(|e| EtlError::FactLoad(format!("the fact table's load failed: {e}")))?
    }
}

//! A replace's subscription feed, written on its own connection while the
//! rest loads: each part is a large value, and writing it in the load's
//! transaction held up the loop that hands the batches to the fact table's
//! COPY (pass 2 took 1.9 s longer at 5M). Its transaction commits just
//! before the load's (a run that stops before leaves none); a run whose
//! own commit then fails leaves an orphan feed, which no reader takes (its
//! run did not succeed) and the next run deletes
//! (`etl_saas_feed::DROP_ORPHANS`).

use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::error::EtlError;
use store::entities::etl_saas_feed;

pub struct FeedLoad {
    sender: mpsc::Sender<Message>,
    /// Taken by the first look at its outcome.
    task: Option<tokio::task::JoinHandle<Result<(), EtlError>>>,
}

enum Message {
    Part { run: i64, part: u32, bytes: Vec<u8> },
    Commit,
}

impl FeedLoad {
    pub(super) fn start(pool: PgPool) -> Self {
        let (sender, receiver) = mpsc::channel(2);
        let task = tokio::spawn(Self::run(pool, receiver));
        Self {
            sender,
            task: Some(task),
        }
    }

    async fn run(pool: PgPool, mut receiver: mpsc::Receiver<Message>) -> Result<(), EtlError> {
        let during = "writing the subscription feed";
        let mut tx = pool.begin().await.map_err(EtlError::db(during))?;
        while let Some(message) = receiver.recv().await {
            match message {
                Message::Part { run, part, bytes } => {
                    sqlx::query(etl_saas_feed::INSERT_PART)
                        .bind(run)
                        .bind(part as i32)
                        .bind(bytes)
                        .execute(&mut *tx)
                        .await
                        .map_err(EtlError::db(during))?;
                }
                Message::Commit => return tx.commit().await.map_err(EtlError::db(during)),
            }
        }
        // The load stopped before the feed was complete: rolled back.
        Ok(())
    }

    pub(super) async fn send(&mut self, run: i64, part: u32, bytes: Vec<u8>) -> Result<(), EtlError> {
        if self.sender.send(Message::Part { run, part, bytes }).await.is_ok() {
            return Ok(());
        }
        // The task only stops early on an error: report it.
        Err(self
            .outcome()
            .await
            .err()
            .unwrap_or_else(|| EtlError::FactLoad("the subscription feed's load ended early".to_owned())))
    }

    /// Commits the feed (every part sent).
    pub(super) async fn commit(&mut self) -> Result<(), EtlError> {
        // A closed channel: the task ended with an error, which `outcome` gives.
        let _ = self.sender.send(Message::Commit).await;
        self.outcome().await
    }

    async fn outcome(&mut self) -> Result<(), EtlError> {
        match self.task.take() {
            None => Ok(()),
            Some(task) => match task.await {
                Ok(done) => done,
                Err(e) => Err(EtlError::FactLoad(format!("the subscription feed's load failed: {e}"))),
            },
        }
    }
}

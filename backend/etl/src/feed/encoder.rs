//! The feed's own thread: numbers and encodes each batch of transactions
//! once the loader has written it.
//!
//! Why a thread: pass 2's thread sets the pace of the load (at 5M on
//! PostgreSQL the machine was a fifth idle while it ran), and numbering
//! every transaction's subscription there (5M lookups in a table of about
//! 900,000 ids, beyond the CPU caches) was about a tenth of the load's CPU.

use tokio::sync::mpsc;

use super::codes::FeedCodes;
use crate::error::{self, EtlError};
use crate::rows::FactBatch;

/// A batch's records, encoded.
pub(super) struct Encoded {
    pub bytes: Vec<u8>,
    pub records: usize,
}

pub(super) struct Encoder {
    batches: mpsc::Sender<FactBatch>,
    /// Unbounded so that the thread never waits for the loader, which takes
    /// what is ready after each batch it hands over (a few at most).
    encoded: mpsc::UnboundedReceiver<Result<Encoded, EtlError>>,
    /// Taken when joined early, to tell why it stopped.
    thread: Option<tokio::task::JoinHandle<FeedCodes>>,
}

impl Encoder {
    pub fn start() -> Self {
        let (batches, mut input) = mpsc::channel::<FactBatch>(2);
        let (output, encoded) = mpsc::unbounded_channel();
        let thread = tokio::task::spawn_blocking(move || {
            let mut codes = FeedCodes::default();
            while let Some(batch) = input.blocking_recv() {
                let result = codes.encode_batch(&batch).map(|bytes| Encoded {
                    bytes,
                    records: batch.len(),
                });
                let failed = result.is_err();
                // The loader gone: the load stopped, nothing to encode for.
                if output.send(result).is_err() || failed {
                    break;
                }
            }
            codes
        });
        Self {
            batches,
            encoded,
            thread: Some(thread),
        }
    }

    /// Hands `batch` over; what is encoded by now, in order.
    pub async fn send(&mut self, batch: FactBatch) -> Result<Vec<Encoded>, EtlError> {
        if self.batches.send(batch).await.is_err() {
            // The thread stopped on an error, which it sent before stopping.
            while let Some(result) = self.encoded.recv().await {
                result?;
            }
            // It sent no error, so it panicked: the join gives the message.
            if let Some(thread) = self.thread.take() {
                thread.await.map_err(error::join_error)?;
            }
            return Err(stopped());
        }
        let mut ready = Vec::new();
        while let Ok(result) = self.encoded.try_recv() {
            ready.push(result?);
        }
        Ok(ready)
    }

    /// Every batch handed over: the records not yet taken, and the numbering.
    pub async fn finish(self) -> Result<(Vec<Encoded>, FeedCodes), EtlError> {
        let Self {
            batches,
            mut encoded,
            thread,
        } = self;
        drop(batches);
        let mut rest = Vec::new();
        while let Some(result) = encoded.recv().await {
            rest.push(result?);
        }
        let thread = thread.ok_or_else(stopped)?;
        let codes = thread.await.map_err(error::join_error)?;
        Ok((rest, codes))
    }
}

fn stopped() -> EtlError {
    EtlError::Internal("the subscription feed's encoder stopped".to_owned())
}

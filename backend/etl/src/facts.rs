//! The facts: pass 2 over transactions.csv, streamed into the load (and
//! into the run's subscription feed).

use sea_orm::DatabaseConnection;

use crate::error::{self, EtlError};
use crate::feed::FeedWriter;
use crate::load::{stored, Loader};
use crate::progress::Progress;
use crate::read;
use crate::read::transactions::{self, Pass2Options, StoredLookup, Transactions};
use crate::{IngestOptions, Mode};
use chrono::Utc;

/// Pass 2 over transactions.csv on a blocking thread, its batches written
/// into the load and the run's feed (whose run this is) as they come.
pub(crate) async fn load_transactions(
    db: &DatabaseConnection,
    loader: &mut Loader,
    options: &IngestOptions,
    scan: transactions::Scan,
    catalog: read::products::Catalog,
    feed: &mut FeedWriter,
    progress: &Progress,
) -> Result<Transactions, EtlError> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let mut lookup = match options.mode {
        Mode::Append => Some(stored::PassLookup::connect(db).await?),
        Mode::Replace => None,
    };
    let (dir, progress) = (options.input.clone(), progress.clone());
    let dates = domain::DateBounds::new(options.earliest_date, options.max_days_ahead, Utc::now().naive_utc());
    let run_id = feed.run();
    let pass2 = tokio::task::spawn_blocking(move || {
        let stored = lookup.as_mut().map(|l| l as &mut dyn StoredLookup);
        let options = Pass2Options {
            run_id,
            stored,
            progress: &progress,
            dates,
        };
        transactions::load(&dir, &scan, catalog, options, sender)
    });
    let mut written = 0u64;
    while let Some(batch) = receiver.recv().await {
        written += batch.len() as u64;
        loader.write_facts(&batch).await?;
        feed.add_batch(loader, batch).await?;
        if options.fail_after_rows.is_some_and(|limit| written >= limit) {
            return Err(EtlError::TestHook(written));
        }
        if options.panic_after_rows.is_some_and(|limit| written >= limit) {
            panic!("forced panic after {written} transactions (test hook)");
        }
    }
    let tx = pass2.await.map_err(error::join_error)??;
    loader.facts_complete().await?;
    Ok(tx)
}

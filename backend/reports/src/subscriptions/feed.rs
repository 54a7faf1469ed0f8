//! Reading a run's transactions from the subscription feed
//! (`etl_saas_feed`, format `store::saas_feed`) instead of the fact table:
//! a few large values per run, whose customers, subscriptions and
//! currencies are numbered. The numbers go straight into a
//! [`saas::Numbered`], which ranks each distinct text once and sorts the
//! records on the ranks into the reading order the server keeps: no text
//! is hashed and no record is allocated on its own. (The first version
//! made an `Invoice` per record, then sorted them: 34% of a 5M read in
//! making them and 40% in the sort, mostly cache misses on the ids'
//! allocations and hashing their texts.)

use ::saas::{Numbered, ReadingOrder, Text};
use chrono::DateTime;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Statement,
    StreamTrait,
};
use store::entities::etl_run;
use store::saas_feed::{Dictionaries, FeedError, FeedReader, Record, Visit, NO_SUBSCRIPTION};

use super::input::blocking;
use crate::ReportError;

/// The transactions of `run`'s data from the feed, in the reading order:
/// the last replace's up to `run` and those of every append after it.
/// `None` when one of these runs has no complete feed (a run of an earlier
/// version, or a feed deleted) or a feed cannot be read (logged): the
/// caller reads the facts then.
pub(super) async fn read<C: ConnectionTrait + StreamTrait>(
    db: &C,
    run: i64,
) -> Result<Option<ReadingOrder>, ReportError> {
    let Some(chain) = chain(db, run).await? else {
        return Ok(None);
    };
    let list: Vec<String> = chain.iter().map(ToString::to_string).collect();
    // Each run's parts last first, as a `FeedReader` takes them.
    let sql = format!(
        "SELECT run_id, part, bytes FROM etl_saas_feed WHERE run_id IN ({}) ORDER BY run_id, part DESC",
        list.join(", ")
    );
    let mut rows = std::pin::pin!(
        db.stream(Statement::from_string(db.get_database_backend(), sql))
            .await?
    );
    let mut fed = Fed::default();
    let mut reading: Option<(i64, FeedReader)> = None;
    let mut read: Vec<i64> = Vec::new();
    let mut row = rows.try_next().await?;
    loop {
        let run_id = match &row {
            Some(row) => Some(row.try_get_by_index::<i64>(0)?),
            None => None,
        };
        // A run's parts have all come: its reader checks that none is missing.
        if let Some((current, reader)) = reading.take_if(|(current, _)| Some(*current) != run_id) {
            if let Err(error) = reader.finish(&mut fed) {
                tracing::warn!(run = current, %error, "the subscription feed cannot be read: reading the facts");
                return Ok(None);
            }
            read.push(current);
        }
        let (Some(this), Some(run_id)) = (row.take(), run_id) else {
            break;
        };
        let Some((part, bytes)) = part_of(&this, run_id)? else {
            return Ok(None);
        };
        drop(this);
        let step = match reading.take() {
            // Decoded off the async workers while the next part is received
            // (and, over TLS, decrypted) here.
            Some((_, mut reader)) => {
                let decode = blocking(move || {
                    let result = reader.part(part, bytes, &mut fed);
                    ((reader, fed), result)
                });
                let (((reader, back), result), next) = futures_util::future::join(decode, rows.try_next()).await;
                fed = back;
                row = next?;
                result.map(|()| reader)
            }
            None => {
                row = rows.try_next().await?;
                let Some(started) = start(&mut fed, run_id, part, &bytes).transpose() else {
                    return Ok(None);
                };
                started
            }
        };
        match step {
            Ok(reader) => reading = Some((run_id, reader)),
            Err(error) => {
                tracing::warn!(run = run_id, %error, "the subscription feed cannot be read: reading the facts");
                return Ok(None);
            }
        }
    }
    if read != chain {
        let missing: Vec<&i64> = chain.iter().filter(|r| !read.contains(r)).collect();
        tracing::info!(?missing, "runs without a subscription feed: reading the facts");
        return Ok(None);
    }
    Ok(Some(blocking(move || fed.into_order()).await))
}

/// A reader of `run`'s feed from its end part, with room made for the
/// records it counts. `Ok(None)`: more than memory holds (logged).
fn start(fed: &mut Fed, run: i64, part: u32, bytes: &[u8]) -> Result<Option<FeedReader>, FeedError> {
    let reader = FeedReader::start(part, bytes)?;
    let records = usize::try_from(reader.len()).unwrap_or(usize::MAX);
    match fed.numbered.try_reserve(records) {
        Ok(()) => Ok(Some(reader)),
        // A damaged end part (its count is checked only once the records
        // are read), or data too large for this server.
        Err(error) => {
            tracing::warn!(run, records, %error, "the subscription feed cannot be read: reading the facts");
            Ok(None)
        }
    }
}

/// A feed row's part number and bytes (`None`: a negative part, logged).
fn part_of(row: &QueryResult, run: i64) -> Result<Option<(u32, Vec<u8>)>, ReportError> {
    let part: i32 = row.try_get_by_index(1)?;
    match u32::try_from(part) {
        Ok(part) => Ok(Some((part, row.try_get_by_index(2)?))),
        Err(_) => {
            tracing::warn!(
                run,
                part,
                "the subscription feed has a negative part: reading the facts"
            );
            Ok(None)
        }
    }
}

/// The runs whose feeds make `run`'s data, oldest first: the last replace
/// up to `run` and every append after it that changed the data. `None`
/// when no replace precedes (data of an earlier version).
async fn chain<C: ConnectionTrait>(db: &C, run: i64) -> Result<Option<Vec<i64>>, ReportError> {
    let runs: Vec<(i64, String)> = etl_run::Entity::find()
        .select_only()
        .column(etl_run::Column::Id)
        .column(etl_run::Column::Mode)
        .filter(etl_run::Column::Status.eq("succeeded"))
        .filter(etl_run::Column::DataChanged.eq(true))
        .filter(etl_run::Column::Id.lte(run))
        .order_by_desc(etl_run::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut chain = Vec::new();
    for (id, mode) in runs {
        chain.push(id);
        match mode.as_str() {
            "replace" => {
                chain.reverse();
                return Ok(Some(chain));
            }
            "append" => continue,
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// The runs' feeds read so far: their dictionaries listed one after the
/// other (a value in several runs' is made one by the ranking) and their
/// records numbered into them, with no allocation per record.
#[derive(Default)]
struct Fed {
    numbered: Numbered,
    /// The texts of the run being read, by its feed's indexes.
    run: RunTexts,
}

#[derive(Default)]
struct RunTexts {
    currencies: Vec<(Text, u8)>,
    customers: Vec<Text>,
    subscriptions: Vec<Text>,
}

impl Visit for Fed {
    fn dictionaries(&mut self, d: Dictionaries<'_>) {
        let n = &mut self.numbered;
        self.run = RunTexts {
            currencies: d
                .currencies
                .iter()
                .map(|c| (n.currency(c), domain::exponent_of(c)))
                .collect(),
            customers: d.customers.iter().map(|c| n.customer(c)).collect(),
            // An empty id is no subscription, as the fact table's read makes it.
            subscriptions: d.subscriptions.iter().map(|s| n.subscription(s)).collect(),
        };
    }

    /// Indexes are checked by the reader.
    fn record(&mut self, r: Record<'_>) -> Result<(), FeedError> {
        let timestamp = DateTime::from_timestamp(r.seconds, r.nanos).ok_or(FeedError::Timestamp(r.seconds, r.nanos))?;
        let (currency, exponent) = self.run.currencies[usize::from(r.currency)];
        let subscription = match r.subscription {
            NO_SUBSCRIPTION => self.numbered.subscription(""),
            s => self.run.subscriptions[s as usize],
        };
        self.numbered.push(
            currency,
            self.run.customers[r.customer as usize],
            subscription,
            timestamp,
            api_types::Money::new(r.total, exponent),
            r.transaction_id,
        );
        Ok(())
    }
}

impl Fed {
    /// The invoices, in the reading order.
    fn into_order(self) -> ReadingOrder {
        ReadingOrder::from(self.numbered)
    }
}

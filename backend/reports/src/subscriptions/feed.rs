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
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement, StreamTrait,
};
use store::entities::etl_run;
use store::saas_feed::{Feed, FeedError, NO_SUBSCRIPTION};

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
    let sql = format!(
        "SELECT run_id, part, bytes FROM etl_saas_feed WHERE run_id IN ({}) ORDER BY run_id, part",
        list.join(", ")
    );
    let mut rows = std::pin::pin!(
        db.stream(Statement::from_string(db.get_database_backend(), sql))
            .await?
    );
    let mut fed = Fed::default();
    let mut read: Vec<i64> = Vec::new();
    let mut parts: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut current = None;
    loop {
        let row = rows.try_next().await?;
        let next = match &row {
            Some(row) => Some(row.try_get_by_index::<i64>(0)?),
            None => None,
        };
        if current.is_some() && next != current {
            // A run's parts are complete: decoded off the async workers.
            let run_parts = std::mem::take(&mut parts);
            match blocking(move || fed.add(run_parts).map(|()| fed)).await {
                Ok(more) => fed = more,
                Err(error) => {
                    tracing::warn!(run = current, %error, "the subscription feed cannot be read: reading the facts");
                    return Ok(None);
                }
            }
            read.extend(current);
        }
        let Some(row) = row else { break };
        let part: i32 = row.try_get_by_index(1)?;
        let Ok(part) = u32::try_from(part) else {
            tracing::warn!(
                run = next,
                part,
                "the subscription feed has a negative part: reading the facts"
            );
            return Ok(None);
        };
        parts.push((part, row.try_get_by_index(2)?));
        current = next;
    }
    if read != chain {
        let missing: Vec<&i64> = chain.iter().filter(|r| !read.contains(r)).collect();
        tracing::info!(?missing, "runs without a subscription feed: reading the facts");
        return Ok(None);
    }
    Ok(Some(blocking(move || fed.into_order()).await))
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
}

impl Fed {
    /// Adds one run's feed (its parts in order).
    fn add(&mut self, parts: Vec<(u32, Vec<u8>)>) -> Result<(), FeedError> {
        let feed = Feed::decode(parts)?;
        let n = &mut self.numbered;
        let currencies: Vec<(Text, u8)> = feed
            .currencies
            .iter()
            .map(|c| (n.currency(c), domain::exponent_of(c)))
            .collect();
        let customers: Vec<Text> = feed.customers.iter().map(|c| n.customer(c)).collect();
        // An empty id is no subscription, as the fact table's read makes it.
        let subscriptions: Vec<Text> = feed.subscriptions.iter().map(|s| n.subscription(s)).collect();
        let none = n.subscription("");
        n.reserve(usize::try_from(feed.len()).unwrap_or(0));
        let mut wrong_time = None;
        // Indexes are checked by `records`.
        feed.records(|r| {
            let Some(timestamp) = DateTime::from_timestamp(r.seconds, r.nanos) else {
                wrong_time.get_or_insert(FeedError::Timestamp(r.seconds, r.nanos));
                return;
            };
            let (currency, exponent) = currencies[usize::from(r.currency)];
            let subscription = match r.subscription {
                NO_SUBSCRIPTION => none,
                s => subscriptions[s as usize],
            };
            n.push(
                currency,
                customers[r.customer as usize],
                subscription,
                timestamp,
                api_types::Money::new(r.total, exponent),
                r.transaction_id,
            );
        })?;
        wrong_time.map_or(Ok(()), Err)
    }

    /// The invoices, in the reading order.
    fn into_order(self) -> ReadingOrder {
        ReadingOrder::from(self.numbered)
    }
}

//! Reading a run's transactions from the subscription feed
//! (`etl_saas_feed`, format `store::saas_feed`) instead of the fact table:
//! a few large values per run, whose customers, subscriptions and
//! currencies are numbered, so each distinct id is looked up once instead
//! of once per transaction.

use std::sync::Arc;

use ::saas::Invoice;
use chrono::DateTime;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement, StreamTrait,
};
use store::entities::etl_run;
use store::saas_feed::{Feed, FeedError, NO_SUBSCRIPTION};

use super::input::{blocking, Invoices};
use crate::ReportError;

/// The transactions of `run`'s data from the feed: the last replace's up to
/// `run` and those of every append after it. `None` when one of these runs
/// has no complete feed (a run of an earlier version, or a feed deleted) or
/// a feed cannot be read (logged): the caller reads the facts then.
pub(super) async fn read<C: ConnectionTrait + StreamTrait>(
    db: &C,
    run: i64,
) -> Result<Option<Vec<Invoice>>, ReportError> {
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
    let mut invoices = Invoices::default();
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
            match blocking(move || decode(invoices, run_parts)).await {
                Ok(done) => invoices = done,
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
    Ok(Some(invoices.invoices))
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

/// Adds one run's feed (its parts in order) to `invoices`.
fn decode(mut invoices: Invoices, parts: Vec<(u32, Vec<u8>)>) -> Result<Invoices, FeedError> {
    let feed = Feed::decode(parts)?;
    let Invoices {
        invoices: out,
        customers,
        subscriptions,
        currencies,
    } = &mut invoices;
    // Each distinct value looked up once: the records refer to them by index.
    let customer_ids: Vec<Arc<str>> = feed.customers.iter().map(|c| customers.get(c)).collect();
    let subscription_ids: Vec<Arc<str>> = feed.subscriptions.iter().map(|s| subscriptions.get(s)).collect();
    let none = subscriptions.get("");
    let codes: Vec<(Arc<str>, u8)> = feed
        .currencies
        .iter()
        .map(|c| (currencies.get(c), domain::exponent_of(c)))
        .collect();
    out.reserve(usize::try_from(feed.len()).unwrap_or(0));
    let mut out_of_range = None;
    feed.records(|r| {
        if out_of_range.is_some() {
            return;
        }
        // Indexes are checked by `records`.
        let (currency, exponent) = &codes[usize::from(r.currency)];
        let Some(timestamp) = DateTime::from_timestamp(r.seconds, r.nanos) else {
            out_of_range = Some(FeedError::Timestamp(r.seconds, r.nanos));
            return;
        };
        out.push(Invoice {
            timestamp,
            transaction_id: r.transaction_id.into(),
            customer_id: customer_ids[r.customer as usize].clone(),
            subscription_id: match r.subscription {
                NO_SUBSCRIPTION => none.clone(),
                s => subscription_ids[s as usize].clone(),
            },
            currency: currency.clone(),
            amount: api_types::Money::new(r.total, *exponent),
        });
    })?;
    out_of_range.map_or(Ok(invoices), Err)
}

//! An append's restatement: the transactions loaded by earlier runs whose
//! subscriptions the run's products.csv adds or re-plans are attributed
//! again, with the catalogue as it will be stored, so that a replace of part
//! of the data followed by an append of the rest leaves exactly the data of
//! one replace of the whole.
//!
//! A product row only adds or replaces a (subscription, plan): a transaction
//! on an unknown subscription may become attributed, an attributed one may
//! be split otherwise, none becomes unknown. What the attribution feeds
//! moves by the difference: every aggregate ([`Aggregate::restate`]:
//! `agg_monthly`'s unknown-subscription figures, `agg_product_month`), each
//! customer's `unknown_subscription` flag and the counts made of it, and the
//! data's count of unreferenced transactions (the Integrity of its score).
//!
//! Cost: nothing when products.csv changes no stored subscription's split
//! and brings no subscription the stored transactions could reference (the
//! stored monthly cells say whether any is on an unknown subscription).
//! Otherwise one pass over the stored transactions (no index on their
//! subscription), grouped in the database per (subscription, customer,
//! currency, month, amount); and when a subscription new to the catalogue
//! had stored transactions, a second pass for their customers' other
//! subscriptions (no index on the customer either, but on Citus the
//! facts are distributed by it).
//!
//! [`Aggregate::restate`]: crate::aggregates::Aggregate::restate

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::Serialize;

use crate::aggregates::{Attribution, Plan, Restated};
use crate::error::EtlError;
use crate::load::{stored, Loader, Step};
use crate::read::products::Catalog;
use crate::read::transactions::Transactions;
use crate::rows::{LookupKey, ProductRow};
use domain::{Currency, Month};

/// A subscription of the run's products.csv whose plans split revenue
/// otherwise than the stored ones, with those stored rows (none: the stored
/// transactions on it, if any, are on an unknown subscription).
pub struct Reattributed {
    pub subscription: String,
    pub before: Vec<ProductRow>,
}

/// Whether the plans `after` split revenue as `before` does: the same
/// products in plan order, in the same proportions (what [`allocate`]
/// reads). An equal split restates nothing.
///
/// [`allocate`]: crate::aggregates::allocate
pub fn same_split(before: &[(&str, i64)], after: &[(&str, i64)]) -> bool {
    let weights = |plans: &[(&str, i64)]| -> Vec<i128> {
        let w: Vec<i128> = plans.iter().map(|p| i128::from(p.1.max(0))).collect();
        match w.iter().all(|&x| x == 0) {
            true => vec![1; w.len()],
            false => w,
        }
    };
    let (wb, wa) = (weights(before), weights(after));
    let (sb, sa): (i128, i128) = (wb.iter().sum(), wa.iter().sum());
    before.len() == after.len()
        && before.iter().zip(after).all(|(b, a)| b.0 == a.0)
        && wb.iter().zip(&wa).all(|(b, a)| b * sa == a * sb)
}

/// How many subscriptions and stored transactions a run restated (recorded
/// with the run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RestatedCounts {
    pub subscriptions: u64,
    pub transactions: u64,
}

/// A customer with stored transactions on a subscription the run's catalogue
/// makes known.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestatedCustomer {
    /// Its stored transactions on those subscriptions.
    pub unknown_transactions: u64,
    /// None of its stored transactions is on an unknown subscription any more.
    pub cleared: bool,
}

/// Stored transactions of one (subscription, currency, month, amount).
struct Cell {
    subscription: usize,
    currency: Currency,
    month: Month,
    total_cents: i64,
    transactions: i64,
}

/// What an append restates (empty: nothing).
#[derive(Default)]
pub struct Restatement {
    subscriptions: Vec<String>,
    /// Per subscription, its stored plans (`None`: it was unknown).
    before: Vec<Option<Vec<Plan>>>,
    cells: Vec<Cell>,
    pub customers: HashMap<String, RestatedCustomer>,
    pub counts: RestatedCounts,
}

/// Reads the stored transactions of the subscriptions whose split changes
/// (before the run writes any: the load stages its rows). `stored_unknown`:
/// some stored transaction is on an unknown subscription (else the
/// subscriptions new to the catalogue cannot concern stored ones).
pub async fn prepare(
    loader: &mut Loader,
    reattributed: Vec<Reattributed>,
    catalog: &mut Catalog,
    stored_unknown: bool,
) -> Result<Restatement, EtlError> {
    let mut out = Restatement::default();
    for r in reattributed {
        if r.before.is_empty() && !stored_unknown {
            continue;
        }
        let mut rows = r.before;
        rows.sort_by(|a, b| a.plan.cmp(&b.plan));
        let plans: Vec<Plan> = rows
            .iter()
            .map(|p| Plan {
                plan: p.plan.clone(),
                product: catalog.intern(&p.product),
                amount_cents: p.amount_cents,
            })
            .collect();
        out.subscriptions.push(r.subscription);
        out.before.push((!plans.is_empty()).then_some(plans));
    }
    if out.subscriptions.is_empty() {
        return Ok(out);
    }
    let step = Step::start("restate stored transactions");
    let rows = cells(loader, &out.subscriptions).await?;
    let mut seen = vec![false; out.subscriptions.len()];
    for (cell, customer) in rows {
        seen[cell.subscription] = true;
        out.counts.transactions += cell.transactions as u64;
        if out.before[cell.subscription].is_none() {
            out.customers.entry(customer).or_default().unknown_transactions += cell.transactions as u64;
        }
        out.cells.push(cell);
    }
    out.counts.subscriptions = seen.iter().filter(|&&s| s).count() as u64;
    if !out.customers.is_empty() {
        let learnt: HashSet<&str> = (out.subscriptions.iter().zip(&out.before))
            .filter(|(_, b)| b.is_none())
            .map(|(s, _)| s.as_str())
            .collect();
        let still = still_unknown(loader, &out.customers, &learnt).await?;
        for (id, c) in out.customers.iter_mut() {
            c.cleared = !still.contains(id);
        }
    }
    step.done(Some(out.counts.transactions));
    Ok(out)
}

/// Among `customers`, those with a stored transaction on a subscription
/// that stays unknown (neither stored nor `learnt`). Two reads, neither
/// joining the facts with a table of the coordinator (Citus plans no such
/// correlated join): the customers' subscriptions, then which are stored.
async fn still_unknown(
    loader: &mut Loader,
    customers: &HashMap<String, RestatedCustomer>,
    learnt: &HashSet<&str>,
) -> Result<HashSet<String>, EtlError> {
    let keys: Vec<LookupKey> = customers.keys().map(|c| LookupKey(c.clone())).collect();
    let pairs = loader
        .fetch_in(
            "SELECT DISTINCT f.customer_id, f.subscription_id FROM fct_transaction f \
             WHERE f.customer_id {in_keys} AND f.subscription_id IS NOT NULL",
            &keys,
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
        .await?;
    let mut others: Vec<String> = pairs
        .iter()
        .filter(|(_, s)| !learnt.contains(s.as_str()))
        .map(|(_, s)| s.clone())
        .collect();
    others.sort_unstable();
    others.dedup();
    let stored: HashSet<String> = stored::products(loader, &others)
        .await?
        .into_iter()
        .map(|p| p.subscription_id.to_string())
        .collect();
    Ok(pairs
        .into_iter()
        .filter(|(_, s)| !learnt.contains(s.as_str()) && !stored.contains(s))
        .map(|(c, _)| c)
        .collect())
}

/// The stored transactions of `subscriptions`, per subscription, customer,
/// currency, month and amount (a subscription is almost always one
/// customer's: grouping by it too costs little).
async fn cells(loader: &mut Loader, subscriptions: &[String]) -> Result<Vec<(Cell, String)>, EtlError> {
    let index: HashMap<&str, usize> = subscriptions.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
    let keys: Vec<LookupKey> = subscriptions.iter().map(|s| LookupKey(s.clone())).collect();
    // The timestamp's text is `YYYY-MM-DD HH:MM:SS` on both engines.
    let rows = loader
        .fetch_in(
            "SELECT f.subscription_id, f.customer_id, f.currency, substr(CAST(f.date_utc AS TEXT), 1, 7), \
             f.total_cents, COUNT(*) FROM fct_transaction f WHERE f.subscription_id {in_keys} \
             GROUP BY f.subscription_id, f.customer_id, f.currency, substr(CAST(f.date_utc AS TEXT), 1, 7), f.total_cents",
            &keys,
            |r| Ok((r.text(0)?, r.text(1)?, r.text(2)?, r.text(3)?, r.int(4)?, r.int(5)?)),
        )
        .await?;
    rows.into_iter()
        .map(|(subscription, customer, currency, month, total_cents, transactions)| {
            let bad = |what: &str| {
                EtlError::StoredState(format!(
                    "a stored transaction of subscription {subscription:?} has {what}"
                ))
            };
            let cell = Cell {
                subscription: *index
                    .get(subscription.as_str())
                    .ok_or_else(|| bad("an unasked subscription"))?,
                currency: Currency::parse(&currency).map_err(|_| bad("an unknown currency"))?,
                month: Month::parse(&month).ok_or_else(|| bad("an unreadable date"))?,
                total_cents,
                transactions,
            };
            Ok((cell, customer))
        })
        .collect()
}

impl Restatement {
    /// Shows every restated cell to the run's aggregates, attributed with
    /// the stored plans before and the run's catalogue after.
    pub fn apply(&self, tx: &mut Transactions) -> Result<(), EtlError> {
        let Transactions {
            catalog, aggregates, ..
        } = tx;
        for c in &self.cells {
            let subscription = &self.subscriptions[c.subscription];
            let after = catalog.plans(subscription).ok_or_else(|| {
                EtlError::Internal(format!(
                    "restated subscription {subscription:?} is not in the catalogue"
                ))
            })?;
            aggregates.restate(&Restated {
                currency: c.currency,
                month: c.month,
                total_cents: c.total_cents,
                transactions: c.transactions,
                before: self.before[c.subscription]
                    .as_deref()
                    .map_or(Attribution::Unknown, Attribution::Plans),
                after: Attribution::Plans(after),
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::same_split;

    #[test]
    fn a_split_changes_with_products_or_proportions() {
        assert!(same_split(&[("A", 100)], &[("A", 250)]), "one plan takes it all");
        assert!(same_split(&[("A", 100), ("B", 10)], &[("A", 300), ("B", 30)]));
        assert!(
            same_split(&[("A", 0), ("B", 0)], &[("A", 5), ("B", 5)]),
            "zeros split equally"
        );
        assert!(!same_split(&[("A", 100)], &[("B", 100)]));
        assert!(!same_split(&[("A", 100), ("B", 10)], &[("A", 100), ("B", 20)]));
        assert!(!same_split(&[("A", 100)], &[("A", 100), ("B", 10)]));
        assert!(!same_split(&[], &[("A", 1)]));
    }
}

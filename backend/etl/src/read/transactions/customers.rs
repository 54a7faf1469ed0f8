//! What pass 2 learns about each customer of the run: their spending per
//! currency and months active (the input of `agg_customer_spending`, merged
//! with the stored spending by `reconcile::customers`), and their
//! transactions without a known subscription (flags of `dim_user`).

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

use super::Transactions;
use crate::aggregates::{add_cents, Accepted, Attribution};
use crate::error::EtlError;
use crate::months::ActiveMonths;
use domain::{Currency, Month};

/// Totals of one customer in one currency, in this run.
pub struct Spending {
    pub currency: Currency,
    pub cents: i64,
    pub transactions: i64,
    /// Months with a transaction: bit `k` is month `base + k`. Months outside
    /// these 64 go to [`Transactions::far_months`] (rare: over five years apart).
    base: Month,
    bits: u64,
}

impl Spending {
    fn new(currency: Currency, first: Month) -> Self {
        Self {
            currency,
            cents: 0,
            transactions: 0,
            // Room for 31 months before the first one seen and 32 after.
            base: first.plus(-31),
            bits: 0,
        }
    }
}

/// Everything pass 2 learnt about one customer.
#[derive(Default)]
pub struct CustomerFacts {
    /// One entry per currency (almost always one: kept inline).
    pub spending: SmallVec<[Spending; 1]>,
    /// Transactions without a subscription id / with one unknown to the catalog.
    pub null_subscription_tx: u32,
    pub unknown_subscription_tx: u32,
}

/// (customer, currency) → months outside its [`Spending`]'s 64-month window.
pub type FarMonths = HashMap<(u32, Currency), Vec<Month>>;

/// Adds an accepted transaction to its customer's facts.
pub(super) fn observe(
    customers: &mut [CustomerFacts],
    far_months: &mut FarMonths,
    tx: &Accepted<'_>,
) -> Result<(), EtlError> {
    let (currency, month) = (tx.currency, tx.month);
    let facts = &mut customers[tx.customer as usize];
    let spending = match facts.spending.iter().position(|s| s.currency == currency) {
        Some(i) => &mut facts.spending[i],
        None => {
            facts.spending.push(Spending::new(currency, month));
            let last = facts.spending.len() - 1;
            &mut facts.spending[last]
        }
    };
    add_cents(&mut spending.cents, tx.fact.total_cents, &|| {
        format!("the {currency} spending of customer {:?}", tx.fact.customer_id)
    })?;
    spending.transactions += 1;
    match u32::try_from(spending.base.months_until(month)) {
        Ok(k) if k < 64 => spending.bits |= 1 << k,
        _ => {
            let far = far_months.entry((tx.customer, currency)).or_default();
            if !far.contains(&month) {
                far.push(month);
            }
        }
    }
    match tx.attribution {
        Attribution::NoSubscription => facts.null_subscription_tx = facts.null_subscription_tx.saturating_add(1),
        Attribution::Unknown => facts.unknown_subscription_tx = facts.unknown_subscription_tx.saturating_add(1),
        Attribution::Plans(_) => {}
    }
    Ok(())
}

impl Transactions {
    /// The months in which customer `cust` paid in `spending`'s currency in this run.
    pub fn active_months(&self, cust: u32, spending: &Spending) -> ActiveMonths {
        let mut months = ActiveMonths::default();
        for k in 0..64 {
            if spending.bits & (1 << k) != 0 {
                months.insert(spending.base.plus(k));
            }
        }
        for &m in self.far_months.get(&(cust, spending.currency)).into_iter().flatten() {
            months.insert(m);
        }
        months
    }
}

//! `agg_monthly`: the additive figures of each (currency, month) cell. A
//! replace writes the run's cells as they are; an append writes them as deltas
//! that the loader adds to the stored cells (`Append::Add`), and
//! [`after`] is every cell as it will be stored.

use rustc_hash::FxHashMap as HashMap;

use super::{add_cents, times_cents, Accepted, Aggregate, Attribution, Finished, Restated};
use crate::error::EtlError;
use crate::rows::MonthlyRow;
use domain::{Currency, Month};

/// The additive figures of one (currency, month) cell.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthAcc {
    pub transactions: i64,
    pub revenue_cents: i64,
    pub zero_amount: i64,
    pub refunds: i64,
    pub refund_cents: i64,
    pub null_sub_transactions: i64,
    pub null_sub_cents: i64,
    pub unknown_sub_transactions: i64,
    pub unknown_sub_cents: i64,
    /// Σ|amount|: what bounds every sum of these transactions (see `DataState::gross_cents`).
    pub gross_cents: i64,
}

/// The run's cells.
#[derive(Default)]
pub struct Monthly {
    pub cells: HashMap<(Currency, Month), MonthAcc>,
}

impl Aggregate for Monthly {
    type Row = MonthlyRow;
    type Entity = store::entities::agg_monthly::Entity;

    fn observe(&mut self, tx: &Accepted<'_>) -> Result<(), EtlError> {
        let (currency, month, cents) = (tx.currency, tx.month, tx.fact.total_cents);
        let cell = || format!("the {currency} revenue of {month}");
        let acc = self.cells.entry((currency, month)).or_default();
        acc.transactions += 1;
        add_cents(&mut acc.revenue_cents, cents, &cell)?;
        add_cents(&mut acc.gross_cents, cents.saturating_abs(), &cell)?;
        acc.zero_amount += i64::from(cents == 0);
        if cents < 0 {
            acc.refunds += 1;
            add_cents(&mut acc.refund_cents, cents, &cell)?;
        }
        match tx.attribution {
            Attribution::NoSubscription => {
                acc.null_sub_transactions += 1;
                add_cents(&mut acc.null_sub_cents, cents, &cell)?;
            }
            Attribution::Unknown => {
                acc.unknown_sub_transactions += 1;
                add_cents(&mut acc.unknown_sub_cents, cents, &cell)?;
            }
            Attribution::Plans(_) => {}
        }
        Ok(())
    }

    /// Only the cell's counts of transactions without a subscription or on
    /// an unknown one read the attribution: they move with it.
    fn restate(&mut self, r: &Restated<'_>) -> Result<(), EtlError> {
        if matches!((r.before, r.after), (Attribution::Plans(_), Attribution::Plans(_))) {
            return Ok(());
        }
        let (currency, month) = (r.currency, r.month);
        let cell = || format!("the {currency} revenue of {month}");
        let cents = times_cents(r.total_cents, r.transactions, &cell)?;
        let acc = self.cells.entry((currency, month)).or_default();
        for (attribution, sign) in [(r.before, -1), (r.after, 1)] {
            let (count, sum) = match attribution {
                Attribution::NoSubscription => (&mut acc.null_sub_transactions, &mut acc.null_sub_cents),
                Attribution::Unknown => (&mut acc.unknown_sub_transactions, &mut acc.unknown_sub_cents),
                Attribution::Plans(_) => continue,
            };
            add_cents(count, sign * r.transactions, &cell)?;
            add_cents(sum, times_cents(cents, sign, &cell)?, &cell)?;
        }
        Ok(())
    }

    /// The run's cells, sorted by currency and month; `active_customers`
    /// counts the customers active in a cell for the first time.
    fn rows(&self, run: &Finished<'_>) -> Result<Vec<MonthlyRow>, EtlError> {
        let mut rows: Vec<MonthlyRow> = self
            .cells
            .iter()
            .map(|(&(c, m), acc)| row(c, m, acc, run.new_active.get(&(c, m)).copied().unwrap_or(0)))
            .collect();
        rows.sort_by(|a, b| (a.currency, &a.month).cmp(&(b.currency, &b.month)));
        Ok(rows)
    }
}

fn row(currency: Currency, month: Month, acc: &MonthAcc, active: i64) -> MonthlyRow {
    MonthlyRow {
        currency,
        month: month.to_string(),
        transactions: acc.transactions,
        active_customers: active,
        revenue_cents: acc.revenue_cents,
        zero_amount_transactions: acc.zero_amount,
        null_subscription_transactions: acc.null_sub_transactions,
        null_subscription_revenue_cents: acc.null_sub_cents,
        unknown_subscription_transactions: acc.unknown_sub_transactions,
        unknown_subscription_revenue_cents: acc.unknown_sub_cents,
        refund_transactions: acc.refunds,
        refund_cents: acc.refund_cents,
    }
}

/// Every cell after the run: `stored` (empty in a replace) plus the run's
/// `delta`, sorted by currency and month.
pub fn after(stored: Vec<MonthlyRow>, delta: &[MonthlyRow]) -> Result<Vec<MonthlyRow>, EtlError> {
    let mut after: HashMap<(Currency, String), MonthlyRow> =
        stored.into_iter().map(|r| ((r.currency, r.month.clone()), r)).collect();
    for d in delta {
        match after.get_mut(&(d.currency, d.month.clone())) {
            Some(total) => add(total, d)?,
            None => {
                after.insert((d.currency, d.month.clone()), d.clone());
            }
        }
    }
    let mut after: Vec<MonthlyRow> = after.into_values().collect();
    after.sort_by(|a, b| (a.currency, &a.month).cmp(&(b.currency, &b.month)));
    Ok(after)
}

/// Adds `delta` to `total`, every figure checked.
fn add(total: &mut MonthlyRow, delta: &MonthlyRow) -> Result<(), EtlError> {
    let overflow = || {
        EtlError::Overflow(format!(
            "the {} figures of {} exceed the range of 64-bit minor units (cents)",
            total.currency, total.month
        ))
    };
    for (t, d) in [
        (&mut total.transactions, delta.transactions),
        (&mut total.active_customers, delta.active_customers),
        (&mut total.revenue_cents, delta.revenue_cents),
        (&mut total.zero_amount_transactions, delta.zero_amount_transactions),
        (
            &mut total.null_subscription_transactions,
            delta.null_subscription_transactions,
        ),
        (
            &mut total.null_subscription_revenue_cents,
            delta.null_subscription_revenue_cents,
        ),
        (
            &mut total.unknown_subscription_transactions,
            delta.unknown_subscription_transactions,
        ),
        (
            &mut total.unknown_subscription_revenue_cents,
            delta.unknown_subscription_revenue_cents,
        ),
        (&mut total.refund_transactions, delta.refund_transactions),
        (&mut total.refund_cents, delta.refund_cents),
    ] {
        *t = t.checked_add(d).ok_or_else(overflow)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_add_to_stored_cells() {
        let cell = |month: &str, tx: i64, active: i64, cents: i64| MonthlyRow {
            transactions: tx,
            active_customers: active,
            revenue_cents: cents,
            ..MonthlyRow::empty("usd", month)
        };
        let mut total = cell("2024-01", 2, 2, 100);
        add(&mut total, &cell("2024-01", 1, 0, -30)).unwrap();
        assert_eq!(total, cell("2024-01", 3, 2, 70));
        let mut huge = cell("2024-01", 1, 1, i64::MAX);
        let err = add(&mut huge, &cell("2024-01", 1, 0, 1)).unwrap_err();
        assert!(err.to_string().contains("usd figures of 2024-01"), "{err}");
    }
}

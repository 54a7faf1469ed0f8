//! Phase 3, build aggregates: the report tables' rows for the (currency,
//! month) cells the run's transactions touch. A replace writes them as they
//! are; an append writes them as deltas that the loader adds to the stored
//! cells (`Append::Add`). Either way [`Aggregates::monthly_after`] is every
//! cell as it will be stored, for the quality figures and the run's summary.

use rustc_hash::FxHashMap as HashMap;

use crate::error::EtlError;
use crate::read::transactions::{MonthAcc, Transactions};
use crate::rows::{MonthlyRow, ProductMonthRow};
use domain::{Currency, Month};

pub struct Aggregates {
    /// The run's cells: whole rows (replace) or deltas (append).
    pub monthly: Vec<MonthlyRow>,
    pub product_months: Vec<ProductMonthRow>,
    /// Every monthly cell after the run, sorted by currency and month.
    pub monthly_after: Vec<MonthlyRow>,
}

fn row(currency: Currency, month: Month, acc: &MonthAcc, active: i64) -> MonthlyRow {
    MonthlyRow {
        currency: currency.as_str(),
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

/// Builds the run's aggregate rows; `stored` holds the cells loaded before
/// (empty in a replace), `new_active` the customers active in a cell for the
/// first time (from the reconciled customers).
pub fn build(
    tx: &Transactions,
    new_active: &HashMap<(Currency, Month), i64>,
    stored: Vec<MonthlyRow>,
) -> Result<Aggregates, EtlError> {
    let mut monthly: Vec<MonthlyRow> = tx
        .months
        .iter()
        .map(|(&(c, m), acc)| row(c, m, acc, new_active.get(&(c, m)).copied().unwrap_or(0)))
        .collect();
    monthly.sort_by(|a, b| (a.currency, &a.month).cmp(&(b.currency, &b.month)));
    let mut product_months: Vec<ProductMonthRow> = tx
        .product_months
        .iter()
        .map(|(&(currency, month, product), &(cents, n))| ProductMonthRow {
            currency: currency.as_str(),
            month: month.to_string(),
            product: tx.catalog.names[product as usize].clone(),
            total_sales_cents: cents,
            transactions: n,
        })
        .collect();
    product_months.sort_by(|a, b| (a.currency, &a.month, &a.product).cmp(&(b.currency, &b.month, &b.product)));
    let mut after: HashMap<(&'static str, String), MonthlyRow> =
        stored.into_iter().map(|r| ((r.currency, r.month.clone()), r)).collect();
    for delta in &monthly {
        match after.get_mut(&(delta.currency, delta.month.clone())) {
            Some(total) => add(total, delta)?,
            None => {
                after.insert((delta.currency, delta.month.clone()), delta.clone());
            }
        }
    }
    let mut monthly_after: Vec<MonthlyRow> = after.into_values().collect();
    monthly_after.sort_by(|a, b| (a.currency, &a.month).cmp(&(b.currency, &b.month)));
    Ok(Aggregates {
        monthly,
        product_months,
        monthly_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_add_to_stored_cells() {
        let usd = Currency::parse("usd").unwrap();
        let cell = |month: &str, tx: i64, active: i64, cents: i64| MonthlyRow {
            currency: usd.as_str(),
            month: month.to_owned(),
            transactions: tx,
            active_customers: active,
            revenue_cents: cents,
            ..Default::default()
        };
        let mut total = cell("2024-01", 2, 2, 100);
        add(&mut total, &cell("2024-01", 1, 0, -30)).unwrap();
        assert_eq!(total, cell("2024-01", 3, 2, 70));
        let mut huge = cell("2024-01", 1, 1, i64::MAX);
        let err = add(&mut huge, &cell("2024-01", 1, 0, 1)).unwrap_err();
        assert!(err.to_string().contains("usd figures of 2024-01"), "{err}");
    }
}

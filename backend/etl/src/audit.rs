//! Phase 4, audit: every row of every file accounted for, the rejected rows
//! and per-file counts stored, the state of the data after the run, its
//! quality figures, and the summary printed and stored with the run.

use std::collections::BTreeMap;

use api_types::{
    Completeness, CurrencySummary, CustomerChecks, Freshness, Percent, QualityReport, Refunds, SubscriptionCheck,
    SubscriptionChecks, Timestamp, ZeroAmount,
};
use serde::Serialize;

use crate::counts::Counts;
use crate::error::EtlError;
use crate::load::Loader;
pub use crate::rejects::ReasonCount;
use crate::rejects::Rejects;
use crate::rows::{MonthlyRow, RunFileRow};
use crate::state::DataState;
use domain::{Currency, Month};

/// Counts and checksum of one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: &'static str,
    pub sha256: String,
    pub bytes: u64,
    #[serde(flatten)]
    pub counts: Counts,
    /// Skipped: the same file (SHA-256) was ingested by this run, and its rows are loaded.
    pub same_as_run: Option<i64>,
}

/// The rejection reasons of a run, per file, most frequent first.
pub fn reasons(rejects: &[&Rejects]) -> Vec<ReasonCount> {
    let mut by: BTreeMap<(&'static str, &'static str), ReasonCount> = BTreeMap::new();
    for r in rejects.iter().flat_map(|r| r.reasons()) {
        match by.get_mut(&(r.file, r.reason)) {
            None => {
                by.insert((r.file, r.reason), r.clone());
            }
            Some(entry) => {
                entry.rows += r.rows;
                if r.first_line < entry.first_line {
                    entry.first_line = r.first_line;
                    entry.example = r.example.clone();
                }
            }
        }
    }
    let mut out: Vec<ReasonCount> = by.into_values().collect();
    out.sort_by(|a, b| {
        a.file
            .cmp(b.file)
            .then(b.rows.cmp(&a.rows))
            .then(a.reason.cmp(b.reason))
    });
    out
}

/// Checks the accounting identity of every file: each row read is loaded,
/// already loaded, a duplicate, or rejected.
pub fn check(files: &[FileSummary]) -> Result<(), EtlError> {
    files.iter().try_for_each(|f| f.counts.check(f.file))
}

/// Stores the rejected rows and the per-file counts of run `run_id`.
pub async fn record(
    loader: &mut Loader,
    run_id: i64,
    files: &[FileSummary],
    rejects: &[&Rejects],
) -> Result<(), EtlError> {
    for r in rejects {
        let mut chunks = r.chunks()?;
        while let Some(chunk) = chunks.next_chunk()? {
            loader.write(&chunk).await?;
        }
    }
    let rows: Vec<RunFileRow> = files
        .iter()
        .map(|f| RunFileRow {
            run_id,
            file: f.file,
            sha256: f.sha256.clone(),
            bytes: f.bytes as i64,
            rows_read: f.counts.read as i64,
            rows_loaded: f.counts.loaded as i64,
            rows_already_loaded: f.counts.already_loaded as i64,
            rows_duplicate: f.counts.duplicates as i64,
            rows_rejected: f.counts.rejected as i64,
            same_as_run: f.same_as_run,
        })
        .collect();
    loader.write(&rows).await
}

/// Totals of the loaded data, to show what a run changes.
pub use api_types::DataTotals as Totals;

/// The totals of the data described by `state` and its monthly cells.
pub fn totals(state: &DataState, monthly: &[MonthlyRow]) -> Totals {
    {
        let mut cents: BTreeMap<Currency, i64> = BTreeMap::new();
        for r in monthly {
            let e = cents.entry(r.currency).or_default();
            *e = e.saturating_add(r.revenue_cents);
        }
        let revenue = cents.into_iter().map(|(c, v)| (c.code(), c.money(v))).collect();
        Totals {
            transactions: monthly.iter().map(|r| r.transactions).sum(),
            customers: state.customers.customers,
            products: state.products,
            revenue,
            first_month: monthly.iter().filter_map(|r| Month::parse(&r.month)).min(),
            latest_month: monthly.iter().filter_map(|r| Month::parse(&r.month)).max(),
        }
    }
}

/// The data-quality figures of the loaded data, served by `/quality`: the
/// customer counts from `state`, the transaction figures from every monthly cell.
pub fn quality(state: &DataState, monthly: &[MonthlyRow]) -> QualityReport {
    let mut revenue: BTreeMap<Currency, (i64, i64)> = BTreeMap::new();
    let mut null_sub = SubscriptionCheck::default();
    let mut unknown_sub = SubscriptionCheck::default();
    let mut null_cents: BTreeMap<Currency, i64> = BTreeMap::new();
    let mut unknown_cents: BTreeMap<Currency, i64> = BTreeMap::new();
    let mut zero = 0;
    let mut refunds = Refunds::default();
    let mut refund_cents: BTreeMap<Currency, i64> = BTreeMap::new();
    for r in monthly {
        let c = r.currency;
        let e = revenue.entry(c).or_default();
        e.0 += r.transactions;
        e.1 = e.1.saturating_add(r.revenue_cents);
        null_sub.transactions += r.null_subscription_transactions;
        unknown_sub.transactions += r.unknown_subscription_transactions;
        *null_cents.entry(c).or_default() += r.null_subscription_revenue_cents;
        *unknown_cents.entry(c).or_default() += r.unknown_subscription_revenue_cents;
        zero += r.zero_amount_transactions;
        refunds.transactions += r.refund_transactions;
        if r.refund_transactions > 0 {
            *refund_cents.entry(c).or_default() += r.refund_cents;
        }
    }
    refunds.amount = refund_cents.into_iter().map(|(c, v)| (c.code(), c.money(v))).collect();
    null_sub.customers = state.customers.null_subscription;
    unknown_sub.customers = state.customers.unknown_subscription;
    add_amounts(&mut null_sub, &null_cents, &revenue);
    add_amounts(&mut unknown_sub, &unknown_cents, &revenue);
    let c = &state.customers;
    QualityReport {
        // The run's dimensions are added by the run (they need its files).
        score: None,
        data_score: None,
        rows: None,
        alerts: Vec::new(),
        data_alerts: Vec::new(),
        thresholds: None,
        customers: CustomerChecks {
            in_transactions_not_in_users: c.only_in_transactions,
            in_users_without_transactions: c.without_transactions,
            total: c.customers,
            multi_currency: c.multi_currency,
        },
        subscriptions: SubscriptionChecks {
            null_subscription: null_sub,
            unknown_subscription: unknown_sub,
        },
        last_ingest: None,
        completeness: Completeness {
            customers_without_name: c.without_name,
            customers_without_email: c.without_email,
            user_rows_without_name: state.user_rows_without_name,
            user_rows_without_email: state.user_rows_without_email,
            customers_with_conflicting_names: c.conflicting_names,
            customers_with_conflicting_emails: c.conflicting_emails,
        },
        zero_amount: ZeroAmount { transactions: zero },
        refunds,
        currencies: currency_summaries(&revenue),
        freshness: Freshness {
            first_transaction_at: state.first_transaction_at.map(Timestamp::from_naive_utc),
            latest_transaction_at: state.latest_transaction_at.map(Timestamp::from_naive_utc),
            days_since_latest_transaction: None,
        },
    }
}

/// A subscription check's amounts per currency, and their share of the
/// currency's revenue (`revenue`: currency → (transactions, cents)).
fn add_amounts(
    check: &mut SubscriptionCheck,
    cents: &BTreeMap<Currency, i64>,
    revenue: &BTreeMap<Currency, (i64, i64)>,
) {
    for (&currency, &c) in cents {
        check.amount.insert(currency.code(), currency.money(c));
        if let Some(p) = Percent::ratio(c, revenue.get(&currency).map_or(0, |r| r.1)) {
            check.share_of_revenue_pct.insert(currency.code(), p);
        }
    }
}

/// The currencies by number of transactions, most first.
fn currency_summaries(revenue: &BTreeMap<Currency, (i64, i64)>) -> Vec<CurrencySummary> {
    let mut currencies: Vec<CurrencySummary> = revenue
        .iter()
        .map(|(c, &(n, cents))| CurrencySummary {
            currency: c.code(),
            transactions: n,
            revenue: c.money(cents),
        })
        .collect();
    currencies.sort_by(|a, b| b.transactions.cmp(&a.transactions).then(a.currency.cmp(&b.currency)));
    currencies
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::RejectedRow;

    fn reject(file: &'static str, line: i64, code: &'static str) -> RejectedRow {
        RejectedRow {
            run_id: 1,
            file,
            line_number: line,
            reason_code: code,
            reason: format!("{code} at {line}"),
            raw_line: String::new(),
        }
    }

    #[test]
    fn reasons_are_grouped_with_their_first_line() {
        let mut tx = Rejects::default();
        // More rows than are kept in memory under test: the tally counts them all.
        for line in [9, 3, 4, 12, 15] {
            tx.push(reject(
                "transactions.csv",
                line,
                if line == 4 { "invalid_amount" } else { "invalid_date" },
            ));
        }
        let mut users = Rejects::default();
        users.push(reject("users.csv", 2, "empty_customer_id"));
        let r = reasons(&[&tx, &users]);
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].reason, r[0].rows, r[0].first_line), ("invalid_date", 4, 3));
        assert_eq!(r[0].example, "invalid_date at 3");
        assert_eq!((r[1].reason, r[1].rows), ("invalid_amount", 1));
        assert_eq!(r[2].file, "users.csv");
    }

    #[test]
    fn quality_keeps_currencies_apart() {
        let row = |currency: &str, tx: i64, cents: i64, refunds: i64| MonthlyRow {
            transactions: tx,
            revenue_cents: cents,
            null_subscription_transactions: 1,
            null_subscription_revenue_cents: cents / 2,
            refund_transactions: refunds,
            refund_cents: -refunds * 100,
            ..MonthlyRow::empty(currency, "2024-01")
        };
        let q = quality(&DataState::default(), &[row("usd", 4, 1000, 1), row("eur", 9, 300, 0)]);
        assert_eq!(q.currencies[0].currency, "eur");
        assert_eq!(
            q.subscriptions.null_subscription.amount[&api_types::Currency::from_code("usd").unwrap()],
            api_types::Money::new(500, 2)
        );
        assert_eq!(
            q.subscriptions.null_subscription.share_of_revenue_pct[&api_types::Currency::from_code("eur").unwrap()]
                .to_string(),
            "50.00"
        );
        assert_eq!(q.refunds.transactions, 1);
        assert_eq!(q.refunds.amount.len(), 1);
    }
}

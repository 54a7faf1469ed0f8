//! Monthly average transaction amount, revenue growth, and the data's metadata.

use api_types::{
    CurrencySummary, Meta, MonthlyTransactionsReport, MonthlyTransactionsRow, Percent, RevenueGrowthReport,
    RevenueGrowthRow,
};

use super::params::WindowParams;
use super::snapshot::ReportContext;
use super::ReportError;
use api_types::Money;
use domain::{exponent_of, Month};

/// `GET /reports/monthly-transactions`.
pub fn monthly_transactions(
    ctx: &ReportContext,
    params: &WindowParams,
) -> Result<MonthlyTransactionsReport, ReportError> {
    let currency = ctx.currency(params.currency.as_deref())?;
    let window = ctx.window(params)?;
    let exponent = exponent_of(currency.as_str());
    let money = |minor| Money::new(minor, exponent);
    let today = this_month();
    let months = window
        .iter()
        .map(|month| {
            let row = ctx.of_currency(currency).find(|(m, _)| *m == month).map(|(_, r)| r);
            let (transactions, active, revenue) =
                row.map_or((0, 0, 0), |r| (r.transactions, r.active_customers, r.revenue_cents));
            MonthlyTransactionsRow {
                month,
                transactions,
                active_customers: active,
                revenue: money(revenue),
                avg_transaction_amount: money(revenue).div_round(transactions).unwrap_or(money(0)),
                avg_amount_per_customer: money(revenue).div_round(active).unwrap_or(money(0)),
                complete: ctx.complete(month),
                in_progress: in_progress(month, ctx.data_stop_month(), today),
            }
        })
        .collect();
    Ok(MonthlyTransactionsReport {
        currency,
        window: window.to_api(),
        latest_transaction_at: ctx.latest_transaction_at(),
        months,
    })
}

/// `GET /reports/revenue-growth`.
pub fn revenue_growth(ctx: &ReportContext, params: &WindowParams) -> Result<RevenueGrowthReport, ReportError> {
    let currency = ctx.currency(params.currency.as_deref())?;
    let window = ctx.window(params)?;
    let revenue_of = |m| {
        ctx.of_currency(currency)
            .find(|(month, _)| *month == m)
            .map_or(0, |(_, r)| r.revenue_cents)
    };
    let first = ctx.of_currency(currency).map(|(m, _)| m).min();
    let exponent = exponent_of(currency.as_str());
    let money = |minor| Money::new(minor, exponent);
    let today = this_month();
    let months = window
        .iter()
        .map(|month| {
            let revenue = revenue_of(month);
            let previous_month = month.plus(-1);
            // The month before counts even outside the window; null only when the
            // data holds nothing that early.
            let previous = first
                .filter(|f| *f <= previous_month)
                .map(|_| revenue_of(previous_month));
            let growth = previous.and_then(|p| Percent::growth(revenue, p));
            RevenueGrowthRow {
                month,
                revenue: money(revenue),
                previous_revenue: previous.map(money),
                growth_pct: growth,
                declined: growth.is_some_and(Percent::is_negative),
                complete: ctx.complete(month),
                in_progress: in_progress(month, ctx.data_stop_month(), today),
            }
        })
        .collect();
    Ok(RevenueGrowthReport {
        currency,
        window: window.to_api(),
        latest_transaction_at: ctx.latest_transaction_at(),
        months,
    })
}

/// The calendar month of the server's clock.
pub(crate) fn this_month() -> Month {
    Month::of(&chrono::Utc::now().naive_utc())
}

/// A month is in progress only when the data's latest transaction lies in
/// it and it has not ended by `today`: October 2024 is not in progress in
/// December 2026, its data just stop early.
pub fn in_progress(month: Month, data_stop: Option<Month>, today: Month) -> bool {
    data_stop == Some(month) && month >= today
}

/// `GET /reports/meta`; `NoData` before the first ingest (like every report).
pub fn meta(ctx: &ReportContext) -> Result<Meta, ReportError> {
    if ctx.currencies.is_empty() {
        return Err(ReportError::NoData);
    }
    Ok(Meta {
        currencies: ctx
            .currencies
            .iter()
            .map(|(c, n, cents)| CurrencySummary {
                currency: *c,
                transactions: *n,
                revenue: domain::money_of(c.as_str(), *cents),
            })
            .collect(),
        first_month: ctx.first_month,
        latest_month: ctx.latest_month,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_in_progress_only_while_the_data_and_the_calendar_are_in_it() {
        let m = |s| Month::parse(s).unwrap();
        // The data stop in October 2024: in progress during October only.
        assert!(in_progress(m("2024-10"), Some(m("2024-10")), m("2024-10")));
        assert!(!in_progress(m("2024-10"), Some(m("2024-10")), m("2024-11")));
        assert!(!in_progress(m("2024-10"), Some(m("2024-10")), m("2026-12")));
        // Not the months before the data stop, nor those after.
        assert!(!in_progress(m("2024-09"), Some(m("2024-10")), m("2024-10")));
        assert!(!in_progress(m("2024-11"), Some(m("2024-10")), m("2024-10")));
        // Data dated ahead of the clock: their month has not ended.
        assert!(in_progress(m("2025-01"), Some(m("2025-01")), m("2024-12")));
        assert!(!in_progress(m("2024-10"), None, m("2024-10")));
    }
}

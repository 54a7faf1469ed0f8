//! Response bodies of `/reports/*`, `/quality` and errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Currency, IngestMode, Money, Month, Percent, QualityAlert, QualityScore, Timestamp};

/// The calendar months a report covers: `from` ..= `to` (`YYYY-MM`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// First month of the window.
    pub from: Month,
    /// Last month of the window (equal to `as_of`).
    pub to: Month,
    /// The month the window ends at (equal to `to`): the request's `as_of`
    /// or `to`, or the latest month in the data.
    pub as_of: Month,
    /// Number of calendar months in the window.
    pub months: u32,
}

/// One month of `GET /reports/monthly-transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthlyTransactionsRow {
    /// `YYYY-MM`.
    pub month: Month,
    pub transactions: i64,
    /// Distinct customers with at least one transaction that month.
    pub active_customers: i64,
    pub revenue: Money,
    /// revenue / transactions, rounded half away from zero to the cent.
    pub avg_transaction_amount: Money,
    /// revenue / active_customers, rounded half away from zero to the cent.
    pub avg_amount_per_customer: Money,
    /// False for the month of the latest transaction and any later one: the
    /// data may not cover it whole, so it should not be compared as if it did.
    pub complete: bool,
    /// The month of the latest transaction, and it has not ended yet (by
    /// the server's clock): more data may still come. A month that is not
    /// complete and not in progress is one where the data stop early.
    #[serde(default)]
    pub in_progress: bool,
}

/// `GET /reports/monthly-transactions`: average user transaction amount per month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthlyTransactionsReport {
    pub currency: Currency,
    pub window: Window,
    /// The latest transaction in the data: where the data stop (null when
    /// the run that loaded them recorded none).
    #[serde(default)]
    pub latest_transaction_at: Option<Timestamp>,
    pub months: Vec<MonthlyTransactionsRow>,
}

/// One month of `GET /reports/revenue-growth`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevenueGrowthRow {
    pub month: Month,
    pub revenue: Money,
    /// Revenue of the calendar month before, even outside the window; null when
    /// the data has nothing before this month.
    pub previous_revenue: Option<Money>,
    /// (revenue - previous) / previous × 100; null without a non-zero previous month.
    pub growth_pct: Option<Percent>,
    /// growth_pct < 0.
    pub declined: bool,
    /// As in [`MonthlyTransactionsRow::complete`].
    pub complete: bool,
    /// As in [`MonthlyTransactionsRow::in_progress`].
    #[serde(default)]
    pub in_progress: bool,
}

/// `GET /reports/revenue-growth`: month-over-month revenue growth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevenueGrowthReport {
    pub currency: Currency,
    pub window: Window,
    /// The latest transaction in the data: where the data stop (null when
    /// the run that loaded them recorded none).
    #[serde(default)]
    pub latest_transaction_at: Option<Timestamp>,
    pub months: Vec<RevenueGrowthRow>,
}

/// Revenue that cannot be attributed to any product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unattributed {
    /// Transactions with an empty subscription id.
    pub null_subscription: Money,
    /// Transactions whose subscription id is not in the products file.
    pub unknown_subscription: Money,
}

/// One product of `GET /reports/top-products`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductRow {
    pub rank: u32,
    pub product: String,
    /// Revenue allocated to this product (in proportion to plan amounts).
    pub total_sales: Money,
    /// Transactions that contributed to this product.
    pub transactions: i64,
    /// Share of the attributed revenue.
    pub share_pct: Option<Percent>,
}

/// `GET /reports/top-products`: products ranked by total sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopProductsReport {
    pub currency: Currency,
    /// First month included (`YYYY-MM`), null when the whole history is used.
    pub from: Option<Month>,
    /// Last month included, null when the whole history is used.
    pub to: Option<Month>,
    /// Revenue allocated to products: the sum of every product's `total_sales`.
    pub attributed_revenue: Money,
    pub unattributed: Unattributed,
    /// attributed + unattributed: all revenue in this currency and period.
    pub total_revenue: Money,
    pub products: Vec<ProductRow>,
}

/// One customer of `GET /reports/top-users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRow {
    pub rank: u32,
    pub customer_id: String,
    /// Empty when the users file has no name for this customer.
    pub customer_name: String,
    pub total_spending: Money,
    pub transactions: i64,
}

/// `GET /reports/top-users`: customers ranked by total spending (no e-mail: personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopUsersReport {
    pub currency: Currency,
    pub users: Vec<UserRow>,
}

/// Orphans between the users and transactions files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerChecks {
    /// Customers with transactions but no row in the users file.
    pub in_transactions_not_in_users: i64,
    /// Customers in the users file without any transaction.
    pub in_users_without_transactions: i64,
    /// Customers in dim_user.
    pub total: i64,
    /// Customers whose transactions use more than one currency.
    pub multi_currency: i64,
}

/// Transactions in one subscription category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionCheck {
    pub transactions: i64,
    pub customers: i64,
    /// Amount per currency (never added across currencies).
    // The document describes the keys as it always has (strings): utoipa
    // would otherwise add Currency's pattern to the maps' propertyNames.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Money>))]
    pub amount: BTreeMap<Currency, Money>,
    /// Share of the revenue per currency.
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Percent>))]
    pub share_of_revenue_pct: BTreeMap<Currency, Percent>,
}

/// Subscription ids that do not lead to a product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubscriptionChecks {
    pub null_subscription: SubscriptionCheck,
    pub unknown_subscription: SubscriptionCheck,
}

/// Counts for one input file of the last ingest:
/// read = loaded + already_loaded + duplicates + rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileCounts {
    pub file: String,
    pub sha256: String,
    pub read: i64,
    pub loaded: i64,
    /// Rows whose data an earlier run loaded (an append).
    #[serde(default)]
    pub already_loaded: i64,
    pub duplicates: i64,
    pub rejected: i64,
}

/// The last successful ingest that changed the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastIngest {
    pub run_id: i64,
    pub finished_at: Timestamp,
    pub files: Vec<FileCounts>,
}

/// Completeness of the users file after grouping by customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completeness {
    pub customers_without_name: i64,
    pub customers_without_email: i64,
    /// User rows with an empty name / email (before grouping).
    pub user_rows_without_name: i64,
    pub user_rows_without_email: i64,
    /// Customers whose user rows disagree on a non-empty name or e-mail.
    pub customers_with_conflicting_names: i64,
    pub customers_with_conflicting_emails: i64,
}

/// Transactions of amount zero, per currency.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ZeroAmount {
    pub transactions: i64,
}

/// Transactions with a negative total (refunds): loaded, and netted in revenue.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refunds {
    pub transactions: i64,
    /// Sum per currency (negative).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Money>))]
    pub amount: BTreeMap<Currency, Money>,
}

/// How recent the data is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Freshness {
    /// The earliest / latest transaction; null on an empty database.
    pub first_transaction_at: Option<Timestamp>,
    pub latest_transaction_at: Option<Timestamp>,
    /// Whole days between the latest transaction and the time of the request.
    pub days_since_latest_transaction: Option<i64>,
}

/// Rows of one run's three files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityRows {
    /// Rows read.
    pub processed: i64,
    /// Rows read and not rejected.
    pub succeeded: i64,
    /// Rows rejected.
    pub failed: i64,
}

/// `GET /quality`: data-quality checks of the loaded data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityReport {
    /// The quality dimensions of the latest run alone: its files' rows (an
    /// append's only), with the customers and age of the data after it (null
    /// for data loaded by an older version).
    #[serde(default)]
    pub score: Option<QualityScore>,
    /// The quality dimensions of the data as loaded: each computed over every
    /// run since the last replace, so that a replace of some months then an
    /// append of the rest scores as one replace of the whole (null when a run
    /// since the last replace was made by a version that did not keep the
    /// counts it needs).
    #[serde(default)]
    pub data_score: Option<QualityScore>,
    /// That run's rows.
    #[serde(default)]
    pub rows: Option<QualityRows>,
    /// The dimensions of that run's own files (`score`) below their
    /// thresholds: what `--strict-quality` refuses a run for.
    #[serde(default)]
    pub alerts: Vec<QualityAlert>,
    /// The dimensions of the data as loaded (`data_score`) below the same
    /// thresholds: after an append, the data can be below a minimum that
    /// the run's own files meet.
    #[serde(default)]
    pub data_alerts: Vec<QualityAlert>,
    /// The minimums that run checked each dimension against (`--min-*`).
    #[serde(default)]
    pub thresholds: Option<QualityScore>,
    pub customers: CustomerChecks,
    pub subscriptions: SubscriptionChecks,
    /// Null before the first successful ingest.
    pub last_ingest: Option<LastIngest>,
    pub completeness: Completeness,
    pub zero_amount: ZeroAmount,
    pub refunds: Refunds,
    /// Transactions and revenue per currency.
    pub currencies: Vec<CurrencySummary>,
    pub freshness: Freshness,
}

impl QualityReport {
    /// Each amount with its currency's exponent (see [`crate::rescale_per_currency`]).
    pub fn rescale_money(&mut self, exponent_of: &dyn Fn(&str) -> u8) {
        crate::rescale_per_currency(&mut self.subscriptions.null_subscription.amount, exponent_of);
        crate::rescale_per_currency(&mut self.subscriptions.unknown_subscription.amount, exponent_of);
        crate::rescale_per_currency(&mut self.refunds.amount, exponent_of);
        for c in &mut self.currencies {
            c.revenue = crate::rescaled(c.revenue, c.currency.as_str(), exponent_of);
        }
    }
}

/// Totals of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencySummary {
    pub currency: Currency,
    pub transactions: i64,
    pub revenue: Money,
}

/// `GET /reports/meta`: what the data holds, for building filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meta {
    /// Currencies by number of transactions, most first (the first is the default).
    pub currencies: Vec<CurrencySummary>,
    /// `YYYY-MM` of the first and the latest transaction; null on an empty database.
    pub first_month: Option<Month>,
    pub latest_month: Option<Month>,
}

/// One successful run in `GET /quality/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityHistoryRun {
    pub run_id: i64,
    pub finished_at: Timestamp,
    pub mode: IngestMode,
    /// Absent when the run's stored figures cannot be read (see `unreadable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<QualityRows>,
    /// Absent when the run's stored figures cannot be read (see `unreadable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<QualityScore>,
    /// The score of the data as loaded after this run (see
    /// [`QualityReport::data_score`]); absent for runs that did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_score: Option<QualityScore>,
    #[serde(default)]
    pub alerts: Vec<QualityAlert>,
    /// Present only for a run whose stored figures cannot be read (written by
    /// another version, or edited): why it is a gap in the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

/// `GET /quality/history`: the quality of every successful run, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityHistory {
    pub runs: Vec<QualityHistoryRun>,
}

/// Every error body: an RFC 9457 problem (`application/problem+json`) that
/// also keeps this API's first fields, a stable snake_case code (`error`) and
/// the sentence (`message`, the same as `detail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    /// A URI naming the kind of problem: `urn:revenue-analytics:problem:<error>`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A short summary of the kind of problem (the same for every `error` code).
    #[serde(default)]
    pub title: String,
    /// The HTTP status code.
    #[serde(default)]
    pub status: u16,
    /// What went wrong with this request.
    #[serde(default)]
    pub detail: String,
    /// The stable code, e.g. `invalid_parameter`, `no_data`, `unauthorized`.
    pub error: String,
    /// = `detail` (kept for clients written before the problem fields).
    pub message: String,
}

//! Response bodies of the drill-down: one month (`/reports/month/{month}`)
//! and one customer (`/customers/{id}`, `/customers?q=`). No e-mail address
//! is ever part of them: it is personal data.

use serde::{Deserialize, Serialize};

use crate::{Currency, Money, Month, Percent, ProductRow, Unattributed, UserRow};

/// One month's figures in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: Month,
    pub revenue: Money,
    pub transactions: i64,
    /// Distinct customers with at least one transaction that month.
    pub active_customers: i64,
    /// revenue / transactions, rounded half away from zero (0 without transactions).
    pub avg_transaction_amount: Money,
}

/// A month against the month before: differences and growth in percent
/// (null when the month before is 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthChange {
    /// revenue − the previous month's revenue.
    pub revenue: Money,
    pub revenue_pct: Option<Percent>,
    pub transactions: i64,
    pub transactions_pct: Option<Percent>,
    pub active_customers: i64,
    pub active_customers_pct: Option<Percent>,
}

/// `GET /reports/month/{month}`: one month of one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonthReport {
    pub currency: Currency,
    /// This month's figures (zeros for a month inside the data without
    /// transactions in this currency).
    pub current: MonthFigures,
    /// The calendar month before; null when the data hold nothing that early.
    pub previous: Option<MonthFigures>,
    /// `current` against `previous`; null with it.
    pub change: Option<MonthChange>,
    /// As in the monthly reports: before the latest transaction's month.
    pub complete: bool,
    /// As in the monthly reports: the latest transaction's month, not ended yet.
    pub in_progress: bool,
    /// The month's best customers by their spending in the month (refunds
    /// subtracted), best first; `total_spending` is the month's.
    pub top_customers: Vec<UserRow>,
    /// The month's products by the revenue attributed to them.
    pub top_products: Vec<ProductRow>,
    /// The month's revenue attributed to a product (what `top_products` ranks).
    pub attributed_revenue: Money,
    /// The month's revenue no product can be credited with.
    pub unattributed: Unattributed,
}

/// Something in the data about one customer that an analyst should know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CustomerFlag {
    /// The customer has transactions but is not in the users file.
    OnlyInTransactions,
    /// The users file gives this customer different non-empty names.
    ConflictingName,
    /// The users file gives this customer different e-mail addresses (which
    /// are not shown).
    ConflictingEmail,
    /// A transaction of the customer has no subscription id.
    NullSubscription,
    /// A transaction of the customer names a subscription the products file
    /// does not hold.
    UnknownSubscription,
    /// The customer pays in more than one currency (totals are per currency).
    SeveralCurrencies,
}

/// A customer's spending in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerTotal {
    pub currency: Currency,
    /// Refunds subtracted.
    pub total_spending: Money,
    pub transactions: i64,
    /// `YYYY-MM` of the first and latest transaction in this currency.
    pub first_month: Month,
    pub latest_month: Month,
}

/// A customer's transactions of one month in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerMonth {
    /// `YYYY-MM`.
    pub month: Month,
    pub currency: Currency,
    pub spending: Money,
    pub transactions: i64,
}

/// A plan of a subscription, as the products file lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerPlan {
    pub plan: String,
    pub product: String,
    pub interval: String,
    pub status: String,
}

/// A customer's transactions on one subscription (or on none) in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSubscription {
    /// Null: the transactions without a subscription id.
    pub subscription_id: Option<String>,
    /// The products file holds this subscription (false for null too).
    pub known: bool,
    pub currency: Currency,
    pub spending: Money,
    pub transactions: i64,
    pub first_month: Month,
    pub latest_month: Month,
    /// Its plans (empty when unknown).
    pub plans: Vec<CustomerPlan>,
}

/// `GET /customers/{id}`: one customer. Never an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerReport {
    pub customer_id: String,
    /// Empty when the users file has no name for this customer.
    pub customer_name: String,
    pub in_users_file: bool,
    pub flags: Vec<CustomerFlag>,
    /// Per currency, most transactions first; never added together.
    pub totals: Vec<CustomerTotal>,
    /// Per month and currency, oldest first.
    pub months: Vec<CustomerMonth>,
    /// Per subscription and currency, most spending first.
    pub subscriptions: Vec<CustomerSubscription>,
    /// The distinct products of the customer's known subscriptions, sorted.
    pub products: Vec<String>,
}

/// One customer found by `GET /customers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerMatch {
    pub customer_id: String,
    pub customer_name: String,
    /// The currency the customer pays in most often; null without transactions.
    pub currency: Option<Currency>,
    /// Spending in `currency` (refunds subtracted); null with it.
    pub total_spending: Option<Money>,
    /// Transactions in `currency`.
    pub transactions: i64,
}

/// `GET /customers?q=`: customers whose id or name starts with `q` (a name
/// matches at the start of any of its words), by id; one bounded page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerSearch {
    /// The search as given (null: every customer).
    pub q: Option<String>,
    pub offset: u32,
    pub limit: u32,
    pub customers: Vec<CustomerMatch>,
    /// More customers match after this page (ask with `offset + limit`).
    pub more: bool,
}

//! The rows the ETL writes, described once and encoded per engine by the
//! loader (`load::encode`), and the stored rows it reads back.

use std::sync::Arc;

use chrono::NaiveDateTime;

use super::tables::Table;
use store::entities::{agg_customer_spending, agg_monthly, dim_product, dim_user, fct_transaction};
use store::tables;

mod batch;
pub use batch::FactBatch;

/// Receives the cells of one row, in column order.
pub trait CellWriter {
    fn text(&mut self, value: &str);
    fn opt_text(&mut self, value: Option<&str>);
    fn int(&mut self, value: i64);
    fn opt_int(&mut self, value: Option<i64>);
    fn boolean(&mut self, value: bool);
    fn timestamp(&mut self, value: &NaiveDateTime);
    fn bytes(&mut self, value: &[u8]);
}

/// The cells of one stored row, by column position (the mirror of [`CellWriter`]).
pub trait CellReader {
    fn text(&self, i: usize) -> Result<String, sqlx::Error>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, i: usize) -> Result<i64, sqlx::Error>;
    fn boolean(&self, i: usize) -> Result<bool, sqlx::Error>;
    fn timestamp(&self, i: usize) -> Result<NaiveDateTime, sqlx::Error>;
    fn opt_bytes(&self, i: usize) -> Result<Option<Vec<u8>>, sqlx::Error>;
}

/// Why an input row is rejected: a stable code (for grouping and filtering)
/// and a sentence naming the column and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub code: &'static str,
    pub message: String,
}

impl Reject {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// `value` as `YYYY-MM-DD HH:MM:SS[.fff|.ffffff|.fffffffff]`: chrono's `%F %T%.f`
/// (what sqlx writes for SQLite, and PostgreSQL reads), formatted by hand since
/// strftime was a hot spot at millions of rows.
pub fn timestamp_text(out: &mut String, value: &NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        value.year(),
        value.month(),
        value.day(),
        value.hour(),
        value.minute(),
        value.second()
    );
    let _ = match value.nanosecond() {
        0 => Ok(()),
        n if n % 1_000_000 == 0 => write!(out, ".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => write!(out, ".{:06}", n / 1_000),
        n => write!(out, ".{n:09}"),
    };
}

/// A row of one table.
pub trait Row: Send + Sync + 'static {
    const TABLE: &'static Table;
    const COLUMNS: &'static [&'static str];
    fn write<W: CellWriter>(&self, out: &mut W);
}

/// A row of `dim_product`. Its texts are shared: products.csv repeats a
/// few plans, products, intervals and statuses on every row (60 distinct
/// plans on 1.45 million rows at 50M transactions), which are read once,
/// and the catalogue keys on the row's own subscription id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRow {
    pub subscription_id: Arc<str>,
    pub plan: Arc<str>,
    pub product: Arc<str>,
    pub interval: Arc<str>,
    /// The plan's amount in thousandths of its currency unit (products.csv
    /// names no currency; see `domain::PLAN_AMOUNT_EXPONENT`).
    pub amount_cents: i64,
    pub status: Arc<str>,
}

impl Row for ProductRow {
    const TABLE: &'static Table = &dim_product::TABLE;
    const COLUMNS: &'static [&'static str] = &[
        "subscription_id",
        "plan",
        "product",
        "interval",
        "amount_cents",
        "status",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(&self.subscription_id);
        out.text(&self.plan);
        out.text(&self.product);
        out.text(&self.interval);
        out.int(self.amount_cents);
        out.text(&self.status);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactRow {
    pub transaction_id: String,
    pub date_utc: NaiveDateTime,
    pub customer_id: String,
    pub subscription_id: Option<String>,
    pub total_cents: i64,
    pub currency: &'static str,
}

/// A transaction borrowing its text from the input record (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct FactRef<'a> {
    pub transaction_id: &'a str,
    pub date_utc: NaiveDateTime,
    pub customer_id: &'a str,
    pub subscription_id: Option<&'a str>,
    pub total_cents: i64,
    pub currency: &'static str,
}

impl FactRef<'_> {
    pub fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.transaction_id);
        out.timestamp(&self.date_utc);
        out.text(self.customer_id);
        out.opt_text(self.subscription_id);
        out.int(self.total_cents);
        out.text(self.currency);
    }

    pub fn to_owned_row(&self) -> FactRow {
        FactRow {
            transaction_id: self.transaction_id.to_owned(),
            date_utc: self.date_utc,
            customer_id: self.customer_id.to_owned(),
            subscription_id: self.subscription_id.map(str::to_owned),
            total_cents: self.total_cents,
            currency: self.currency,
        }
    }
}

impl FactRow {
    pub fn as_ref(&self) -> FactRef<'_> {
        FactRef {
            transaction_id: &self.transaction_id,
            date_utc: self.date_utc,
            customer_id: &self.customer_id,
            subscription_id: self.subscription_id.as_deref(),
            total_cents: self.total_cents,
            currency: self.currency,
        }
    }
}

impl Row for FactRow {
    const TABLE: &'static Table = &fct_transaction::TABLE;
    const COLUMNS: &'static [&'static str] = &[
        "transaction_id",
        "date_utc",
        "customer_id",
        "subscription_id",
        "total_cents",
        "currency",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        self.as_ref().write(out);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub customer_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub currency: Option<&'static str>,
    pub total_spending_cents: i64,
    pub transactions: i64,
    pub in_users_file: bool,
    pub conflicting_name: bool,
    pub conflicting_email: bool,
    pub null_subscription: bool,
    pub unknown_subscription: bool,
}

impl Row for UserRow {
    const TABLE: &'static Table = &dim_user::TABLE;
    const COLUMNS: &'static [&'static str] = &[
        "customer_id",
        "customer_name",
        "customer_email",
        "currency",
        "total_spending_cents",
        "transactions",
        "in_users_file",
        "conflicting_name",
        "conflicting_email",
        "null_subscription",
        "unknown_subscription",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(&self.customer_id);
        out.text(&self.customer_name);
        out.text(&self.customer_email);
        out.opt_text(self.currency);
        out.int(self.total_spending_cents);
        out.int(self.transactions);
        out.boolean(self.in_users_file);
        out.boolean(self.conflicting_name);
        out.boolean(self.conflicting_email);
        out.boolean(self.null_subscription);
        out.boolean(self.unknown_subscription);
    }
}

/// A cell of `agg_monthly` (built by `aggregates::monthly`; also what the
/// assessment and the guard rails read of the stored cells).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyRow {
    pub currency: domain::Currency,
    pub month: String,
    pub transactions: i64,
    pub active_customers: i64,
    pub revenue_cents: i64,
    pub zero_amount_transactions: i64,
    pub null_subscription_transactions: i64,
    pub null_subscription_revenue_cents: i64,
    pub unknown_subscription_transactions: i64,
    pub unknown_subscription_revenue_cents: i64,
    pub refund_transactions: i64,
    pub refund_cents: i64,
}

#[cfg(test)]
impl MonthlyRow {
    /// A cell of `currency` (a code of ISO's table) and `month` with every figure zero.
    pub fn empty(currency: &str, month: &str) -> Self {
        Self {
            currency: domain::Currency::parse(currency).unwrap(),
            month: month.to_owned(),
            transactions: 0,
            active_customers: 0,
            revenue_cents: 0,
            zero_amount_transactions: 0,
            null_subscription_transactions: 0,
            null_subscription_revenue_cents: 0,
            unknown_subscription_transactions: 0,
            unknown_subscription_revenue_cents: 0,
            refund_transactions: 0,
            refund_cents: 0,
        }
    }
}

impl Row for MonthlyRow {
    const TABLE: &'static Table = &agg_monthly::TABLE;
    const COLUMNS: &'static [&'static str] = &[
        "currency",
        "month",
        "transactions",
        "active_customers",
        "revenue_cents",
        "zero_amount_transactions",
        "null_subscription_transactions",
        "null_subscription_revenue_cents",
        "unknown_subscription_transactions",
        "unknown_subscription_revenue_cents",
        "refund_transactions",
        "refund_cents",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.currency.as_str());
        out.text(&self.month);
        out.int(self.transactions);
        out.int(self.active_customers);
        out.int(self.revenue_cents);
        out.int(self.zero_amount_transactions);
        out.int(self.null_subscription_transactions);
        out.int(self.null_subscription_revenue_cents);
        out.int(self.unknown_subscription_transactions);
        out.int(self.unknown_subscription_revenue_cents);
        out.int(self.refund_transactions);
        out.int(self.refund_cents);
    }
}

#[derive(Debug, Clone)]
pub struct CustomerSpendingRow {
    pub currency: &'static str,
    pub customer_id: String,
    pub total_spending_cents: i64,
    pub transactions: i64,
    /// [`super::months::ActiveMonths`], encoded.
    pub active_months: Vec<u8>,
}

impl Row for CustomerSpendingRow {
    const TABLE: &'static Table = &agg_customer_spending::TABLE;
    const COLUMNS: &'static [&'static str] = &[
        "currency",
        "customer_id",
        "total_spending_cents",
        "transactions",
        "active_months",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.currency);
        out.text(&self.customer_id);
        out.int(self.total_spending_cents);
        out.int(self.transactions);
        out.bytes(&self.active_months);
    }
}

/// An input row that could not be loaded, with the reason.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub run_id: i64,
    pub file: &'static str,
    pub line_number: i64,
    pub reason_code: &'static str,
    /// The sentence explaining the rejection (column `reason`).
    pub reason: String,
    pub raw_line: String,
}

impl Row for RejectedRow {
    const TABLE: &'static Table = &tables::ETL_REJECTED_ROW;
    const COLUMNS: &'static [&'static str] = &["run_id", "file", "line_number", "reason_code", "reason", "raw_line"];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.int(self.run_id);
        out.text(self.file);
        out.int(self.line_number);
        out.text(self.reason_code);
        out.text(&self.reason);
        out.text(&self.raw_line);
    }
}

/// Per-file counts of one run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunFileRow {
    pub run_id: i64,
    pub file: &'static str,
    pub sha256: String,
    pub bytes: i64,
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_already_loaded: i64,
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
    pub same_as_run: Option<i64>,
}

impl Row for RunFileRow {
    const TABLE: &'static Table = &tables::ETL_RUN_FILE;
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "file",
        "sha256",
        "bytes",
        "rows_read",
        "rows_loaded",
        "rows_already_loaded",
        "rows_duplicate",
        "rows_rejected",
        "same_as_run",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.int(self.run_id);
        out.text(self.file);
        out.text(&self.sha256);
        out.int(self.bytes);
        out.int(self.rows_read);
        out.int(self.rows_loaded);
        out.int(self.rows_already_loaded);
        out.int(self.rows_duplicate);
        out.int(self.rows_rejected);
        out.opt_int(self.same_as_run);
    }
}

/// A key the loader looks up stored rows by (see [`tables::LOOKUP_KEYS`]).
#[derive(Debug, Clone)]
pub struct LookupKey(pub String);

impl Row for LookupKey {
    const TABLE: &'static Table = &tables::LOOKUP_KEYS;
    const COLUMNS: &'static [&'static str] = &["k"];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(&self.0);
    }
}

//! The rows the ETL writes, described once and encoded per engine by the loader.

use chrono::NaiveDateTime;

/// Receives the cells of one row, in column order.
pub trait CellWriter {
    fn text(&mut self, value: &str);
    fn opt_text(&mut self, value: Option<&str>);
    fn int(&mut self, value: i64);
    fn boolean(&mut self, value: bool);
    fn timestamp(&mut self, value: &NaiveDateTime);
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
    const TABLE: &'static str;
    const COLUMNS: &'static [&'static str];
    fn write<W: CellWriter>(&self, out: &mut W);
}

#[derive(Debug, Clone)]
pub struct ProductRow {
    pub subscription_id: String,
    pub plan: String,
    pub product: String,
    pub interval: String,
    pub amount_cents: i64,
    pub status: String,
}

impl Row for ProductRow {
    const TABLE: &'static str = "dim_product";
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

#[derive(Debug, Clone)]
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
    const TABLE: &'static str = "fct_transaction";
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

/// Accepted transactions on their way to the loader.
pub enum FactBatch {
    /// Rows already encoded in PostgreSQL's binary COPY format (by the parsing
    /// thread), without the stream's header and trailer.
    Copy { bytes: Vec<u8>, rows: u64 },
    /// Rows to bind (SQLite).
    Rows(Vec<FactRow>),
}

impl FactBatch {
    pub fn rows(&self) -> u64 {
        match self {
            FactBatch::Copy { rows, .. } => *rows,
            FactBatch::Rows(r) => r.len() as u64,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub customer_id: String,
    pub customer_name: String,
    pub customer_email: String,
    pub currency: Option<&'static str>,
    pub total_spending_cents: i64,
    pub transactions: i64,
    pub in_users_file: bool,
}

impl Row for UserRow {
    const TABLE: &'static str = "dim_user";
    const COLUMNS: &'static [&'static str] = &[
        "customer_id",
        "customer_name",
        "customer_email",
        "currency",
        "total_spending_cents",
        "transactions",
        "in_users_file",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(&self.customer_id);
        out.text(&self.customer_name);
        out.text(&self.customer_email);
        out.opt_text(self.currency);
        out.int(self.total_spending_cents);
        out.int(self.transactions);
        out.boolean(self.in_users_file);
    }
}

#[derive(Debug, Clone, Default)]
pub struct MonthlyRow {
    pub currency: &'static str,
    pub month: String,
    pub transactions: i64,
    pub active_customers: i64,
    pub revenue_cents: i64,
    pub zero_amount_transactions: i64,
    pub null_subscription_transactions: i64,
    pub null_subscription_revenue_cents: i64,
    pub unknown_subscription_transactions: i64,
    pub unknown_subscription_revenue_cents: i64,
}

impl Row for MonthlyRow {
    const TABLE: &'static str = "agg_monthly";
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
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.currency);
        out.text(&self.month);
        out.int(self.transactions);
        out.int(self.active_customers);
        out.int(self.revenue_cents);
        out.int(self.zero_amount_transactions);
        out.int(self.null_subscription_transactions);
        out.int(self.null_subscription_revenue_cents);
        out.int(self.unknown_subscription_transactions);
        out.int(self.unknown_subscription_revenue_cents);
    }
}

#[derive(Debug, Clone)]
pub struct ProductMonthRow {
    pub currency: &'static str,
    pub month: String,
    pub product: String,
    pub total_sales_cents: i64,
    pub transactions: i64,
}

impl Row for ProductMonthRow {
    const TABLE: &'static str = "agg_product_month";
    const COLUMNS: &'static [&'static str] = &["currency", "month", "product", "total_sales_cents", "transactions"];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.currency);
        out.text(&self.month);
        out.text(&self.product);
        out.int(self.total_sales_cents);
        out.int(self.transactions);
    }
}

#[derive(Debug, Clone)]
pub struct CustomerSpendingRow {
    pub currency: &'static str,
    pub customer_id: String,
    pub total_spending_cents: i64,
    pub transactions: i64,
}

impl Row for CustomerSpendingRow {
    const TABLE: &'static str = "agg_customer_spending";
    const COLUMNS: &'static [&'static str] = &["currency", "customer_id", "total_spending_cents", "transactions"];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.currency);
        out.text(&self.customer_id);
        out.int(self.total_spending_cents);
        out.int(self.transactions);
    }
}

/// An input row that could not be loaded, with the reason.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub run_id: i64,
    pub file: &'static str,
    pub line_number: i64,
    pub reason: String,
    pub raw_line: String,
}

impl Row for RejectedRow {
    const TABLE: &'static str = "etl_rejected_row";
    const COLUMNS: &'static [&'static str] = &["run_id", "file", "line_number", "reason", "raw_line"];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.int(self.run_id);
        out.text(self.file);
        out.int(self.line_number);
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
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
}

impl Row for RunFileRow {
    const TABLE: &'static str = "etl_run_file";
    const COLUMNS: &'static [&'static str] = &[
        "run_id",
        "file",
        "sha256",
        "bytes",
        "rows_read",
        "rows_loaded",
        "rows_duplicate",
        "rows_rejected",
    ];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.int(self.run_id);
        out.text(self.file);
        out.text(&self.sha256);
        out.int(self.bytes);
        out.int(self.rows_read);
        out.int(self.rows_loaded);
        out.int(self.rows_duplicate);
        out.int(self.rows_rejected);
    }
}

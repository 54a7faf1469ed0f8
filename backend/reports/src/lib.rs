//! The reports: one module per report, each a function from validated
//! parameters to a typed result (testable without HTTP). They read the
//! aggregate tables the ETL builds, so their cost does not grow with the
//! number of transactions.

mod answers;
mod cache;
mod csv_rows;
mod customers;
pub mod ingests;
mod month;
mod monthly;
mod names;
mod params;
mod products;
mod quality;
mod snapshot;
mod subscriptions;
mod users;

pub use answers::{AnswerKey, Answers, ANSWER_BUDGET};
pub use cache::{ReportCache, RECHECK, RECHECK_MS};
pub use csv_rows::ToCsv;
pub use customers::{customer, search_customers, CustomerParams, CustomerSearchParams, MAX_SEARCH_LIMIT};
pub use month::{month_report, MonthParams};
pub use monthly::{meta, monthly_transactions, revenue_growth};
pub use params::{Limit, WindowParams};
pub use products::{top_products, TopProductsParams};
pub use quality::{days_since_latest, history as quality_history, quality, QualityHistoryParams};
pub use snapshot::ReportContext;
pub use subscriptions::{
    saas_cohorts, saas_movements, saas_mrr, KeptCounts, SaasFailure, SaasMovementsParams, SaasParams, SaasReports,
    MAX_GRACE_DAYS, MAX_MOVEMENTS_LIMIT, RECENT,
};
pub use users::{top_users, TopUsersParams};

/// Why a report cannot be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{message}")]
    BadParameter { parameter: &'static str, message: String },
    #[error("unknown currency {given:?}; available: {}", available.join(", "))]
    UnknownCurrency { given: String, available: Vec<String> },
    #[error("no data has been loaded yet: run the ingest first")]
    NoData,
    #[error("{0}")]
    NotFound(String),
    /// The checks stored by a run cannot be decoded (the cause is logged
    /// when the report cache loads them).
    #[error("the quality checks stored by run {run_id} cannot be read: see the server's log")]
    UnreadableQuality { run_id: i64 },
    /// A run's recorded status or mode is none this version knows (written
    /// by a newer one, or edited).
    #[error("ingest run {run_id} cannot be read: {cause}")]
    UnreadableRun {
        run_id: i64,
        #[source]
        cause: api_types::UnknownValue,
    },
    /// A currency code in the aggregates is not one the API can name
    /// (only an edited database holds one).
    #[error("a stored currency cannot be read: {0}")]
    UnreadableCurrency(#[from] api_types::ParseCurrencyError),
    /// A figure beyond the range of exact money arithmetic (a 500 naming it).
    #[error("{0} is beyond the range of exact money arithmetic")]
    Overflow(String),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
    /// The subscription metrics could not be computed (a bug or data beyond
    /// the arithmetic's range: a 500, logged with its month and currency).
    #[error(transparent)]
    Saas(#[from] SaasFailure),
}

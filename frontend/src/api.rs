//! Every HTTP call of the dashboard, through gloo-net, typed with the shared API types.

use api_types::{
    ApiError, IngestDetail, IngestList, Meta, MonthlyTransactionsReport, QualityHistory, QualityReport, RejectionList,
    RevenueGrowthReport, TopProductsReport, TopUsersReport,
};
use gloo_net::http::Request;
use serde::de::DeserializeOwned;

use crate::state::{RejectionQuery, RunsQuery, ViewState};

/// A failed request, described for the error banner.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchError {
    pub what: &'static str,
    pub message: String,
    /// The API's error code (`no_data`), when it answered with one.
    pub code: Option<String>,
}

impl FetchError {
    /// The API has nothing to report yet (no successful ingest): an empty
    /// state rather than a failure.
    pub fn is_no_data(&self) -> bool {
        self.code.as_deref() == Some("no_data")
    }
}

async fn get<T: DeserializeOwned>(what: &'static str, url: String) -> Result<T, FetchError> {
    let fail = |message: String| FetchError {
        what,
        message,
        code: None,
    };
    let res = Request::get(&url)
        .send()
        .await
        .map_err(|e| fail(format!("network error: {e}")))?;
    if !res.ok() {
        let status = res.status();
        return Err(match res.json::<ApiError>().await {
            Ok(e) => FetchError {
                code: Some(e.error),
                ..fail(format!("HTTP {status}: {}", e.message))
            },
            Err(_) => fail(format!("HTTP {status}: {}", res.status_text())),
        });
    }
    res.json::<T>()
        .await
        .map_err(|e| fail(format!("unexpected response: {e}")))
}

pub async fn meta() -> Result<Meta, FetchError> {
    get("data overview", "/reports/meta".into()).await
}

pub async fn monthly(view: &ViewState) -> Result<MonthlyTransactionsReport, FetchError> {
    get(
        "monthly transactions",
        format!("/reports/monthly-transactions?{}", view.api_query()),
    )
    .await
}

pub async fn growth(view: &ViewState) -> Result<RevenueGrowthReport, FetchError> {
    get(
        "revenue growth",
        format!("/reports/revenue-growth?{}", view.api_query()),
    )
    .await
}

pub async fn top_products(view: &ViewState) -> Result<TopProductsReport, FetchError> {
    get(
        "top products",
        format!("/reports/top-products?limit=10&{}", products_range(view)),
    )
    .await
}

pub async fn top_users(view: &ViewState) -> Result<TopUsersReport, FetchError> {
    get(
        "top customers",
        format!("/reports/top-users?limit=10&{}", view.currency_query()),
    )
    .await
}

pub async fn quality() -> Result<QualityReport, FetchError> {
    get("data quality", "/quality".into()).await
}

/// The runs the quality page charts: the API's latest ones, oldest first.
pub const QUALITY_HISTORY_RUNS: u32 = 100;

/// The quality of the latest successful runs, oldest first.
pub async fn quality_history() -> Result<QualityHistory, FetchError> {
    get("quality history", quality_history_url(QUALITY_HISTORY_RUNS)).await
}

fn quality_history_url(limit: u32) -> String {
    format!("/quality/history?limit={limit}")
}

/// The CSV of the quality of the latest `limit` runs.
pub fn quality_history_csv_url(limit: u32) -> String {
    csv_url("/quality/history", &format!("limit={limit}"))
}

/// A page of the run history, newest first.
pub async fn ingests(query: RunsQuery) -> Result<IngestList, FetchError> {
    get("ingest runs", format!("/ingests?{}", query.api_query())).await
}

/// One run with its rejection reasons and before/after totals.
pub async fn ingest(id: i64) -> Result<IngestDetail, FetchError> {
    get("the ingest run", format!("/ingests/{id}")).await
}

/// A page of a run's rejected rows.
pub async fn rejections(id: i64, query: &RejectionQuery) -> Result<RejectionList, FetchError> {
    get("rejected rows", rejections_url(id, &query.api_query())).await
}

fn rejections_url(id: i64, query: &str) -> String {
    format!("/ingests/{id}/rejections?{query}")
}

/// The CSV of every rejected row the filter matches.
pub fn rejections_csv_url(id: i64, query: &RejectionQuery) -> String {
    csv_url(&format!("/ingests/{id}/rejections"), &query.csv_query())
}

/// Top products follow the header's window when an as-of month is chosen;
/// otherwise they cover all data (the business question is "highest total sales").
pub fn products_range(view: &ViewState) -> String {
    let mut q = view.currency_query();
    if let Some(as_of) = &view.as_of {
        if let Some(from) = crate::state::shift_month(as_of, 1 - view.months as i32) {
            q.push_str(&format!("&from={from}&to={as_of}"));
        }
    }
    q
}

/// The CSV download link of a report (or of rejected rows) with the page's parameters.
pub fn csv_url(path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{path}?format=csv")
    } else {
        format!("{path}?{query}&format=csv")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quality_history_urls() {
        assert_eq!(quality_history_url(100), "/quality/history?limit=100");
        assert_eq!(quality_history_csv_url(1), "/quality/history?limit=1&format=csv");
    }

    #[test]
    fn rejection_urls_carry_the_filter() {
        let q = RejectionQuery {
            file: Some("users.csv".into()),
            reason: Some("empty_customer_id".into()),
            offset: 50,
        };
        assert_eq!(
            rejections_url(7, &q.api_query()),
            "/ingests/7/rejections?file=users.csv&reason=empty_customer_id&limit=50&offset=50"
        );
        // The download holds every matching row, not the page shown.
        assert_eq!(
            rejections_csv_url(7, &q),
            "/ingests/7/rejections?file=users.csv&reason=empty_customer_id&format=csv"
        );
        assert_eq!(
            rejections_csv_url(7, &RejectionQuery::default()),
            "/ingests/7/rejections?format=csv"
        );
    }
}

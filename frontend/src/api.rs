//! Every HTTP call of the dashboard, through gloo-net, typed with the shared API types.

use api_types::{
    ApiError, IngestDetail, IngestList, Meta, MonthlyTransactionsReport, QualityReport, RejectionList,
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
}

async fn get<T: DeserializeOwned>(what: &'static str, url: String) -> Result<T, FetchError> {
    let fail = |message: String| FetchError { what, message };
    let res = Request::get(&url)
        .send()
        .await
        .map_err(|e| fail(format!("network error: {e}")))?;
    if !res.ok() {
        let status = res.status();
        let detail = res
            .json::<ApiError>()
            .await
            .map(|e| e.message)
            .unwrap_or_else(|_| res.status_text());
        return Err(fail(format!("HTTP {status}: {detail}")));
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

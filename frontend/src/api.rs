//! Every HTTP call of the dashboard, through gloo-net, typed with the shared API types.

use api_types::{
    ApiError, Meta, MonthlyTransactionsReport, QualityReport, RevenueGrowthReport, TopProductsReport, TopUsersReport,
};
use gloo_net::http::Request;
use serde::de::DeserializeOwned;

use crate::state::ViewState;

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

/// The CSV download link of a report with the page's parameters.
pub fn csv_url(path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{path}?format=csv")
    } else {
        format!("{path}?{query}&format=csv")
    }
}

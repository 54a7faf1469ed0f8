//! Every HTTP call of the dashboard, typed with the shared API types: through
//! gloo-net, except the upload, which needs the upload progress only
//! `XMLHttpRequest` reports ([`upload`]).

pub mod saas;
pub mod upload;

use api_types::{
    ApiError, Currency, CustomerReport, CustomerSearch, IngestDetail, IngestList, Meta, Month, MonthReport,
    MonthlyTransactionsReport, QualityHistory, QualityReport, RejectionList, RevenueGrowthReport, SessionInfo,
    SessionRequest, TopProductsReport, TopUsersReport,
};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;

use crate::state::{RejectionQuery, RunsQuery, ViewState};

/// A failed request, described for the error banner.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FetchError {
    pub what: &'static str,
    pub message: String,
    /// The API's error code (`no_data`), when it answered with one.
    pub code: Option<String>,
    /// The HTTP status, when the API answered at all.
    pub status: Option<u16>,
    /// A 401 that refused the credentials sent (`WWW-Authenticate: …
    /// error="invalid_token"`): a session that expired or was ended, rather
    /// than no credentials at all.
    pub credentials_refused: bool,
}

impl FetchError {
    /// A failure before any answer (network, or a response that is not the API's).
    pub fn new(what: &'static str, message: String) -> Self {
        Self {
            what,
            message,
            ..Self::default()
        }
    }

    /// An error answer: `HTTP 409: another ingest is running`, with the API's
    /// code when the body is the API's error (`body` is the response text).
    pub fn from_answer(what: &'static str, status: u16, status_text: &str, body: Option<&str>) -> Self {
        let api = body.and_then(|b| serde_json::from_str::<ApiError>(b).ok());
        let (message, code) = match api {
            Some(e) => (format!("HTTP {status}: {}", e.message), Some(e.error)),
            None => (format!("HTTP {status}: {status_text}"), None),
        };
        Self {
            what,
            message,
            code,
            status: Some(status),
            credentials_refused: false,
        }
    }

    /// Takes note of the answer's `WWW-Authenticate` header (RFC 6750).
    pub fn with_challenge(mut self, challenge: Option<&str>) -> Self {
        self.credentials_refused =
            self.is_unauthorized() && challenge.is_some_and(|c| c.contains(r#"error="invalid_token""#));
        self
    }

    /// The API has nothing to report yet (no successful ingest): an empty
    /// state rather than a failure.
    pub fn is_no_data(&self) -> bool {
        self.code.as_deref() == Some("no_data")
    }

    /// The server holds a drill-down back for a moment (503 `busy`): worth asking again.
    pub fn is_busy(&self) -> bool {
        self.status == Some(503) && self.code.as_deref() == Some("busy")
    }

    /// Not signed in, or no longer (the session expired, the token was revoked):
    /// the dashboard shows its sign-in page.
    pub fn is_unauthorized(&self) -> bool {
        self.status == Some(401)
    }

    /// The API's own sentence, without the `HTTP 401: ` prefix (for forms that
    /// show it as a sentence of their own).
    pub fn api_message(&self) -> &str {
        self.status
            .and_then(|s| self.message.strip_prefix(&format!("HTTP {s}: ")))
            .unwrap_or(&self.message)
    }
}

/// Sends `request`; an error answer becomes a [`FetchError`].
async fn send(what: &'static str, request: Result<Request, gloo_net::Error>) -> Result<Response, FetchError> {
    let network = |e: gloo_net::Error| FetchError::new(what, format!("network error: {e}"));
    let res = request.map_err(network)?.send().await.map_err(network)?;
    if res.ok() {
        return Ok(res);
    }
    let challenge = res.headers().get("www-authenticate");
    let body = res.text().await.ok();
    Err(
        FetchError::from_answer(what, res.status(), &res.status_text(), body.as_deref())
            .with_challenge(challenge.as_deref()),
    )
}

async fn json<T: DeserializeOwned>(what: &'static str, res: Response) -> Result<T, FetchError> {
    res.json::<T>()
        .await
        .map_err(|e| FetchError::new(what, format!("unexpected response: {e}")))
}

/// How often a `busy` answer is asked again before the page shows it: the
/// drill-downs answer 503 `busy` (`Retry-After: 1`) while their share of the
/// database is taken, which passes within seconds.
const BUSY_RETRIES: u32 = 3;

async fn get<T: DeserializeOwned>(what: &'static str, url: String) -> Result<T, FetchError> {
    let mut retries = 0;
    loop {
        match send(what, Request::get(&url).build()).await {
            Err(e) if e.is_busy() && retries < BUSY_RETRIES => {
                retries += 1;
                yew::platform::time::sleep(busy_wait(retries)).await;
            }
            res => return json(what, res?).await,
        }
    }
}

/// The wait before retry `n` (1, 2, …) of a `busy` answer: the second
/// `Retry-After` asks for, then a little longer each time.
fn busy_wait(n: u32) -> std::time::Duration {
    std::time::Duration::from_millis(1_000 * u64::from(n))
}

/// Who is calling: a session, or anonymous in open mode; 401 when nobody is signed in.
///
/// A session cookie the API refuses (expired, ended, or set by another server
/// on this host: cookies do not keep ports apart) is deleted and the question
/// asked again, so that an open server is found open and a sign-in starts
/// clean; the first answer still says why.
pub async fn session() -> Result<SessionInfo, FetchError> {
    match get("the sign-in", "/session".into()).await {
        Err(refused) if refused.credentials_refused => {
            sign_out().await?;
            match get("the sign-in", "/session".into()).await {
                Err(again) if again.is_unauthorized() => Err(refused),
                again => again,
            }
        }
        answer => answer,
    }
}

/// Exchanges an API token for a session cookie (HttpOnly: the dashboard never
/// sees it; the browser sends it with every request of this origin).
pub async fn sign_in(token: String) -> Result<SessionInfo, FetchError> {
    let res = send("the sign-in", Request::post("/session").json(&SessionRequest { token })).await?;
    json("the sign-in", res).await
}

/// Ends the session and deletes its cookie.
pub async fn sign_out() -> Result<(), FetchError> {
    send("the sign-out", Request::delete("/session").build())
        .await
        .map(|_| ())
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

/// One month of one currency (the default currency when `None`).
pub async fn month(month: Month, currency: Option<Currency>) -> Result<MonthReport, FetchError> {
    get("the month", month_url(month, currency)).await
}

/// `/reports/month/{month}` with its currency; `?format=csv` appended makes the CSV.
pub fn month_url(month: Month, currency: Option<Currency>) -> String {
    let currency = currency.map(|c| format!("&currency={c}")).unwrap_or_default();
    format!("/reports/month/{month}?limit=10{currency}")
}

/// One customer.
pub async fn customer(id: &str) -> Result<CustomerReport, FetchError> {
    get("the customer", customer_url(id)).await
}

pub fn customer_url(id: &str) -> String {
    format!("/customers/{}", crate::components::drill::encode(id))
}

/// Customers per page of the search.
pub const CUSTOMERS_PER_PAGE: u32 = 20;

/// A page of the customers whose id or name starts with `q` (every customer when empty).
pub async fn search_customers(q: &str, offset: u32) -> Result<CustomerSearch, FetchError> {
    let mut url = format!("/customers?limit={CUSTOMERS_PER_PAGE}&offset={offset}");
    if !q.is_empty() {
        url.push_str(&format!("&q={}", crate::components::drill::encode(q)));
    }
    get("customers", url).await
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
    if view.is_range() {
        for (key, end) in [("from", view.from), ("to", view.to)] {
            if let Some(month) = end {
                q.push_str(&format!("&{key}={month}"));
            }
        }
    } else if let Some(as_of) = view.as_of {
        let from = as_of.plus(1 - view.months as i32);
        q.push_str(&format!("&from={from}&to={as_of}"));
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
    fn errors_keep_the_api_message_and_status() {
        let body = r#"{"error":"unauthorized","message":"invalid or revoked token"}"#;
        let e = FetchError::from_answer("the sign-in", 401, "Unauthorized", Some(body));
        assert_eq!(e.message, "HTTP 401: invalid or revoked token");
        assert_eq!(e.api_message(), "invalid or revoked token");
        assert_eq!(e.code.as_deref(), Some("unauthorized"));
        assert!(e.is_unauthorized() && !e.is_no_data());
        // Not the API's body (a proxy's page): the status text.
        let e = FetchError::from_answer("reports", 502, "Bad Gateway", Some("<html>"));
        assert_eq!((e.message.as_str(), e.code), ("HTTP 502: Bad Gateway", None));
        let e = FetchError::new("reports", "network error: offline".into());
        assert_eq!(e.api_message(), "network error: offline");
        assert!(!e.is_unauthorized());
    }

    #[test]
    fn only_a_busy_answer_is_asked_again_and_later_each_time() {
        let busy = r#"{"error":"busy","message":"too many drill-downs at once: retry in a second"}"#;
        assert!(FetchError::from_answer("the month", 503, "Service Unavailable", Some(busy)).is_busy());
        let down = r#"{"error":"database_unavailable","message":"the database does not answer"}"#;
        assert!(!FetchError::from_answer("the month", 503, "Service Unavailable", Some(down)).is_busy());
        assert!(!FetchError::from_answer("the month", 503, "Service Unavailable", Some("<html>")).is_busy());
        let waits: Vec<u128> = (1..=BUSY_RETRIES).map(|n| busy_wait(n).as_millis()).collect();
        assert_eq!(waits, [1_000, 2_000, 3_000]);
    }

    #[test]
    fn problem_bodies_parse_and_refused_credentials_are_told_apart() {
        // RFC 9457 with this API's own fields kept.
        let body = r#"{"type":"urn:revenue-analytics:problem:unauthorized","title":"Unauthorized","status":401,
            "detail":"the session expired: sign in again","error":"unauthorized","message":"the session expired: sign in again"}"#;
        let expired = FetchError::from_answer("reports", 401, "Unauthorized", Some(body))
            .with_challenge(Some(r#"Bearer realm="revenue-analytics", error="invalid_token""#));
        assert!(expired.credentials_refused);
        assert_eq!(expired.api_message(), "the session expired: sign in again");
        let none_sent = FetchError::from_answer("reports", 401, "Unauthorized", Some(body))
            .with_challenge(Some(r#"Bearer realm="revenue-analytics""#));
        assert!(!none_sent.credentials_refused);
        // Only a 401 refuses credentials.
        let conflict = FetchError::from_answer("the upload", 409, "Conflict", None)
            .with_challenge(Some(r#"error="invalid_token""#));
        assert!(!conflict.credentials_refused);
        assert_eq!(conflict.api_message(), "Conflict");
    }

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

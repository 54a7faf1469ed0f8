//! Thin HTTP handlers: parse parameters, call a report, pick JSON or CSV.

pub mod customers;
pub mod docs;
pub mod health;
pub mod ingests;
pub mod kept;
pub mod reports;
pub mod saas;
pub mod session;
pub mod upload;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

pub use health::{live, ready};
pub use reports::{meta, monthly_transactions, quality, revenue_growth, top_products, top_users};

use ::reports::ToCsv;

pub use crate::endpoints::{is_api_path, not_found, resource, unknown_endpoint};

/// GET, and HEAD answered like GET (actix sends the headers without the body).
pub fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// Registers every API route (`/reports/*`, `/quality`, `/customers*`, `/ingests*`, `/session`, `/health/*`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(reports::configure)
        .configure(saas::configure)
        .configure(customers::configure)
        .service(
            resource("/ingests")
                .route(get().to(ingests::list))
                .route(web::post().to(upload::upload)),
        )
        .service(
            resource("/session")
                .app_data(session::json_config())
                .route(get().to(session::current))
                .route(web::post().to(session::sign_in))
                .route(web::delete().to(session::sign_out)),
        )
        .service(resource("/ingests/{id}").route(get().to(ingests::detail)))
        .service(resource("/ingests/{id}/rejections").route(get().to(ingests::rejections)))
        .service(resource("/health/live").route(get().to(live)))
        .service(resource("/health/ready").route(get().to(ready)));
}

/// The validator of a view of the cached data: a weak `ETag` from the data
/// version (the ingest run) and the request (path, query, `Accept`; and the
/// day for views that count days up to now). Weak, because the same view is
/// sent compressed in several ways.
pub struct Tag(String);

/// What a view depends on besides the data and the request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Depends {
    DataOnly,
    /// It reads today's date (whether the latest month is in progress).
    Today,
    /// It shows a number read from the clock (`/quality`'s days since the
    /// latest transaction): the tag and the kept answer change with it.
    Clock(i64),
}

impl Depends {
    /// The part of the clock the view reads, as a number.
    pub fn clock(self) -> Option<i64> {
        use chrono::Datelike;
        match self {
            Depends::DataOnly => None,
            Depends::Today => Some(chrono::Utc::now().date_naive().num_days_from_ce().into()),
            Depends::Clock(value) => Some(value),
        }
    }
}

impl Tag {
    /// The tag, when data is loaded.
    pub fn of(req: &HttpRequest, ctx: &::reports::ReportContext, depends: Depends) -> Option<Self> {
        // The tag tells variants of one run apart; it guards nothing, so a
        // fast hash does (SHA-256 was 3% of a kept report's cost).
        let run = ctx.run?;
        let mut h = xxhash_rust::xxh3::Xxh3Default::new();
        for part in [
            req.path(),
            req.query_string(),
            req.headers()
                .get(actix_web::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        ] {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        // The clock's part as a number (formatting the day as text was a
        // tenth of this function), after a byte that says which part.
        if let Some(value) = depends.clock() {
            h.update(&[if depends == Depends::Today { b'd' } else { b'c' }]);
            h.update(&value.to_le_bytes());
        }
        Some(Self(format!("W/\"r{run}-{:016x}\"", h.digest())))
    }

    /// 304 when the request's `If-None-Match` holds this tag (or `*`): the
    /// client's copy is current, nothing is computed.
    pub fn not_modified(&self, req: &HttpRequest) -> Option<HttpResponse> {
        let given = req
            .headers()
            .get(actix_web::http::header::IF_NONE_MATCH)?
            .to_str()
            .ok()?;
        let weak = |t: &str| t.trim().trim_start_matches("W/").to_owned();
        let mine = weak(&self.0);
        given
            .split(',')
            .any(|t| t.trim() == "*" || weak(t) == mine)
            .then(|| self.on(HttpResponse::NotModified().finish()))
    }

    /// `res` with the tag, and the rule that a client must revalidate it.
    pub fn on(&self, mut res: HttpResponse) -> HttpResponse {
        use actix_web::http::header::{HeaderValue, CACHE_CONTROL, ETAG, VARY};
        let headers = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&self.0) {
            headers.insert(ETAG, v);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
        headers.append(VARY, HeaderValue::from_static("accept"));
        res
    }
}

/// Reports may be kept by the browser (not shared caches: they need a
/// token), and checked again before each use — a 304 when unchanged.
const CACHE_CONTROL_VALUE: &str = "private, no-cache";

/// Whether CSV is asked for: with `?format=csv` or `Accept: text/csv`.
fn wants_csv(req: &HttpRequest, format: Option<&str>) -> bool {
    match format {
        Some("csv") => true,
        Some(_) => false,
        None => req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    }
}

/// CSV when asked for with `?format=csv` or `Accept: text/csv`, JSON otherwise.
fn respond<T: Serialize + ToCsv>(req: &HttpRequest, format: Option<&str>, name: &str, body: &T) -> HttpResponse {
    if wants_csv(req, format) {
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}.csv\"")))
            .body(body.to_csv())
    } else {
        HttpResponse::Ok().json(body)
    }
}

/// Rejects a `format` other than json/csv.
fn check_format(format: Option<&str>) -> Result<(), crate::error::ApiError> {
    match format {
        None | Some("json") | Some("csv") => Ok(()),
        Some(other) => Err(crate::error::ApiError::BadRequest {
            code: "invalid_parameter",
            message: format!("parameter `format` must be json or csv, got {other:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::is_api_path;

    #[test]
    fn api_paths_and_the_rest() {
        for p in [
            "/reports",
            "/reports/meta",
            "/quality",
            "/ingests/3/rejections",
            "/health/ready",
            "/docs",
            "/openapi.json",
        ] {
            assert!(is_api_path(p), "{p}");
        }
        for p in ["/", "/runs", "/runs/3", "/qualityx", "/reportsx/1", "/index.html"] {
            assert!(!is_api_path(p), "{p}");
        }
    }
}

//! Thin HTTP handlers: parse parameters, call a report, pick JSON or CSV.

pub mod docs;
pub mod health;
pub mod ingests;
pub mod reports;
pub mod session;
pub mod upload;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

pub use health::{live, ready};
pub use reports::{meta, monthly_transactions, quality, revenue_growth, top_products, top_users};

use crate::reports::ToCsv;

/// The paths the API owns: the dashboard's routes never shadow them, and an
/// unknown path under them is a JSON 404, never the dashboard's page.
pub const API_PATHS: &[&str] = &[
    "/reports",
    "/quality",
    "/ingests",
    "/session",
    "/health",
    "/openapi.json",
    "/docs",
    "/metrics",
];

/// The methods an API path answers (its 405's `Allow` header): reads
/// everywhere, plus the upload and the sign-in and sign-out.
pub fn allowed_methods(path: &str) -> &'static str {
    match path.trim_end_matches('/') {
        "/ingests" => "GET, HEAD, POST",
        "/session" => "GET, HEAD, POST, DELETE",
        _ => "GET, HEAD",
    }
}

/// Whether `path` belongs to the API (one of [`API_PATHS`] or below it).
pub fn is_api_path(path: &str) -> bool {
    API_PATHS.iter().any(|p| under(path, p))
}

/// API paths answered without the database: the process's liveness, the
/// contract and its documentation, the metrics.
const WITHOUT_DATABASE: &[&str] = &["/health/live", "/openapi.json", "/docs", "/metrics"];

/// Whether answering `path` needs the database (while it does not answer,
/// such a path answers 503 at once: see [`crate::readiness`]).
pub fn needs_database(path: &str) -> bool {
    is_api_path(path) && !WITHOUT_DATABASE.iter().any(|p| under(path, p))
}

/// `path` is `prefix` or below it.
pub fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// GET, and HEAD answered like GET (actix sends the headers without the body).
pub fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
}

/// A path of the API: another method than its routes' answers a JSON 405
/// (actix's own would be an empty body).
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(crate::startup::not_found))
}

/// Registers every API route (`/reports/*`, `/quality`, `/ingests*`, `/session`, `/health/*`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/reports")
            .default_service(web::to(crate::startup::not_found))
            .service(resource("/meta").route(get().to(meta)))
            .service(resource("/monthly-transactions").route(get().to(monthly_transactions)))
            .service(resource("/revenue-growth").route(get().to(revenue_growth)))
            .service(resource("/top-products").route(get().to(top_products)))
            .service(resource("/top-users").route(get().to(top_users))),
    )
    .service(resource("/quality").route(get().to(quality)))
    .service(resource("/quality/history").route(get().to(reports::quality_history)))
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

/// CSV when asked for with `?format=csv` or `Accept: text/csv`, JSON otherwise.
fn respond<T: Serialize + ToCsv>(req: &HttpRequest, format: Option<&str>, name: &str, body: &T) -> HttpResponse {
    let wants_csv = match format {
        Some("csv") => true,
        Some(_) => false,
        None => req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    };
    if wants_csv {
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

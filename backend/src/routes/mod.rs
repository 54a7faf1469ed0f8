//! Thin HTTP handlers: parse parameters, call a report, pick JSON or CSV.

pub mod health;
pub mod ingests;
pub mod reports;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;

pub use health::{live, ready};
pub use reports::{meta, monthly_transactions, quality, revenue_growth, top_products, top_users};

use crate::reports::ToCsv;

/// Registers every API route (`/reports/*`, `/quality`, `/ingests*`, `/health/*`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/reports")
            .route("/meta", web::get().to(meta))
            .route("/monthly-transactions", web::get().to(monthly_transactions))
            .route("/revenue-growth", web::get().to(revenue_growth))
            .route("/top-products", web::get().to(top_products))
            .route("/top-users", web::get().to(top_users)),
    )
    .route("/quality", web::get().to(quality))
    .route("/ingests", web::get().to(ingests::list))
    .route("/ingests/{id}", web::get().to(ingests::detail))
    .route("/ingests/{id}/rejections", web::get().to(ingests::rejections))
    .route("/health/live", web::get().to(live))
    .route("/health/ready", web::get().to(ready));
}

/// CSV when asked for with `?format=csv` or `Accept: text/csv`, JSON otherwise.
fn respond<T: Serialize + ToCsv>(req: &HttpRequest, format: Option<&str>, name: &str, body: &T) -> HttpResponse {
    let wants_csv = match format.map(str::to_ascii_lowercase).as_deref() {
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
    match format.map(str::to_ascii_lowercase).as_deref() {
        None | Some("json") | Some("csv") => Ok(()),
        Some(other) => Err(crate::error::ApiError::BadRequest {
            code: "invalid_parameter",
            message: format!("parameter `format` must be json or csv, got {other:?}"),
        }),
    }
}

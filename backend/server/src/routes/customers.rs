//! Handlers of `/customers*`: one customer, and the search for customers.

use actix_web::{web, HttpRequest, HttpResponse};
use api_types::{CustomerReport, CustomerSearch};
use sea_orm::DatabaseConnection;

use super::kept::uncached;
use super::{check_format, get, resource, respond, Depends};
use crate::drill_downs::DrillDowns;
use crate::error::ApiError;
use reports::{CustomerParams, CustomerSearchParams, ReportCache};

/// Registers the customers' routes (entries of
/// [`crate::endpoints::ENDPOINTS`]; documented in `openapi.rs`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/customers").route(get().to(search)))
        .service(resource("/customers/{id}").route(get().to(customer)));
}

/// Customers whose id, or a word of whose name, starts with `q`; one page, by id.
#[utoipa::path(get, path = "/customers", tag = "customers", params(CustomerSearchParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "A page of matching customers, without e-mail", body = CustomerSearch),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable (`database_unavailable`), or too many month and customer pages are being read at once (`busy`: try again after `Retry-After`, 1 s)", body = api_types::ApiError,
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn search(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    drill_downs: web::Data<DrillDowns>,
    cache: web::Data<ReportCache>,
    params: web::Query<CustomerSearchParams>,
) -> Result<HttpResponse, ApiError> {
    let ctx = cache.get(&db).await?;
    // Read from the database, not the snapshot: never kept.
    uncached(&req, &ctx, Depends::DataOnly, &drill_downs, async {
        Ok(HttpResponse::Ok().json(reports::search_customers(&db, &params).await?))
    })
    .await
}

/// One customer: spending per currency and month, subscriptions and
/// products, and the data-quality flags that concern them. Never an e-mail address.
#[utoipa::path(get, path = "/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id, as in the export", example = "cus_0001"), CustomerParams),
    responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "The customer (also as text/csv: the spending per month and currency)", content((CustomerReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 404, description = "No such customer in the data", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable (`database_unavailable`), or too many month and customer pages are being read at once (`busy`: try again after `Retry-After`, 1 s)", body = api_types::ApiError,
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn customer(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    drill_downs: web::Data<DrillDowns>,
    cache: web::Data<ReportCache>,
    id: web::Path<String>,
    params: web::Query<CustomerParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    // Read from the database, not the snapshot: never kept.
    uncached(&req, &ctx, Depends::DataOnly, &drill_downs, async {
        let report = reports::customer(&db, &id).await?;
        Ok(respond(&req, params.format.as_deref(), "customer", &report))
    })
    .await
}

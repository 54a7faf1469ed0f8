//! Handlers of `/reports/saas/*`: subscription metrics (MRR, its movements,
//! the rates, cohorts) and the customers behind a movement.

use actix_web::{web, HttpRequest, HttpResponse};
use api_types::{SaasCohortsReport, SaasMovementsReport, SaasMrrReport};
use sea_orm::DatabaseConnection;

use super::kept::{answer, Form};
use super::{check_format, get, resource, Depends};
use crate::error::ApiError;
use reports::{ReportCache, SaasMovementsParams, SaasParams};

/// Registers the subscription metrics' routes (entries of
/// [`crate::endpoints::ENDPOINTS`]; documented in `openapi.rs`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/reports/saas/mrr").route(get().to(mrr)))
        .service(resource("/reports/saas/cohorts").route(get().to(cohorts)))
        .service(resource("/reports/saas/movements").route(get().to(movements)));
}

/// Monthly recurring revenue at each month close, its five movements, the rates and the billed amounts.
#[utoipa::path(get, path = "/reports/saas/mrr", tag = "reports", params(SaasParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "One row per closed month (also as text/csv)", content((SaasMrrReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter, or a currency the data does not hold", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 500, description = "The figures failed their own checks (logged)", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn mrr(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<SaasParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    let form = Form::of(&req, params.format.as_deref(), "saas-mrr");
    answer(&req, &ctx, Depends::DataOnly, form, async {
        form.write(&reports::saas_mrr(&ctx.saas, &db, &params).await?)
    })
    .await
}

/// Customers grouped by the month they first paid, and what each cohort keeps later.
#[utoipa::path(get, path = "/reports/saas/cohorts", tag = "reports", params(SaasParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "The cohort table (also as text/csv, one row per cohort and month)", content((SaasCohortsReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter, or a currency the data does not hold", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 500, description = "The figures failed their own checks (logged)", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn cohorts(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<SaasParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    let form = Form::of(&req, params.format.as_deref(), "saas-cohorts");
    answer(&req, &ctx, Depends::DataOnly, form, async {
        form.write(&reports::saas_cohorts(&ctx.saas, &db, &params).await?)
    })
    .await
}

/// The customers behind one movement of one month, largest change first (no e-mail addresses).
#[utoipa::path(get, path = "/reports/saas/movements", tag = "reports", params(SaasMovementsParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "One page of the movement's customers (also as text/csv)", content((SaasMovementsReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid or missing parameter, or a currency the data does not hold", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet, or the month has no movements (not a reported month after the first)", body = api_types::ApiError),
    (status = 500, description = "The figures failed their own checks (logged)", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn movements(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<SaasMovementsParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    let form = Form::of(&req, params.format.as_deref(), "saas-movements");
    answer(&req, &ctx, Depends::DataOnly, form, async {
        form.write(&reports::saas_movements(&ctx.saas, &db, &params).await?)
    })
    .await
}

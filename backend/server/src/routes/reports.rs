//! Handlers of `/reports/*` and `/quality`.

use actix_web::{web, HttpRequest, HttpResponse};
use api_types::{
    Meta, MonthlyTransactionsReport, QualityReport, RevenueGrowthReport, TopProductsReport, TopUsersReport,
};
use sea_orm::DatabaseConnection;

use super::kept::{answer, json, uncached, Form};
use super::{check_format, get, resource, respond, Depends};
use crate::drill_downs::DrillDowns;
use crate::error::ApiError;
use reports::{self, ReportCache, WindowParams};
pub use reports::{MonthParams, TopProductsParams, TopUsersParams};

/// Registers the reports' routes (each path is an entry of
/// [`crate::endpoints::ENDPOINTS`]; its handler is documented in `openapi.rs`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/reports/meta").route(get().to(meta)))
        .service(resource("/reports/monthly-transactions").route(get().to(monthly_transactions)))
        .service(resource("/reports/revenue-growth").route(get().to(revenue_growth)))
        .service(resource("/reports/top-products").route(get().to(top_products)))
        .service(resource("/reports/top-users").route(get().to(top_users)))
        .service(resource("/reports/month/{month}").route(get().to(month)))
        .service(resource("/quality").route(get().to(quality)))
        .service(resource("/quality/history").route(get().to(quality_history)));
}

/// Average user transaction amount per month.
#[utoipa::path(get, path = "/reports/monthly-transactions", tag = "reports", params(WindowParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "One row per month of the window (also as text/csv)", content((MonthlyTransactionsReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn monthly_transactions(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    // Whether the latest month is in progress changes when the month ends.
    let form = Form::of(&req, params.format.as_deref(), "monthly-transactions");
    answer(&req, &ctx, Depends::Today, form, async {
        form.write(&reports::monthly_transactions(&ctx, &params)?)
    })
    .await
}

/// Month-over-month revenue growth, declines flagged.
#[utoipa::path(get, path = "/reports/revenue-growth", tag = "reports", params(WindowParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "One row per month of the window (also as text/csv)", content((RevenueGrowthReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn revenue_growth(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<WindowParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    // Whether the latest month is in progress changes when the month ends.
    let form = Form::of(&req, params.format.as_deref(), "revenue-growth");
    answer(&req, &ctx, Depends::Today, form, async {
        form.write(&reports::revenue_growth(&ctx, &params)?)
    })
    .await
}

/// Products ranked by total sales (revenue allocated by plan amount).
#[utoipa::path(get, path = "/reports/top-products", tag = "reports", params(TopProductsParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "Ranked products and unattributed revenue (also as text/csv)", content((TopProductsReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn top_products(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<TopProductsParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    let form = Form::of(&req, params.format.as_deref(), "top-products");
    answer(&req, &ctx, Depends::DataOnly, form, async {
        form.write(&reports::top_products(&ctx, &params)?)
    })
    .await
}

/// Customers ranked by total spending.
#[utoipa::path(get, path = "/reports/top-users", tag = "reports", params(TopUsersParams), responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "Ranked customers, without e-mail (also as text/csv)", content((TopUsersReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn top_users(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    params: web::Query<TopUsersParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    let form = Form::of(&req, params.format.as_deref(), "top-users");
    answer(&req, &ctx, Depends::DataOnly, form, async {
        form.write(&reports::top_users(&ctx, &params)?)
    })
    .await
}

/// One month of one currency: its figures, the change against the month
/// before, its best customers and products (the drill-down of the monthly charts).
#[utoipa::path(get, path = "/reports/month/{month}", tag = "reports",
    params(("month" = String, Path, description = "The month, `YYYY-MM`", pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05"), MonthParams),
    responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "The month (also as text/csv: one table whose `row` column tells the month, the previous month, the change, customers and products apart). A month inside the data without transactions in this currency is all zeros, not a 404", content((api_types::MonthReport = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter (a month that is not `YYYY-MM`), or a currency the data does not hold", body = api_types::ApiError),
    (status = 404, description = "No data loaded yet, or a month before the first or after the latest month of the data (in any currency)", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable (`database_unavailable`), or too many month and customer pages are being read at once (`busy`: try again after `Retry-After`, 1 s)", body = api_types::ApiError,
        headers(("Retry-After" = u64, description = "Seconds to wait before trying again")))))]
pub async fn month(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    drill_downs: web::Data<DrillDowns>,
    cache: web::Data<ReportCache>,
    path: web::Path<String>,
    params: web::Query<MonthParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let ctx = cache.get(&db).await?;
    // Whether the month is in progress changes when the month ends. Its top
    // customers are read from the database, not the snapshot: never kept.
    uncached(&req, &ctx, Depends::Today, &drill_downs, async {
        let report = reports::month_report(&ctx, &db, &path, &params).await?;
        let name = format!("month-{}-{}", report.current.month, report.currency);
        Ok(respond(&req, params.format.as_deref(), &name, &report))
    })
    .await
}

/// Currencies and the months the data covers (for building filters).
#[utoipa::path(get, path = "/reports/meta", tag = "reports", responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "What the data holds", body = Meta),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn meta(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
) -> Result<HttpResponse, ApiError> {
    let ctx = cache.get(&db).await?;
    answer(&req, &ctx, Depends::DataOnly, Form::Json, async {
        json(&reports::meta(&ctx)?)
    })
    .await
}

/// Data-quality checks of the loaded data.
#[utoipa::path(get, path = "/quality", tag = "quality", responses(
    (status = 304, description = "Not modified: the `ETag` given in `If-None-Match` is current"),
    (status = 200, description = "Checks from the last successful ingest", body = QualityReport),
    (status = 404, description = "No data loaded yet", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn quality(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
) -> Result<HttpResponse, ApiError> {
    let ctx = cache.get(&db).await?;
    // Read once: the days since the latest transaction name the answer and are in it.
    let now = chrono::Utc::now();
    let depends = reports::days_since_latest(&ctx, now).map_or(Depends::DataOnly, Depends::Clock);
    answer(&req, &ctx, depends, Form::Json, async {
        json(&reports::quality(&ctx, now)?)
    })
    .await
}

/// The quality dimensions of every successful run, oldest first.
#[utoipa::path(get, path = "/quality/history", tag = "quality", params(reports::QualityHistoryParams), responses(
    (status = 200, description = "One entry per successful run (also as text/csv)", content((api_types::QualityHistory = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn quality_history(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    params: web::Query<reports::QualityHistoryParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let history = reports::quality_history(&db, &params).await?;
    Ok(respond(&req, params.format.as_deref(), "quality-history", &history))
}

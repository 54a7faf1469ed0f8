//! Handlers of `/ingests*`: the run history and rejected rows.

use actix_web::{web, HttpRequest, HttpResponse};
use api_types::{IngestDetail, IngestList, RejectionList};
use sea_orm::DatabaseConnection;

use super::{check_format, respond};
use crate::error::ApiError;
use crate::uploads::Uploads;
use reports::ingests::{self, IngestListParams, RejectionParams};

fn run_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::BadRequest {
            code: "invalid_parameter",
            message: format!("the run id must be a positive integer, got {raw:?}"),
        })
}

/// Ingest runs, newest first.
#[utoipa::path(get, path = "/ingests", tag = "ingests", params(IngestListParams), responses(
    (status = 200, description = "A page of runs, newest first", body = IngestList),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn list(
    db: web::Data<DatabaseConnection>,
    uploads: web::Data<Uploads>,
    params: web::Query<IngestListParams>,
) -> Result<HttpResponse, ApiError> {
    let mut list = ingests::list(&db, &params).await?;
    for run in &mut list.runs {
        with_progress(run, &uploads);
    }
    Ok(HttpResponse::Ok().json(list))
}

/// A run this server is running: what it does now.
fn with_progress(run: &mut api_types::IngestRun, uploads: &Uploads) {
    if run.status == etl::RunStatus::Running {
        run.progress = uploads.progress(run.id);
    }
}

/// One run: its files, rejection reasons and what it changed.
#[utoipa::path(get, path = "/ingests/{id}", tag = "ingests",
    params(("id" = i64, Path, description = "Run id", minimum = 1)),
    responses(
    (status = 200, description = "The run", body = IngestDetail),
    (status = 400, description = "Invalid run id", body = api_types::ApiError),
    (status = 404, description = "No such run", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn detail(
    db: web::Data<DatabaseConnection>,
    uploads: web::Data<Uploads>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let mut detail = ingests::detail(&db, run_id(&id)?).await?;
    with_progress(&mut detail.run, &uploads);
    Ok(HttpResponse::Ok().json(detail))
}

/// A run's rejected rows (line, reason, the row with e-mail addresses masked).
#[utoipa::path(get, path = "/ingests/{id}/rejections", tag = "ingests",
    params(("id" = i64, Path, description = "Run id", minimum = 1), RejectionParams),
    responses(
    (status = 200, description = "A page of rejected rows (also as text/csv)", content((RejectionList = "application/json"), (String = "text/csv"))),
    (status = 400, description = "Invalid parameter", body = api_types::ApiError),
    (status = 404, description = "No such run", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable", body = api_types::ApiError)))]
pub async fn rejections(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    id: web::Path<String>,
    params: web::Query<RejectionParams>,
) -> Result<HttpResponse, ApiError> {
    check_format(params.format.as_deref())?;
    let id = run_id(&id)?;
    let list = ingests::rejections(&db, id, &params).await?;
    Ok(respond(
        &req,
        params.format.as_deref(),
        &format!("run-{id}-rejections"),
        &list,
    ))
}

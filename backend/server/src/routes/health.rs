//! Liveness (the process answers) and readiness (the database answers).

use actix_web::{web, HttpResponse};

use crate::error::ApiError;

/// `GET /health/live`.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, description = "The process is up")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /health/ready`: 503 when the database cannot be reached (or its
/// SQLite file was deleted or replaced under the server). A read-only
/// database is ready for reads: `writable` says whether uploads are accepted,
/// and `message` why not.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses(
    (status = 200, description = "The database answers: `{\"status\": \"ready\", \"writable\": true}`, or `writable: false` with a `message` when it is read-only (reports served, uploads refused)"),
    (status = 503, description = "The database is unreachable, or its SQLite file was deleted or replaced", body = api_types::ApiError)))]
pub async fn ready(readiness: web::Data<crate::readiness::Readiness>) -> Result<HttpResponse, ApiError> {
    readiness.check_file()?;
    // Over the probes: requests holding every pooled connection do not make it 503.
    readiness.ping().await.map_err(ApiError::Unavailable)?;
    Ok(HttpResponse::Ok().json(match readiness.read_only() {
        None => serde_json::json!({"status": "ready", "writable": true}),
        Some(why) => serde_json::json!({"status": "ready", "writable": false, "message": why}),
    }))
}

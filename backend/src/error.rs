//! API errors, mapped to HTTP statuses and JSON bodies in one place.
//!
//! Every error body is `{"error": "<code>", "message": "<sentence>"}`. Server
//! faults are logged with their cause and answered with an opaque message: no
//! SQL, stack traces or connection strings reach a client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;

use crate::reports::ReportError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("no data has been loaded yet: run `backend ingest` first")]
    NoData,
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    #[error("internal error")]
    Internal(#[source] DbErr),
}

impl From<ReportError> for ApiError {
    fn from(e: ReportError) -> Self {
        match e {
            ReportError::BadParameter { message, .. } => ApiError::BadRequest {
                code: "invalid_parameter",
                message,
            },
            e @ ReportError::UnknownCurrency { .. } => ApiError::BadRequest {
                code: "unknown_currency",
                message: e.to_string(),
            },
            ReportError::NoData => ApiError::NoData,
            ReportError::NotFound(message) => ApiError::NotFound(message),
            ReportError::Database(e) => ApiError::from(e),
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        match e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => ApiError::Unavailable(e),
            other => ApiError::Internal(other),
        }
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::NoData => "no_data",
            ApiError::Unavailable(_) => "database_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) | ApiError::NoData => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Unavailable(cause) | ApiError::Internal(cause) = self {
            tracing::error!(error = %cause, code = self.code(), "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        if let ApiError::MethodNotAllowed(_) = self {
            res.insert_header((actix_web::http::header::ALLOW, "GET, HEAD"));
        }
        res.json(api_types::ApiError {
            error: self.code().to_owned(),
            message: self.to_string(),
        })
    }
}

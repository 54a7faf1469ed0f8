//! API errors, mapped to HTTP statuses and JSON bodies in one place.
//!
//! Every error body is an RFC 9457 problem (`application/problem+json`:
//! `type`, `title`, `status`, `detail`) that keeps the API's first fields,
//! `{"error": "<code>", "message": "<sentence>"}`. Server
//! faults are logged with their cause and answered with an opaque message: no
//! SQL, stack traces or connection strings reach a client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;

use reports::ReportError;

/// The media type of every error body (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Marks a 503 that is the server holding back by design ([`ApiError::Busy`]),
/// not a fault: its request's log line is a warning, not an error, so a
/// burst of drill-downs does not read as an outage in the logs.
#[derive(Debug, Clone, Copy)]
pub struct HeldBack;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    /// `allow`: the methods the path answers (the `Allow` header).
    #[error("{message}")]
    MethodNotAllowed { message: String, allow: String },
    #[error("no data has been loaded yet: run `backend ingest` first")]
    NoData,
    /// No credentials, or credentials that are not (or no longer) valid.
    /// `invalid_token`: credentials were given (RFC 6750's `error="invalid_token"`).
    #[error("{message}")]
    Unauthorized { message: String, invalid_token: bool },
    #[error("{0}")]
    Forbidden(String),
    /// The `Host` is not one this server answers for (DNS rebinding).
    #[error("{0}")]
    MisdirectedRequest(String),
    #[error("too many failed sign-in attempts from this address: try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body's `Content-Encoding` is one the server does not decode.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The server's own storage is full (an upload being stored).
    #[error("{0}")]
    InsufficientStorage(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// Too many drill-downs run already (see [`crate::drill_downs`]): the
    /// database answers, this server keeps its connections for the rest.
    #[error("too many month and customer pages are being read right now: try again in a second")]
    Busy,
    /// The server is waiting for its database (not reached yet, or gone).
    #[error("the database is unavailable{}: the server is waiting for it, try again shortly", down_for_s.map(|s| format!(" (for {s} s)")).unwrap_or_default())]
    NotReady { down_for_s: Option<u64> },
    /// The database takes no writes (read-only); reads are still served.
    #[error("{0}: the reports are served, but nothing is written (uploads and sign-outs are refused) until it takes writes again")]
    ReadOnly(String),
    /// The server's SQLite file was deleted or replaced under it (see
    /// [`store::db::file`]): it serves nothing until it is restarted.
    #[error("{0}")]
    DatabaseFileChanged(String),
    #[error("internal error")]
    Internal(#[source] DbErr),
    /// The server's own files (an upload being stored).
    #[error("internal error while {during}")]
    Io {
        during: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// Subscription figures that cannot be served (a §13 invariant or an
    /// overflow): logged with its month and currency, never a wrong figure.
    #[error("internal error")]
    Figures(#[source] reports::SaasFailure),
    /// An ingest could not be started (the cause is logged, not answered).
    #[error("the ingest could not be started")]
    Ingest(String),
    /// A record the server stored cannot be read back (the cause was logged
    /// with the record's id when it was read).
    #[error("{0}")]
    Unreadable(#[source] ReportError),
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
            e @ (ReportError::UnreadableQuality { .. }
            | ReportError::UnreadableRun { .. }
            | ReportError::UnreadableCurrency(_)
            | ReportError::Overflow(_)) => ApiError::Unreadable(e),
            ReportError::Database(e) => ApiError::from(e),
            ReportError::Saas(e) => ApiError::Figures(e),
        }
    }
}

impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> Self {
        match e {
            e if store::db::is_unreachable(&e) => ApiError::Unavailable(e),
            e if store::db::is_read_only(&e) => ApiError::ReadOnly("the database is read-only".to_owned()),
            other => ApiError::Internal(other),
        }
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::NoData => "no_data",
            ApiError::Unauthorized { .. } => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::MisdirectedRequest(_) => "unknown_host",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_content_encoding",
            ApiError::InsufficientStorage(_) => "insufficient_storage",
            ApiError::Unavailable(_) | ApiError::NotReady { .. } => "database_unavailable",
            ApiError::Busy => "busy",
            ApiError::ReadOnly(_) => "database_read_only",
            ApiError::DatabaseFileChanged(_) => "database_file_changed",
            ApiError::Internal(_)
            | ApiError::Io { .. }
            | ApiError::Ingest(_)
            | ApiError::Figures(_)
            | ApiError::Unreadable(_) => "internal_error",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) | ApiError::NoData => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MisdirectedRequest(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InsufficientStorage(_) => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Unavailable(_)
            | ApiError::NotReady { .. }
            | ApiError::Busy
            | ApiError::ReadOnly(_)
            | ApiError::DatabaseFileChanged(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_)
            | ApiError::Io { .. }
            | ApiError::Ingest(_)
            | ApiError::Figures(_)
            | ApiError::Unreadable(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Unavailable(cause) | ApiError::Internal(cause) => {
                tracing::error!(error = %cause, code = self.code(), "request failed");
            }
            ApiError::Io { source, .. } => tracing::error!(error = %source, "request failed: {self}"),
            ApiError::Ingest(cause) => tracing::error!(error = %cause, "request failed: {self}"),
            ApiError::Figures(cause) => tracing::error!(error = %cause, "request failed: {self}"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        match self {
            ApiError::MethodNotAllowed { allow, .. } => {
                res.insert_header((actix_web::http::header::ALLOW, allow.as_str()));
            }
            ApiError::Unauthorized { invalid_token, .. } => {
                let challenge = match invalid_token {
                    true => r#"Bearer realm="revenue-analytics", error="invalid_token""#,
                    false => r#"Bearer realm="revenue-analytics""#,
                };
                res.insert_header((actix_web::http::header::WWW_AUTHENTICATE, challenge));
            }
            ApiError::TooManyRequests { retry_after_secs } => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            // A drill-down's turn comes within a few seconds at most.
            ApiError::Busy => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
                res.extensions_mut().insert(HeldBack);
            }
            // The watch over the database tries again within this.
            ApiError::NotReady { .. } | ApiError::Unavailable(_) => {
                let seconds = crate::database::LAST_RETRY.as_secs().max(1);
                res.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
            }
            _ => {}
        }
        let status = self.status_code();
        let body = api_types::ApiError {
            kind: format!("urn:revenue-analytics:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            error: self.code().to_owned(),
            message: self.to_string(),
        };
        res.content_type(PROBLEM_JSON)
            .body(serde_json::to_string(&body).unwrap_or_default())
    }
}

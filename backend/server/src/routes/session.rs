//! `/session`: who is calling, and the dashboard's sign-in and sign-out.

use actix_web::{web, HttpRequest, HttpResponse};
use api_types::{SessionInfo, SessionRequest};

use crate::auth::Auth;
use crate::error::ApiError;

/// The caller: the bearer token's or the session's name and role, or
/// `anonymous` in open mode (no token exists).
#[utoipa::path(get, path = "/session", tag = "session", responses(
    (status = 200, description = "The caller", body = SessionInfo),
    (status = 401, description = "Not signed in (or the token or session is no longer valid)", body = api_types::ApiError),
    (status = 429, description = "Too many failed attempts from this address", body = api_types::ApiError)),
    security((), ("bearer" = []), ("session" = [])))]
pub async fn current(req: HttpRequest, auth: web::Data<Auth>) -> Result<HttpResponse, ApiError> {
    let principal = auth.authorize(&req, crate::auth::Role::Reader).await?;
    Ok(HttpResponse::Ok().json(principal.info()))
}

/// Signs in: exchanges an API token for a session cookie (HttpOnly,
/// SameSite=Strict, Secure over HTTPS, expiring). A request from another
/// site's page is refused.
#[utoipa::path(post, path = "/session", tag = "session", request_body = SessionRequest, responses(
    (status = 200, description = "Signed in; the `Set-Cookie` header carries the session", body = SessionInfo),
    (status = 400, description = "The body is not `{\"token\": \"…\"}`", body = api_types::ApiError),
    (status = 401, description = "Invalid or revoked token", body = api_types::ApiError),
    (status = 403, description = "Sent from another site's page", body = api_types::ApiError),
    (status = 429, description = "Too many failed attempts from this address", body = api_types::ApiError)))]
pub async fn sign_in(
    req: HttpRequest,
    auth: web::Data<Auth>,
    body: web::Json<SessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (principal, cookie) = auth.sign_in(&req, &body.token).await?;
    Ok(HttpResponse::Ok().cookie(cookie).json(principal.info()))
}

/// Signs out: ends the session on every server and deletes the cookie.
#[utoipa::path(delete, path = "/session", tag = "session", responses(
    (status = 204, description = "Signed out (or was not signed in)"),
    (status = 403, description = "Sent from another site's page", body = api_types::ApiError)))]
pub async fn sign_out(req: HttpRequest, auth: web::Data<Auth>) -> Result<HttpResponse, ApiError> {
    let removal = auth.sign_out(&req).await?;
    Ok(HttpResponse::NoContent().cookie(removal).finish())
}

/// JSON body errors of `POST /session` as the API's 400 — without the
/// parser's words, which may quote the body (a token).
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(4096).error_handler(|err, _| {
        use actix_web::error::JsonPayloadError;
        let why = match err {
            JsonPayloadError::ContentType => "send it as Content-Type: application/json",
            JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => "it is too large",
            _ => "it is not that JSON object",
        };
        ApiError::BadRequest {
            code: "invalid_body",
            message: format!("the body must be {{\"token\": \"…\"}}: {why}"),
        }
        .into()
    })
}

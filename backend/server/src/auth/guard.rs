//! Authenticating requests: the middleware every request passes, and the
//! sign-in and sign-out the `/session` handlers call.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpRequest};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use super::client::client_address;
use super::session::{self, Claims, SessionError, SessionKey};
use super::site::{Sender, Site};
use super::store::{Snapshot, TokenStore};
use super::{limit::Failures, Principal, Role, Via};
use crate::endpoints::{self as policy, Access};
use crate::error::ApiError;
use store::entities::api_token;

/// How often a token's `last_used_at` is written at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Longest credential looked at (a token is 68 characters).
const MAX_CREDENTIAL: usize = 512;

/// The access-control settings of `serve`.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Serve anonymously (no token exists) on a non-loopback address.
    pub allow_anonymous: bool,
    /// How long a dashboard session lasts.
    pub session_ttl: Duration,
    /// Failed attempts allowed per client address and minute.
    pub failures_per_minute: NonZeroU32,
    /// How often the tokens are read again (a revocation takes effect within it).
    pub recheck: Duration,
    /// Reverse proxies whose `X-Forwarded-For` says who the client is. Empty:
    /// the header is ignored (anyone could write it) and the client is the
    /// TCP peer, so behind a proxy every client would share its limit.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

/// How long a dashboard session lasts by default, in hours (`serve --session-hours`).
pub const DEFAULT_SESSION_HOURS: u64 = 12;

/// Failed attempts allowed per client address and minute by default
/// (`serve --auth-failures-per-minute`).
pub const DEFAULT_FAILURES_PER_MINUTE: NonZeroU32 = match NonZeroU32::new(20) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            allow_anonymous: false,
            session_ttl: Duration::from_secs(DEFAULT_SESSION_HOURS * 3600),
            failures_per_minute: DEFAULT_FAILURES_PER_MINUTE,
            recheck: Duration::from_secs(1),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Why the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "no API token exists and {bind} is not a loopback address: anyone who can reach it would read \
         every report and upload data. Create a token first (`backend token create --name NAME --role admin`), \
         or pass --allow-anonymous to serve openly on purpose"
    )]
    AnonymousOnPublicAddress { bind: String },
    #[error("cannot read the API tokens: {0}")]
    Database(#[from] DbErr),
}

impl StartError {
    /// Whether waiting for the database may help (it could not be reached),
    /// as opposed to a refusal that stands.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, StartError::Database(e) if store::db::is_unreachable(e))
    }
}

/// Access control as the server applies it (shared by its workers).
pub struct Auth {
    db: DatabaseConnection,
    store: TokenStore,
    /// Read (or created) on first use: the server starts without its database.
    key: tokio::sync::OnceCell<SessionKey>,
    /// Open mode may serve anonymous callers here (a loopback address, or
    /// `--allow-anonymous`).
    open_allowed: bool,
    /// The address served, for the refusal's message.
    bind: String,
    failures: Failures,
    settings: AuthSettings,
    /// The server's own origin and proxies: who sent a request.
    site: Site,
    touched: Mutex<HashMap<i64, Instant>>,
}

impl Auth {
    /// Access control for a server listening on `bind` (`loopback`: every
    /// address it resolves to is a loopback one). Reads nothing yet: see
    /// [`Auth::check_open_mode`].
    pub fn new(db: DatabaseConnection, settings: AuthSettings, bind: &str, loopback: bool, site: Site) -> Self {
        Self {
            store: TokenStore::new(db.clone(), settings.recheck),
            db,
            key: tokio::sync::OnceCell::new(),
            open_allowed: loopback || settings.allow_anonymous,
            bind: bind.to_owned(),
            failures: Failures::per_minute(settings.failures_per_minute),
            settings,
            site,
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses open mode (no token exists) where it is not allowed, and warns
    /// where it is; reads the session key (creating it once). Run when the
    /// database is first reached, before any request is served.
    pub async fn check_open_mode(&self) -> Result<(), StartError> {
        self.key().await.map_err(StartError::Database)?;
        if self.store.snapshot().await?.open_mode() {
            if !self.open_allowed {
                return Err(StartError::AnonymousOnPublicAddress {
                    bind: self.bind.clone(),
                });
            }
            tracing::warn!(
                "no API token exists: the API is open to anyone who can reach {} (open mode). \
                 Create one with `backend token create --name NAME --role admin` to require sign-in",
                self.bind
            );
        }
        Ok(())
    }

    async fn key(&self) -> Result<&SessionKey, DbErr> {
        self.key.get_or_try_init(|| SessionKey::load_or_create(&self.db)).await
    }

    /// The caller of `req`, allowed to do what needs `need`.
    pub async fn authorize(&self, req: &HttpRequest, need: Role) -> Result<Principal, ApiError> {
        let principal = match self.identify(req).await? {
            Some(p) => p,
            None => {
                return Err(ApiError::Unauthorized {
                    message: "sign in: send `Authorization: Bearer <token>` (see `backend token create`)".to_owned(),
                    invalid_token: false,
                })
            }
        };
        if principal.role < need {
            return Err(ApiError::Forbidden(format!(
                "this needs the {need} role; {} is a {}",
                principal.name, principal.role
            )));
        }
        Ok(principal)
    }

    /// Who sent `req`: its bearer token, else its session cookie, else
    /// anonymous in open mode; `None`: nobody (no credentials, tokens exist).
    /// Wrong credentials are an error, counted against the client's address.
    pub async fn identify(&self, req: &HttpRequest) -> Result<Option<Principal>, ApiError> {
        let bearer = req.headers().get(header::AUTHORIZATION);
        // Parsing the cookies stores them in the request: only when sent.
        let cookie = match req.headers().contains_key(header::COOKIE) {
            true => req.cookie(session::COOKIE),
            false => None,
        };
        let snapshot = self.snapshot().await?;
        if bearer.is_none() {
            // Open mode (where allowed: not after every token row was deleted
            // on a public address) serves anyone without a token. No session
            // can be valid then (no token to sign in with): a cookie left by
            // another server of this host is ignored, not an error the browser
            // cannot get out of.
            if snapshot.open_mode() && self.open_allowed {
                // Open mode trusts the network position, which every page the
                // user's browser opens shares: another site's page must not
                // change anything (no Origin at all: a client that is not a
                // browser, such as curl).
                if !is_safe(req.method()) && self.site.sender(req) == Sender::OtherSite {
                    return Err(ApiError::Forbidden(
                        "cross-site request refused: with no API token (open mode) a change must come from the \
                         dashboard's own origin, or from a client that is not a browser"
                            .to_owned(),
                    ));
                }
                return Ok(Some(Principal::anonymous()));
            }
            if cookie.is_none() {
                return Ok(None);
            }
        }
        let ip = self.client(req);
        if let Some(wait) = self.failures.blocked(ip) {
            return Err(too_many(wait));
        }
        let principal = match (bearer, cookie) {
            (Some(value), _) => {
                let Some(token) = bearer_token(value) else {
                    return Err(self.failed(ip, "the Authorization header must be `Bearer <token>`"));
                };
                let Some(entry) = snapshot.by_token(token) else {
                    return Err(self.failed(ip, "invalid or revoked token"));
                };
                self.touch(entry.id);
                Principal {
                    name: entry.name.clone(),
                    role: entry.role,
                    via: Via::Token,
                }
            }
            (None, Some(cookie)) => {
                let claims = self.session(&snapshot, cookie.value(), ip).await?;
                let Some(entry) = snapshot.active(claims.token_id) else {
                    return Err(signed_out("the token of this session was revoked: sign in again"));
                };
                // The cookie is ambient: only a page of our own may use it to change things.
                if !is_safe(req.method()) && self.site.sender(req) != Sender::SameOrigin {
                    return Err(ApiError::Forbidden(
                        "cross-site request refused: a change made with the session cookie must come from \
                         the dashboard's own origin"
                            .to_owned(),
                    ));
                }
                self.touch(entry.id);
                Principal {
                    name: entry.name.clone(),
                    role: entry.role,
                    via: Via::Session {
                        id: claims.id,
                        expires_at: claims.expires_at,
                    },
                }
            }
            (None, None) => return Ok(None),
        };
        Ok(Some(principal))
    }

    /// `POST /session`: exchanges `token` for a session cookie.
    pub async fn sign_in(
        &self,
        req: &HttpRequest,
        token: &str,
    ) -> Result<(Principal, actix_web::cookie::Cookie<'static>), ApiError> {
        let ip = self.client(req);
        if let Some(wait) = self.failures.blocked(ip) {
            return Err(too_many(wait));
        }
        // A page of another site must not sign the browser in (login CSRF).
        if self.site.sender(req) == Sender::OtherSite {
            return Err(ApiError::Forbidden("cross-site sign-in refused".to_owned()));
        }
        let snapshot = self.snapshot().await?;
        let token = token.trim();
        let Some(entry) = snapshot.by_token(token).filter(|_| token.len() <= MAX_CREDENTIAL) else {
            return Err(self.failed(ip, "invalid or revoked token"));
        };
        let issued = self
            .key()
            .await?
            .issue(entry.id, self.settings.session_ttl)
            .map_err(|e| ApiError::Internal(DbErr::Custom(format!("random generator: {e}"))))?;
        self.touch(entry.id);
        tracing::info!(token = %entry.name, role = %entry.role, "signed in");
        let cookie = session::cookie(issued.value, &issued.claims, self.site.is_https(req));
        let principal = Principal {
            name: entry.name.clone(),
            role: entry.role,
            via: Via::Session {
                id: issued.claims.id,
                expires_at: issued.claims.expires_at,
            },
        };
        Ok((principal, cookie))
    }

    /// `DELETE /session`: ends the request's session (if it has a valid one)
    /// everywhere, and returns the cookie that deletes it from the browser.
    pub async fn sign_out(&self, req: &HttpRequest) -> Result<actix_web::cookie::Cookie<'static>, ApiError> {
        if let Some(cookie) = req.cookie(session::COOKIE) {
            if let Ok(claims) = self.key().await?.verify(cookie.value()) {
                if self.site.sender(req) != Sender::SameOrigin {
                    return Err(ApiError::Forbidden("cross-site sign-out refused".to_owned()));
                }
                session::revoke(&self.db, &claims).await?;
                self.store.invalidate().await;
                tracing::info!("signed out");
            }
        }
        Ok(session::removal(self.site.is_https(req)))
    }

    async fn snapshot(&self) -> Result<std::sync::Arc<Snapshot>, ApiError> {
        self.store.snapshot().await.map_err(ApiError::Unavailable)
    }

    async fn session(&self, snapshot: &Snapshot, value: &str, ip: IpAddr) -> Result<Claims, ApiError> {
        match self.key().await?.verify(value) {
            Ok(claims) if snapshot.session_revoked(&claims.id) => Err(signed_out("signed out: sign in again")),
            Ok(claims) => Ok(claims),
            Err(SessionError::Expired) => Err(signed_out("the session expired: sign in again")),
            Err(SessionError::Invalid) => Err(self.failed(ip, "invalid session cookie: sign in again")),
        }
    }

    /// A failed attempt: 401, or 429 once the address is over its limit.
    fn failed(&self, ip: IpAddr, message: &str) -> ApiError {
        match self.failures.failed(ip) {
            Some(wait) => too_many(wait),
            None => ApiError::Unauthorized {
                message: message.to_owned(),
                invalid_token: true,
            },
        }
    }

    /// The client's address, as [`client_address`] finds it (unspecified
    /// when the peer is unknown, e.g. in tests).
    fn client(&self, req: &HttpRequest) -> IpAddr {
        let Some(peer) = req.peer_addr() else {
            return IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
        };
        let forwarded = req.headers().get_all("x-forwarded-for").map(|v| v.as_bytes());
        client_address(peer.ip(), forwarded, self.site.trusted_proxies())
    }

    /// Records that token `id` was used (at most once per [`TOUCH_EVERY`],
    /// in the background: a request never waits for it).
    fn touch(&self, id: i64) {
        let due = match self.touched.lock() {
            Ok(mut touched) => {
                let due = touched.get(&id).is_none_or(|t| t.elapsed() >= TOUCH_EVERY);
                if due {
                    touched.insert(id, Instant::now());
                }
                due
            }
            Err(_) => false,
        };
        if !due {
            return;
        }
        let db = self.db.clone();
        actix_web::rt::spawn(async move {
            let updated = api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, Expr::value(Utc::now().naive_utc()))
                .filter(api_token::Column::Id.eq(id))
                .exec(&db)
                .await;
            if let Err(e) = updated {
                tracing::debug!(error = %e, "could not record when a token was last used");
            }
        });
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme in
/// any case); `None` for any other form, or one too long to be ours.
fn bearer_token(value: &header::HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .filter(|v| v.len() <= MAX_CREDENTIAL)
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

fn signed_out(message: &str) -> ApiError {
    ApiError::Unauthorized {
        message: message.to_owned(),
        invalid_token: true,
    }
}

fn too_many(wait: Duration) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_secs: wait.as_secs_f64().ceil() as u64,
    }
}

fn is_safe(method: &Method) -> bool {
    [Method::GET, Method::HEAD, Method::OPTIONS].contains(method)
}

/// The middleware: lets public requests through, authenticates the others
/// against [`policy::access`] and puts the [`Principal`] in the request.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Access::Role(need) = policy::access(req.method(), req.path()) else {
        return next.call(req).await;
    };
    let Some(auth) = req.app_data::<web::Data<Auth>>().cloned() else {
        return Ok(req.error_response(ApiError::Internal(DbErr::Custom(
            "access control is not set up".to_owned(),
        ))));
    };
    match auth.authorize(req.request(), need).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.call(req).await
        }
        Err(e) => Ok(req.error_response(e)),
    }
}

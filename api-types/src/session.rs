//! `/session`: who is calling, and the dashboard's sign-in.

use serde::{Deserialize, Serialize};

/// `POST /session`: the token to exchange for a session cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionRequest {
    /// An API token, as printed by `backend token create`.
    pub token: String,
}

/// `GET /session`, `POST /session`: the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The token's name; `anonymous` in open mode (no token exists).
    pub name: String,
    /// `reader` (reports, quality, run history) or `admin` (also uploads).
    pub role: String,
    /// How the caller authenticated: `token` (bearer header), `session`
    /// (cookie) or `anonymous` (open mode).
    pub via: String,
    /// When the session ends (RFC 3339, UTC); absent for a token or anonymous.
    pub expires_at: Option<String>,
}

//! `/session`: who is calling, and the dashboard's sign-in.

use serde::{Deserialize, Serialize};

use crate::{Role, Timestamp, Via};

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
    pub role: Role,
    /// How the caller authenticated: `token` (bearer header), `session`
    /// (cookie) or `anonymous` (open mode).
    pub via: Via,
    /// When the session ends; absent for a token or anonymous.
    pub expires_at: Option<Timestamp>,
}

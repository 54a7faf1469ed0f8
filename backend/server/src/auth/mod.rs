//! Access control: API tokens with roles, signed session cookies for the
//! dashboard, and which endpoint needs which role.
//!
//! - the role each endpoint needs is in [`crate::endpoints::ENDPOINTS`];
//!   [`guard`] enforces it for every request.
//! - [`tokens`]: creating, listing and revoking tokens (`backend token …`);
//!   only a token's SHA-256 is stored, the token is printed once.
//! - [`store`]: the tokens and signed-out sessions, read from the database at
//!   most once per recheck interval (a revocation takes effect within it).
//! - [`session`]: session cookies, signed with a key kept in the database so
//!   that every server of one database accepts them.
//! - [`limit`]: failed attempts per client address.
//! - [`guard`]: the middleware that authenticates each request, and the
//!   sign-in that the `/session` handlers call.
//! - [`site`]: which host a request addressed (refused unless the server
//!   answers for it: DNS rebinding) and which page sent it (cross-site changes
//!   refused with the cookie and in open mode).
//!
//! With no token at all, the API is open ("open mode"): anonymous callers
//! have every right. The server allows that on a loopback address only,
//! unless `--allow-anonymous` says otherwise.

pub mod client;
pub mod guard;
pub mod limit;
pub mod session;
pub mod site;
pub mod store;
pub mod tokens;

pub use guard::{Auth, AuthSettings};

pub use domain::Role;

/// How a caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer <token>`.
    Token,
    /// The dashboard's session cookie.
    Session {
        id: String,
        expires_at: chrono::NaiveDateTime,
    },
    /// Open mode: no token exists.
    Anonymous,
}

/// The authenticated caller of a request (in the request's extensions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name, or `anonymous`.
    pub name: String,
    pub role: Role,
    pub via: Via,
}

impl Principal {
    pub fn anonymous() -> Self {
        Self {
            name: "anonymous".to_owned(),
            role: Role::Admin,
            via: Via::Anonymous,
        }
    }

    /// As recorded with an ingest run it asks for.
    pub fn requested_by(&self) -> String {
        match self.via {
            Via::Anonymous => "anonymous".to_owned(),
            _ => format!("token:{}", self.name),
        }
    }

    pub fn info(&self) -> api_types::SessionInfo {
        let (via, expires_at) = match &self.via {
            Via::Token => (api_types::Via::Token, None),
            Via::Session { expires_at, .. } => (
                api_types::Via::Session,
                Some(api_types::Timestamp::from_naive_utc(*expires_at)),
            ),
            Via::Anonymous => (api_types::Via::Anonymous, None),
        };
        api_types::SessionInfo {
            name: self.name.clone(),
            role: self.role,
            via,
            expires_at,
        }
    }
}

/// `n` random bytes from the operating system's generator.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)?;
    Ok(buf)
}

/// SHA-256 of `text`.
pub(crate) fn sha256(text: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).into()
}

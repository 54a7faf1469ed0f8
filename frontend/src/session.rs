//! Who uses the dashboard: the signed-in user (or open mode), the state of the
//! sign-in, and the version of the loaded data that every request follows.
//!
//! The session itself is the API's HttpOnly cookie: the dashboard never sees
//! it, nor keeps the token it was signed in with. It only learns from
//! `GET /session` who it is, and from any 401 that it no longer is.

use std::rc::Rc;

use api_types::{SessionInfo, Timestamp};
use yew::prelude::*;

use crate::api::FetchError;

/// What a user may do, and how the API knows them (the contract's words).
pub use api_types::{Role, Via};

/// The signed-in user (`GET /session`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub role: Role,
    pub via: Via,
    /// `None` for open mode and a token.
    pub expires_at: Option<Timestamp>,
}

impl From<SessionInfo> for User {
    fn from(info: SessionInfo) -> Self {
        Self {
            role: info.role,
            via: info.via,
            name: info.name,
            expires_at: info.expires_at,
        }
    }
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role >= Role::Admin
    }

    /// Open mode: there is nobody to sign out.
    pub fn open_mode(&self) -> bool {
        self.via == Via::Anonymous
    }
}

/// Where the sign-in stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    /// Asking `GET /session` (the first screen, briefly).
    Checking,
    /// Nobody signed in: the sign-in page, with why (the API's words) when the
    /// dashboard was signed out by an answer rather than by the user's choice.
    SignedOut {
        notice: Option<String>,
    },
    SignedIn(Rc<User>),
    /// `GET /session` failed otherwise (the server is down): an error with a retry.
    Unknown(FetchError),
}

/// Why an open-mode dashboard now shows the sign-in page.
pub const OPEN_MODE_ENDED: &str = "This server now has API tokens: sign in with one.";

/// The dashboard's session state: the sign-in, and the version of the data
/// (raised when an upload committed new data: every fetch runs again).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub sign_in: SignIn,
    pub data_version: u32,
    /// Raised by a retry of `GET /session`.
    pub check: u32,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            sign_in: SignIn::Checking,
            data_version: 0,
            check: 0,
        }
    }
}

/// What changes the session state.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionAction {
    /// `GET /session` answered.
    Checked(Result<SessionInfo, FetchError>),
    /// `POST /session` signed the user in.
    SignedIn(SessionInfo),
    /// The user signed out.
    SignedOut,
    /// A request answered 401: the session expired or its token was revoked.
    Unauthorized(String),
    /// Ask `GET /session` again.
    Recheck,
    /// An upload changed the data: fetch everything again.
    DataChanged,
}

impl Reducible for Session {
    type Action = SessionAction;

    fn reduce(self: Rc<Self>, action: SessionAction) -> Rc<Self> {
        let with = |sign_in: SignIn| Session {
            sign_in,
            ..(*self).clone()
        };
        Rc::new(match action {
            SessionAction::Checked(Ok(info)) | SessionAction::SignedIn(info) => {
                with(SignIn::SignedIn(Rc::new(info.into())))
            }
            // Said why only when the browser sent a session the API refused
            // (it expired, or was ended): nothing to explain on a first visit.
            SessionAction::Checked(Err(e)) if e.is_unauthorized() => with(SignIn::SignedOut {
                notice: e.credentials_refused.then(|| e.api_message().to_owned()),
            }),
            SessionAction::Checked(Err(e)) => with(SignIn::Unknown(e)),
            SessionAction::SignedOut => with(SignIn::SignedOut {
                notice: Some("You signed out.".to_owned()),
            }),
            // Only the first of the requests failing together says why; a 401
            // before sign-in (a request still on its way) changes nothing.
            SessionAction::Unauthorized(message) => match &self.sign_in {
                // The API's words are for API clients there ("send
                // `Authorization: Bearer`…"): the first token ended open mode.
                SignIn::SignedIn(user) if user.open_mode() => with(SignIn::SignedOut {
                    notice: Some(OPEN_MODE_ENDED.to_owned()),
                }),
                SignIn::SignedIn(_) => with(SignIn::SignedOut { notice: Some(message) }),
                _ => return self,
            },
            SessionAction::Recheck => Session {
                sign_in: SignIn::Checking,
                check: self.check.wrapping_add(1),
                ..(*self).clone()
            },
            SessionAction::DataChanged => Session {
                data_version: self.data_version.wrapping_add(1),
                ..(*self).clone()
            },
        })
    }
}

/// The session as the components see it (a context of the layout).
#[derive(Clone, PartialEq)]
pub struct SessionContext {
    pub state: Rc<Session>,
    pub dispatch: Callback<SessionAction>,
}

impl SessionContext {
    /// The signed-in user.
    pub fn user(&self) -> Option<Rc<User>> {
        match &self.state.sign_in {
            SignIn::SignedIn(u) => Some(u.clone()),
            _ => None,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user().is_some_and(|u| u.is_admin())
    }

    /// Reports a failed request: a 401 signs the dashboard out.
    pub fn failed(&self, e: &FetchError) {
        if e.is_unauthorized() {
            self.dispatch
                .emit(SessionAction::Unauthorized(e.api_message().to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(role: &str, via: &str) -> SessionInfo {
        SessionInfo {
            name: "ops".into(),
            role: role.parse().unwrap(),
            via: via.parse().unwrap(),
            expires_at: Some("2026-11-30T05:00:00Z".parse().unwrap()),
        }
    }

    fn unauthorized(message: &str) -> FetchError {
        FetchError::from_answer(
            "reports",
            401,
            "Unauthorized",
            Some(&format!(r#"{{"error":"unauthorized","message":"{message}"}}"#)),
        )
    }

    #[test]
    fn roles_and_open_mode() {
        let admin = User::from(info("admin", "session"));
        assert!(admin.is_admin() && !admin.open_mode());
        let reader = User::from(info("reader", "session"));
        assert!(!reader.is_admin());
        // A role this dashboard does not know is not a session at all.
        assert!(serde_json::from_str::<SessionInfo>(r#"{"name":"x","role":"superuser","via":"session"}"#).is_err());
        let open = User::from(info("admin", "anonymous"));
        assert!(open.open_mode() && open.is_admin());
        assert_eq!(Role::Reader.as_str(), "reader");
    }

    #[test]
    fn a_401_signs_out_with_the_api_s_reason_once() {
        let s = Rc::new(Session::default());
        let s = s.reduce(SessionAction::Checked(Ok(info("reader", "session"))));
        assert!(matches!(s.sign_in, SignIn::SignedIn(_)));
        let s = s.reduce(SessionAction::Unauthorized("the session expired: sign in again".into()));
        assert_eq!(
            s.sign_in,
            SignIn::SignedOut {
                notice: Some("the session expired: sign in again".into())
            }
        );
        // The other requests that failed with it do not replace the reason.
        let s = s.reduce(SessionAction::Unauthorized("something else".into()));
        assert_eq!(
            s.sign_in,
            SignIn::SignedOut {
                notice: Some("the session expired: sign in again".into())
            }
        );
    }

    #[test]
    fn the_first_check_tells_signed_out_from_unreachable() {
        let start = Rc::new(Session::default());
        let out = start
            .clone()
            .reduce(SessionAction::Checked(Err(unauthorized("sign in"))));
        assert_eq!(out.sign_in, SignIn::SignedOut { notice: None });
        // A cookie the API refused: the page says why.
        let expired = unauthorized("the session expired: sign in again")
            .with_challenge(Some(r#"Bearer realm="revenue-analytics", error="invalid_token""#));
        let out = start.clone().reduce(SessionAction::Checked(Err(expired)));
        assert_eq!(
            out.sign_in,
            SignIn::SignedOut {
                notice: Some("the session expired: sign in again".into())
            }
        );
        let down = FetchError::new("the sign-in", "network error: offline".into());
        let unknown = start.reduce(SessionAction::Checked(Err(down.clone())));
        assert_eq!(unknown.sign_in, SignIn::Unknown(down));
        let again = unknown.reduce(SessionAction::Recheck);
        assert_eq!((again.sign_in.clone(), again.check), (SignIn::Checking, 1));
    }

    #[test]
    fn open_mode_ends_with_the_first_token() {
        let s = Rc::new(Session::default()).reduce(SessionAction::Checked(Ok(info("admin", "anonymous"))));
        let s = s.reduce(SessionAction::Unauthorized(
            "sign in: send `Authorization: Bearer <token>`".into(),
        ));
        assert_eq!(
            s.sign_in,
            SignIn::SignedOut {
                notice: Some(OPEN_MODE_ENDED.into())
            }
        );
    }

    #[test]
    fn a_401_before_sign_in_changes_nothing() {
        let s = Rc::new(Session::default());
        let same = s.clone().reduce(SessionAction::Unauthorized("late".into()));
        assert!(Rc::ptr_eq(&s, &same));
    }

    #[test]
    fn new_data_raises_the_version_and_keeps_the_user() {
        let s = Rc::new(Session::default()).reduce(SessionAction::SignedIn(info("admin", "session")));
        let s = s.reduce(SessionAction::DataChanged);
        assert_eq!(s.data_version, 1);
        assert!(matches!(&s.sign_in, SignIn::SignedIn(u) if u.is_admin()));
        let s = s.reduce(SessionAction::SignedOut);
        assert_eq!(
            s.sign_in,
            SignIn::SignedOut {
                notice: Some("You signed out.".into())
            }
        );
    }
}

//! The dashboard's session cookie: `v1.<token id>.<session id>.<expiry>.<mac>`,
//! an HMAC-SHA256 over the rest with a key kept in the database. Signed, not
//! stored: a server answers a request without a query, any server of the same
//! database accepts the cookie, and a read-only replica could serve it.
//! Signing out records the session id until it would have expired; revoking
//! the token ends all its sessions.

use actix_web::cookie::{time, Cookie, SameSite};
use chrono::{NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use sha2::Sha256;

use store::entities::{api_session_revoked, api_signing_key};

/// The cookie's name.
pub const COOKIE: &str = "ra_session";

const VERSION: &str = "v1";

/// The key that signs session cookies.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

/// Why a cookie is not a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// Not made by a server of this database (or altered).
    Invalid,
    /// Made here, but its time is up.
    Expired,
}

/// What a valid cookie says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub token_id: i64,
    pub id: String,
    pub expires_at: NaiveDateTime,
}

/// A new session.
pub struct Issued {
    pub value: String,
    pub claims: Claims,
}

impl SessionKey {
    /// The database's key, created by the first server that needs one (an
    /// insert that loses a race to another server's leaves that one's key).
    pub async fn load_or_create(db: &DatabaseConnection) -> Result<Self, DbErr> {
        if let Some(key) = Self::load(db).await? {
            return Ok(key);
        }
        let bytes: [u8; 32] = super::random_bytes().map_err(|e| DbErr::Custom(format!("random generator: {e}")))?;
        let row = api_signing_key::ActiveModel {
            id: Set(1),
            key_hex: Set(hex::encode(bytes)),
            created_at: Set(Utc::now().naive_utc()),
        };
        let insert = api_signing_key::Entity::insert(row).on_conflict(
            sea_orm::sea_query::OnConflict::column(api_signing_key::Column::Id)
                .do_nothing()
                .to_owned(),
        );
        match insert.exec(db).await {
            Ok(_) | Err(DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e),
        }
        Self::load(db)
            .await?
            .ok_or_else(|| DbErr::Custom("the session signing key was not stored".to_owned()))
    }

    async fn load(db: &DatabaseConnection) -> Result<Option<Self>, DbErr> {
        let Some(row) = api_signing_key::Entity::find_by_id(1).one(db).await? else {
            return Ok(None);
        };
        let mut key = [0u8; 32];
        hex::decode_to_slice(row.key_hex.trim(), &mut key)
            .map_err(|_| DbErr::Custom("api_signing_key.key_hex is not 64 hex digits".to_owned()))?;
        Ok(Some(Self(key)))
    }

    fn mac(&self, payload: &str) -> Hmac<Sha256> {
        // HMAC takes keys of any length: new_from_slice cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(payload.as_bytes());
        mac
    }

    /// A session for token `token_id`, ending after `ttl`.
    pub fn issue(&self, token_id: i64, ttl: std::time::Duration) -> Result<Issued, getrandom::Error> {
        let id = hex::encode(super::random_bytes::<16>()?);
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(12));
        // Whole seconds: the cookie carries a Unix time.
        let expires = Utc::now().timestamp().saturating_add(ttl.num_seconds());
        let payload = format!("{VERSION}.{token_id}.{id}.{expires}");
        let mac = hex::encode(self.mac(&payload).finalize().into_bytes());
        Ok(Issued {
            value: format!("{payload}.{mac}"),
            claims: Claims {
                token_id,
                id,
                expires_at: chrono::DateTime::from_timestamp(expires, 0)
                    .unwrap_or_default()
                    .naive_utc(),
            },
        })
    }

    /// The claims of a cookie this key signed (the MAC compared in constant time).
    pub fn verify(&self, value: &str) -> Result<Claims, SessionError> {
        let (payload, mac) = value.rsplit_once('.').ok_or(SessionError::Invalid)?;
        let mac = hex::decode(mac).map_err(|_| SessionError::Invalid)?;
        self.mac(payload)
            .verify_slice(&mac)
            .map_err(|_| SessionError::Invalid)?;
        let mut parts = payload.split('.');
        let (Some(VERSION), Some(token_id), Some(id), Some(expires), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SessionError::Invalid);
        };
        let token_id = token_id.parse().map_err(|_| SessionError::Invalid)?;
        let expires: i64 = expires.parse().map_err(|_| SessionError::Invalid)?;
        if expires <= Utc::now().timestamp() {
            return Err(SessionError::Expired);
        }
        Ok(Claims {
            token_id,
            id: id.to_owned(),
            expires_at: chrono::DateTime::from_timestamp(expires, 0)
                .ok_or(SessionError::Invalid)?
                .naive_utc(),
        })
    }
}

/// The cookie carrying a session: HttpOnly (no script reads it), SameSite=Strict
/// (no other site's page sends it), Secure over HTTPS, expiring with the session.
pub fn cookie(value: String, claims: &Claims, secure: bool) -> Cookie<'static> {
    let seconds = (claims.expires_at - Utc::now().naive_utc()).num_seconds().max(0);
    Cookie::build(COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(time::Duration::seconds(seconds))
        .finish()
}

/// The header that deletes the session cookie.
pub fn removal(secure: bool) -> Cookie<'static> {
    let mut c = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    c.make_removal();
    c
}

/// Records a signed-out session until it would have expired (and forgets the
/// sessions already expired).
pub async fn revoke(db: &DatabaseConnection, claims: &Claims) -> Result<(), DbErr> {
    api_session_revoked::Entity::delete_many()
        .filter(api_session_revoked::Column::ExpiresAt.lte(Utc::now().naive_utc()))
        .exec(db)
        .await?;
    let row = api_session_revoked::ActiveModel {
        session_id: Set(claims.id.clone()),
        expires_at: Set(claims.expires_at),
    };
    let insert = api_session_revoked::Entity::insert(row).on_conflict(
        sea_orm::sea_query::OnConflict::column(api_session_revoked::Column::SessionId)
            .do_nothing()
            .to_owned(),
    );
    match insert.exec(db).await {
        Ok(_) | Err(DbErr::RecordNotInserted) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_cookies_verify_and_tampered_ones_do_not() {
        let key = SessionKey([7; 32]);
        let issued = key.issue(42, std::time::Duration::from_secs(3600)).unwrap();
        let claims = key.verify(&issued.value).unwrap();
        assert_eq!(claims, issued.claims);
        assert_eq!(claims.token_id, 42);
        // Another key, another token id, a longer life, garbage: all invalid.
        assert_eq!(SessionKey([8; 32]).verify(&issued.value), Err(SessionError::Invalid));
        let forged = issued.value.replacen("v1.42.", "v1.43.", 1);
        assert_eq!(key.verify(&forged), Err(SessionError::Invalid));
        let (payload, mac) = issued.value.rsplit_once('.').unwrap();
        let (head, _) = payload.rsplit_once('.').unwrap();
        assert_eq!(
            key.verify(&format!("{head}.99999999999.{mac}")),
            Err(SessionError::Invalid)
        );
        for bad in ["", ".", "v1", "v1.1.2.3", "v1.1.2.3.zz", "v1.1.2.3.4.5"] {
            assert_eq!(key.verify(bad), Err(SessionError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn expired_sessions_are_told_apart() {
        let key = SessionKey([7; 32]);
        let payload = format!("v1.1.abcd.{}", Utc::now().timestamp() - 1);
        let mac = hex::encode(key.mac(&payload).finalize().into_bytes());
        assert_eq!(key.verify(&format!("{payload}.{mac}")), Err(SessionError::Expired));
    }
}

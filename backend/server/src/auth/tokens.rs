//! API tokens: `backend token create | list | revoke`.
//!
//! A token is `rak_` and 64 hex digits (256 random bits from the operating
//! system). It is printed once; the database keeps its SHA-256 — enough to
//! recognise it, useless to anyone reading the table — and its last four
//! characters, to tell tokens apart in a list.

use std::fmt::Write;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use secrecy::{ExposeSecret, SecretString};

use super::Role;
use store::entities::api_token;

pub use domain::TOKEN_PREFIX as PREFIX;

/// Longest token name.
const MAX_NAME: usize = 64;

/// Why a token cannot be created or revoked.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid token name {0:?}: 1 to 64 letters, digits, '.', '-', '_' or '@'")]
    InvalidName(String),
    #[error("a token named {0:?} exists: revoke it first, or choose another name")]
    NameTaken(String),
    #[error("no active token named {0:?} (see `backend token list`)")]
    NoSuchToken(String),
    #[error("the operating system's random generator failed: {0}")]
    Random(getrandom::Error),
    #[error("database error: {0}")]
    Database(#[from] DbErr),
}

/// A token just created: the only time the token itself exists in the clear.
pub struct NewToken {
    pub name: String,
    pub role: Role,
    pub token: SecretString,
}

fn check_name(name: &str) -> Result<(), TokenError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@'));
    match ok {
        true => Ok(()),
        false => Err(TokenError::InvalidName(name.to_owned())),
    }
}

/// Creates a token named `name` with `role`.
pub async fn create(db: &DatabaseConnection, name: &str, role: Role) -> Result<NewToken, TokenError> {
    check_name(name)?;
    let active = api_token::Entity::find()
        .filter(api_token::Column::Name.eq(name))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?;
    if active.is_some() {
        return Err(TokenError::NameTaken(name.to_owned()));
    }
    let secret: [u8; 32] = super::random_bytes().map_err(TokenError::Random)?;
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let inserted = api_token::ActiveModel {
        name: Set(name.to_owned()),
        role: Set(role.as_str().to_owned()),
        token_hash: Set(hex::encode(super::sha256(&token))),
        hint: Set(token[token.len() - 4..].to_owned()),
        created_at: Set(Utc::now().naive_utc()),
        ..Default::default()
    }
    .insert(db)
    .await;
    match inserted {
        Ok(_) => Ok(NewToken {
            name: name.to_owned(),
            role,
            token: SecretString::from(token),
        }),
        // Created meanwhile by another process (the unique index on active names).
        Err(e) if is_unique_violation(&e) => Err(TokenError::NameTaken(name.to_owned())),
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
}

/// Every token, revoked ones included, oldest first.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .order_by_asc(api_token::Column::Id)
        .all(db)
        .await
}

/// Revokes the active token named `name`: it stops working, and so do the
/// sessions opened with it, within the servers' recheck interval.
pub async fn revoke(db: &DatabaseConnection, name: &str) -> Result<(), TokenError> {
    let active = api_token::Entity::find()
        .filter(api_token::Column::Name.eq(name))
        .filter(api_token::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| TokenError::NoSuchToken(name.to_owned()))?;
    let mut revoked: api_token::ActiveModel = active.into();
    revoked.revoked_at = Set(Some(Utc::now().naive_utc()));
    revoked.update(db).await?;
    Ok(())
}

/// The text `backend token create` prints.
pub fn render_new(new: &NewToken) -> String {
    format!(
        "created the {role} token {name:?}. It is shown only this once; store it now:\n\n{token}\n\n\
         Use it as `Authorization: Bearer <token>`, or paste it into the dashboard's sign-in.\n",
        role = new.role,
        name = new.name,
        token = new.token.expose_secret()
    )
}

/// The text `backend token list` prints (never a token).
pub fn render_list(tokens: &[api_token::Model]) -> String {
    let mut out = String::new();
    if tokens.is_empty() {
        out.push_str(
            "no tokens: the API is open to anyone who can reach it (allowed on a loopback address only).\n\
             Create one with `backend token create --name NAME --role reader|admin`.\n",
        );
        return out;
    }
    let time = |t: Option<chrono::NaiveDateTime>| t.map_or("-".to_owned(), |t| t.format("%Y-%m-%d %H:%M").to_string());
    let _ = writeln!(
        out,
        "{:<24} {:<7} {:<10} {:<17} {:<17} revoked",
        "name", "role", "ends with", "created (UTC)", "last used"
    );
    for t in tokens {
        let _ = writeln!(
            out,
            "{:<24} {:<7} {:<10} {:<17} {:<17} {}",
            t.name,
            t.role,
            format!("…{}", t.hint),
            time(Some(t.created_at)),
            time(t.last_used_at),
            time(t.revoked_at)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["ci", "alice@example", "grafana-prod_2", "a.b"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        let long = "x".repeat(65);
        for bad in ["", "two words", "tab\there", "ünï", "a/b", long.as_str()] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}

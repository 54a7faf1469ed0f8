//! What a failed connection says: the server it tried (never the password)
//! and why, in words a user can act on. Shared by the migration CLI and the
//! store's `connect`, so every command reports the same way.
//!
//! TLS follows libpq (the crates use sqlx's `native-tls`, i.e. OpenSSL, as
//! libpq does): `sslmode=prefer` (the default) and `require` encrypt without
//! verifying the certificate, `verify-ca` and `verify-full` verify it
//! against `sslrootcert` or the system's roots.

use sea_orm_migration::sea_orm::{sqlx, DbErr, RuntimeErr};

/// The server a URL names, as `host:port` (`host` alone when the URL has no
/// port), or the file of a SQLite URL. Never the user or the password.
pub fn target(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let file = rest.split('?').next().unwrap_or_default();
        return format!("the SQLite file {}", file.trim_start_matches("//"));
    }
    // scheme://[user[:password]@]host[:port][/db][?query]
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if host_port.is_empty() {
        // libpq's default: the local socket (sqlx: localhost:5432).
        return "localhost".to_owned();
    }
    host_port.to_owned()
}

/// Why a connection failed, for a person: the driver's cause without the
/// wrappers SeaORM and sqlx add ("Connection Error: error communicating
/// with database: …"), with a hint where one helps.
pub fn cause(e: &DbErr) -> String {
    let sqlx_error = match e {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        DbErr::ConnectionAcquire(e) => return e.to_string(),
        other => return other.to_string(),
    };
    match sqlx_error {
        sqlx::Error::Tls(tls) => tls_cause(&tls.to_string()),
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "no connection within the connect timeout (is the server running, and does it \
             accept connections on that address?)"
            .to_owned(),
        sqlx::Error::Configuration(c) => format!("the URL is not usable: {c}"),
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// OpenSSL says "error:0A000086:SSL routines:…:certificate verify failed:
/// ../ssl/statem/statem_clnt.c:1889: (self-signed certificate)": the reason
/// in parentheses is what the user needs.
fn tls_cause(text: &str) -> String {
    let reason = text
        .contains("certificate verify failed")
        .then(|| text.rsplit_once(" ("))
        .flatten()
        .map(|(_, reason)| reason.trim_end_matches(')'));
    match reason {
        Some(reason) => format!(
            "the server's TLS certificate failed verification: {reason} (sslmode=verify-ca and \
             verify-full check it against sslrootcert or the system's trusted roots; prefer \
             and require encrypt without verifying it, as psql does)"
        ),
        None => format!("TLS failed: {text}"),
    }
}

/// `password` (at least 3 characters, as `store::settings::scrub`) replaced
/// by `***` in `text`: a driver's message could quote the URL.
fn without_password(text: String, url: &str) -> String {
    let Some((userinfo, _)) = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split(['/', '?']).next())
        .and_then(|authority| authority.rsplit_once('@'))
    else {
        return text;
    };
    match userinfo.split_once(':') {
        Some((_, password)) if password.len() >= 3 => text.replace(password, "***"),
        _ => text,
    }
}

/// One connection to a PostgreSQL URL, closed again, before a pool is opened:
/// a pool retries a refused connection until its timeout (30 s by default)
/// and then reports only that it timed out, where one attempt fails at once
/// with the cause ("Connection refused", a TLS or authentication error).
/// Other URLs are left to the pool.
pub async fn try_once(url: &str) -> Result<(), DbErr> {
    use sqlx::Connection;
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Ok(());
    }
    let connection = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e)))?;
    // The attempt has said what it had to; a failed goodbye changes nothing.
    let _ = connection.close().await;
    Ok(())
}

/// "cannot connect to HOST:PORT: CAUSE", never holding the password.
pub fn describe(url: &str, e: &DbErr) -> String {
    without_password(format!("cannot connect to {}: {}", target(url), cause(e)), url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_is_host_and_port_without_credentials() {
        assert_eq!(
            target("postgres://u:secret@db.example:5440/app?sslmode=require"),
            "db.example:5440"
        );
        assert_eq!(target("postgresql://localhost/app"), "localhost");
        assert_eq!(target("postgres://u@[::1]:5432/app"), "[::1]:5432");
        assert_eq!(target("postgres:///app"), "localhost");
        assert_eq!(
            target("sqlite://data/revenue.db?mode=rwc"),
            "the SQLite file data/revenue.db"
        );
    }

    #[test]
    fn a_password_quoted_by_the_driver_is_masked() {
        let url = "postgres://u:hunter22@h:1/d";
        let e = DbErr::Conn(RuntimeErr::Internal("bad hunter22 here".to_owned()));
        let text = describe(url, &e);
        assert_eq!(text, "cannot connect to h:1: Connection Error: bad *** here");
    }

    #[test]
    fn a_failed_verification_gives_openssls_reason() {
        let text = "error:0A000086:SSL routines:tls_post_process_server_certificate:certificate \
                    verify failed:../ssl/statem/statem_clnt.c:1889: (hostname mismatch)";
        let cause = tls_cause(text);
        assert!(
            cause.starts_with("the server's TLS certificate failed verification: hostname mismatch ("),
            "{cause}"
        );
        assert_eq!(tls_cause("handshake failure"), "TLS failed: handshake failure");
    }

    #[test]
    fn a_timeout_says_what_to_check() {
        let e = DbErr::Conn(RuntimeErr::SqlxError(sqlx::Error::PoolTimedOut));
        assert!(describe("postgres://h:5/d", &e).starts_with("cannot connect to h:5: no connection within"));
    }
}

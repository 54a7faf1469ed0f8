//! The commands leave OpenSSL's trusted roots unread only where nothing is
//! verified (`store::db::trust_roots`): `sslmode=require` still encrypts,
//! and `verify-ca` still verifies against the roots the environment names.

use std::process::Command;

use crate::helpers::{postgres_admin_url, skip, Engine, TestDb};

/// `backend history` against `url`, with `roots` as OpenSSL's only trusted
/// roots (and an empty folder of them): whether it succeeded, and what it
/// printed.
fn history(url: &str, roots: &str) -> (bool, String) {
    let no_folder = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["history", "--limit", "1"])
        .env("DATABASE_URL", url)
        .env("SSL_CERT_FILE", roots)
        .env("SSL_CERT_DIR", no_folder.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), printed)
}

#[tokio::test]
async fn roots_are_read_only_where_a_certificate_is_verified() {
    use secrecy::ExposeSecret;
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    let text = |sql: &'static str| async {
        let rows = t.rows(sql).await;
        rows[0].try_get::<String>("", "v").unwrap()
    };
    if text("SELECT current_setting('ssl') AS v").await != "on" {
        skip("the test server does not serve TLS (ssl = off)");
        return;
    }
    // The server's own certificate, as the only trusted root: verify-ca
    // passes only if the command read it.
    let cert = text("SELECT current_setting('ssl_cert_file') AS v").await;
    if !(cert.starts_with('/') && std::fs::read(&cert).is_ok()) {
        skip("the test server's certificate is not readable here");
        return;
    }
    let url = t.settings.url().expose_secret().to_owned();
    let with = |mode: &str| format!("{url}{}sslmode={mode}", if url.contains('?') { '&' } else { '?' });

    let (ok, printed) = history(&with("verify-ca"), &cert);
    assert!(ok, "verify-ca with the server's certificate as the root: {printed}");
    let (ok, printed) = history(&with("require"), &cert);
    assert!(ok, "require (encrypted, nothing verified): {printed}");
    // Without the server's certificate among the roots, verify-ca fails:
    // the roots are the environment's, not an empty set by mistake, and
    // not skipped.
    let (ok, printed) = history(&with("verify-ca"), "/dev/null");
    assert!(!ok && printed.contains("failed verification"), "{printed}");
}

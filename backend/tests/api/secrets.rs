//! The database password never reaches logs or error text.

use std::process::Command;

use crate::helpers::{postgres_admin_url, Engine, TestDb};

const PASSWORD: &str = "Sup3r-S3cret-pw";

fn run_backend(args: &[&str], url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn password_not_in_connection_errors() {
    // Nothing listens on port 1: the connection fails and the error is printed.
    let output = run_backend(
        &["ingest", "--input", "input"],
        &format!("postgres://app:{PASSWORD}@127.0.0.1:1/revenue"),
    );
    assert!(output.contains("cannot connect"), "{output}");
    assert!(output.contains("postgres://app:***@127.0.0.1:1/revenue"), "{output}");
    assert!(!output.contains(PASSWORD), "password leaked: {output}");
}

#[tokio::test]
async fn password_not_in_logs_of_a_successful_run() {
    use secrecy::ExposeSecret;
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    // Trust authentication ignores the password, so the run succeeds with it in the URL.
    let mut url = url::Url::parse(t.settings.url().expose_secret()).unwrap();
    url.set_password(Some(PASSWORD)).unwrap();
    let output = run_backend(
        &["ingest", "--input", concat!(env!("CARGO_MANIFEST_DIR"), "/../input")],
        url.as_str(),
    );
    assert!(output.contains("ingest succeeded"), "{output}");
    assert!(output.contains(":***@"), "{output}");
    assert!(!output.contains(PASSWORD), "password leaked: {output}");
}

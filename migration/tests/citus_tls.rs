//! The migration CLI connects to a Citus coordinator with the URL psql takes.
//!
//! A coordinator serves TLS with its own self-signed X.509 version 1
//! certificate (CN = citus-auto-ssl). libpq encrypts without verifying it
//! under `sslmode=prefer` (the default) and `require`; these tests hold the
//! CLI to the same, and to verifying under `verify-ca`/`verify-full`. A
//! connection that fails is a message naming the server and the cause,
//! never a panic, never the password.
//!
//! Each test starts its own cluster with `scripts/citus.sh up` (a folder of
//! its own, free ports; stopped and removed when the test ends). Without an
//! installed Citus (`scripts/citus.sh build`) the tests skip and are counted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sea_orm_migration::sea_orm::{ConnectionTrait, Database, Statement};

const CITUS_SO: &str = "/usr/lib/postgresql/15/lib/citus.so";
/// In the URLs the tests pass; trust authentication never asks for it, so
/// only a message that quotes the URL could show it.
const PASSWORD: &str = "pw-never-shown";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/citus.sh")
}

/// As `backend/tests/api/helpers.rs`: said on stderr and recorded in
/// `TEST_SKIP_LOG`, which `scripts/test.sh` counts (and CI refuses).
fn skip(reason: &str) {
    let test = std::thread::current().name().unwrap_or("unknown test").to_owned();
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("TEST_SKIP_LOG").filter(|v| !v.is_empty()) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        file.write_all(format!("{test}\t{reason}\n").as_bytes()).unwrap();
    }
}

/// A coordinator and two workers, stopped and removed on drop.
struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn up() -> Option<Cluster> {
        if !Path::new(CITUS_SO).is_file() {
            skip("Citus is not installed (scripts/citus.sh build)");
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = PathBuf::from(format!("/tmp/citus-test-{}-{nanos}", std::process::id()));
        let mut cluster = Cluster { dir, port: 0 };
        let out = Command::new(script())
            .arg("up")
            .env("CITUS_DIR", &cluster.dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "citus.sh up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // postgres://postgres@127.0.0.1:PORT/postgres
        let port = stdout.trim().rsplit(':').next().unwrap().split('/').next().unwrap();
        cluster.port = port.parse().unwrap();
        Some(cluster)
    }

    /// The URL a user would give psql, with a password and `query`.
    fn url(&self, query: &str) -> String {
        format!("postgres://postgres:{PASSWORD}@localhost:{}/postgres{query}", self.port)
    }

    fn coordinator_dir(&self) -> PathBuf {
        self.dir.join("coordinator")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = Command::new(script()).arg("down").env("CITUS_DIR", &self.dir).output();
        if !out.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("citus.sh down failed for {}: {out:?}", self.dir.display());
        }
    }
}

fn migration(url: &str, command: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migration"))
        .arg(command)
        .env("DATABASE_URL", url)
        .env_remove("DATABASE_URL_FILE")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Exit status 1 with one message naming the server and `cause`: no panic,
/// no password.
fn assert_refused(out: &Output, port: u16, cause: &str) {
    let all = text(out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: cannot connect to localhost:{port}: ")),
        "{all}"
    );
    assert!(stderr.contains(cause), "{all}");
    assert!(!all.contains("panicked") && !all.contains("RUST_BACKTRACE"), "{all}");
    assert!(!all.contains(PASSWORD), "{all}");
}

/// Whether a connection made with `url` (by the same driver and TLS stack as
/// the CLI's) is encrypted, as the server sees it.
async fn encrypted(url: &str) -> bool {
    let db = Database::connect(url).await.unwrap();
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    let ssl: bool = row.try_get_by_index(0).unwrap();
    db.close().await.unwrap();
    ssl
}

#[tokio::test]
async fn prefer_and_require_encrypt_without_verifying_the_citus_certificate() {
    let Some(cluster) = Cluster::up() else { return };
    let crt = cluster.coordinator_dir().join("server.crt");
    let version = Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&crt)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&version.stdout).contains("Version: 1 (0x0)"),
        "the coordinator's certificate is no longer X.509 v1: this test proves nothing"
    );

    // The default (prefer), as psql takes it: the migrations run.
    let up = migration(&cluster.url(""), "up");
    assert!(up.status.success(), "{}", text(&up));
    let status = migration(&cluster.url("?sslmode=require"), "status");
    assert!(status.status.success(), "{}", text(&status));
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(
        stdout.contains("m20261128_000001_star_schema'... Applied"),
        "{}",
        text(&status)
    );
    // `status` says the mode the migrations chose (migration 9 distributed).
    let mode = "Mode: Citus (Citus 13.2.2, 2 workers): distributed by customer_id: \
                agg_customer_spending, dim_user, fct_transaction;";
    assert!(stdout.contains(mode), "{}", text(&status));

    // Encrypted, not fallen back to plain text; disable is the control.
    assert!(encrypted(&cluster.url("")).await, "prefer did not encrypt");
    assert!(
        encrypted(&cluster.url("?sslmode=require")).await,
        "require did not encrypt"
    );
    assert!(!encrypted(&cluster.url("?sslmode=disable")).await, "disable encrypted");

    // verify-* verify: Citus' certificate is self-signed (and its validity
    // ends when it begins), for another name than localhost.
    let out = migration(&cluster.url("?sslmode=verify-ca"), "status");
    assert_refused(
        &out,
        cluster.port,
        "certificate failed verification: self-signed certificate",
    );
    let query = format!("?sslmode=verify-full&sslrootcert={}", crt.display());
    let out = migration(&cluster.url(&query), "status");
    assert_refused(&out, cluster.port, "certificate failed verification");
}

/// Writes a self-signed X.509 v1 certificate for CN=localhost (as Citus'
/// own, but valid for two days) and its key into `dir`.
fn v1_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (key, crt, csr) = (dir.join("server.key"), dir.join("server.crt"), dir.join("server.csr"));
    let ok = |mut c: Command| assert!(c.status().unwrap().success(), "{c:?}");
    let mut req = Command::new("openssl");
    req.args([
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
    ])
    .arg(&key)
    .arg("-out")
    .arg(&csr);
    ok(req);
    let mut sign = Command::new("openssl");
    sign.args(["x509", "-req", "-days", "2", "-in"])
        .arg(&csr)
        .arg("-signkey")
        .arg(&key)
        .arg("-out")
        .arg(&crt);
    ok(sign);
    (crt, key)
}

#[tokio::test]
async fn verify_full_accepts_a_v1_certificate_it_trusts() {
    let Some(cluster) = Cluster::up() else { return };
    let own = tempfile::tempdir().unwrap();
    let (crt, key) = v1_certificate(own.path());
    let text_of = |args: &[&str]| {
        let out = Command::new("openssl").args(args).arg(&crt).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(text_of(&["x509", "-noout", "-text", "-in"]).contains("Version: 1 (0x0)"));

    // The coordinator serves it from now on (its files, its owner, a reload).
    let data = cluster.coordinator_dir();
    std::fs::copy(&crt, data.join("server.crt")).unwrap();
    std::fs::copy(&key, data.join("server.key")).unwrap();
    let owner = std::fs::metadata(&data)
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
        .unwrap();
    for file in ["server.crt", "server.key"] {
        std::os::unix::fs::chown(data.join(file), Some(owner), None).unwrap();
    }
    let key_mode = std::os::unix::fs::PermissionsExt::from_mode(0o600);
    std::fs::set_permissions(data.join("server.key"), key_mode).unwrap();
    let db = Database::connect(cluster.url("?sslmode=require")).await.unwrap();
    db.execute_unprepared("SELECT pg_reload_conf()").await.unwrap();
    db.close().await.unwrap();

    let trusted = format!("?sslmode=verify-full&sslrootcert={}", crt.display());
    // The reload is asynchronous: the postmaster reads the files shortly after.
    let mut out = migration(&cluster.url(&trusted), "status");
    for _ in 0..50 {
        if out.status.success() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        out = migration(&cluster.url(&trusted), "status");
    }
    assert!(out.status.success(), "{}", text(&out));

    // Another root is not trusted: the check is real.
    let other = tempfile::tempdir().unwrap();
    let (other_crt, _) = v1_certificate(other.path());
    let untrusted = format!("?sslmode=verify-ca&sslrootcert={}", other_crt.display());
    let out = migration(&cluster.url(&untrusted), "status");
    assert_refused(&out, cluster.port, "certificate failed verification");
}

#[test]
fn a_server_that_is_not_there_is_a_message_at_once_not_a_panic() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres:{PASSWORD}@localhost:{port}/postgres");
    let started = std::time::Instant::now();
    let out = migration(&url, "status");
    assert_refused(&out, port, "Connection refused");
    // The pool alone would retry for 30 s and say only that it timed out.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

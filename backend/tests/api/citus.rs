//! The backend on a Citus coordinator (a local cluster from
//! `scripts/citus.sh`): reached with the URL psql takes, though the
//! coordinator's TLS certificate is a self-signed X.509 v1 one.
//!
//! Each test starts its own cluster (a folder of its own, free ports;
//! stopped and removed when the test ends). Without an installed Citus
//! (`scripts/citus.sh build`) the tests skip and are counted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::skip;

const CITUS_SO: &str = "/usr/lib/postgresql/15/lib/citus.so";
/// In the URLs the tests pass; trust authentication never asks for it.
const PASSWORD: &str = "pw-never-shown";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/citus.sh")
}

/// A coordinator and two workers, stopped and removed on drop.
pub struct Cluster {
    dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    /// A new cluster, or `None` (the skip recorded) where Citus is not installed.
    pub fn up() -> Option<Cluster> {
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
        assert!(
            out.status.success(),
            "citus.sh up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // postgres://postgres@127.0.0.1:PORT/postgres
        let stdout = String::from_utf8_lossy(&out.stdout);
        let port = stdout.trim().rsplit(':').next().unwrap().split('/').next().unwrap();
        cluster.port = port.parse().unwrap();
        Some(cluster)
    }

    /// The URL a user would give psql (default `sslmode=prefer`), with a password.
    pub fn url(&self) -> String {
        format!("postgres://postgres:{PASSWORD}@localhost:{}/postgres", self.port)
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

fn backend(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
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

#[test]
fn ingest_and_history_reach_a_coordinator_with_the_url_psql_takes() {
    let Some(cluster) = Cluster::up() else { return };
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../input");
    let input = input.to_str().unwrap();
    let ingest = backend(&cluster.url(), &["ingest", "--input", input]);
    assert!(ingest.status.success(), "{}", text(&ingest));
    let history = backend(&format!("{}?sslmode=require", cluster.url()), &["history"]);
    assert!(history.status.success(), "{}", text(&history));
    let stdout = String::from_utf8_lossy(&history.stdout);
    assert!(stdout.contains("replace  succeeded"), "{}", text(&history));

    // verify-full: Citus' certificate is self-signed, for another name.
    let out = backend(&format!("{}?sslmode=verify-full", cluster.url()), &["history"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let host = format!("@localhost:{}/postgres", cluster.port);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("error: cannot connect to postgres://postgres:***{host}")),
        "{all}"
    );
    assert!(
        stderr.contains("certificate failed verification: self-signed certificate"),
        "{all}"
    );
    assert!(!all.contains("panicked") && !all.contains(PASSWORD), "{all}");
}

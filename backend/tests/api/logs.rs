//! Logs written to a pipe or a file are plain text (no terminal colour codes),
//! and `LOG_FORMAT=json` gives one JSON object per line.

use std::process::Command;

/// The log output (stderr) of an ingest of `input/` into a fresh SQLite file.
fn ingest_logs(json: bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backend"));
    cmd.args(["ingest", "--input", concat!(env!("CARGO_MANIFEST_DIR"), "/../input")])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("logs.db").display()),
        )
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .env_remove("LOG_FORMAT");
    if json {
        cmd.env("LOG_FORMAT", "json");
    }
    let out = cmd.output().unwrap();
    let logs = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "ingest failed: {logs}");
    logs
}

#[test]
fn logs_to_a_pipe_are_plain_text() {
    let logs = ingest_logs(false);
    assert!(logs.contains("ingest succeeded"), "{logs}");
    assert!(!logs.contains('\x1b'), "terminal escape codes in piped logs: {logs:?}");
}

#[test]
fn json_logs_are_one_object_per_line() {
    let logs = ingest_logs(true);
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(value.get("level").is_some(), "{line}");
    }
    assert!(lines.iter().any(|l| l.contains("ingest succeeded")), "{logs}");
}

/// Outside a terminal an ingest reports its progress in log lines: each phase
/// and each load step with its duration, and the rows done with their rate
/// while a phase runs.
async fn progress_is_logged(engine: crate::helpers::Engine) {
    use secrecy::ExposeSecret;
    let t = crate::helpers::TestDb::new(engine).await;
    let input = tempfile::tempdir().unwrap();
    backend::generate::generate(
        input.path(),
        backend::generate::GenerateOptions {
            transactions: 150_000,
            seed: 5,
            ..Default::default()
        },
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["ingest", "--input"])
        .arg(input.path())
        .env("DATABASE_URL", t.settings.url().expose_secret())
        .env("RUST_LOG", "info")
        .env("PROGRESS_INTERVAL_MS", "1")
        .env_remove("LOG_FORMAT")
        .output()
        .unwrap();
    let logs = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{logs}");
    for phase in [
        "read products",
        "read users",
        "read transactions (pass 1)",
        "read transactions (pass 2)",
        "reconcile customers",
        "build aggregates",
        "commit",
    ] {
        assert!(
            logs.lines().any(|l| l.contains("phase done")
                && l.contains(&format!("phase=\"{phase}\""))
                && l.contains("elapsed_ms=")),
            "no end of phase {phase:?}: {logs}"
        );
    }
    let progress = logs
        .lines()
        .find(|l| l.contains(" progress ") && l.contains("phase=\"read transactions (pass 2)\""))
        .unwrap_or_else(|| panic!("no progress line for pass 2: {logs}"));
    assert!(
        progress.contains("rows=") && progress.contains("rows_per_s="),
        "{progress}"
    );
    let steps: Vec<&str> = logs.lines().filter(|l| l.contains("load step done")).collect();
    let expected: &[&str] = match engine {
        crate::helpers::Engine::Postgres => &[
            "build the keys of fct_transaction",
            "build the keys and indexes of the other tables",
            "detach and drop the previous data",
            "attach the new fct_transaction (validates its foreign key)",
            "commit",
        ],
        crate::helpers::Engine::Sqlite => &[
            "delete the previous data",
            "check the foreign key of the new fct_transaction",
            "move the new fct_transaction into place, in key order",
            "commit",
        ],
    };
    for step in expected {
        assert!(
            steps
                .iter()
                .any(|l| l.contains(&format!("step={step}")) || l.contains(&format!("step=\"{step}\""))),
            "no step {step:?}: {steps:#?}"
        );
    }
}
crate::both!(progress_logs, progress_is_logged);

/// One short line per request, at the level `REQUEST_LOG` sets: the
/// essentials (method, path, status, duration, request id) well under 200
/// bytes; none at `off` for successful requests, while errors still log.
#[test]
fn request_log_lines_are_short_and_configurable() {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", db.path().join("logs.db").display());
    let ingest = Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["ingest", "--input", concat!(env!("CARGO_MANIFEST_DIR"), "/../input")])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(ingest.status.success());
    for level in ["info", "off"] {
        let log = db.path().join(format!("serve-{level}.log"));
        let mut server = Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(["serve", "--bind", "127.0.0.1:0", "--static-dir", "/nonexistent"])
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "info")
            .env("REQUEST_LOG", level)
            .env_remove("LOG_FORMAT")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let port = (0..100)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(50));
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                text.split("listening on http://127.0.0.1:")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .map(str::to_owned)
            })
            .expect("the server did not start");
        let get = |path: &str| {
            use std::io::{Read, Write};
            let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
            write!(
                s,
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        assert!(get("/reports/top-users?limit=3").starts_with("HTTP/1.1 200"));
        assert!(get("/reports/top-users?limit=0").starts_with("HTTP/1.1 400"));
        std::thread::sleep(std::time::Duration::from_millis(200));
        server.kill().unwrap();
        server.wait().unwrap();
        let text = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(" request ")).collect();
        let ok: Vec<&&str> = lines.iter().filter(|l| l.contains("status=200")).collect();
        let bad: Vec<&&str> = lines.iter().filter(|l| l.contains("status=400")).collect();
        assert_eq!(bad.len(), 1, "a client error logs whatever the level: {text}");
        match level {
            "info" => {
                assert_eq!(ok.len(), 1, "{text}");
                let line = ok[0];
                assert!(line.len() < 200, "{} bytes: {line}", line.len());
                for part in ["method=GET", "path=/reports/top-users", "status=200", "ms=", "req{id="] {
                    assert!(line.contains(part), "{part} missing: {line}");
                }
                assert!(!line.contains("limit=3"), "the query string is not logged: {line}");
            }
            _ => assert!(ok.is_empty(), "REQUEST_LOG=off still logged: {text}"),
        }
    }
}

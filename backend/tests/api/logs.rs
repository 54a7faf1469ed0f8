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

//! The one place that reads settings from the environment and files.
//! The database settings live with the store ([`store::settings`]).

use std::path::PathBuf;

/// How often an ingest logs its progress when stderr is not a terminal
/// (`PROGRESS_INTERVAL_MS`, default 5000).
pub fn progress_interval() -> std::time::Duration {
    let ms = std::env::var("PROGRESS_INTERVAL_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(5000);
    std::time::Duration::from_millis(ms.max(1))
}

/// Where a run keeps the record of its failure while the database refuses it
/// (`PENDING_RUNS_DIR`, default `data/pending-runs` under the working
/// directory, beside the default database): see [`crate::etl::record`].
pub fn pending_runs_dir() -> PathBuf {
    std::env::var_os("PENDING_RUNS_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("data/pending-runs"), PathBuf::from)
}

/// How long `backend ingest` goes on trying to record a failure the database
/// refuses before it exits (`RUN_RECORD_WAIT_SECS`, default 10).
pub fn record_wait() -> std::time::Duration {
    std::env::var("RUN_RECORD_WAIT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(crate::etl::record::DEFAULT_WAIT, std::time::Duration::from_secs)
}

/// The level of successful requests' log lines: `REQUEST_LOG` = `info`
/// (default), `debug` or `off`. Read once.
pub fn request_log() -> crate::telemetry::RequestLogLevel {
    use crate::telemetry::RequestLogLevel;
    static LEVEL: std::sync::OnceLock<RequestLogLevel> = std::sync::OnceLock::new();
    *LEVEL.get_or_init(|| match std::env::var("REQUEST_LOG").ok().as_deref().map(str::trim) {
        Some("debug") => RequestLogLevel::Debug,
        Some("off") => RequestLogLevel::Off,
        _ => RequestLogLevel::Info,
    })
}

pub use store::settings::*;

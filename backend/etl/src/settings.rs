//! The ingest's settings read from the environment.

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
/// directory, beside the default database): see [`crate::record`].
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
        .map_or(crate::record::DEFAULT_WAIT, std::time::Duration::from_secs)
}

//! A run that fails ends recorded as `failed` with its error, however it
//! fails — even when the failure is the database going away.
//!
//! The failure is recorded at once when the database takes it. When it does
//! not (down, refusing connections, locked), the record is first kept in a
//! file of the pending-runs folder (one small JSON file per run), then tried
//! again with a growing pause: by a server in the background until the
//! database takes it; by the CLI for a while ([`FailureRecording::wait`])
//! before it exits. A record that lands removes its file; the next
//! `backend ingest` or `backend serve` applies the files it finds.
//!
//! A record names its run by id *and* start time, and only ends a run still
//! `running` (or marked `abandoned` meanwhile by the next ingest): it never
//! touches another database's run of the same id, nor a run whose commit
//! did land before its connection was cut.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::RunStatus;
use store::entities::etl_run;

/// How long the CLI goes on trying to record a failure by default, in
/// seconds (`--run-record-wait-secs`, `RUN_RECORD_WAIT_SECS`).
pub const DEFAULT_WAIT_SECS: u64 = 10;
/// [`DEFAULT_WAIT_SECS`] as a duration.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(DEFAULT_WAIT_SECS);
/// Where a record waits by default (`--pending-runs-dir`,
/// `PENDING_RUNS_DIR`): under the working directory, beside the default
/// database.
pub const DEFAULT_PENDING_DIR: &str = "data/pending-runs";
/// The first pause between two tries, doubling up to [`LAST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(5);

/// How a run's failure is recorded when the database refuses it at first.
#[derive(Debug, Clone)]
pub struct FailureRecording {
    /// Where the record waits, one file per run, until the database takes it
    /// (`None`: only in the log).
    pub pending_dir: Option<PathBuf>,
    /// How long the run goes on trying before it ends; `None`: it goes on in
    /// the background until the database takes it (a server, which lives on).
    pub wait: Option<Duration>,
}

impl Default for FailureRecording {
    /// The CLI's: kept in [`DEFAULT_PENDING_DIR`], tried for [`DEFAULT_WAIT`].
    fn default() -> Self {
        Self {
            pending_dir: Some(PathBuf::from(DEFAULT_PENDING_DIR)),
            wait: Some(DEFAULT_WAIT),
        }
    }
}

/// The end of a failed run, as `etl_run` records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRun {
    pub run_id: i64,
    /// With the id, names the run's row (see the module's documentation).
    pub started_at: NaiveDateTime,
    pub finished_at: NaiveDateTime,
    pub error: String,
}

/// What a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The run is now `failed`, with its error.
    Now,
    /// The run had ended otherwise (its commit landed): left as it is.
    AlreadyEnded,
    /// This database has no such run (the record is another database's).
    NoSuchRun,
}

impl FailedRun {
    /// The failure of the run `run_id` started at `started_at`, now.
    pub fn now(run_id: i64, started_at: NaiveDateTime, error: String) -> Self {
        Self {
            run_id,
            started_at,
            finished_at: Utc::now().naive_utc(),
            error,
        }
    }

    /// Records it in `db`.
    pub async fn record(&self, db: &DatabaseConnection) -> Result<Recorded, DbErr> {
        let open = [RunStatus::Running.as_str(), RunStatus::Abandoned.as_str()];
        let updated = etl_run::Entity::update_many()
            .col_expr(etl_run::Column::Status, Expr::value(RunStatus::Failed.as_str()))
            .col_expr(etl_run::Column::FinishedAt, Expr::value(self.finished_at))
            .col_expr(etl_run::Column::Error, Expr::value(self.error.clone()))
            .filter(etl_run::Column::Id.eq(self.run_id))
            .filter(etl_run::Column::StartedAt.eq(self.started_at))
            .filter(etl_run::Column::Status.is_in(open))
            .exec(db)
            .await?;
        if updated.rows_affected > 0 {
            return Ok(Recorded::Now);
        }
        let row = etl_run::Entity::find()
            .filter(etl_run::Column::Id.eq(self.run_id))
            .filter(etl_run::Column::StartedAt.eq(self.started_at))
            .one(db)
            .await?;
        Ok(match row {
            Some(_) => Recorded::AlreadyEnded,
            None => Recorded::NoSuchRun,
        })
    }

    /// The file that keeps this record in `dir`.
    fn file_in(&self, dir: &Path) -> PathBuf {
        dir.join(format!(
            "run-{}-{}.json",
            self.run_id,
            self.started_at.format("%Y%m%dT%H%M%S%.6f")
        ))
    }

    /// Keeps the record in `dir` (written whole, then renamed into place, and
    /// synced: a crash leaves the file or nothing, never half of it).
    pub fn keep(&self, dir: &Path) -> std::io::Result<PathBuf> {
        use std::io::Write;
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::Builder::new().prefix(".run-").tempfile_in(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        file.write_all(&json)?;
        file.as_file().sync_all()?;
        let path = self.file_in(dir);
        file.persist(&path).map_err(|e| e.error)?;
        if let Ok(folder) = std::fs::File::open(dir) {
            // The rename itself, durable (best effort: not every file system syncs folders).
            let _ = folder.sync_all();
        }
        Ok(path)
    }
}

/// Records `failed`, once (`Ok` also when the database had no use for it).
pub async fn try_once(db: &DatabaseConnection, failed: &FailedRun) -> Result<(), DbErr> {
    let recorded = failed.record(db).await?;
    match recorded {
        Recorded::Now => tracing::info!(run_id = failed.run_id, "recorded the run as failed"),
        Recorded::AlreadyEnded => tracing::warn!(
            run_id = failed.run_id,
            error = %failed.error,
            "the run had ended before its failure could be recorded: its record stays as it is"
        ),
        Recorded::NoSuchRun => tracing::warn!(run_id = failed.run_id, "no such run to record as failed"),
    }
    Ok(())
}

/// The database refused the record of `failed` (`first`: why): keeps it in a
/// file and tries again, as `how` says.
pub async fn after_refusal(db: &DatabaseConnection, failed: FailedRun, first: DbErr, how: &FailureRecording) {
    tracing::warn!(
        run_id = failed.run_id,
        error = %first,
        run_error = %failed.error,
        "the database refused the record of the failed run: trying again"
    );
    let kept = match &how.pending_dir {
        Some(dir) => match failed.keep(dir) {
            Ok(path) => {
                tracing::warn!(
                    run_id = failed.run_id,
                    file = %path.display(),
                    "kept the failure in a file until the database takes it (the next `backend ingest` \
                     or `backend serve` records it)"
                );
                Some(path)
            }
            Err(e) => {
                tracing::error!(run_id = failed.run_id, folder = %dir.display(), error = %e,
                    "cannot keep the failure in a file: it is recorded only if the database comes back in time");
                None
            }
        },
        None => None,
    };
    match how.wait {
        Some(wait) => retry(db, &failed, kept.as_deref(), Some(wait)).await,
        None => {
            let db = db.clone();
            tokio::spawn(async move { retry(&db, &failed, kept.as_deref(), None).await });
        }
    }
}

/// Tries until the database takes the record (or `wait` has passed).
async fn retry(db: &DatabaseConnection, failed: &FailedRun, kept: Option<&Path>, wait: Option<Duration>) {
    let deadline = wait.map(|w| std::time::Instant::now() + w);
    let mut pause = FIRST_RETRY;
    let mut tries = 1u32;
    loop {
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                tracing::error!(
                    run_id = failed.run_id,
                    error = %failed.error,
                    kept = ?kept.map(|p| p.display().to_string()),
                    "the run's failure is not recorded in the database yet"
                );
                return;
            }
            pause = pause.min(left);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LAST_RETRY);
        tries += 1;
        match try_once(db, failed).await {
            Ok(()) => {
                if let Some(path) = kept {
                    forget(path);
                }
                return;
            }
            // The first failure was logged; then every tenth.
            Err(e) if tries.is_multiple_of(10) => {
                tracing::warn!(run_id = failed.run_id, tries, error = %e, "the database still refuses the record");
            }
            Err(_) => {}
        }
    }
}

fn forget(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        tracing::warn!(file = %path.display(), error = %e, "cannot remove a recorded failure's file");
    }
}

/// Records the failures kept in `dir` (see [`FailedRun::keep`]); returns how
/// many it recorded. A file of another database's run stays for that one.
pub async fn apply_pending(db: &DatabaseConnection, dir: &Path) -> Result<usize, DbErr> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("run-") && name.ends_with(".json")
        })
        .collect();
    files.sort();
    let mut applied = 0;
    for path in files {
        let failed: FailedRun = match std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot read a kept failure: left as it is");
                continue;
            }
        };
        match failed.record(db).await? {
            Recorded::Now => {
                tracing::info!(run_id = failed.run_id, file = %path.display(), "recorded a failure kept in a file");
                applied += 1;
                forget(&path);
            }
            Recorded::AlreadyEnded => forget(&path),
            Recorded::NoSuchRun => tracing::info!(
                run_id = failed.run_id,
                file = %path.display(),
                "a kept failure names a run this database does not have: left for its own database"
            ),
        }
    }
    Ok(applied)
}

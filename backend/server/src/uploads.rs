//! Ingests started through the API (`POST /ingests`): the upload settings,
//! the run in progress, and running it in the background.
//!
//! The files are streamed into a temporary folder (never held in memory),
//! the run is recorded and its id answered at once; the run then goes on on
//! a thread of its own with the same pipeline, guard rails and accounting as
//! `backend ingest`, and the folder is removed when it ends, however it ends.
//!
//! The run's thread drives its futures with a runtime that lives as long as
//! the server: database connections the pool opens during a run are tied to
//! the runtime that opened them, and must not die with the run.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sea_orm::DatabaseConnection;

use etl::progress::{Live, Progress};
use etl::{self, IngestOptions, StartedRun};

/// How uploads are taken.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// Largest request body, in bytes (the three files together).
    pub max_bytes: u64,
    /// Where the temporary folders go.
    pub dir: PathBuf,
    /// The options of every uploaded run (guard rails, limits, quality
    /// thresholds: the same flags as `backend ingest`); the input folder,
    /// mode, dry run and force are the upload's.
    pub defaults: IngestOptions,
}

/// The largest upload by default, in MiB (`serve --max-upload-mb`).
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 1024;

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_UPLOAD_MB << 20,
            dir: std::env::temp_dir(),
            defaults: IngestOptions::replace(PathBuf::new()),
        }
    }
}

/// The folder of this server's uploads under the upload directory:
/// `revenue-uploads-*`, holding a `.lock` file locked (`flock`) as long as the
/// server runs. A server starting sweeps the folders whose lock is free: the
/// uploads of a server killed mid-run, which nothing else would remove.
struct Area {
    dir: tempfile::TempDir,
    _lock: std::fs::File,
}

const AREA_PREFIX: &str = "revenue-uploads-";

impl Area {
    fn open(parent: &std::path::Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        sweep(parent);
        let dir = tempfile::Builder::new().prefix(AREA_PREFIX).tempdir_in(parent)?;
        let lock = std::fs::File::create(dir.path().join(".lock"))?;
        if !etl::flock(&lock, false) {
            return Err(std::io::Error::other("cannot lock the upload folder"));
        }
        Ok(Self { dir, _lock: lock })
    }
}

/// Removes the upload folders of servers that are gone (see [`Area`]). A
/// folder without its lock file yet is left alone for a minute: its server
/// may be creating it.
fn sweep(parent: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(AREA_PREFIX));
        if !ours || !path.is_dir() {
            continue;
        }
        let stale = match std::fs::File::open(path.join(".lock")) {
            Ok(lock) => etl::flock(&lock, false),
            Err(_) => entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age.as_secs() > 60)),
        };
        if stale {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => tracing::info!(folder = %path.display(), "removed the uploads of a server that is gone"),
                Err(e) => tracing::warn!(folder = %path.display(), error = %e, "cannot remove old uploads"),
            }
        }
    }
}

/// The upload side of the server (shared by its workers).
pub struct Uploads {
    pub settings: UploadSettings,
    area: Area,
    runtime: IngestRuntime,
    running: Mutex<Option<(i64, Arc<Live>)>>,
}

/// The runtime of uploaded runs; shut down without waiting when the server
/// ends (it may be dropped on an async thread, where waiting is not allowed).
struct IngestRuntime(Option<tokio::runtime::Runtime>);

impl Drop for IngestRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Uploads {
    pub fn new(settings: UploadSettings) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ingest-rt")
            .enable_all()
            .build()?;
        Ok(Self {
            area: Area::open(&settings.dir)?,
            settings,
            runtime: IngestRuntime(Some(runtime)),
            running: Mutex::new(None),
        })
    }

    /// A new folder for one upload's files (removed when the value is dropped).
    pub fn folder(&self) -> std::io::Result<tempfile::TempDir> {
        tempfile::Builder::new()
            .prefix("upload-")
            .tempdir_in(self.area.dir.path())
    }

    /// What run `id` is doing, if this server runs it.
    pub fn progress(&self, id: i64) -> Option<api_types::IngestProgress> {
        let running = self.running.lock().ok()?;
        let (run, live) = running.as_ref()?;
        (*run == id).then(|| live.snapshot())
    }

    /// Runs `started` on a thread of its own; `folder` (the uploaded files)
    /// is removed when the run ends. A run that fails and whose failure the
    /// database refuses goes on trying to record it in the background (the
    /// server lives on): see [`etl::record`].
    pub fn spawn(
        self: &Arc<Self>,
        db: DatabaseConnection,
        started: StartedRun,
        mut options: IngestOptions,
        folder: tempfile::TempDir,
        cache: Arc<reports::ReportCache>,
    ) -> std::io::Result<()> {
        let id = started.id();
        options.recording.wait = None;
        // Recorded if the run cannot even start (it would stay `running`).
        let mut unstarted = started.failure(String::new());
        let recording = options.recording.clone();
        let Some(runtime) = self.runtime.0.as_ref().map(|rt| rt.handle().clone()) else {
            unstarted.error = "the run could not be started: the server is shutting down".to_owned();
            if let Ok(here) = tokio::runtime::Handle::try_current() {
                record_unstarted(&here, db, unstarted, recording);
            }
            return Err(std::io::Error::other("the ingest runtime is shut down"));
        };
        let live = Arc::new(Live::default());
        if let Ok(mut running) = self.running.lock() {
            *running = Some((id, live.clone()));
        }
        let uploads = self.clone();
        let record_db = db.clone();
        // The run's futures hold database handles that are not `Send` across
        // their awaits: they are made and driven on the run's thread.
        let run = move || async move {
            match started
                .execute(&db, &options, &Progress::for_server(live, options.progress_interval))
                .await
            {
                Ok(summary) => {
                    tracing::info!(run_id = id, status = summary.status.as_str(), "uploaded run ended");
                    cache.expire().await;
                }
                Err(e) => tracing::error!(run_id = id, error = %e, "uploaded run failed"),
            }
            let path = folder.path().to_owned();
            if let Err(e) = folder.close() {
                tracing::warn!(run_id = id, folder = %path.display(), error = %e, "cannot remove the uploaded files");
            }
            if let Ok(mut running) = uploads.running.lock() {
                if running.as_ref().is_some_and(|(run, _)| *run == id) {
                    *running = None;
                }
            }
        };
        let thread = runtime.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("ingest-{id}"))
            .spawn(move || thread.block_on(run()));
        if let Err(e) = spawned {
            unstarted.error = format!("the run could not be started: {e}");
            record_unstarted(&runtime, record_db, unstarted, recording);
            if let Ok(mut running) = self.running.lock() {
                *running = None;
            }
            return Err(e);
        }
        Ok(())
    }
}

/// Records the failure of a run that could not be started, on `runtime`.
fn record_unstarted(
    runtime: &tokio::runtime::Handle,
    db: DatabaseConnection,
    failed: etl::FailedRun,
    recording: etl::FailureRecording,
) {
    runtime.spawn(async move {
        if let Err(first) = etl::record::try_once(&db, &failed).await {
            etl::record::after_refusal(&db, failed, first, &recording).await;
        }
    });
}

/// The run that holds the ingest lock, if it is recorded yet (for a 409's message).
pub async fn running_run(db: &DatabaseConnection) -> Option<i64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    store::entities::etl_run::Entity::find()
        .filter(store::entities::etl_run::Column::Status.eq(etl::RunStatus::Running.as_str()))
        .order_by_desc(store::entities::etl_run::Column::Id)
        .one(db)
        .await
        .ok()
        .flatten()
        .map(|r| r.id)
}

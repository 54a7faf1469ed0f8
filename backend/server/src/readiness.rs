//! A server that waits for its database: it starts whether or not the
//! database answers, answers 503 on `/health/ready` and on every endpoint that
//! needs the database while it does not, prepares it (migrations, the access
//! check, an initial ingest) as soon as it answers, and notices when it goes
//! away and comes back — no restart needed.
//!
//! One task per server watches the database: until it is prepared, it retries
//! the preparation with a growing pause ([`FIRST_RETRY`] doubling up to
//! [`LAST_RETRY`]); then it pings the database every [`PING_EVERY`].
//!
//! It also watches what a ping cannot see: a SQLite file deleted or replaced
//! under the server (the connections it holds still answer, from the old
//! file: see [`store::db::file`]) makes it not ready, with that reason, until
//! the path leads to the same file again; and a database that takes no writes
//! (read-only) is served for reads, the readiness answer saying that writes
//! are unavailable, and tried again every ping until it takes them.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::{ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::auth::Auth;
use crate::error::ApiError;
use etl::{IngestOptions, RunStatus};
use store::db::file::{FileChange, PinnedFile};
use store::db::{Probe, Writes};

/// How often a ready server checks that its database still answers.
pub const PING_EVERY: Duration = Duration::from_secs(1);
pub use crate::database::{FIRST_RETRY, LAST_RETRY};
/// How long one ping may take before the database counts as unreachable.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Whether the database answers, as the requests see it (shared by the workers).
#[derive(Default)]
pub struct Readiness {
    /// The pools served (the primary, and the standby the reports read from
    /// if there is one), each with a connection outside it that the pings
    /// go through (see [`store::db::Probe`]).
    probes: Vec<Probe>,
    ready: AtomicBool,
    /// Failed tries since the database last answered.
    failures: AtomicU32,
    /// When the database stopped answering (or the server started without it).
    down_since: Mutex<Option<Instant>>,
    /// The SQLite file served, as it was once prepared (none on PostgreSQL).
    file: Mutex<Option<PinnedFile>>,
    /// What became of it, while the path does not lead to it.
    file_change: Mutex<Option<FileChange>>,
    /// Why the database takes no writes; `None` while it does.
    read_only: Mutex<Option<String>>,
}

impl Readiness {
    /// Not ready yet, asking after `pools` (the primary first) each over a
    /// connection of its own.
    pub fn new(pools: &[DatabaseConnection]) -> Self {
        Self {
            probes: pools.iter().map(|db| Probe::new(db, PING_TIMEOUT)).collect(),
            ..Self::default()
        }
    }

    /// Whether every pool's database answers, asked over the probes: all of
    /// a pool's own connections being busy is not the database being down.
    pub async fn ping(&self) -> Result<(), DbErr> {
        for probe in &self.probes {
            ping(probe.connection()?).await?;
        }
        Ok(())
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Pins the SQLite file of `db` (once; nothing for PostgreSQL).
    pub fn pin(&self, db: &DatabaseConnection) {
        let Some(path) = store::db::file::sqlite_path(db) else {
            return;
        };
        let Ok(mut file) = self.file.lock() else { return };
        if file.is_some() {
            return;
        }
        match PinnedFile::pin(&path) {
            Ok(pinned) => *file = Some(pinned),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot look at the SQLite database file"),
        }
    }

    /// Whether the pinned file is still at its path; when it is not, the
    /// server stops serving from it (not ready) and says why.
    pub fn check_file(&self) -> Result<(), ApiError> {
        let change = {
            let Ok(file) = self.file.lock() else { return Ok(()) };
            let Some(pinned) = file.as_ref() else { return Ok(()) };
            match pinned.check() {
                Ok(()) => return Ok(()),
                Err(change) => {
                    let known = self.file_change.lock().ok().and_then(|c| *c);
                    if known != Some(change) {
                        tracing::error!(file = %pinned.path().display(), "{}: 503 on the endpoints that need the database", change.explain());
                    }
                    change
                }
            }
        };
        self.ready.store(false, Ordering::Release);
        if let Ok(mut c) = self.file_change.lock() {
            *c = Some(change);
        }
        if let Ok(mut since) = self.down_since.lock() {
            since.get_or_insert_with(Instant::now);
        }
        Err(ApiError::DatabaseFileChanged(change.explain()))
    }

    /// Records whether the database takes writes (logging when that changes).
    pub fn set_writes(&self, writes: &Writes) {
        let Ok(mut read_only) = self.read_only.lock() else {
            return;
        };
        match writes {
            Writes::Available => {
                if read_only.take().is_some() {
                    tracing::info!("the database takes writes again: uploads are accepted");
                }
            }
            Writes::Unavailable(why) => {
                if read_only.is_none() {
                    tracing::warn!(reason = %why, "the database takes no writes: serving the reports read-only, refusing uploads");
                }
                *read_only = Some(why.clone());
            }
        }
    }

    /// Why the database takes no writes; `None` while it does.
    pub fn read_only(&self) -> Option<String> {
        self.read_only.lock().ok().and_then(|r| r.clone())
    }

    /// The database answers (and is prepared).
    pub fn up(&self) {
        if let Ok(mut change) = self.file_change.lock() {
            if change.take().is_some() {
                tracing::info!("the SQLite database file is back at its path: serving");
            }
        }
        if !self.ready.swap(true, Ordering::AcqRel) {
            if let Some(since) = self.down_since.lock().ok().and_then(|mut d| d.take()) {
                tracing::info!(
                    after_s = since.elapsed().as_secs(),
                    "the database answers again: serving"
                );
            }
        }
        self.failures.store(0, Ordering::Relaxed);
    }

    fn down(&self, error: &dyn std::fmt::Display) {
        let was_ready = self.ready.swap(false, Ordering::AcqRel);
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(mut since) = self.down_since.lock() {
            since.get_or_insert_with(Instant::now);
        }
        // The first failure, then every tenth: a long outage does not flood the logs.
        if was_ready || failures % 10 == 1 {
            tracing::warn!(
                error = %error,
                tries = failures,
                "the database does not answer: 503 on the endpoints that need it, retrying"
            );
        }
    }

    /// The answer of an endpoint that needs the database while it is down.
    fn unavailable(&self) -> ApiError {
        if let Some(change) = self.file_change.lock().ok().and_then(|c| *c) {
            return ApiError::DatabaseFileChanged(change.explain());
        }
        ApiError::NotReady {
            down_for_s: self
                .down_since
                .lock()
                .ok()
                .and_then(|d| d.map(|s| s.elapsed().as_secs())),
        }
    }
}

/// What a server does with its database once it answers, before serving from it.
pub struct Preparation {
    /// Apply pending migrations (`serve` does; so a never-migrated database
    /// answers 404 `no_data`, not errors).
    pub migrate: bool,
    /// Ingest this when the database holds no run yet (`--ingest-if-empty`).
    pub ingest_if_empty: Option<IngestOptions>,
    pub auth: web::Data<Auth>,
    /// Where failed runs keep their records while the database refuses them
    /// (see [`etl::record`]): recorded once it takes writes.
    pub pending_runs: Option<std::path::PathBuf>,
}

impl Preparation {
    /// Prepares `db`, and says whether it takes writes (a read-only database
    /// is served for reads); an unreachable database is an error that
    /// [`StartError::is_unreachable`] recognises.
    pub async fn run(&self, db: &DatabaseConnection) -> Result<Writes, StartError> {
        store::db::prepare(db).await.map_err(StartError::Database)?;
        let writes = store::db::writes::writes(db).await.map_err(StartError::Database)?;
        if self.migrate {
            use migration::MigratorTrait;
            match &writes {
                Writes::Available => migration::Migrator::up(db, None).await.map_err(StartError::Migration)?,
                // Served as it is, if its schema is this version's.
                Writes::Unavailable(why) => {
                    let pending = store::db::writes::pending_migrations(db)
                        .await
                        .map_err(StartError::Database)?;
                    if !pending.is_empty() {
                        return Err(StartError::ReadOnlyUnmigrated {
                            why: why.clone(),
                            pending: pending.len(),
                        });
                    }
                }
            }
        }
        if let (Writes::Available, Some(dir)) = (&writes, &self.pending_runs) {
            match etl::record::apply_pending(db, dir).await {
                Ok(_) => {}
                Err(e) if store::db::is_unreachable(&e) => return Err(StartError::Database(e)),
                // Kept for the next start: no reason not to serve.
                Err(e) => tracing::warn!(error = %e, "cannot record the failures kept in {}", dir.display()),
            }
        }
        self.auth.check_open_mode().await?;
        if let Some(options) = &self.ingest_if_empty {
            use sea_orm::{EntityTrait, PaginatorTrait};
            let runs = store::entities::etl_run::Entity::find()
                .count(db)
                .await
                .map_err(StartError::Database)?;
            if runs == 0 {
                // On a thread of its own, as uploads run: the ingest's future
                // is not `Send` (and it would hold a worker for its duration).
                let (db, options, runtime) = (db.clone(), options.clone(), tokio::runtime::Handle::current());
                let summary = tokio::task::spawn_blocking(move || runtime.block_on(etl::ingest(&db, &options)))
                    .await
                    .map_err(|e| StartError::InitialIngest(format!("the initial ingest stopped: {e}")))?
                    .map_err(|e| StartError::InitialIngest(e.to_string()))?;
                if summary.status != RunStatus::Succeeded {
                    return Err(StartError::InitialIngest(format!(
                        "the initial ingest did not load:\n{}",
                        summary.render()
                    )));
                }
            }
        }
        Ok(writes)
    }
}

/// Whether the database answers a trivial query within [`PING_TIMEOUT`]
/// (through a pool whose connections are all checked out, this waits: the
/// readiness asks over [`Readiness::ping`]'s probes).
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    match tokio::time::timeout(PING_TIMEOUT, db.execute_unprepared("SELECT 1")).await {
        Ok(answer) => answer.map(|_| ()),
        Err(_) => Err(DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)),
    }
}

/// Why a server stopped on its own (its preparation failed for a reason that
/// waiting does not cure), for `run_until_stopped` to report.
pub type Fatal = Arc<Mutex<Option<String>>>;

/// The watch over the database of one server (see the module's documentation).
/// `prepared`: the preparation already succeeded at start.
pub async fn watch(
    readiness: Arc<Readiness>,
    pools: Vec<DatabaseConnection>,
    preparation: Preparation,
    mut prepared: bool,
    server: ServerHandle,
    fatal: Fatal,
) {
    let mut pause = FIRST_RETRY;
    loop {
        // The first pool is the primary: the one prepared (once).
        let Some(primary) = pools.first() else { return };
        let mut result = Ok(());
        if !prepared {
            result = preparation
                .run(primary)
                .await
                .map(|writes| readiness.set_writes(&writes));
            prepared = result.is_ok();
        }
        if result.is_ok() {
            readiness.pin(primary);
            // Not pinged while its file is gone: a new connection would
            // create an empty database at the path.
            if readiness.check_file().is_err() {
                tokio::time::sleep(PING_EVERY).await;
                continue;
            }
            result = readiness.ping().await.map_err(StartError::Database);
        }
        if result.is_ok() && readiness.read_only().is_some() {
            // Read-only until it takes writes again (permissions fixed, a
            // standby promoted): then uploads are accepted, no restart needed.
            match store::db::writes::writes(primary).await {
                Ok(writes) => readiness.set_writes(&writes),
                // The next ping says whether the database is gone.
                Err(e) => tracing::debug!(error = %e, "cannot tell whether the database takes writes"),
            }
        }
        match result {
            Ok(()) => {
                readiness.up();
                pause = FIRST_RETRY;
                tokio::time::sleep(PING_EVERY).await;
            }
            Err(e) if e.is_unreachable() => {
                readiness.down(&e);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LAST_RETRY);
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot serve: stopping");
                if let Ok(mut f) = fatal.lock() {
                    *f = Some(e.to_string());
                }
                server.stop(true).await;
                return;
            }
        }
    }
}

/// The middleware: while the database does not answer, an endpoint that
/// needs it answers 503 at once (instead of waiting for a connection).
pub async fn gate(req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if crate::endpoints::needs_database(req.path()) {
        if let Some(readiness) = req.app_data::<web::Data<Readiness>>() {
            if !readiness.is_ready() {
                let e = readiness.unavailable();
                return Ok(req.error_response(e));
            }
        }
    }
    next.call(req).await
}

/// Why the server does not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Access(#[from] crate::auth::guard::StartError),
    #[error("cannot listen on {bind}: {source}")]
    Listen { bind: String, source: std::io::Error },
    #[error("database error: {0}")]
    Database(#[source] sea_orm::DbErr),
    #[error("cannot migrate the database: {0}")]
    Migration(#[source] sea_orm::DbErr),
    #[error("{0}")]
    InitialIngest(String),
    /// A read-only database is served as it is, but not in an older schema.
    #[error("{why}, and {pending} migration(s) are pending: apply them once with write access (`migration up`, or `serve` on a writable database), then it can be served read-only")]
    ReadOnlyUnmigrated { why: String, pending: usize },
}

impl StartError {
    /// The database could not be reached: the server waits for it rather
    /// than stopping.
    pub fn is_unreachable(&self) -> bool {
        match self {
            StartError::Access(e) => e.is_unreachable(),
            StartError::Database(e) | StartError::Migration(e) => store::db::is_unreachable(e),
            StartError::Listen { .. } | StartError::InitialIngest(_) | StartError::ReadOnlyUnmigrated { .. } => false,
        }
    }
}

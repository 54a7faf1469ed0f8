//! The report aggregates of the latest successful ingest, kept in memory.
//!
//! They are small (one row per currency and month, and per product and month)
//! and change only when an ingest commits, so requests read them from memory and
//! the database is asked at most once per [`RECHECK`] whether a newer run exists.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{
    AccessMode, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::{ReportContext, ReportError};
use store::entities::etl_run;

/// How stale the cache may be after an ingest commits, in milliseconds (the
/// unit of `serve --cache-recheck-ms`, whose default it is).
pub const RECHECK_MS: u64 = 1000;
/// [`RECHECK_MS`] as a duration.
pub const RECHECK: Duration = Duration::from_millis(RECHECK_MS);

struct Cached {
    run_id: Option<i64>,
    checked: Instant,
    ctx: Arc<ReportContext>,
}

/// Shared by all workers of the server.
pub struct ReportCache {
    /// How often the database is asked for a newer run.
    recheck: Duration,
    /// Read by every report request: a lock held only to copy an `Arc` or
    /// set a field, never across an await (an asynchronous lock here cost
    /// each request a semaphore and, under load, a wake-up).
    inner: RwLock<Option<Cached>>,
    /// Set while one request asks the database for a newer run: the others keep
    /// answering from the cached aggregates meanwhile, instead of all querying at
    /// once (at 20k requests/s that herd made the p99 latency).
    refreshing: AtomicBool,
    /// Held by the request that makes the first load.
    first_load: tokio::sync::Mutex<()>,
}

impl Default for ReportCache {
    fn default() -> Self {
        Self::with_recheck(RECHECK)
    }
}

/// The id of the latest successful run that changed the data.
pub(super) async fn latest_run<C: ConnectionTrait>(db: &C) -> Result<Option<i64>, ReportError> {
    Ok(etl_run::Entity::find()
        .select_only()
        .column(etl_run::Column::Id)
        .filter(etl_run::Column::Status.eq("succeeded"))
        .filter(etl_run::Column::DataChanged.eq(true))
        .order_by_desc(etl_run::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}

/// A read-only transaction that sees one moment of the data: on PostgreSQL
/// a repeatable-read snapshot taken after the star and run tables are locked
/// (shared), in the order a replace takes its exclusive locks (children
/// first): taken in another order, the two deadlock.
pub(crate) async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, ReportError> {
    Ok(match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db
                .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                .await?;
            // In the order a replace takes its exclusive locks (children
            // first): taken in another order, the two deadlock.
            let tables: Vec<&str> = store::entities::STAR.iter().rev().map(|t| t.name).collect();
            txn.execute_unprepared(&format!(
                "LOCK TABLE {}, etl_run, etl_run_file IN ACCESS SHARE MODE",
                tables.join(", ")
            ))
            .await?;
            txn
        }
        _ => db.begin().await?,
    })
}

/// Clears `refreshing` when the refresh ends, however it ends.
struct Refreshing<'a>(&'a AtomicBool);

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl ReportCache {
    /// A cache that asks for a newer run at most once per `recheck`.
    pub fn with_recheck(recheck: Duration) -> Self {
        Self {
            recheck,
            inner: RwLock::new(None),
            refreshing: AtomicBool::new(false),
            first_load: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached run (a panic elsewhere while holding the lock left a
    /// complete value: each write replaces it whole or sets one field).
    fn read(&self) -> RwLockReadGuard<'_, Option<Cached>> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Option<Cached>> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What is cached, without asking the database: the run it is the data
    /// of, how long ago it was last confirmed to be the latest, and the data.
    pub async fn peek(&self) -> Option<(Option<i64>, Duration, Arc<ReportContext>)> {
        self.read()
            .as_ref()
            .map(|c| (c.run_id, c.checked.elapsed(), c.ctx.clone()))
    }

    /// Asks the database again on the next request (an ingest of this
    /// process committed: its uploader should see it at once, not within
    /// the recheck interval).
    pub async fn expire(&self) {
        if let Some(c) = self.write().as_mut() {
            if let Some(past) = Instant::now().checked_sub(self.recheck) {
                c.checked = past;
            }
        }
    }

    /// The aggregates of the latest successful run.
    pub async fn get(&self, db: &DatabaseConnection) -> Result<Arc<ReportContext>, ReportError> {
        let cached = self
            .read()
            .as_ref()
            .map(|c| (c.ctx.clone(), c.checked.elapsed() < self.recheck));
        // Whichever of these is set is released when this request is done.
        let _refreshing;
        let _first_load;
        let previous = match cached {
            Some((ctx, true)) => return Ok(ctx),
            Some((ctx, false)) => {
                if self.refreshing.swap(true, Ordering::AcqRel) {
                    return Ok(ctx);
                }
                _refreshing = Refreshing(&self.refreshing);
                Some(ctx)
            }
            // Nothing cached yet: the first request loads, the others wait for it.
            None => {
                _first_load = self.first_load.lock().await;
                if let Some(ctx) = self.read().as_ref().map(|c| c.ctx.clone()) {
                    return Ok(ctx);
                }
                None
            }
        };
        match self.refresh(db).await {
            // The read was cancelled by a conflict, not refused: a hot standby
            // replaying a replace's table swap cancels the reads that hold it
            // up (at once with `max_standby_streaming_delay = 0`). The previous
            // run is complete, so it answers; the next request after the
            // recheck interval asks again (not every request meanwhile).
            Err(ReportError::Database(e)) if store::db::is_conflict(&e) => match previous {
                Some(ctx) => {
                    tracing::warn!(error = %e, "reading the latest run was cancelled; answering from the previous run");
                    if let Some(c) = self.write().as_mut() {
                        c.checked = Instant::now();
                    }
                    Ok(ctx)
                }
                None => Err(ReportError::Database(e)),
            },
            refreshed => refreshed,
        }
    }

    /// Reads the latest run's aggregates unless they are the cached ones, and
    /// caches them.
    async fn refresh(&self, db: &DatabaseConnection) -> Result<Arc<ReportContext>, ReportError> {
        // The run id first: if a run commits meanwhile, the next check reloads.
        let latest = latest_run(db).await?;
        let previous = {
            let mut guard = self.write();
            if let Some(c) = guard.as_mut() {
                if c.run_id == latest {
                    c.checked = Instant::now();
                    return Ok(c.ctx.clone());
                }
            }
            guard.as_ref().map(|c| c.ctx.clone())
        };
        // A newer run (or the first load): read its aggregates, then publish
        // them under the run id read with them. Its subscription figures may
        // start from the transactions the previous run's keep.
        let (run_id, ctx) = ReportContext::load(db).await?;
        if let Some(previous) = previous {
            ctx.saas.follow(&previous.saas, db).await;
        }
        let ctx = Arc::new(ctx);
        *self.write() = Some(Cached {
            run_id,
            checked: Instant::now(),
            ctx: ctx.clone(),
        });
        Ok(ctx)
    }
}

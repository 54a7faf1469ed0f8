//! The report aggregates of the latest successful ingest, kept in memory.
//!
//! They are small (one row per currency and month, and per product and month)
//! and change only when an ingest commits, so requests read them from memory and
//! the database is asked at most once per [`RECHECK`] whether a newer run exists.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::RwLock;

use super::{ReportContext, ReportError};
use crate::entities::etl_run;

/// How stale the cache may be after an ingest commits.
pub const RECHECK: Duration = Duration::from_secs(1);

struct Cached {
    run_id: Option<i64>,
    checked: Instant,
    ctx: Arc<ReportContext>,
}

/// Shared by all workers of the server.
#[derive(Default)]
pub struct ReportCache {
    inner: RwLock<Option<Cached>>,
}

impl ReportCache {
    /// The aggregates of the latest successful run.
    pub async fn get(&self, db: &DatabaseConnection) -> Result<Arc<ReportContext>, ReportError> {
        if let Some(c) = self.inner.read().await.as_ref() {
            if c.checked.elapsed() < RECHECK {
                return Ok(c.ctx.clone());
            }
        }
        let latest: Option<i64> = etl_run::Entity::find()
            .select_only()
            .column(etl_run::Column::Id)
            .filter(etl_run::Column::Status.eq("succeeded"))
            .order_by_desc(etl_run::Column::Id)
            .into_tuple()
            .one(db)
            .await?;
        let mut guard = self.inner.write().await;
        if let Some(c) = guard.as_mut() {
            if c.run_id == latest {
                c.checked = Instant::now();
                return Ok(c.ctx.clone());
            }
        }
        let ctx = Arc::new(ReportContext::load(db).await?);
        *guard = Some(Cached {
            run_id: latest,
            checked: Instant::now(),
            ctx: ctx.clone(),
        });
        Ok(ctx)
    }
}

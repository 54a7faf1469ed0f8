//! Data-quality checks: computed by the last successful ingest, plus freshness.

use api_types::{FileCounts, LastIngest, QualityReport};
use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::params::ReportContext;
use super::ReportError;
use crate::entities::{etl_run, etl_run_file};

/// The stored checks of the latest successful run that changed the data
/// (`None` before the first); read once per ingest by the report cache.
pub(super) async fn load_quality<C: ConnectionTrait>(db: &C) -> Result<Option<QualityReport>, ReportError> {
    let Some(run) = etl_run::Entity::find()
        .filter(etl_run::Column::Status.eq("succeeded"))
        .filter(etl_run::Column::DataChanged.eq(true))
        .order_by_desc(etl_run::Column::Id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Unreadable checks (edited by hand, say) cost `/quality` alone, not every report.
    let Some(mut report) = run
        .quality_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<QualityReport>(j).ok())
    else {
        tracing::warn!(
            run_id = run.id,
            "etl_run.quality_json is missing or unreadable: /quality has no checks to serve"
        );
        return Ok(None);
    };
    let files = etl_run_file::Entity::find()
        .filter(etl_run_file::Column::RunId.eq(run.id))
        .order_by_asc(etl_run_file::Column::File)
        .all(db)
        .await?
        .into_iter()
        .map(|f| FileCounts {
            file: f.file,
            sha256: f.sha256,
            read: f.rows_read,
            loaded: f.rows_loaded,
            already_loaded: f.rows_already_loaded,
            duplicates: f.rows_duplicate,
            rejected: f.rows_rejected,
        })
        .collect();
    report.last_ingest = Some(LastIngest {
        run_id: run.id,
        finished_at: run
            .finished_at
            .map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default(),
        files,
    });
    Ok(Some(report))
}

/// `GET /quality`; `NoData` before the first successful ingest. Freshness is
/// relative to now, so it is computed per request.
pub fn quality(ctx: &ReportContext) -> Result<QualityReport, ReportError> {
    let mut report = ctx.quality.clone().ok_or(ReportError::NoData)?;
    if let Some(latest) = report
        .freshness
        .latest_transaction_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    {
        report.freshness.days_since_latest_transaction = Some((Utc::now() - latest.with_timezone(&Utc)).num_days());
    }
    Ok(report)
}

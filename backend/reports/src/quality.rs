//! Data-quality checks: computed by the last successful ingest, plus freshness.

use api_types::{QualityHistory, QualityHistoryRun, QualityReport};
use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::snapshot::ReportContext;
use super::ReportError;
use store::entities::etl_run;

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

/// Query parameters of `GET /quality/history`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QualityHistoryParams {
    /// Runs finished on or after this day (UTC), `YYYY-MM-DD`.
    #[param(format = Date, example = "2024-01-01")]
    pub from: Option<String>,
    /// Runs finished on or before this day (UTC), `YYYY-MM-DD`.
    #[param(format = Date, example = "2024-12-31")]
    pub to: Option<String>,
    /// Runs, 1–1000 (default 100): the latest ones when more match.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

fn parse_day(raw: Option<&str>, parameter: &'static str) -> Result<Option<chrono::NaiveDate>, ReportError> {
    let Some(raw) = super::params::given(raw, parameter)? else {
        return Ok(None);
    };
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|_| raw.len() == 10)
        .map(Some)
        .ok_or_else(|| ReportError::BadParameter {
            parameter,
            message: format!("parameter `{parameter}` must be a day as YYYY-MM-DD (e.g. 2024-05-31), got {raw:?}"),
        })
}

/// `GET /quality/history`: the quality of the successful runs, oldest first.
pub async fn history(db: &DatabaseConnection, params: &QualityHistoryParams) -> Result<QualityHistory, ReportError> {
    let limit = super::params::parse_int(params.limit.as_deref(), "limit", 100, 1, 1000)?;
    let from = parse_day(params.from.as_deref(), "from")?;
    let to = parse_day(params.to.as_deref(), "to")?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ReportError::BadParameter {
                parameter: "from",
                message: format!("parameter `from` ({f}) must not be after `to` ({t})"),
            });
        }
    }
    let mut query = etl_run::Entity::find().filter(etl_run::Column::Status.eq("succeeded"));
    if let Some(f) = from {
        query = query.filter(etl_run::Column::FinishedAt.gte(f.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(t) = to.and_then(|t| t.succ_opt()) {
        query = query.filter(etl_run::Column::FinishedAt.lt(t.and_time(chrono::NaiveTime::MIN)));
    }
    let mut runs: Vec<QualityHistoryRun> = query
        .order_by_desc(etl_run::Column::Id)
        .limit(u64::from(limit))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|run| {
            // Runs of an older version recorded no dimensions: nothing to show.
            let report: QualityReport = serde_json::from_str(run.quality_json.as_deref()?).ok()?;
            Some(QualityHistoryRun {
                run_id: run.id,
                finished_at: run
                    .finished_at
                    .map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                    .unwrap_or_default(),
                mode: run.mode,
                rows: report.rows?,
                score: report.score?,
                alerts: report.alerts,
            })
        })
        .collect();
    runs.reverse();
    Ok(QualityHistory { runs })
}

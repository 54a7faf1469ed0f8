//! Data-quality checks: computed by the last successful ingest, plus freshness.

use api_types::{QualityAlert, QualityHistory, QualityHistoryRun, QualityReport, QualityRows, QualityScore, Timestamp};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::snapshot::ReportContext;
use super::ReportError;
use store::entities::etl_run;

/// `GET /quality` as of `now`; `NoData` before the first successful ingest.
/// Freshness is relative to now: [`days_since_latest`] is all that `now`
/// changes in it.
pub fn quality(ctx: &ReportContext, now: DateTime<Utc>) -> Result<QualityReport, ReportError> {
    if let Some(run_id) = ctx.quality_unreadable {
        return Err(ReportError::UnreadableQuality { run_id });
    }
    let mut report = ctx.quality.clone().ok_or(ReportError::NoData)?;
    // Runs of an older version stored the data's score but not its alerts.
    if let (Some(data), Some(thresholds)) = (&report.data_score, &report.thresholds) {
        report.data_alerts = data.below(thresholds);
    }
    if report.freshness.latest_transaction_at.is_some() {
        report.freshness.days_since_latest_transaction = days_since_latest(ctx, now);
    }
    Ok(report)
}

/// Whole days from the data's latest transaction to `now` (`/quality`'s
/// freshness); `None` without one.
pub fn days_since_latest(ctx: &ReportContext, now: DateTime<Utc>) -> Option<i64> {
    let latest = ctx.latest_transaction_at()?;
    Some((now - latest.utc()).num_days())
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
        .filter_map(|run| history_run(run).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    runs.reverse();
    Ok(QualityHistory { runs })
}

/// What the history reads of a run's stored checks: strictly what it shows
/// (a change elsewhere in the checks does not make the history unreadable).
#[derive(serde::Deserialize)]
struct StoredScore {
    #[serde(default)]
    score: Option<QualityScore>,
    #[serde(default)]
    rows: Option<QualityRows>,
    #[serde(default)]
    data_score: Option<QualityScore>,
    #[serde(default)]
    alerts: Vec<QualityAlert>,
}

/// One run of the history: `None` for a run of an older version that stored
/// no score. A run whose stored score cannot be decoded is an error in the
/// log and a gap in the history (no `score` or `rows`, an `unreadable`
/// reason), never dropped; a run whose mode cannot be read fails the history
/// (as it fails `/ingests`).
fn history_run(run: etl_run::Model) -> Result<Option<QualityHistoryRun>, ReportError> {
    let Some(json) = run.quality_json.as_deref() else {
        return Ok(None);
    };
    let mode = run
        .mode
        .parse()
        .map_err(|cause| ReportError::UnreadableRun { run_id: run.id, cause })?;
    // A succeeded run always records when it finished.
    let finished_at = Timestamp::from_naive_utc(run.finished_at.unwrap_or(run.started_at));
    let (rows, score, data_score, alerts, unreadable) = match serde_json::from_str::<StoredScore>(json) {
        Ok(StoredScore {
            score: Some(score),
            rows: Some(rows),
            data_score,
            alerts,
        }) => (Some(rows), Some(score), data_score, alerts, None),
        // Runs of an older version recorded no dimensions: nothing to show.
        Ok(_) => return Ok(None),
        Err(error) => {
            tracing::error!(
                run_id = run.id,
                %error,
                "etl_run.quality_json cannot be decoded: the run is a gap in /quality/history"
            );
            let reason = "its stored quality figures cannot be read (see the server's log)";
            (None, None, None, Vec::new(), Some(reason.to_owned()))
        }
    };
    Ok(Some(QualityHistoryRun {
        run_id: run.id,
        finished_at,
        mode,
        rows,
        score,
        data_score,
        alerts,
        unreadable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored score, as this version stores it (every dimension 50%).
    fn stored_score() -> String {
        let score = QualityScore {
            overall: api_types::Percent(7_262),
            dimensions: api_types::PerDimension::from_fn(|_| api_types::Percent(5_000)),
        };
        format!(r#""score":{}"#, serde_json::to_string(&score).unwrap())
    }
    const ROWS: &str = r#""rows":{"processed":7,"succeeded":6,"failed":1}"#;

    fn run(id: i64, quality_json: Option<String>) -> etl_run::Model {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        etl_run::Model {
            id,
            started_at: at,
            finished_at: Some(at),
            status: "succeeded".to_owned(),
            input_dir: "in".to_owned(),
            error: None,
            summary_json: None,
            quality_json,
            mode: "replace".to_owned(),
            data_changed: true,
            options_json: None,
            state_json: None,
            requested_by: None,
        }
    }

    #[test]
    fn a_stored_score_is_served_as_stored() {
        let json = format!(
            r#"{{{},{ROWS},"alerts":[{{"dimension":"overall","value":"72.62","threshold":"80.00"}}],"customers":{{}}}}"#,
            stored_score()
        );
        let r = history_run(run(2, Some(json))).unwrap().unwrap();
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            format!(
                r#"{{"run_id":2,"finished_at":"2023-11-14T22:13:20.000Z","mode":"replace",{ROWS},{},"alerts":[{{"dimension":"overall","value":"72.62","threshold":"80.00"}}]}}"#,
                stored_score()
            )
        );
    }

    #[test]
    fn an_undecodable_score_is_a_gap_not_a_dropped_run() {
        // A score without one of today's dimensions (stored by an older
        // version, say): the run stays in the history, without figures.
        let json = format!(
            r#"{{{},{ROWS}}}"#,
            stored_score().replace(r#","timeliness":"50.00""#, "")
        );
        let r = history_run(run(3, Some(json))).unwrap().unwrap();
        assert_eq!((r.run_id, r.score, r.rows.clone()), (3, None, None));
        assert!(r.unreadable.is_some());
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"run_id":3,"finished_at":"2023-11-14T22:13:20.000Z","mode":"replace","alerts":[],"unreadable":"its stored quality figures cannot be read (see the server's log)"}"#
        );
        assert!(history_run(run(4, Some("{not json".to_owned())))
            .unwrap()
            .unwrap()
            .unreadable
            .is_some());
        // An unknown alert name is as unreadable as a missing dimension.
        let json = format!(
            r#"{{{},{ROWS},"alerts":[{{"dimension":"no_such_one","value":"1.00","threshold":"2.00"}}]}}"#,
            stored_score()
        );
        assert!(history_run(run(5, Some(json))).unwrap().unwrap().unreadable.is_some());
    }

    #[test]
    fn runs_that_stored_no_score_are_not_in_the_history() {
        assert_eq!(history_run(run(1, None)).unwrap(), None);
        assert_eq!(
            history_run(run(1, Some(r#"{"customers":{}}"#.to_owned()))).unwrap(),
            None
        );
    }

    #[test]
    fn a_run_with_an_unknown_mode_fails_the_history() {
        let mut r = run(6, Some(format!(r#"{{{},{ROWS}}}"#, stored_score())));
        r.mode = "merge".to_owned();
        let err = history_run(r).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(r#"ingest run 6 cannot be read: unknown mode "merge": use replace, append"#)
        );
    }
}

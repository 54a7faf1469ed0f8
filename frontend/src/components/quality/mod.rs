//! The data-quality page's sections. The page fetches `/quality` and
//! `/quality/history` once and hands both to the sections as [`Fetched`]
//! props, so the score, the bars and the alerts always describe the same run.

pub mod alerts;
pub mod checks;
pub mod dimensions;
pub mod rows;
pub mod score;
pub mod trend;

use api_types::{QualityHistory, QualityHistoryRun, QualityReport};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::format::timestamp;
use crate::hooks::Fetched;

/// What a section shows before the first ingest (`/quality` answers `no_data`).
const NO_DATA: &str = "No quality figures yet: every ingest (backend ingest) measures them.";

/// A section that shows part of `/quality`.
#[derive(Properties, PartialEq)]
pub struct ReportProps {
    pub report: Fetched<QualityReport>,
}

/// A chart of `/quality`.
#[derive(Properties, PartialEq)]
pub struct ReportChartProps {
    pub report: Fetched<QualityReport>,
    /// Dark colours (the system theme).
    pub dark: bool,
    /// Changes when the window is resized.
    pub epoch: u32,
}

/// A chart of `/quality/history`.
#[derive(Properties, PartialEq)]
pub struct HistoryChartProps {
    pub history: Fetched<QualityHistory>,
    pub dark: bool,
    pub epoch: u32,
}

/// A run on a chart's axis: `"#3"`.
fn run_label(run: &QualityHistoryRun) -> String {
    format!("#{}", run.run_id)
}

/// A run at the head of a tooltip: `"Run 3 · 2 Nov 2024 09:15 UTC · append"`.
fn run_heading(run: &QualityHistoryRun) -> String {
    format!("Run {} · {} · {}", run.run_id, timestamp(&run.finished_at), run.mode)
}

/// What a run without figures (they cannot be read) shows in their place.
fn unreadable(run: &QualityHistoryRun) -> String {
    format!(
        "Figures unreadable: {}",
        run.unreadable.as_deref().unwrap_or("none stored")
    )
}

/// A run's first cells in a table of runs: a link to its page, its mode, when it finished.
fn run_cells(run: &QualityHistoryRun) -> Html {
    html! {
        <>
            <th scope="row" data-label="Run">
                <Link<Route> to={Route::Run { id: run.run_id }}>{ format!("Run {}", run.run_id) }</Link<Route>>
                { format!(" ({})", run.mode) }
            </th>
            <td data-label="Finished">{ timestamp(&run.finished_at) }</td>
        </>
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use std::rc::Rc;

    use api_types::{
        Completeness, CustomerChecks, Dimension, Freshness, IngestMode, LastIngest, PerDimension, Percent,
        QualityAlert, QualityHistory, QualityHistoryRun, QualityReport, QualityRows, QualityScore, Refunds,
        SubscriptionChecks, ZeroAmount,
    };

    use crate::api::FetchError;
    use crate::hooks::{FetchStatus, Fetched};

    pub fn loaded<T>(data: T) -> Fetched<T> {
        Fetched {
            status: FetchStatus::default(),
            data: Some(Rc::new(data)),
        }
    }

    pub fn failed<T>(code: &str) -> Fetched<T> {
        Fetched {
            status: FetchStatus {
                error: Some(FetchError {
                    what: "data quality",
                    message: format!("HTTP 404: {code}"),
                    code: Some(code.into()),
                    status: Some(404),
                    credentials_refused: false,
                }),
                ..FetchStatus::default()
            },
            data: None,
        }
    }

    pub fn alert(dimension: &str, value: i64, threshold: i64) -> QualityAlert {
        QualityAlert {
            dimension: dimension.parse().unwrap(),
            value: Percent(value),
            threshold: Percent(threshold),
        }
    }

    pub fn score(overall: i64, integrity: i64) -> QualityScore {
        QualityScore {
            overall: Percent(overall),
            // Any other dimension (one added later): 100, met.
            dimensions: PerDimension::from_fn(|d| match d {
                Dimension::Validity => Percent(8_621),
                Dimension::Consistency => Percent(8_524),
                Dimension::Integrity => Percent(integrity),
                Dimension::Timeliness => Percent(0),
                _ => Percent(10_000),
            }),
        }
    }

    /// The minimums of [`report`]'s run: only the overall score and
    /// integrity miss theirs (its alerts).
    pub fn thresholds() -> QualityScore {
        QualityScore {
            overall: Percent(8_000),
            dimensions: PerDimension::from_fn(|d| match d {
                Dimension::Validity | Dimension::Consistency => Percent(8_000),
                Dimension::Uniqueness => Percent(9_900),
                Dimension::Timeliness => Percent(0),
                _ => Percent(9_000),
            }),
        }
    }

    pub fn run(run_id: i64, overall: i64, failed: i64) -> QualityHistoryRun {
        QualityHistoryRun {
            run_id,
            finished_at: "2024-11-02T09:15:05Z".parse().unwrap(),
            mode: if run_id == 1 {
                IngestMode::Replace
            } else {
                IngestMode::Append
            },
            rows: Some(QualityRows {
                processed: 10_075,
                succeeded: 10_075 - failed,
                failed,
            }),
            score: Some(score(overall, 1_250)),
            data_score: None,
            alerts: vec![alert("integrity", 1_250, 9_000)],
            unreadable: None,
        }
    }

    /// A run whose stored figures the server could not read.
    pub fn gap(run_id: i64) -> QualityHistoryRun {
        QualityHistoryRun {
            rows: None,
            score: None,
            alerts: Vec::new(),
            unreadable: Some("its stored quality figures cannot be read".into()),
            ..run(run_id, 0, 0)
        }
    }

    pub fn history(runs: Vec<QualityHistoryRun>) -> QualityHistory {
        QualityHistory { runs }
    }

    /// `/quality` after run 3, with the integrity and overall alerts.
    pub fn report() -> QualityReport {
        QualityReport {
            score: Some(score(7_857, 1_250)),
            data_score: None,
            rows: Some(QualityRows {
                processed: 10_075,
                succeeded: 10_071,
                failed: 4,
            }),
            alerts: vec![alert("overall", 7_857, 8_000), alert("integrity", 1_250, 9_000)],
            data_alerts: Vec::new(),
            thresholds: Some(thresholds()),
            customers: CustomerChecks {
                in_transactions_not_in_users: 2,
                in_users_without_transactions: 1,
                total: 630,
                multi_currency: 0,
            },
            subscriptions: SubscriptionChecks::default(),
            last_ingest: Some(LastIngest {
                run_id: 3,
                finished_at: "2024-11-02T09:15:05Z".parse().unwrap(),
                files: Vec::new(),
            }),
            completeness: Completeness::default(),
            zero_amount: ZeroAmount::default(),
            refunds: Refunds::default(),
            currencies: Vec::new(),
            freshness: Freshness::default(),
        }
    }
}

//! The overall score of the latest run that loaded data, its change since the
//! run before, and that run's rows.

use api_types::{QualityHistory, QualityReport, QualityScore};
use yew::prelude::*;
use yew_router::prelude::*;

use super::NO_DATA;
use crate::app::Route;
use crate::components::section::Section;
use crate::format::{count, timestamp};
use crate::hooks::Fetched;
use crate::quality::{run_score, score_change, shown_score, Dimension, Measure, Scored};

#[derive(Properties, PartialEq)]
pub struct ScoreProps {
    pub report: Fetched<QualityReport>,
    /// For the change since the run before.
    pub history: Fetched<QualityHistory>,
}

#[component]
pub fn ScoreSection(props: &ScoreProps) -> Html {
    let report = &props.report;
    let data = report.data.clone();
    let scored = data.as_ref().and_then(|q| shown_score(q).map(|s| (q.clone(), *s)));
    let (empty, empty_text) = if report.no_data() {
        (true, NO_DATA)
    } else {
        // Data loaded by a version that did not measure quality yet.
        (
            data.is_some() && scored.is_none(),
            "The data was loaded before quality was measured: the next ingest measures it.",
        )
    };
    html! {
        <Section id="score" title="Quality score" status={report.shown_status()} {empty} empty_text={AttrValue::from(empty_text)}>
            if let Some((q, s)) = scored {
                { body(&q, &s, &props.history) }
            }
        </Section>
    }
}

fn body(q: &QualityReport, s: &QualityScore, history: &Fetched<QualityHistory>) -> Html {
    let standing = Measure::Overall.standing(s, q);
    let run_id = q
        .last_ingest
        .as_ref()
        .map(|l| l.run_id)
        .or_else(|| history.data.as_ref().and_then(|h| h.runs.last().map(|r| r.run_id)));
    let (change, direction) = match (&history.data, run_id) {
        (Some(h), Some(id)) => {
            let c = score_change(id, s.overall, &h.runs);
            let direction = if c.fell() {
                Some("down")
            } else if c.rose() {
                Some("up")
            } else {
                None
            };
            (c.describe(), direction)
        }
        // The trend section shows the history's error with its retry.
        _ if history.status.error.is_some() => ("change unknown: the history did not load".to_owned(), None),
        _ => ("…".to_owned(), None),
    };
    let rows = q.rows.clone().unwrap_or_default();
    html! {
        <>
            <div class="score">
                <div class="kpi-label">{ format!("The data as loaded: the mean of {} dimensions", Dimension::count_in_words()) }</div>
                <div id="overall-score" class={classes!("score-value", standing.below.then_some("below"))}>{ format!("{}%", s.overall) }</div>
                <div id="score-change" class={classes!("score-change", direction)}>{ change }</div>
                if standing.below {
                    <div class="kpi-sub warn">{ standing.minimum.map_or("below its minimum".to_owned(), |m| format!("below its minimum of {m}%")) }</div>
                }
                if let Some(run) = run_score(q) {
                    <div class="kpi-sub" id="run-score">{ format!("The latest run's files alone: {}%", run.overall) }</div>
                }
            </div>
            <div class="kpis run-rows" id="run-rows">
                { row_count("Rows processed", rows.processed, false) }
                { row_count("Succeeded", rows.succeeded, false) }
                { row_count("Failed", rows.failed, rows.failed > 0) }
            </div>
            if let Some(last) = &q.last_ingest {
                <p class="note">
                    { "Measured by " }
                    <Link<Route> to={Route::Run { id: last.run_id }}>{ format!("run {}", last.run_id) }</Link<Route>>
                    { format!(", {}: the latest run that loaded data.", timestamp(&last.finished_at)) }
                </p>
            }
        </>
    }
}

fn row_count(label: &str, n: i64, warn: bool) -> Html {
    html! {
        <div class="kpi">
            <div class="kpi-label">{ label.to_owned() }</div>
            <div class={classes!("kpi-value", warn.then_some("warn"))}>{ count(n) }</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use yew::prelude::*;

    use super::ScoreSection;
    use crate::components::quality::fixtures::{failed, history, loaded, report, run, score};
    use crate::components::ssr::render;
    use crate::hooks::Fetched;

    #[tokio::test]
    async fn the_score_its_change_and_the_rows() {
        let html = render(|| {
            let h = loaded(history(vec![run(1, 6_540, 0), run(3, 7_857, 4)]));
            html! { <ScoreSection report={loaded(report())} history={h} /> }
        })
        .await;
        assert!(
            html.contains(r#"<div id="overall-score" class="score-value below">78.57%</div>"#),
            "{html}"
        );
        assert!(html.contains(">+13.17 points since run 1<"), "{html}");
        assert!(html.contains("below its minimum of 80.00%"));
        assert!(html.contains(r#"<div class="kpi-value">10,075</div>"#), "{html}");
        assert!(html.contains(r#"<div class="kpi-value">10,071</div>"#), "{html}");
        assert!(html.contains(r#"<div class="kpi-value warn">4</div>"#), "{html}");
        assert!(html.contains(r#"href="/runs/3""#));
    }

    #[tokio::test]
    async fn after_an_append_the_data_s_score_and_beside_it_the_run_s() {
        let html = render(|| {
            let mut q = report();
            q.data_score = Some(score(6_000, 1_700));
            let h = loaded(history(vec![run(3, 7_857, 4)]));
            html! { <ScoreSection report={loaded(q)} history={h} /> }
        })
        .await;
        assert!(
            html.contains(r#"<div id="overall-score" class="score-value below">60.00%</div>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<div id="run-score" class="kpi-sub">The latest run's files alone: 78.57%</div>"#),
            "{html}"
        );
        // A replace: the run's score is the data's, said once.
        let html = render(|| {
            let mut q = report();
            q.data_score = q.score;
            html! { <ScoreSection report={loaded(q)} history={loaded(history(vec![]))} /> }
        })
        .await;
        assert!(!html.contains("run-score"), "{html}");
    }

    #[tokio::test]
    async fn a_first_run_and_a_history_on_its_way() {
        let html = render(|| {
            let h = loaded(history(vec![run(3, 7_857, 4)]));
            html! { <ScoreSection report={loaded(report())} history={h} /> }
        })
        .await;
        assert!(html.contains(">first run<"), "{html}");
        let html = render(|| {
            let waiting = Fetched {
                status: crate::hooks::FetchStatus {
                    loading: true,
                    ..Default::default()
                },
                data: None,
            };
            html! { <ScoreSection report={loaded(report())} history={waiting} /> }
        })
        .await;
        assert!(html.contains(">78.57%<") && html.contains(">…<"), "{html}");
    }

    #[tokio::test]
    async fn before_the_first_ingest_an_empty_state_not_an_error() {
        let html = render(|| {
            html! { <ScoreSection report={failed("no_data")} history={loaded(history(Vec::new()))} /> }
        })
        .await;
        assert!(
            html.contains("No quality figures yet") && !html.contains("role=\"alert\""),
            "{html}"
        );
    }
}

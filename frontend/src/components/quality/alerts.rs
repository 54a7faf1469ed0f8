//! The alerts, in words: what is below its minimum in the data as loaded
//! and, when it differs (after an append), in the latest run's own files.

use api_types::QualityAlert;
use yew::prelude::*;

use super::{ReportProps, NO_DATA};
use crate::components::section::Section;
use crate::quality::alert_sentence;

#[component]
pub fn AlertsSection(props: &ReportProps) -> Html {
    let report = &props.report;
    let (data, run) = report.data.as_deref().map(scoped).unwrap_or_default();
    let (empty, empty_text) = if report.no_data() {
        (true, NO_DATA)
    } else {
        (
            data.is_empty() && run.is_empty(),
            "No alerts: every dimension is at or above its minimum.",
        )
    };
    let run_id = report
        .data
        .as_ref()
        .and_then(|q| q.last_ingest.as_ref())
        .map(|l| l.run_id);
    let run_title = run_id.map_or_else(
        || "In the latest run's own files".to_owned(),
        |id| format!("In run {id}'s own files"),
    );
    html! {
        <Section id="alerts" title="Alerts" status={report.shown_status()} {empty} empty_text={AttrValue::from(empty_text)}>
            { list("data", "In the data as loaded", &data) }
            { list("run", &run_title, &run) }
        </Section>
    }
}

/// The data's alerts, and the run's when they differ from them (a replace's
/// run is the data; an append's files can meet a minimum the data misses,
/// or miss one it meets). Without the data's score (runs of an older
/// version) the run's alerts stand for the data's.
fn scoped(q: &api_types::QualityReport) -> (Vec<QualityAlert>, Vec<QualityAlert>) {
    match q.data_score {
        None => (q.alerts.clone(), Vec::new()),
        Some(_) if q.alerts == q.data_alerts => (q.data_alerts.clone(), Vec::new()),
        Some(_) => (q.data_alerts.clone(), q.alerts.clone()),
    }
}

fn list(scope: &'static str, title: &str, alerts: &[QualityAlert]) -> Html {
    if alerts.is_empty() {
        return Html::default();
    }
    html! {
        <>
            <h3 class="alerts-scope">{ title }</h3>
            <ul class="alerts" data-scope={scope}>
                { for alerts.iter().map(|a| {
                    html! {
                        <li data-dimension={a.dimension.key()}>
                            <span class="alert-text">{ alert_sentence(a) }</span>
                            <span class="alert-meaning">{ a.dimension.meaning() }</span>
                        </li>
                    }
                }) }
            </ul>
        </>
    }
}

#[cfg(test)]
mod tests {
    use api_types::QualityReport;
    use yew::prelude::*;

    use super::AlertsSection;
    use crate::components::quality::fixtures::{alert, loaded, report, score};
    use crate::components::ssr::render;

    #[tokio::test]
    async fn one_sentence_per_alert_or_an_all_clear() {
        let html = render(|| html! { <AlertsSection report={loaded(report())} /> }).await;
        assert!(
            html.contains("integrity 12.50% is below its minimum of 90.00%"),
            "{html}"
        );
        assert!(
            html.contains("the overall score 78.57% is below its minimum of 80.00%"),
            "{html}"
        );
        assert_eq!(html.matches("<li").count(), 2);
        let html = render(|| {
            let clear = QualityReport {
                alerts: Vec::new(),
                ..report()
            };
            html! { <AlertsSection report={loaded(clear)} /> }
        })
        .await;
        assert!(
            html.contains("No alerts: every dimension is at or above its minimum."),
            "{html}"
        );
    }

    /// After an append the data can miss a minimum the run's files meet:
    /// both lists, each under its title.
    #[tokio::test]
    async fn the_data_and_the_run_each_have_their_alerts() {
        let html = render(|| {
            let appended = QualityReport {
                data_score: Some(score(7_000, 5_000)),
                data_alerts: vec![alert("overall", 7_000, 8_000), alert("integrity", 5_000, 9_000)],
                alerts: Vec::new(),
                ..report()
            };
            html! { <AlertsSection report={loaded(appended)} /> }
        })
        .await;
        assert!(html.contains("In the data as loaded"), "{html}");
        assert!(!html.contains("own files"), "{html}");
        assert!(
            html.contains("integrity 50.00% is below its minimum of 90.00%"),
            "{html}"
        );
        let html = render(|| {
            let appended = QualityReport {
                data_score: Some(score(9_000, 9_500)),
                data_alerts: Vec::new(),
                ..report()
            };
            html! { <AlertsSection report={loaded(appended)} /> }
        })
        .await;
        assert!(!html.contains("In the data as loaded"), "{html}");
        assert!(
            html.contains("In run 3&#x27;s own files") || html.contains("In run 3's own files"),
            "{html}"
        );
        assert_eq!(html.matches("<li").count(), 2);
    }
}

//! The latest run's alerts, in words: what is below its minimum.

use yew::prelude::*;

use super::{ReportProps, NO_DATA};
use crate::components::section::Section;
use crate::quality::alert_sentence;

#[component]
pub fn AlertsSection(props: &ReportProps) -> Html {
    let report = &props.report;
    let alerts = report.data.as_ref().map(|q| q.alerts.clone()).unwrap_or_default();
    let (empty, empty_text) = if report.no_data() {
        (true, NO_DATA)
    } else {
        (
            alerts.is_empty(),
            "No alerts: every dimension is at or above its minimum.",
        )
    };
    let subtitle = report.data.as_ref().and_then(|q| q.last_ingest.as_ref()).map(|l| {
        // After an append the run's own files are judged here, not the
        // data as loaded (the score and the dimensions above).
        AttrValue::from(format!("Below their minimums in run {}'s own files", l.run_id))
    });
    html! {
        <Section id="alerts" title="Alerts" {subtitle} status={report.shown_status()} {empty} empty_text={AttrValue::from(empty_text)}>
            <ul class="alerts">
                { for alerts.iter().map(|a| {
                    html! {
                        <li data-dimension={a.dimension.key()}>
                            <span class="alert-text">{ alert_sentence(a) }</span>
                            <span class="alert-meaning">{ a.dimension.meaning() }</span>
                        </li>
                    }
                }) }
            </ul>
        </Section>
    }
}

#[cfg(test)]
mod tests {
    use api_types::QualityReport;
    use yew::prelude::*;

    use super::AlertsSection;
    use crate::components::quality::fixtures::{loaded, report};
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
}

//! A teaser of the data-quality page: the overall score of the latest run
//! that loaded data, its alerts, and the way to the details.

use api_types::QualityReport;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::section::Section;
use crate::hooks::use_fetch;
use crate::quality::{shown_score, Dimension, Measure, Scored};

#[component]
pub fn QualitySummary() -> Html {
    let report = use_fetch((), |()| api::quality()).fetched();
    html! {
        <Section id="quality-summary" title="Data quality" status={report.shown_status()} empty={report.no_data()}
            empty_text={AttrValue::from("No quality figures yet: every ingest measures them.")}>
            { report.data.as_ref().map(|q| summary(q)).unwrap_or_default() }
        </Section>
    }
}

fn summary(q: &QualityReport) -> Html {
    let below = shown_score(q).map_or(0, |s| {
        Dimension::ALL
            .iter()
            .filter(|d| Measure::Dimension(**d).standing(s, q).below)
            .count()
    });
    let alerts = match below {
        0 => "Every dimension at or above its minimum".to_owned(),
        1 => "1 dimension below its minimum".to_owned(),
        n => format!("{n} dimensions below their minimum"),
    };
    html! {
        <div class="teaser">
            if let Some(s) = shown_score(q) {
                <div>
                    <div class="kpi-label">{ "Overall score of the data" }</div>
                    <div class={classes!("score-value", "small", Measure::Overall.standing(s, q).below.then_some("below"))}
                        id="quality-summary-score">{ format!("{}%", s.overall) }</div>
                    <div class={classes!("kpi-sub", (below > 0).then_some("warn"))}>{ alerts }</div>
                </div>
            }
            <Link<Route> to={Route::Quality} classes="link">{ "Dimensions, trend and checks →" }</Link<Route>>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::quality::fixtures::report;
    use crate::components::ssr::render;

    #[tokio::test]
    async fn the_score_and_a_link_to_the_quality_page() {
        let html = render(|| summary(&report())).await;
        assert!(
            html.contains(">78.57%<") && html.contains(r#"href="/data-quality""#),
            "{html}"
        );
        assert!(html.contains("1 dimension below its minimum"), "{html}");
        assert!(
            !html.contains(r#"class="kpi""#),
            "the counts live on the quality page: {html}"
        );
    }
}

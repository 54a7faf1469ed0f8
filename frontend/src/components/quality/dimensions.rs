//! The dimensions of the latest run that loaded data as bars: green at
//! or above their minimum, red below it, with every minimum marked (the
//! run's `thresholds`).

use api_types::QualityReport;
use yew::prelude::*;

use super::{ReportChartProps, NO_DATA};
use crate::api;
use crate::charts::score_bars::ScoreBar;
use crate::charts::{threshold_color, Theme};
use crate::components::chart_canvas::{Chart, ChartCanvas};
use crate::components::section::Section;
use crate::quality::{pct_f64, run_score, shown_score, Dimension, Measure, Scored};

#[component]
pub fn DimensionsSection(props: &ReportChartProps) -> Html {
    let report = &props.report;
    let scored = report.data.as_ref().filter(|q| shown_score(q).is_some());
    let empty = report.no_data() || (report.data.is_some() && scored.is_none());
    let (chart, table) = match scored {
        Some(q) => (
            chart(q, &Theme::of(props.dark), props.dark, props.epoch),
            Some(table(q)),
        ),
        None => (html! {}, None),
    };
    // `/quality` has no CSV; the history's latest run is the same run unless
    // a later run found nothing new to load.
    let csv = api::quality_history_csv_url(1);
    html! {
        <Section id="dimensions" title="Dimensions" subtitle={AttrValue::from("Share of the rows or customers passing each check, over all the data loaded since the last replace")}
            status={report.shown_status()} {empty} empty_text={AttrValue::from(NO_DATA)} {table} csv_href={AttrValue::from(csv)}>
            { chart }
        </Section>
    }
}

fn chart(q: &QualityReport, theme: &Theme, dark: bool, epoch: u32) -> Html {
    let Some(s) = shown_score(q) else { return html! {} };
    let bars: Vec<ScoreBar> = Dimension::ALL
        .map(Measure::Dimension)
        .iter()
        .map(|d| {
            let standing = d.standing(s, q);
            ScoreBar {
                label: d.label().to_owned(),
                value: pct_f64(standing.value),
                text: standing.bar_text(),
                threshold: standing.minimum.map(pct_f64),
                color: threshold_color(standing.below, theme),
            }
        })
        .collect();
    let tips: Vec<String> = Dimension::ALL
        .map(Measure::Dimension)
        .iter()
        .map(|d| {
            let status = d.standing(s, q).tooltip_line();
            format!("{}: {}%\nShare of {}\n{status}", d.label(), d.of(s), d.meaning())
        })
        .collect();
    html! {
        <>
            <ChartCanvas chart={Chart::Scores(bars)} tooltips={tips} label="Quality dimensions of the data as loaded, in percent" {dark} {epoch} height={260} />
            <p class="legend">
                <span class="legend-item"><span class="swatch up"></span>{ "At or above its minimum" }</span>
                <span class="legend-item"><span class="swatch down"></span>{ "Below its minimum" }</span>
                <span class="legend-item"><span class="swatch marker"></span>{ "The minimum" }</span>
            </p>
        </>
    }
}

fn table(q: &QualityReport) -> Html {
    let Some(s) = shown_score(q) else { return html! {} };
    let run = run_score(q);
    html! {
        <div class="table-wrap"><table>
            <thead><tr><th>{"Dimension"}</th><th class="num">{"Score"}</th>
                if run.is_some() { <th class="num">{"Latest run alone"}</th> }
                <th>{"Minimum"}</th><th>{"Measures"}</th></tr></thead>
            <tbody>{ for Measure::ALL.iter().map(|d| {
                let standing = d.standing(s, q);
                html! {
                    <tr data-dimension={d.key()}>
                        <th scope="row">{ d.label() }</th>
                        <td class={classes!("num", standing.below.then_some("warn"))}>{ format!("{}%", standing.value) }</td>
                        if let Some(r) = run { <td class="num run">{ format!("{}%", d.of(r)) }</td> }
                        <td class="minimum">{ standing.minimum_text() }</td>
                        <td>{ d.meaning() }</td>
                    </tr>
                }
            }) }</tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::quality::fixtures::report;
    use crate::components::ssr::render;

    #[tokio::test]
    async fn the_table_marks_the_dimensions_below_their_minimum() {
        let html = render(|| table(&report())).await;
        assert!(
            html.contains(r#"<td class="num warn">12.50%</td><td class="minimum">90.00%, not met</td>"#),
            "{html}"
        );
        // Every dimension with its minimum, met or not.
        assert!(
            html.contains(r#"<td class="num">86.21%</td><td class="minimum">80.00%, met</td>"#),
            "{html}"
        );
        assert_eq!(html.matches("<tr data-dimension").count(), Measure::ALL.len());
        assert_eq!(html.matches(r#"<td class="minimum">"#).count(), Measure::ALL.len());
    }
}

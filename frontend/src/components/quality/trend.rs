//! The overall score and each dimension across runs, oldest first.

use api_types::QualityHistory;
use yew::prelude::*;

use super::{run_cells, run_heading, run_label, unreadable, HistoryChartProps};
use crate::api;
use crate::charts::lines::Series;
use crate::charts::{css, Theme};
use crate::components::chart_canvas::{Chart, ChartCanvas};
use crate::components::section::Section;
use crate::quality::{pct_f64, Measure, Scored};

#[component]
pub fn TrendSection(props: &HistoryChartProps) -> Html {
    let history = &props.history;
    let empty = history.data.as_ref().is_some_and(|h| h.runs.is_empty());
    let (chart, table) = match &history.data {
        Some(h) if !h.runs.is_empty() => (
            chart(h, &Theme::of(props.dark), props.dark, props.epoch),
            Some(table(h)),
        ),
        _ => (html! {}, None),
    };
    let csv = api::quality_history_csv_url(api::QUALITY_HISTORY_RUNS);
    html! {
        <Section id="trend" title="Quality over time"
            subtitle={AttrValue::from(format!("Every successful run, oldest first (the latest {})", api::QUALITY_HISTORY_RUNS))}
            status={history.status.clone()} {empty} empty_text={AttrValue::from("No successful run yet: each ingest adds a point here.")}
            {table} csv_href={AttrValue::from(csv)}>
            { chart }
        </Section>
    }
}

/// The colour of a measure's line: the overall score in the primary colour,
/// each dimension in its own (the palette has one per dimension).
pub fn series_color(m: Measure, theme: &Theme) -> plotters::style::RGBColor {
    match m {
        Measure::Overall => theme.primary,
        Measure::Dimension(d) => theme.series[d.index()],
    }
}

/// One line per measure; a run without figures is a gap in each.
fn chart_series(h: &QualityHistory, theme: &Theme) -> Vec<Series> {
    Measure::ALL
        .iter()
        .map(|d| Series {
            name: d.label().to_owned(),
            color: series_color(*d, theme),
            values: h
                .runs
                .iter()
                .map(|r| r.score.as_ref().map(|s| pct_f64(d.of(s))))
                .collect(),
            bold: *d == Measure::Overall,
        })
        .collect()
}

fn chart(h: &QualityHistory, theme: &Theme, dark: bool, epoch: u32) -> Html {
    let series = chart_series(h, theme);
    let tips: Vec<String> = h
        .runs
        .iter()
        .map(|r| {
            let mut tip = run_heading(r);
            let Some(s) = &r.score else {
                return format!("{tip}\n{}", unreadable(r));
            };
            for d in Measure::ALL {
                tip.push_str(&format!("\n{}: {}%", d.label(), d.of(s)));
                if let Some(a) = d.alert(&r.alerts) {
                    tip.push_str(&format!(" (below {}%)", a.threshold));
                }
            }
            tip
        })
        .collect();
    let x_labels = h.runs.iter().map(run_label).collect();
    html! {
        <>
            <ChartCanvas chart={Chart::Lines { x_labels, series }} tooltips={tips}
                label="Overall quality score and each dimension per run, in percent" {dark} {epoch} height={300} />
            <p class="legend series-legend">
                { for Measure::ALL.iter().map(|d| html! {
                    <span class="legend-item" data-series={d.key()}>
                        <span class={classes!("swatch", "line", (*d == Measure::Overall).then_some("bold"))}
                            style={format!("background:{}", css(series_color(*d, theme)))}></span>
                        { d.label() }
                    </span>
                }) }
            </p>
        </>
    }
}

fn table(h: &QualityHistory) -> Html {
    html! {
        <div class="table-wrap"><table class="stack">
            <thead><tr>
                <th>{"Run"}</th><th>{"Finished"}</th>
                { for Measure::ALL.iter().map(|d| html! { <th class="num">{ d.label() }</th> }) }
            </tr></thead>
            <tbody>{ for h.runs.iter().rev().map(|r| html! {
                <tr data-run={r.run_id.to_string()}>
                    { run_cells(r) }
                    if let Some(s) = &r.score {
                        { for Measure::ALL.iter().map(|d| html! {
                            <td class={classes!("num", d.alert(&r.alerts).is_some().then_some("warn"))} data-label={d.label()}>{ format!("{}%", d.of(s)) }</td>
                        }) }
                    } else {
                        <td class="warn unreadable" colspan={Measure::ALL.len().to_string()}>{ unreadable(r) }</td>
                    }
                </tr>
            }) }</tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::quality::fixtures::{gap, history, run};
    use crate::components::ssr::render;

    #[tokio::test]
    async fn one_row_per_run_newest_first_alerts_marked() {
        let html = render(|| table(&history(vec![run(1, 6_540, 0), run(3, 7_857, 4)]))).await;
        assert_eq!(html.matches("<tr data-run").count(), 2);
        assert!(html.find(r#"data-run="3""#) < html.find(r#"data-run="1""#), "{html}");
        assert!(
            html.contains(r#"<td data-label="Integrity" class="num warn">12.50%</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td data-label="Overall" class="num">78.57%</td>"#),
            "{html}"
        );
    }

    #[tokio::test]
    async fn a_run_without_figures_is_a_visible_gap() {
        let html = render(|| table(&history(vec![run(1, 6_540, 0), gap(2), run(3, 7_857, 4)]))).await;
        assert_eq!(html.matches("<tr data-run").count(), 3);
        assert!(
            html.contains("Figures unreadable: its stored quality figures cannot be read"),
            "{html}"
        );
        let h = history(vec![run(1, 6_540, 0), gap(2), run(3, 7_857, 4)]);
        let overall = chart_series(&h, &Theme::LIGHT).remove(0);
        assert_eq!(overall.values, [Some(65.4), None, Some(78.57)]);
    }

    #[test]
    fn each_dimension_has_its_own_colour() {
        for t in [Theme::LIGHT, Theme::DARK] {
            let colours: Vec<_> = Measure::ALL.iter().map(|d| series_color(*d, &t)).collect();
            for (i, c) in colours.iter().enumerate() {
                assert!(!colours[..i].contains(c), "{c:?} twice");
            }
            assert_eq!(series_color(Measure::Overall, &t), t.primary);
        }
    }
}

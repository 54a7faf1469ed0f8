//! Rows processed, succeeded and failed per run.

use api_types::QualityHistory;
use yew::prelude::*;

use super::{run_cells, run_heading, run_label, unreadable, HistoryChartProps};
use crate::api;
use crate::charts::grouped_bars::Group;
use crate::charts::Theme;
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas};
use crate::components::section::Section;
use crate::format::count;

#[component]
pub fn RowsSection(props: &HistoryChartProps) -> Html {
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
        <Section id="rows" title="Rows per run" subtitle={AttrValue::from("Succeeded + failed = processed; logarithmic scale")}
            status={history.status.clone()} {empty} empty_text={AttrValue::from("No successful run yet.")}
            {table} csv_href={AttrValue::from(csv)}>
            { chart }
        </Section>
    }
}

fn chart(h: &QualityHistory, theme: &Theme, dark: bool, epoch: u32) -> Html {
    let groups: Vec<Group> = h
        .runs
        .iter()
        .map(|r| Group {
            label: run_label(r),
            // A run without figures keeps its slot, empty: a visible gap.
            values: r
                .rows
                .as_ref()
                .map(|rows| [rows.processed, rows.succeeded, rows.failed].map(|v| v as f64).to_vec())
                .unwrap_or_default(),
        })
        .collect();
    let tips: Vec<String> = h
        .runs
        .iter()
        .map(|r| match &r.rows {
            Some(rows) => format!(
                "{}\nProcessed: {}\nSucceeded: {}\nFailed: {}",
                run_heading(r),
                count(rows.processed),
                count(rows.succeeded),
                count(rows.failed)
            ),
            None => format!("{}\n{}", run_heading(r), unreadable(r)),
        })
        .collect();
    let colors = vec![theme.primary, theme.growth, theme.decline];
    html! {
        <>
            <ChartCanvas chart={Chart::Grouped { groups, colors, axis: Axis::Count }} tooltips={tips}
                label="Rows processed, succeeded and failed per run" {dark} {epoch} height={260} />
            <p class="legend">
                <span class="legend-item"><span class="swatch primary"></span>{ "Processed" }</span>
                <span class="legend-item"><span class="swatch up"></span>{ "Succeeded" }</span>
                <span class="legend-item"><span class="swatch down"></span>{ "Failed" }</span>
            </p>
        </>
    }
}

fn table(h: &QualityHistory) -> Html {
    html! {
        <div class="table-wrap"><table class="stack">
            <thead><tr><th>{"Run"}</th><th>{"Finished"}</th><th class="num">{"Processed"}</th><th class="num">{"Succeeded"}</th><th class="num">{"Failed"}</th></tr></thead>
            <tbody>{ for h.runs.iter().rev().map(|r| html! {
                <tr data-run={r.run_id.to_string()}>
                    { run_cells(r) }
                    if let Some(rows) = &r.rows {
                        <td class="num" data-label="Processed">{ count(rows.processed) }</td>
                        <td class="num" data-label="Succeeded">{ count(rows.succeeded) }</td>
                        <td class={classes!("num", (rows.failed > 0).then_some("warn"))} data-label="Failed">{ count(rows.failed) }</td>
                    } else {
                        <td class="warn unreadable" colspan="3">{ unreadable(r) }</td>
                    }
                </tr>
            }) }</tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::quality::fixtures::{history, run};
    use crate::components::ssr::render;

    #[tokio::test]
    async fn one_row_per_run_with_its_counts() {
        let html = render(|| table(&history(vec![run(1, 6_540, 0), run(3, 7_857, 4)]))).await;
        assert_eq!(html.matches("<tr data-run").count(), 2);
        assert!(
            html.contains(r#"<td data-label="Failed" class="num warn">4</td>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"<td data-label="Processed" class="num">10,075</td>"#),
            "{html}"
        );
    }
}

//! Month-over-month revenue growth, declines in red.

use api_types::RevenueGrowthReport;
use yew::prelude::*;

use super::{incomplete_note, ChartSectionProps, PartialMonth};
use crate::api;
use crate::charts::{growth_color, Bar, Theme};
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas, Pick};
use crate::components::drill::{month_link, use_month_picker};
use crate::components::section::Section;
use crate::format::{money, month_label, month_short, percent};
use crate::hooks::use_fetch;

#[component]
pub fn GrowthSection(props: &ChartSectionProps) -> Html {
    let report = use_fetch(props.view.clone(), |v| async move { api::growth(&v).await });
    let data = report.data();
    // A click on a month opens it (the table's months are links too).
    let months = data.as_ref().map(|r| r.months.iter().map(|m| m.month).collect());
    let onpick = use_month_picker(months.unwrap_or_default(), data.as_ref().map(|r| r.currency));
    let empty = data.as_ref().is_some_and(|r| {
        r.months
            .iter()
            .all(|m| m.revenue.is_zero() && m.previous_revenue.is_none())
    });
    let (chart, table) = match &data {
        Some(r) => (
            chart(r, &props.theme(), props.dark, props.epoch, onpick),
            Some(table(r)),
        ),
        None => (html! {}, None),
    };
    html! {
        <Section id="growth" title="Monthly revenue growth" status={report.status()} {empty} {table}
            csv_href={AttrValue::from(api::csv_url("/reports/revenue-growth", &props.view.api_query()))}>
            { chart }
        </Section>
    }
}

/// The month of the window the data do not cover whole (the latest with data).
fn partial_month(r: &RevenueGrowthReport) -> Option<PartialMonth<'_>> {
    r.months
        .iter()
        .rev()
        .find(|m| !m.complete && !m.revenue.is_zero())
        .map(|m| PartialMonth {
            month: m.month,
            in_progress: m.in_progress,
            data_stop: r.latest_transaction_at.as_ref(),
        })
}

fn chart(r: &RevenueGrowthReport, theme: &Theme, dark: bool, epoch: u32, onpick: Callback<Pick>) -> Html {
    let c = &r.currency;
    let partial = partial_month(r);
    let tag = |m: &api_types::RevenueGrowthRow| match partial {
        Some(p) if p.month == m.month => format!(" {}", p.tag()),
        _ if m.complete => String::new(),
        _ => " (no data)".to_owned(),
    };
    let bars: Vec<Bar> = r
        .months
        .iter()
        .map(|m| Bar {
            label: month_short(m.month),
            value: m.growth_pct.map_or(0.0, |p| p.hundredths() as f64 / 100.0),
            color: growth_color(m.growth_pct, m.complete, theme),
            partial: (!m.complete).then(|| percent(m.growth_pct)),
        })
        .collect();
    let tips: Vec<String> = r
        .months
        .iter()
        .map(|m| {
            format!(
                "{}{}\nGrowth: {}\nRevenue: {}\nPrevious month: {}",
                month_label(m.month),
                tag(m),
                percent(m.growth_pct),
                money(m.revenue, c),
                m.previous_revenue.map_or("–".to_owned(), |p| money(p, c))
            )
        })
        .collect();
    html! {
        <>
            <ChartCanvas chart={Chart::Vertical { bars, axis: Axis::Percent }} tooltips={tips}
                label="Month-over-month revenue growth; click a month to open it" {dark} {epoch} onpick={Some(onpick)} />
            <p class="legend"><span class="swatch up"></span>{ "Growth " }<span class="swatch down"></span>{ "Decline" }</p>
            { incomplete_note(partial) }
        </>
    }
}

fn table(r: &RevenueGrowthReport) -> Html {
    let c = &r.currency;
    html! {
        <div class="table-wrap"><table>
            <thead><tr><th>{"Month"}</th><th>{"Revenue"}</th><th>{"Previous month"}</th><th>{"Growth"}</th></tr></thead>
            <tbody>{ for r.months.iter().map(|m| html! {
                <tr class={classes!(m.declined.then_some("declined"))}><td>{ month_link(m.month, Some(r.currency), html! { { month_label(m.month) } }) }{ if m.complete { "" } else { " *" } }</td>
                <td>{ money(m.revenue, c) }</td><td>{ m.previous_revenue.map_or("–".to_owned(), |p| money(p, c)) }</td><td>{ percent(m.growth_pct) }</td></tr>
            }) }</tbody>
        </table></div>
    }
}

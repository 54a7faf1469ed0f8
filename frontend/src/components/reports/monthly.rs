//! Average transaction amount per month, in the page's window.

use api_types::MonthlyTransactionsReport;
use yew::prelude::*;

use super::{incomplete_note, ChartSectionProps, PartialMonth};
use crate::api;
use crate::charts::{faded, Bar, Theme};
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas, Pick};
use crate::components::drill::{month_link, use_month_picker};
use crate::components::section::Section;
use crate::format::{count, money, month_label, month_short};
use crate::hooks::use_fetch;

#[component]
pub fn MonthlySection(props: &ChartSectionProps) -> Html {
    let report = use_fetch(props.view.clone(), |v| async move { api::monthly(&v).await });
    let data = report.data();
    // A click on a month opens it (the table's months are links too).
    let months = data.as_ref().map(|r| r.months.iter().map(|m| m.month).collect());
    let onpick = use_month_picker(months.unwrap_or_default(), data.as_ref().map(|r| r.currency));
    let empty = data
        .as_ref()
        .is_some_and(|r| r.months.iter().all(|m| m.transactions == 0));
    let (chart, table, subtitle) = match &data {
        Some(r) => (
            chart(r, &props.theme(), props.dark, props.epoch, onpick),
            Some(table(r)),
            Some(format!(
                "{} to {}, {}",
                month_label(r.window.from),
                month_label(r.window.to),
                r.currency.as_str().to_uppercase()
            )),
        ),
        None => (html! {}, None, None),
    };
    html! {
        <Section id="monthly" title="Average transaction amount per month" subtitle={subtitle.map(AttrValue::from)}
            status={report.status()} {empty} {table}
            csv_href={AttrValue::from(api::csv_url("/reports/monthly-transactions", &props.view.api_query()))}>
            { chart }
        </Section>
    }
}

/// The month of the window the data do not cover whole (the latest with data).
fn partial_month(r: &MonthlyTransactionsReport) -> Option<PartialMonth<'_>> {
    r.months
        .iter()
        .rev()
        .find(|m| !m.complete && m.transactions > 0)
        .map(|m| PartialMonth {
            month: m.month,
            in_progress: m.in_progress,
            data_stop: r.latest_transaction_at.as_ref(),
        })
}

fn chart(r: &MonthlyTransactionsReport, theme: &Theme, dark: bool, epoch: u32, onpick: Callback<Pick>) -> Html {
    let partial = partial_month(r);
    let tag = |m: &api_types::MonthlyTransactionsRow| match partial {
        Some(p) if p.month == m.month => format!(" {}", p.tag()),
        _ if m.complete => String::new(),
        _ => " (no data)".to_owned(),
    };
    let bars: Vec<Bar> = r
        .months
        .iter()
        .map(|m| Bar {
            label: month_short(m.month),
            value: m.avg_transaction_amount.to_f64(),
            color: if m.complete {
                theme.primary
            } else {
                faded(theme.primary, theme)
            },
            partial: (!m.complete).then(|| money(m.avg_transaction_amount, r.currency)),
        })
        .collect();
    let tips: Vec<String> = r
        .months
        .iter()
        .map(|m| {
            format!(
                "{}{}\nAverage: {}\nTransactions: {}\nActive customers: {}\nRevenue: {}",
                month_label(m.month),
                tag(m),
                money(m.avg_transaction_amount, r.currency),
                count(m.transactions),
                count(m.active_customers),
                money(m.revenue, r.currency)
            )
        })
        .collect();
    html! {
        <>
            <ChartCanvas chart={Chart::Vertical { bars, axis: Axis::Money(r.currency) }} tooltips={tips}
                label="Average transaction amount per month; click a month to open it" {dark} {epoch} onpick={Some(onpick)} />
            { incomplete_note(partial) }
        </>
    }
}

fn table(r: &MonthlyTransactionsReport) -> Html {
    html! {
        <div class="table-wrap"><table>
            <thead><tr><th>{"Month"}</th><th>{"Transactions"}</th><th>{"Active customers"}</th><th>{"Revenue"}</th><th>{"Avg / transaction"}</th><th>{"Avg / customer"}</th></tr></thead>
            <tbody>{ for r.months.iter().map(|m| html! {
                <tr><td>{ month_link(m.month, Some(r.currency), html! { { month_label(m.month) } }) }{ if m.complete { "" } else { " *" } }</td><td>{ count(m.transactions) }</td><td>{ count(m.active_customers) }</td>
                <td>{ money(m.revenue, r.currency) }</td><td>{ money(m.avg_transaction_amount, r.currency) }</td><td>{ money(m.avg_amount_per_customer, r.currency) }</td></tr>
            }) }</tbody>
        </table></div>
    }
}

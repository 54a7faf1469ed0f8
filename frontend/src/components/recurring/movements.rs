//! What moved MRR each month: new business, expansion and reactivation up,
//! contraction and churn down, the net change as a marker. A click on a
//! bar's segment (or a button of the data table, for the keyboard) lists
//! the customers behind that movement.

use api_types::{Currency, Month, SaasMonth, SaasMovementCustomers, SaasMovementKind, SaasMrrReport};
use yew::prelude::*;

use super::{axis_labels, caveat, month_heading, no_months, warm_up_caveat, QueryProps, NO_DATA};
use crate::charts::movements::color;
use crate::charts::{css, Theme};
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas, Pick};
use crate::components::section::Section;
use crate::format::{count, money, month_label, share, signed_money};
use crate::recurring::caveats::left_censored;
use crate::recurring::kind_label;
use crate::recurring::layout::{amount, layout, DOWN, UP};
use crate::recurring::query::{MovementPick, RecurringQuery};

/// The movements in the order of the chart's legend and the table's columns.
const ORDER: [SaasMovementKind; 5] = [UP[0], UP[1], UP[2], DOWN[0], DOWN[1]];

/// How many customers a movement has in a month.
pub fn customers(c: &SaasMovementCustomers, kind: SaasMovementKind) -> u64 {
    match kind {
        SaasMovementKind::New => c.new,
        SaasMovementKind::Expansion => c.expansion,
        SaasMovementKind::Contraction => c.contraction,
        SaasMovementKind::Churn => c.churn,
        SaasMovementKind::Reactivation => c.reactivation,
    }
}

#[component]
pub fn MovementsSection(props: &QueryProps) -> Html {
    let report = &props.report;
    let pick = |month: Month, kind| {
        let (q, on_query) = (props.query.clone(), props.on_query.clone());
        move |_: MouseEvent| on_query.emit(q.with_movement(Some(MovementPick { month, kind })))
    };
    let (chart, table) = match &report.data {
        Some(r) if r.months.len() > 1 => (chart(r, props), Some(table(r, &props.query, &pick))),
        _ => (html! {}, None),
    };
    let one_month = report.data.as_ref().is_some_and(|r| r.months.len() == 1);
    let empty_text = if one_month {
        "Movements compare two month closes: the data has one closed month so far."
    } else {
        NO_DATA
    };
    html! {
        <Section id="movements" title="MRR movements per month"
            subtitle={AttrValue::from("Click a bar, or a figure of the data table, to list its customers")}
            status={report.shown_status()} empty={no_months(report) || one_month} empty_text={AttrValue::from(empty_text)} {table}>
            { chart }
        </Section>
    }
}

fn tooltip(m: &SaasMonth, c: &Currency) -> String {
    let (Some(mv), Some(n)) = (&m.movements, &m.movement_customers) else {
        return format!("{}\nOpening month: no earlier close to compare with", month_heading(m));
    };
    let mut tip = month_heading(m);
    for kind in ORDER {
        tip.push_str(&format!(
            "\n{}: {} ({} customers)",
            kind_label(kind),
            money(amount(mv, kind), c),
            count(customers(n, kind) as i64)
        ));
    }
    tip.push_str(&format!("\nNet new MRR: {}", signed_money(mv.net_new, c)));
    if !mv.new_left_censored.is_zero() {
        tip.push_str(&format!(
            "\nOf new business, maybe older than the data: {}",
            money(mv.new_left_censored, c)
        ));
    }
    tip
}

fn chart(r: &SaasMrrReport, props: &QueryProps) -> Html {
    let t = Theme::of(props.dark);
    let l = layout(&r.months);
    let onpick = {
        let (l, months, q, on_query) = (l.clone(), r.months.clone(), props.query.clone(), props.on_query.clone());
        Callback::from(move |p: Pick| {
            let kind = p.value.and_then(|v| l.kind_at(p.index, v));
            if let (Some(kind), Some(m)) = (kind, months.get(p.index)) {
                on_query.emit(q.with_movement(Some(MovementPick { month: m.month, kind })));
            }
        })
    };
    let selected = props
        .query
        .movement
        .as_ref()
        .and_then(|p| Some((r.months.iter().position(|m| m.month == p.month)?, p.kind)));
    let tips: Vec<String> = r.months.iter().map(|m| tooltip(m, &r.currency)).collect();
    let censored: Vec<String> = left_censored(&r.months)
        .iter()
        .map(|(m, p)| format!("{} {}", month_label(*m), share(Some(*p))))
        .collect();
    html! {
        <>
            <ChartCanvas chart={Chart::Movements { x_labels: axis_labels(&r.months), layout: l, selected, axis: Axis::Money(r.currency) }}
                tooltips={tips} label="MRR movements per month: new business, expansion and reactivation up; contraction and churn down; net new MRR marked"
                dark={props.dark} epoch={props.epoch} height={300} {onpick} />
            { legend(&t) }
            if !censored.is_empty() {
                { caveat(format!("New business that may renew a subscription begun before the data (its first invoice \
                    comes too early for the data to show its start): {}.", censored.join(", "))) }
            }
            { warm_up_caveat(&r.months, "the new business of the following months includes such renewals.") }
        </>
    }
}

fn legend(t: &Theme) -> Html {
    html! {
        <p class="legend series-legend long">
            { for ORDER.iter().map(|k| html! {
                <span class="legend-item" data-kind={k.as_str()}>
                    <span class="swatch" style={format!("background:{}", css(color(*k, t)))}></span>{ kind_label(*k) }
                </span>
            }) }
            <span class="legend-item"><span class="swatch marker"></span>{ "Net new MRR" }</span>
        </p>
    }
}

fn cell<F: Fn(MouseEvent) + 'static>(
    m: &SaasMonth,
    kind: SaasMovementKind,
    c: &Currency,
    selected: bool,
    onclick: F,
) -> Html {
    let (Some(mv), Some(n)) = (&m.movements, &m.movement_customers) else {
        return html! { <td class="num" data-label={kind_label(kind)}>{ "–" }</td> };
    };
    let customers = customers(n, kind);
    let text = money(amount(mv, kind), c);
    if customers == 0 {
        return html! { <td class="num" data-label={kind_label(kind)}>{ text }</td> };
    }
    let label = format!(
        "List the {customers} customers of {} in {}",
        kind_label(kind).to_lowercase(),
        month_label(m.month)
    );
    html! {
        <td class="num" data-label={kind_label(kind)}>
            <button class="link movement" data-month={m.month.to_string()} data-kind={kind.as_str()} aria-label={label.clone()}
                title={label} aria-pressed={selected.to_string()} onclick={Callback::from(onclick)}>
                { text }<span class="count">{ format!(" ({})", count(customers as i64)) }</span>
            </button>
        </td>
    }
}

fn table<F, H>(r: &SaasMrrReport, q: &RecurringQuery, pick: &F) -> Html
where
    F: Fn(Month, SaasMovementKind) -> H,
    H: Fn(MouseEvent) + 'static,
{
    let c = &r.currency;
    let is = |m: &SaasMonth, k| q.movement.as_ref().is_some_and(|p| p.month == m.month && p.kind == k);
    html! {
        <div class="table-wrap"><table class="stack movements">
            <thead><tr>
                <th>{"Month"}</th>
                { for ORDER.iter().map(|k| html! { <th class="num">{ kind_label(*k) }</th> }) }
                <th class="num">{"Net new MRR"}</th>
            </tr></thead>
            <tbody>{ for r.months.iter().skip(1).map(|m| html! {
                <tr data-month={m.month.to_string()}>
                    <th scope="row" data-label="Month">{ month_heading(m) }</th>
                    { for ORDER.iter().map(|k| cell(m, *k, c, is(m, *k), pick(m.month, *k))) }
                    <td class="num" data-label="Net new MRR">{ m.movements.as_ref().map_or("–".to_owned(), |mv| signed_money(mv.net_new, c)) }</td>
                </tr>
            }) }</tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use api_types::SaasMovementCustomers;

    use super::*;
    use crate::components::recurring::fixtures::report;
    use crate::components::ssr::render;

    fn with_counts() -> SaasMrrReport {
        let mut r = report();
        r.months[1].movement_customers = Some(SaasMovementCustomers {
            new: 3,
            expansion: 1,
            contraction: 1,
            churn: 2,
            reactivation: 1,
            new_left_censored: 0,
        });
        r
    }

    #[tokio::test]
    async fn a_button_per_movement_with_customers() {
        let html = render(|| {
            let q = RecurringQuery::default();
            table(&with_counts(), &q, &|_, _| |_: MouseEvent| ())
        })
        .await;
        // The opening month has no row; a month without counts shows no buttons.
        assert_eq!(html.matches("<tr data-month").count(), 2);
        assert_eq!(html.matches("<button").count(), 5, "{html}");
        assert!(
            html.contains(
                r#"data-month="2024-02" data-kind="churn" aria-label="List the 2 customers of churn in Feb 2024""#
            ),
            "{html}"
        );
        assert!(html.contains(r#"$30.00<span class="count"> (2)</span>"#), "{html}");
        assert!(html.contains("+$95.00"), "{html}");
    }

    #[test]
    fn tooltips_give_every_movement_and_the_net() {
        let r = with_counts();
        let tip = tooltip(&r.months[1], &"usd".parse().unwrap());
        assert!(
            tip.contains("New business: $100.00 (3 customers)") && tip.contains("Churn: $30.00 (2 customers)"),
            "{tip}"
        );
        assert!(tip.ends_with("Net new MRR: +$95.00"), "{tip}");
        assert!(tooltip(&r.months[0], &"usd".parse().unwrap()).contains("Opening month"));
    }
}

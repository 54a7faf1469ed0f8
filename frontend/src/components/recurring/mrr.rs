//! MRR at each month close: a line on top of stacked bands that split it by
//! the evidence for each invoice's interval (observed cadence, products
//! file, assumption), so the share resting on an assumption is visible in
//! every month (spec §14).

use api_types::{Currency, Money, SaasMonth, SaasMrrBySource, SaasMrrReport};
use yew::prelude::*;

use super::{axis_labels, caveat, month_heading, no_months, warm_up_caveat, MrrChartProps, NO_DATA};
use crate::api::saas::report_csv_url;
use crate::charts::areas::Layer;
use crate::charts::{css, Theme};
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas};
use crate::components::section::Section;
use crate::format::{count, money, month_label, share};
use crate::recurring::caveats::{evidence, share as share_of};
use crate::recurring::query::RecurringQuery;

/// One of the interval sources of spec §5: its name, its part of a month's
/// MRR, and its colour (an index of [`Theme::series`]).
pub struct Source {
    pub name: &'static str,
    pub amount: fn(&SaasMrrBySource) -> Money,
    pub color: usize,
}

/// The six interval sources, bottom band first: observed cadence in cool
/// colours, the assumptions in warm ones on top.
pub const SOURCES: [Source; 6] = [
    Source {
        name: "Observed cadence (next invoice)",
        amount: |s| s.observed_next,
        color: 2,
    },
    Source {
        name: "Observed cadence (previous invoice)",
        amount: |s| s.observed_previous,
        color: 5,
    },
    Source {
        name: "Products file: annual",
        amount: |s| s.catalogue_year,
        color: 1,
    },
    Source {
        name: "Products file: monthly",
        amount: |s| s.catalogue_month,
        color: 4,
    },
    Source {
        name: "Assumed annual (no evidence, at or above the threshold)",
        amount: |s| s.assumed_annual,
        color: 0,
    },
    Source {
        name: "Assumed monthly (no evidence, below the threshold)",
        amount: |s| s.assumed_monthly,
        color: 3,
    },
];

#[component]
pub fn MrrSection(props: &MrrChartProps) -> Html {
    let report = &props.report;
    let (chart, table) = match &report.data {
        Some(r) if !r.months.is_empty() => (
            chart(r, &Theme::of(props.dark), props.dark, props.epoch),
            Some(table(r)),
        ),
        _ => (html! {}, None),
    };
    let csv = report
        .data
        .as_ref()
        .map(|r| report_csv_url("/reports/saas/mrr", &currency_query(&r.currency)));
    html! {
        <Section id="mrr" title="MRR per month close" subtitle={AttrValue::from("Split by the evidence for each invoice's interval")}
            status={report.shown_status()} empty={no_months(report)} empty_text={AttrValue::from(NO_DATA)} {table}
            csv_href={csv.map(AttrValue::from)}>
            { chart }
        </Section>
    }
}

/// The report's own currency, so the CSV is of the figures shown.
fn currency_query(currency: &Currency) -> RecurringQuery {
    RecurringQuery {
        currency: Some(*currency),
        ..RecurringQuery::default()
    }
}

fn tooltip(m: &SaasMonth, c: &Currency) -> String {
    let mut tip = format!(
        "{}\nMRR: {}\nCustomers: {}",
        month_heading(m),
        money(m.mrr, c),
        count(m.customers as i64)
    );
    for source in SOURCES.iter().rev() {
        let v = (source.amount)(&m.mrr_by_interval_source);
        if !v.is_zero() {
            tip.push_str(&format!(
                "\n{}: {} ({})",
                source.name,
                money(v, c),
                share(share_of(v, m.mrr))
            ));
        }
    }
    tip
}

fn chart(r: &SaasMrrReport, t: &Theme, dark: bool, epoch: u32) -> Html {
    let c = &r.currency;
    let layers: Vec<Layer> = SOURCES
        .iter()
        .map(|source| Layer {
            name: source.name.to_owned(),
            color: t.series[source.color],
            values: r
                .months
                .iter()
                .map(|m| (source.amount)(&m.mrr_by_interval_source).to_f64())
                .collect(),
        })
        .collect();
    let tips: Vec<String> = r.months.iter().map(|m| tooltip(m, c)).collect();
    let last = r.months.last();
    let assumed = last.map(|m| (month_label(m.month), evidence(m).assumed));
    html! {
        <>
            <ChartCanvas chart={Chart::Areas { x_labels: axis_labels(&r.months), layers, total: t.primary, axis: Axis::Money(*c) }}
                tooltips={tips} label="MRR per month close, split by the evidence for each invoice's interval" {dark} {epoch} height={300} />
            <p class="legend series-legend long">
                <span class="legend-item"><span class="swatch line bold" style={format!("background:{}", css(t.primary))}></span>{ "MRR" }</span>
                { for SOURCES.iter().map(|source| html! {
                    <span class="legend-item"><span class="swatch" style={format!("background:{}", css(t.series[source.color]))}></span>{ source.name }</span>
                }) }
            </p>
            if let Some((month, Some(p))) = assumed.filter(|(_, p)| p.is_some_and(|p| p.hundredths() > 0)) {
                { caveat(format!("The two assumed bands are MRR whose interval nobody observed: {} of {month}'s MRR. \
                    Had those invoices been monthly or annual instead, MRR and churn would differ.", share(Some(p)))) }
            }
            { warm_up_caveat(&r.months, "MRR there is incomplete, and part of the growth that follows is such plans appearing, not new revenue.") }
        </>
    }
}

fn table(r: &SaasMrrReport) -> Html {
    let c = &r.currency;
    html! {
        <div class="table-wrap"><table class="stack">
            <thead><tr>
                <th>{"Month"}</th><th class="num">{"MRR"}</th><th class="num">{"ARR"}</th><th class="num">{"Customers"}</th>
                <th class="num">{"ARPA"}</th><th class="num">{"Observed"}</th><th class="num">{"Products file"}</th><th class="num">{"Assumed"}</th>
            </tr></thead>
            <tbody>{ for r.months.iter().map(|m| {
                let e = evidence(m);
                html! {
                    <tr data-month={m.month.to_string()}>
                        <th scope="row" data-label="Month">{ month_heading(m) }</th>
                        <td class="num" data-label="MRR">{ money(m.mrr, c) }</td>
                        <td class="num" data-label="ARR">{ money(m.arr, c) }</td>
                        <td class="num" data-label="Customers">{ count(m.customers as i64) }</td>
                        <td class="num" data-label="ARPA">{ m.arpa.map_or("–".to_owned(), |a| money(a, c)) }</td>
                        <td class="num" data-label="Observed">{ share(e.observed) }</td>
                        <td class="num" data-label="Products file">{ share(e.catalogue) }</td>
                        <td class="num" data-label="Assumed">{ share(e.assumed) }</td>
                    </tr>
                }
            }) }</tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::recurring::fixtures::report;
    use crate::components::ssr::render;

    #[tokio::test]
    async fn one_row_per_month_warm_up_marked() {
        let html = render(|| table(&report())).await;
        assert_eq!(html.matches("<tr data-month").count(), 3);
        assert!(
            html.contains("Jan 2024 (warm-up)") && !html.contains("Feb 2024 (warm-up)"),
            "{html}"
        );
        assert!(
            html.contains(r#"<td data-label="MRR" class="num">$1,095.00</td>"#),
            "{html}"
        );
    }

    #[test]
    fn the_tooltip_names_each_source_with_its_share() {
        let mut m = report().months.remove(2);
        m.mrr_by_interval_source.observed_next = Money::new(80_250, 2);
        m.mrr_by_interval_source.assumed_annual = Money::new(26_750, 2);
        let tip = tooltip(&m, &"usd".parse().unwrap());
        assert!(tip.starts_with("Mar 2024\nMRR: $1,070.00\nCustomers: 38"), "{tip}");
        assert!(
            tip.contains("Assumed annual (no evidence, at or above the threshold): $267.50 (25.00%)"),
            "{tip}"
        );
        assert!(!tip.contains("Products file"), "no zero sources: {tip}");
    }
}

//! The rates per month: churn (customers and MRR lost), retention of
//! existing customers' revenue (NRR, GRR), and the quick ratio. Each has its
//! own axis: churn is a few percent, retention near 100%, the ratio no percent.

use api_types::{Percent, Ratio, SaasMonth, SaasMrrReport};
use yew::prelude::*;

use super::{axis_labels, caveat, month_heading, no_months, warm_up_caveat, NO_DATA};
use crate::charts::lines::{padded_range, Series};
use crate::charts::{css, Theme};
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas};
use crate::components::section::Section;
use crate::format::count;
use crate::hooks::Fetched;
use crate::recurring::caveats::{annual_churn_unobservable, few_customers};

/// One line of a rate chart: its name, what it means, and its value in a month.
struct Rate {
    name: &'static str,
    meaning: &'static str,
    value: fn(&SaasMonth) -> Option<i64>,
}

fn pct(p: Option<Percent>) -> Option<i64> {
    p.map(Percent::hundredths)
}

fn ratio(r: Option<Ratio>) -> Option<i64> {
    r.map(Ratio::hundredths)
}

/// Which rates a section draws.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RateGroup {
    Churn,
    Retention,
    QuickRatio,
}

impl RateGroup {
    fn rates(self) -> Vec<Rate> {
        match self {
            RateGroup::Churn => vec![
                Rate {
                    name: "Logo churn",
                    meaning: "customers lost ÷ customers at the previous close",
                    value: |m| pct(m.logo_churn_rate_pct),
                },
                Rate {
                    name: "Gross MRR churn",
                    meaning: "(churn + contraction) ÷ MRR at the previous close",
                    value: |m| pct(m.gross_mrr_churn_rate_pct),
                },
            ],
            RateGroup::Retention => vec![
                Rate {
                    name: "NRR",
                    meaning: "existing customers' MRR now, expansion included, ÷ their MRR a month before",
                    value: |m| pct(m.nrr_pct),
                },
                Rate {
                    name: "GRR",
                    meaning: "as NRR without expansion: never above 100%",
                    value: |m| pct(m.grr_pct),
                },
            ],
            RateGroup::QuickRatio => vec![Rate {
                name: "Quick ratio",
                meaning: "(new + expansion + reactivation) ÷ (churn + contraction): above 1, MRR grows",
                value: |m| ratio(m.quick_ratio),
            }],
        }
    }

    /// Section id, title, the reference line the axis always shows, the axis, the unit.
    fn frame(self) -> (&'static str, &'static str, f64, Axis, &'static str) {
        match self {
            RateGroup::Churn => ("churn", "Churn rates", 0.0, Axis::PercentFine, "%"),
            RateGroup::Retention => (
                "retention",
                "Net and gross revenue retention",
                100.0,
                Axis::Percent,
                "%",
            ),
            RateGroup::QuickRatio => ("quick-ratio", "Quick ratio", 1.0, Axis::Ratio, ""),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct RatesProps {
    pub group: RateGroup,
    pub report: Fetched<SaasMrrReport>,
    pub dark: bool,
    pub epoch: u32,
}

/// A value in hundredths as text: `"2.69%"`, `"1.25"`, `"–"`.
fn shown(v: Option<i64>, unit: &str) -> String {
    v.map_or("–".to_owned(), |h| format!("{}{unit}", Percent(h)))
}

#[component]
pub fn RatesSection(props: &RatesProps) -> Html {
    let (id, title, _, _, _) = props.group.frame();
    let report = &props.report;
    let (chart, table) = match &report.data {
        Some(r) if r.months.len() > 1 => (chart(r, props), Some(table(r, props.group))),
        _ => (html! {}, None),
    };
    let one_month = report.data.as_ref().is_some_and(|r| r.months.len() == 1);
    let empty_text = if one_month {
        "Rates compare two month closes: the data has one closed month so far."
    } else {
        NO_DATA
    };
    html! {
        <Section id={id} title={title} status={report.shown_status()} empty={no_months(report) || one_month}
            empty_text={AttrValue::from(empty_text)} {table}>
            { chart }
        </Section>
    }
}

fn series(r: &SaasMrrReport, group: RateGroup, t: &Theme) -> Vec<Series> {
    let colors = [t.primary, t.series[0]];
    group
        .rates()
        .iter()
        .zip(colors)
        .map(|(rate, color)| Series {
            name: rate.name.to_owned(),
            color,
            values: r
                .months
                .iter()
                .map(|m| (rate.value)(m).map(|h| h as f64 / 100.0))
                .collect(),
            bold: color == t.primary,
        })
        .collect()
}

fn chart(r: &SaasMrrReport, props: &RatesProps) -> Html {
    let t = Theme::of(props.dark);
    let (_, title, reference, axis, unit) = props.group.frame();
    let series = series(r, props.group, &t);
    let range = padded_range(&series, &[reference]);
    let rates = props.group.rates();
    let tips: Vec<String> = r
        .months
        .iter()
        .map(|m| {
            let lines = rates
                .iter()
                .map(|x| format!("\n{}: {}", x.name, shown((x.value)(m), unit)));
            format!("{}{}", month_heading(m), lines.collect::<String>())
        })
        .collect();
    html! {
        <>
            <ChartCanvas chart={Chart::Trend { x_labels: axis_labels(&r.months), series: series.clone(), range, axis }}
                tooltips={tips} label={AttrValue::from(format!("{title} per month"))} dark={props.dark} epoch={props.epoch} />
            <p class="legend series-legend long">
                { for rates.iter().zip(&series).map(|(x, s)| html! {
                    <span class="legend-item" title={x.meaning}>
                        <span class={classes!("swatch", "line", s.bold.then_some("bold"))} style={format!("background:{}", css(s.color))}></span>
                        { format!("{}: {}", x.name, x.meaning) }
                    </span>
                }) }
            </p>
            { notes(r, props.group) }
        </>
    }
}

/// The caveats that concern rates: annual plans that cannot churn yet, few customers, warm-up.
fn notes(r: &SaasMrrReport, group: RateGroup) -> Html {
    let months = &r.months;
    html! {
        <>
            if group != RateGroup::QuickRatio && annual_churn_unobservable(months) {
                { caveat(format!("Annual churn is not observable yet: the data has {} closed months, and an annual plan \
                    that began in it cannot lapse before its twelfth month. These rates are of monthly and quarterly \
                    plans in effect{}.", months.len(),
                    if group == RateGroup::Retention { "; 12-month retention needs 13 closed months" } else { "" })) }
            }
            if let Some(n) = few_customers(months) {
                { caveat(format!("Only {} customers in {}: one customer moves these rates by several points; read them \
                    as arithmetic, not as a trend.", count(n as i64), r.currency.as_str().to_uppercase())) }
            }
            // Once per page is enough for the three rate charts: beside the churn.
            if group == RateGroup::Churn {
                { warm_up_caveat(months, "rates there compare closes that miss such plans.") }
            }
        </>
    }
}

fn table(r: &SaasMrrReport, group: RateGroup) -> Html {
    let (_, _, _, _, unit) = group.frame();
    let rates = group.rates();
    html! {
        <div class="table-wrap"><table class="stack">
            <thead><tr>
                <th>{"Month"}</th>
                { for rates.iter().map(|x| html! { <th class="num" title={x.meaning}>{ x.name }</th> }) }
            </tr></thead>
            <tbody>{ for r.months.iter().skip(1).map(|m| html! {
                <tr data-month={m.month.to_string()}>
                    <th scope="row" data-label="Month">{ month_heading(m) }</th>
                    { for rates.iter().map(|x| html! { <td class="num" data-label={x.name}>{ shown((x.value)(m), unit) }</td> }) }
                </tr>
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
    async fn rows_after_the_opening_month_with_their_rates() {
        let mut r = report();
        r.months[2].logo_churn_rate_pct = Some(Percent(500));
        r.months[2].quick_ratio = Some(Ratio(17));
        let churn = r.clone();
        let html = render(move || table(&churn, RateGroup::Churn)).await;
        assert_eq!(html.matches("<tr data-month").count(), 2);
        assert!(
            html.contains(r#"<td data-label="Logo churn" class="num">5.00%</td>"#),
            "{html}"
        );
        let html = render(move || table(&r, RateGroup::QuickRatio)).await;
        assert!(
            html.contains(r#"data-label="Quick ratio" class="num">0.17</td>"#),
            "{html}"
        );
    }

    #[test]
    fn lines_have_gaps_where_a_rate_is_undefined() {
        let mut r = report();
        r.months[1].nrr_pct = Some(Percent(10_103));
        let s = series(&r, RateGroup::Retention, &Theme::LIGHT);
        assert_eq!(s[0].values, [None, Some(101.03), None]);
        assert!(s[0].bold && !s[1].bold);
    }
}

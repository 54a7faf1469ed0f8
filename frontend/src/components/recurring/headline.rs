//! The last closed month's MRR, ARR, customers and ARPA, each with its
//! change since the month before, and how much of that MRR rests on an
//! assumption about its invoices' intervals (spec §14).

use api_types::{Currency, Money, SaasMonth, SaasMrrReport};
use yew::prelude::*;

use super::{caveat, no_months, NO_DATA};
use crate::components::section::Section;
use crate::format::{count, money, month_label, percent, share, signed_count, signed_money};
use crate::hooks::Fetched;
use crate::recurring::caveats::evidence;

#[derive(Properties, PartialEq)]
pub struct HeadlineProps {
    pub report: Fetched<SaasMrrReport>,
}

#[component]
pub fn HeadlineSection(props: &HeadlineProps) -> Html {
    let report = &props.report;
    let last = report
        .data
        .as_ref()
        .and_then(|r| r.months.last().map(|m| (r.clone(), m.clone())));
    let title = last.as_ref().map_or("Recurring revenue".to_owned(), |(_, m)| {
        format!("Recurring revenue at the close of {}", month_label(m.month))
    });
    html! {
        <Section id="saas-headline" title={AttrValue::from(title)} status={report.shown_status()} empty={no_months(report)}
            empty_text={AttrValue::from(NO_DATA)}>
            { last.map(|(r, m)| figures(&r, &m)).unwrap_or_default() }
        </Section>
    }
}

/// A change of money since the month before: `"+$513.00 since Aug 2024"`.
fn money_change(now: Money, before: Option<Money>, c: &Currency, since: &str) -> String {
    match before.and_then(|b| now.checked_sub(b)) {
        Some(d) => format!("{} since {since}", signed_money(d, c)),
        None => "first reported month".to_owned(),
    }
}

fn kpi(id: &str, label: &str, value: String, change: String, title: &str) -> Html {
    html! {
        <div class="kpi" title={title.to_owned()}>
            <div class="kpi-label">{ label }</div>
            <div class="kpi-value" id={id.to_owned()}>{ value }</div>
            <div class="kpi-sub" id={format!("{id}-change")}>{ change }</div>
        </div>
    }
}

fn figures(r: &SaasMrrReport, m: &SaasMonth) -> Html {
    let c = &r.currency;
    let before = r.months.len().checked_sub(2).and_then(|i| r.months.get(i));
    let since = before.map(|b| month_label(b.month)).unwrap_or_default();
    let mrr_change = match (money_change(m.mrr, before.map(|b| b.mrr), c, &since), m.mrr_growth_pct) {
        (text, Some(g)) => format!("{text} ({})", percent(Some(g))),
        (text, None) => text,
    };
    let customers_change = before.map_or("first reported month".to_owned(), |b| {
        format!(
            "{} since {since}",
            signed_count(m.customers as i64 - b.customers as i64)
        )
    });
    let arpa_change = match (m.arpa, before.and_then(|b| b.arpa)) {
        (Some(a), b) => money_change(a, b, c, &since),
        (None, _) => "no customers".to_owned(),
    };
    let e = evidence(m);
    html! {
        <>
            <div class="kpis saas-kpis">
                { kpi("saas-mrr", "MRR", money(m.mrr, c), mrr_change,
                    "Monthly recurring revenue: every active subscription's invoice divided by the months it pays for") }
                { kpi("saas-arr", "ARR", money(m.arr, c), money_change(m.arr, before.map(|b| b.arr), c, &since), "12 × MRR") }
                { kpi("saas-customers", "Customers", count(m.customers as i64), customers_change, "Customers with MRR above zero at the close") }
                { kpi("saas-arpa", "ARPA", m.arpa.map_or("–".to_owned(), |a| money(a, c)), arpa_change, "Average MRR per customer") }
            </div>
            if e.assumed.is_some_and(|p| p.hundredths() > 0) {
                { caveat(format!(
                    "{} of this MRR rests on an assumption: invoices with no evidence of their interval (no regular \
                     cadence, not in the products file) count as annual from {} up, as monthly below. {} is observed \
                     cadence, {} the products file's interval.",
                    share(e.assumed), money(r.parameters.annual_threshold, c), share(e.observed), share(e.catalogue))) }
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::recurring::fixtures::report;
    use crate::components::ssr::render;

    #[tokio::test]
    async fn the_last_month_with_its_changes() {
        let r = report();
        let html = render(move || figures(&r, r.months.last().unwrap())).await;
        assert!(html.contains(r#"id="saas-mrr" class="kpi-value">$1,070.00<"#), "{html}");
        assert!(
            html.contains(r#"id="saas-mrr-change" class="kpi-sub">-$25.00 since Feb 2024<"#),
            "{html}"
        );
        assert!(
            html.contains(r#"id="saas-customers" class="kpi-value">38<"#) && html.contains("-2 since Feb 2024"),
            "{html}"
        );
        assert!(
            html.contains(r#"id="saas-arr" class="kpi-value">$12,840.00<"#),
            "{html}"
        );
        // All of it observed: no assumption to point out.
        assert!(!html.contains("rests on an assumption"), "{html}");
    }

    #[tokio::test]
    async fn the_assumed_share_is_said_next_to_the_figures() {
        let mut r = report();
        let m = r.months.last_mut().unwrap();
        m.mrr_by_interval_source.observed_next = Money::new(80_250, 2);
        m.mrr_by_interval_source.assumed_annual = Money::new(26_750, 2);
        let html = render(move || figures(&r, r.months.last().unwrap())).await;
        assert!(html.contains("25.00% of this MRR rests on an assumption"), "{html}");
        assert!(
            html.contains("annual from $3,000.00 up") && html.contains("75.00% is observed"),
            "{html}"
        );
    }
}

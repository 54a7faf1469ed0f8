//! The cohort table as a heat map: one row per cohort (the customers first
//! active at a month's close), one column per month since, shaded by the
//! share of the cohort's customers, or of its MRR, still there. A table, so
//! it is its own accessible fallback.

use api_types::{Currency, SaasCohort, SaasCohortCell, SaasCohortsReport, SaasMrrReport};
use yew::prelude::*;

use super::caveat;
use crate::api::saas::report_csv_url;
use crate::components::section::Section;
use crate::format::{count, money, month_label, share};
use crate::hooks::Fetched;
use crate::recurring::caveats::left_censored;
use crate::recurring::query::{CohortMeasure, RecurringQuery};
use crate::recurring::{heat_level, HOT_LEVEL};

#[derive(Properties, PartialEq)]
pub struct CohortsProps {
    pub cohorts: Fetched<SaasCohortsReport>,
    /// For the caveats: which months' new business may be older than the data.
    pub report: Fetched<SaasMrrReport>,
    pub query: RecurringQuery,
    pub on_query: Callback<RecurringQuery>,
}

#[component]
pub fn CohortsSection(props: &CohortsProps) -> Html {
    let measure = props.query.cohorts;
    let toggle = |m: CohortMeasure, label: &'static str| {
        let (q, on_query) = (props.query.clone(), props.on_query.clone());
        let onclick = Callback::from(move |_: MouseEvent| on_query.emit(q.with_cohorts(m)));
        html! { <button class="link" aria-pressed={(measure == m).to_string()} {onclick}>{ label }</button> }
    };
    let toolbar = html! {
        <div class="controls filters" role="group" aria-label="Retention measure" id="cohort-measure">
            { toggle(CohortMeasure::Customers, "Customers retained") }
            { toggle(CohortMeasure::Mrr, "MRR retained") }
        </div>
    };
    let cohorts = &props.cohorts;
    let empty = cohorts.no_data() || cohorts.data.as_ref().is_some_and(|c| c.cohorts.is_empty());
    let csv = cohorts.data.as_ref().map(|c| {
        let q = RecurringQuery {
            currency: Some(c.currency),
            ..RecurringQuery::default()
        };
        AttrValue::from(report_csv_url("/reports/saas/cohorts", &q))
    });
    let censored = props
        .report
        .data
        .as_ref()
        .is_some_and(|r| !left_censored(&r.months).is_empty());
    html! {
        <Section id="cohorts" title="Cohorts" subtitle={AttrValue::from("Customers by the month they were first active; what each cohort keeps later")}
            status={cohorts.shown_status()} {empty} empty_text={AttrValue::from(super::NO_DATA)} csv_href={csv} {toolbar}>
            { cohorts.data.as_ref().map(|c| heat_map(c, measure)).unwrap_or_default() }
            { caveat("The first row holds everyone already paying at the first close: not customers acquired that month.".to_owned()) }
            if censored {
                { caveat("The cohorts of the first months also hold customers whose subscriptions began before the data \
                    and show up at their first renewal in it.".to_owned()) }
            }
        </Section>
    }
}

/// A cell's retention in the measure shown, in hundredths of a percent.
fn retention(cell: &SaasCohortCell, measure: CohortMeasure) -> Option<i64> {
    match measure {
        CohortMeasure::Customers => cell.customer_retention_pct,
        CohortMeasure::Mrr => cell.mrr_retention_pct,
    }
    .map(|p| p.hundredths())
}

fn heat_cell(cohort: &SaasCohort, cell: &SaasCohortCell, measure: CohortMeasure, c: &Currency) -> Html {
    let level = heat_level(retention(cell, measure));
    let value = match measure {
        CohortMeasure::Customers => cell.customer_retention_pct,
        CohortMeasure::Mrr => cell.mrr_retention_pct,
    };
    let title = format!(
        "{} cohort, month {} ({}): {} of {} customers active ({}), MRR {} ({} of {})",
        month_label(cohort.cohort),
        cell.months_since,
        month_label(cell.month),
        count(cell.active_customers as i64),
        count(cohort.customers as i64),
        share(cell.customer_retention_pct),
        money(cell.mrr, c),
        share(cell.mrr_retention_pct),
        money(cohort.mrr, c)
    );
    html! {
        <td class={classes!("num", "heat", (level >= HOT_LEVEL).then_some("hot"))} style={format!("--heat:{level}%")}
            data-since={cell.months_since.to_string()} {title}>
            { share(value) }
        </td>
    }
}

fn heat_map(r: &SaasCohortsReport, measure: CohortMeasure) -> Html {
    let width = r.cohorts.iter().map(|c| c.cells.len()).max().unwrap_or(0);
    let c = &r.currency;
    html! {
        // Wider than a phone: a region the keyboard can scroll.
        <div class="table-wrap" tabindex="0" role="region" aria-label="Cohort table">
        <table class={classes!("cohorts", if measure == CohortMeasure::Mrr { "mrr" } else { "customers" })}>
            <caption>{ match measure {
                CohortMeasure::Customers => "Share of each cohort's customers active at each later close",
                CohortMeasure::Mrr => "Each cohort's MRR at each later close, as a share of its MRR at its own close (above 100%: expansion)",
            } }</caption>
            <thead><tr>
                <th scope="col">{"Cohort"}</th><th scope="col" class="num">{"Customers"}</th><th scope="col" class="num">{"MRR"}</th>
                { for (0..width).map(|i| html! { <th scope="col" class="num">{ format!("Month {i}") }</th> }) }
            </tr></thead>
            <tbody>{ for r.cohorts.iter().map(|k| html! {
                <tr data-cohort={k.cohort.to_string()}>
                    <th scope="row">{ month_label(k.cohort) }{ if k.opening { " (opening)" } else { "" } }</th>
                    <td class="num">{ count(k.customers as i64) }</td>
                    <td class="num">{ money(k.mrr, c) }</td>
                    { for k.cells.iter().map(|cell| heat_cell(k, cell, measure, c)) }
                    { for (k.cells.len()..width).map(|_| html! { <td class="none"></td> }) }
                </tr>
            }) }</tbody>
        </table></div>
    }
}

#[cfg(test)]
mod tests {
    use api_types::{Money, Percent};

    use super::*;
    use crate::components::ssr::render;

    fn cohorts() -> SaasCohortsReport {
        let cell = |month: &str, since, active, mrr, customers_pct, mrr_pct| SaasCohortCell {
            month: month.parse().unwrap(),
            months_since: since,
            active_customers: active,
            mrr: Money::new(mrr, 2),
            customer_retention_pct: Some(Percent(customers_pct)),
            mrr_retention_pct: Some(Percent(mrr_pct)),
        };
        SaasCohortsReport {
            currency: "usd".parse().unwrap(),
            parameters: crate::components::recurring::fixtures::report().parameters,
            cohorts: vec![
                SaasCohort {
                    cohort: "2024-01".parse().unwrap(),
                    opening: true,
                    customers: 8,
                    mrr: Money::new(100_000, 2),
                    cells: vec![
                        cell("2024-01", 0, 8, 100_000, 10_000, 10_000),
                        cell("2024-02", 1, 6, 110_000, 7_500, 11_000),
                    ],
                },
                SaasCohort {
                    cohort: "2024-02".parse().unwrap(),
                    opening: false,
                    customers: 2,
                    mrr: Money::new(5_000, 2),
                    cells: vec![cell("2024-02", 0, 2, 5_000, 10_000, 10_000)],
                },
            ],
        }
    }

    #[tokio::test]
    async fn shaded_by_the_measure_chosen() {
        let html = render(|| heat_map(&cohorts(), CohortMeasure::Customers)).await;
        assert_eq!(html.matches("<tr data-cohort").count(), 2);
        assert!(
            html.contains("Jan 2024 (opening)") && html.contains(">Month 1<"),
            "{html}"
        );
        assert!(
            html.contains(r#"style="--heat:69%" data-since="1""#) && html.contains(">75.00%<"),
            "{html}"
        );
        assert!(
            html.contains(r#"<td class="none"></td>"#),
            "a short row is padded: {html}"
        );
        assert!(
            html.contains("6 of 8 customers active (75.00%), MRR $1,100.00 (110.00% of $1,000.00)"),
            "{html}"
        );
        let html = render(|| heat_map(&cohorts(), CohortMeasure::Mrr)).await;
        assert!(
            html.contains(r#"style="--heat:90%" data-since="1""#) && html.contains(">110.00%<"),
            "{html}"
        );
    }
}

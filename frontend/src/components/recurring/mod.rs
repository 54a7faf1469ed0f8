//! The recurring-revenue page's sections. The page fetches
//! `/reports/saas/mrr` and `/reports/saas/cohorts` once per currency and
//! hands them to the sections as [`Fetched`] props, so every figure on the
//! page comes from the same computation; only the list of a movement's
//! customers fetches on its own.

pub mod cohorts;
pub mod controls;
pub mod customers;
pub mod headline;
pub mod movements;
pub mod mrr;
pub mod rates;

use api_types::{SaasMonth, SaasMrrReport};
use yew::prelude::*;

use crate::format::{month_label, month_short};
use crate::hooks::Fetched;
use crate::recurring::query::RecurringQuery;

/// What a section shows before the first ingest (the API answers `no_data`).
const NO_DATA: &str = "No recurring revenue yet: it is computed from the loaded invoices.";

/// A chart of `/reports/saas/mrr`.
#[derive(Properties, PartialEq)]
pub struct MrrChartProps {
    pub report: Fetched<SaasMrrReport>,
    /// Dark colours (the system theme).
    pub dark: bool,
    /// Changes when the window is resized.
    pub epoch: u32,
}

/// A section that follows the page's URL state and may change it.
#[derive(Properties, PartialEq)]
pub struct QueryProps {
    pub report: Fetched<SaasMrrReport>,
    pub query: RecurringQuery,
    /// Called with the next URL state.
    pub on_query: Callback<RecurringQuery>,
    #[prop_or_default]
    pub dark: bool,
    #[prop_or_default]
    pub epoch: u32,
}

/// A caveat of spec §14, shown in the section it concerns.
fn caveat(text: String) -> Html {
    html! { <p class="caveat" role="note">{ text }</p> }
}

/// The months on a chart's axis.
fn axis_labels(months: &[SaasMonth]) -> Vec<String> {
    months.iter().map(|m| month_short(m.month)).collect()
}

/// A month at the head of a tooltip or a table row, marked when it is a warm-up month.
fn month_heading(m: &SaasMonth) -> String {
    if m.warm_up {
        format!("{} (warm-up)", month_label(m.month))
    } else {
        month_label(m.month)
    }
}

/// The note of the warm-up months, when the report has any.
fn warm_up_caveat(months: &[SaasMonth], consequence: &str) -> Html {
    match crate::recurring::caveats::warm_up_months(months) {
        Some(list) => caveat(format!(
            "Warm-up: {list} {} too close to the start of the data for every plan to show. A plan billed every \
             3 months and paid before the data began appears only at its first renewal, so {consequence}",
            if list.contains(" and ") { "are" } else { "is" }
        )),
        None => html! {},
    }
}

/// The sections' empty state: no month closed yet.
fn no_months(report: &Fetched<SaasMrrReport>) -> bool {
    report.no_data() || report.data.as_ref().is_some_and(|r| r.months.is_empty())
}

#[cfg(test)]
pub(crate) mod fixtures {
    use std::rc::Rc;

    use api_types::{Money, SaasMrrReport, SaasParameters, SaasWindow};

    use crate::hooks::{FetchStatus, Fetched};
    use crate::recurring::caveats::tests::month;
    use crate::recurring::layout::tests::movements;

    /// Three closed months of usd: an opening warm-up month, then growth and churn.
    pub fn report() -> SaasMrrReport {
        let mut months = vec![
            month("2024-01", 100_000),
            month("2024-02", 109_500),
            month("2024-03", 107_000),
        ];
        months[0].warm_up = true;
        months[1].movements = Some(movements(10_000, 2_000, 1_000, 3_000, 1_500));
        months[2].movements = Some(movements(0, 500, 0, 3_000, 0));
        months[2].customers = 38;
        SaasMrrReport {
            currency: "usd".parse().unwrap(),
            parameters: SaasParameters {
                grace_days: 7,
                annual_threshold: Money::new(300_000, 2),
            },
            window: SaasWindow {
                first_transaction: Some("2024-01-01T07:00:00Z".parse().unwrap()),
                last_transaction: Some("2024-04-03T16:44:00Z".parse().unwrap()),
                closed_months: vec![
                    "2024-01".parse().unwrap(),
                    "2024-02".parse().unwrap(),
                    "2024-03".parse().unwrap(),
                ],
            },
            months,
        }
    }

    pub fn loaded<T>(data: T) -> crate::hooks::Fetched<T> {
        Fetched {
            status: FetchStatus::default(),
            data: Some(Rc::new(data)),
        }
    }
}

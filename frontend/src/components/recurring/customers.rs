//! The customers behind one movement of one month (`/reports/saas/movements`):
//! paged, largest change first, with a CSV. Customer ids and names only: the
//! API serves no e-mail address. Which movement is in the URL, so a link
//! reopens the list; the two selects choose it from the keyboard.

use api_types::{Month, SaasMovementKind, SaasMovementsReport, SaasMrrReport};
use yew::prelude::*;

use super::{caveat, QueryProps};
use crate::api;
use crate::components::drill::customer_link;
use crate::components::pager::{pager, Paging};
use crate::components::section::Section;
use crate::components::select_value;
use crate::format::{count, money, month_label, signed_money};
use crate::hooks::use_fetch;
use crate::recurring::kind_label;
use crate::recurring::query::{CohortMeasure, MovementPick, RecurringQuery, CUSTOMERS_PER_PAGE};

#[component]
pub fn CustomersSection(props: &QueryProps) -> Html {
    // The cohort measure does not change the list: no new request for it.
    let deps = props.query.with_cohorts(CohortMeasure::Customers);
    let list = use_fetch(deps, |q| async move {
        match &q.movement {
            Some(pick) => api::saas::movements(&q, pick).await.map(Some),
            None => Ok(None),
        }
    });
    let data = list.data().and_then(|d| (*d).clone());
    let pick = props.query.movement.clone();
    let title = pick.as_ref().map_or("Customers behind a movement".to_owned(), |p| {
        format!("{} in {}", kind_label(p.kind), month_label(p.month))
    });
    let subtitle = data.as_ref().map(|l| {
        AttrValue::from(format!(
            "{} customers · {}",
            count(l.total as i64),
            money(l.amount, l.currency)
        ))
    });
    let empty_text = if pick.is_none() {
        "Pick a movement (a bar of the chart above, or a month and a movement here) to list its customers."
    } else {
        "No customer had this movement in this month."
    };
    let csv = pick
        .as_ref()
        .map(|p| AttrValue::from(api::saas::movements_csv_url(&props.query, p)));
    let empty = pick.is_none() || data.as_ref().is_some_and(|l| l.customers.is_empty());
    html! {
        <Section id="movement-customers" title={AttrValue::from(title)} {subtitle} status={list.status()} {empty}
            empty_text={AttrValue::from(empty_text)} csv_href={csv} toolbar={chooser(props)}>
            { data.map(|l| table(&l, props)).unwrap_or_default() }
        </Section>
    }
}

/// The month and movement selects: the keyboard's way to the same lists as the chart's bars.
fn chooser(props: &QueryProps) -> Html {
    let months: Vec<Month> = props
        .report
        .data
        .as_ref()
        .map(|r: &std::rc::Rc<SaasMrrReport>| r.months.iter().skip(1).map(|m| m.month).collect())
        .unwrap_or_default();
    let Some(last) = months.last().copied() else {
        return html! {};
    };
    let q = &props.query;
    let current = q.movement.clone();
    let choose = |apply: fn(&mut MovementPick, String)| {
        let (q, on_query) = (q.clone(), props.on_query.clone());
        Callback::from(move |e: Event| {
            let Some(value) = select_value(&e).filter(|v| !v.is_empty()) else {
                return on_query.emit(q.with_movement(None));
            };
            let mut pick = q.movement.clone().unwrap_or(MovementPick {
                month: last,
                kind: SaasMovementKind::New,
            });
            apply(&mut pick, value);
            on_query.emit(q.with_movement(Some(pick)));
        })
    };
    let on_month = choose(|p, v| p.month = v.parse().unwrap_or(p.month));
    let on_kind = choose(|p, v| p.kind = v.parse().unwrap_or(p.kind));
    let month = current.as_ref().map(|p| p.month);
    let kind = current.as_ref().map(|p| p.kind);
    html! {
        <form class="controls filters" aria-label="Choose a movement" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <label>{ "Month" }
                <select id="movement-month" onchange={on_month}>
                    <option value="" selected={month.is_none()}>{ "Choose…" }</option>
                    { for months.iter().rev().map(|m| html! {
                        <option value={m.to_string()} selected={month == Some(*m)}>{ month_label(*m) }</option>
                    }) }
                </select>
            </label>
            <label>{ "Movement" }
                <select id="movement-kind" onchange={on_kind}>
                    <option value="" selected={kind.is_none()}>{ "Choose…" }</option>
                    { for SaasMovementKind::ALL.iter().map(|k| html! {
                        <option value={k.as_str()} selected={kind == Some(*k)}>{ kind_label(*k) }</option>
                    }) }
                </select>
            </label>
        </form>
    }
}

fn table(l: &SaasMovementsReport, props: &QueryProps) -> Html {
    let c = &l.currency;
    let on_page = {
        let (q, on_query) = (props.query.clone(), props.on_query.clone());
        Callback::from(move |offset: u64| on_query.emit(RecurringQuery::with_offset(&q, offset)))
    };
    let paging = Paging {
        offset: l.offset,
        limit: CUSTOMERS_PER_PAGE,
        shown: l.customers.len(),
        total: l.total as i64,
        noun: "customers",
    };
    let censored = l.customers.iter().any(|x| x.left_censored);
    html! {
        <>
            <div class="table-wrap"><table class="stack">
                <thead><tr>
                    <th>{"Customer"}</th><th>{"Name"}</th><th class="num">{"MRR before"}</th>
                    <th class="num">{"MRR after"}</th><th class="num">{"Change"}</th>
                </tr></thead>
                <tbody>{ for l.customers.iter().map(|x| html! {
                    <tr data-customer={x.customer_id.clone()}>
                        <td data-label="Customer">{ customer_link(&x.customer_id) }{ if x.left_censored { " †" } else { "" } }</td>
                        <td data-label="Name">{ if x.customer_name.is_empty() { "(no name)".to_owned() } else { x.customer_name.clone() } }</td>
                        <td class="num" data-label="MRR before">{ money(x.previous_mrr, c) }</td>
                        <td class="num" data-label="MRR after">{ money(x.current_mrr, c) }</td>
                        <td class="num" data-label="Change">{ signed_money(x.change, c) }</td>
                    </tr>
                }) }</tbody>
            </table></div>
            { pager(&paging, on_page) }
            if censored {
                { caveat("† The first invoice of this customer comes early enough to renew a subscription begun before the data: it may not be new business.".to_owned()) }
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use api_types::{Money, SaasMovementCustomer, SaasParameters};

    use super::*;
    use crate::components::recurring::fixtures::{loaded, report};
    use crate::components::ssr::render;

    fn list() -> SaasMovementsReport {
        let customer = |id: &str, name: &str, before: i64, after: i64| SaasMovementCustomer {
            customer_id: id.into(),
            customer_name: name.into(),
            previous_mrr: Money::new(before, 2),
            current_mrr: Money::new(after, 2),
            change: Money::new(after - before, 2),
            left_censored: false,
        };
        SaasMovementsReport {
            currency: "usd".parse().unwrap(),
            parameters: SaasParameters {
                grace_days: 7,
                annual_threshold: Money::new(300_000, 2),
            },
            month: "2024-02".parse().unwrap(),
            kind: SaasMovementKind::Churn,
            amount: Money::new(3_000, 2),
            total: 2,
            offset: 0,
            limit: 25,
            customers: vec![customer("cus_1", "Ada", 2_000, 0), customer("cus_2", "", 1_000, 0)],
        }
    }

    #[tokio::test]
    async fn one_row_per_customer_without_any_address() {
        let html = render(|| {
            let props = QueryProps {
                report: loaded(report()),
                query: RecurringQuery::default(),
                on_query: Callback::noop(),
                dark: false,
                epoch: 0,
            };
            table(&list(), &props)
        })
        .await;
        assert_eq!(html.matches("<tr data-customer").count(), 2);
        assert!(html.contains("-$20.00") && html.contains("(no name)"), "{html}");
        assert!(html.contains("1–2 of 2 customers"), "{html}");
        assert!(!html.contains('@') && !html.contains('†'), "{html}");
    }
}

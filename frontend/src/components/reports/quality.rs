//! Data quality: what the loaded data lacks or does not reconcile, and the last ingest.

use api_types::{QualityReport, SubscriptionCheck};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::section::Section;
use crate::format::{count, money, share, timestamp};
use crate::hooks::use_fetch;

#[component]
pub fn QualitySection() -> Html {
    let report = use_fetch((), |()| api::quality());
    html! {
        <Section id="quality" title="Data quality" status={report.status()}>
            { report.data().map(|q| body(&q)).unwrap_or_default() }
        </Section>
    }
}

fn kpi(label: &str, value: String, sub: Option<String>) -> Html {
    html! {
        <div class="kpi">
            <div class="kpi-label">{ label.to_owned() }</div>
            <div class="kpi-value">{ value }</div>
            if let Some(s) = sub { <div class="kpi-sub">{ s }</div> }
        </div>
    }
}

fn amounts(c: &SubscriptionCheck) -> String {
    c.amount
        .iter()
        .filter(|(_, m)| m.cents() != 0)
        .map(|(cur, m)| {
            format!(
                "{} ({} of {} revenue)",
                money(*m, cur),
                share(c.share_of_revenue_pct.get(cur).copied()),
                cur.to_uppercase()
            )
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn body(q: &QualityReport) -> Html {
    let ns = &q.subscriptions.null_subscription;
    let us = &q.subscriptions.unknown_subscription;
    html! {
        <>
            <div class="kpis">
                { kpi("Customers only in transactions", count(q.customers.in_transactions_not_in_users), Some("missing from users file".into())) }
                { kpi("Customers without transactions", count(q.customers.in_users_without_transactions), Some("in users file only".into())) }
                { kpi("No subscription id", format!("{} transactions", count(ns.transactions)), Some(format!("{} customers · {}", count(ns.customers), amounts(ns)))) }
                { kpi("Unknown subscription id", format!("{} transactions", count(us.transactions)), Some(format!("{} customers · {}", count(us.customers), amounts(us)))) }
                { kpi("Zero-amount transactions", count(q.zero_amount.transactions), None) }
                { kpi("Refunds", count(q.refunds.transactions), Some(q.refunds.amount.iter().map(|(c, m)| money(*m, c)).collect::<Vec<_>>().join(" · "))) }
                { kpi("Customers without name", count(q.completeness.customers_without_name), Some(format!("{} with conflicting names", count(q.completeness.customers_with_conflicting_names)))) }
                { kpi("Latest transaction", q.freshness.latest_transaction_at.as_deref().map_or("–".into(), timestamp),
                    q.freshness.days_since_latest_transaction.map(|d| format!("{d} days ago"))) }
            </div>
            if let Some(last) = &q.last_ingest {
                <div class="table-wrap"><table>
                    <caption>
                        { "Last ingest (" }
                        <Link<Route> to={Route::Run { id: last.run_id }}>{ format!("run {}", last.run_id) }</Link<Route>>
                        { format!(", {})", timestamp(&last.finished_at)) }
                    </caption>
                    <thead><tr><th>{"File"}</th><th class="num">{"Read"}</th><th class="num">{"Loaded"}</th><th class="num">{"Duplicates"}</th><th class="num">{"Rejected"}</th></tr></thead>
                    <tbody>{ for last.files.iter().map(|f| html! {
                        <tr><td>{ f.file.clone() }</td><td class="num">{ count(f.read) }</td><td class="num">{ count(f.loaded) }</td><td class="num">{ count(f.duplicates) }</td>
                        <td class={classes!("num", (f.rejected > 0).then_some("warn"))}>{ count(f.rejected) }</td></tr>
                    }) }</tbody>
                </table></div>
            }
        </>
    }
}

//! The checks of the loaded data: what it lacks or does not reconcile, and
//! the files of the run that loaded it.

use api_types::{QualityReport, SubscriptionCheck};
use yew::prelude::*;
use yew_router::prelude::*;

use super::{ReportProps, NO_DATA};
use crate::app::Route;
use crate::components::section::Section;
use crate::format::{count, money, share, timestamp};

#[component]
pub fn ChecksSection(props: &ReportProps) -> Html {
    let report = &props.report;
    html! {
        <Section id="quality" title="Checks of the loaded data" subtitle={AttrValue::from("Counts behind the dimensions, as of the latest run that loaded data")}
            status={report.shown_status()} empty={report.no_data()} empty_text={AttrValue::from(NO_DATA)}>
            { report.data.as_ref().map(|q| body(q)).unwrap_or_default() }
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
        .filter(|(_, m)| !m.is_zero())
        .map(|(cur, m)| {
            format!(
                "{} ({} of {} revenue)",
                money(*m, cur),
                share(c.share_of_revenue_pct.get(cur).copied()),
                cur.as_str().to_uppercase()
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
                { kpi("Customers", count(q.customers.total), Some(format!("{} paying in more than one currency", count(q.customers.multi_currency)))) }
                { kpi("Customers only in transactions", count(q.customers.in_transactions_not_in_users), Some("missing from users file".into())) }
                { kpi("Customers without transactions", count(q.customers.in_users_without_transactions), Some("in users file only".into())) }
                { kpi("No subscription id", format!("{} transactions", count(ns.transactions)), Some(format!("{} customers · {}", count(ns.customers), amounts(ns)))) }
                { kpi("Unknown subscription id", format!("{} transactions", count(us.transactions)), Some(format!("{} customers · {}", count(us.customers), amounts(us)))) }
                { kpi("Zero-amount transactions", count(q.zero_amount.transactions), None) }
                { kpi("Refunds", count(q.refunds.transactions), Some(q.refunds.amount.iter().map(|(c, m)| money(*m, c)).collect::<Vec<_>>().join(" · "))) }
                { kpi("Customers without name", count(q.completeness.customers_without_name), Some(format!("{} with conflicting names", count(q.completeness.customers_with_conflicting_names)))) }
                { kpi("Customers without e-mail", count(q.completeness.customers_without_email), Some(format!("{} with conflicting e-mails", count(q.completeness.customers_with_conflicting_emails)))) }
                { kpi("Latest transaction", q.freshness.latest_transaction_at.as_ref().map_or("–".into(), timestamp),
                    q.freshness.days_since_latest_transaction.map(|d| format!("{d} days ago"))) }
            </div>
            if let Some(last) = &q.last_ingest {
                <div class="table-wrap"><table class="stack">
                    <caption>
                        { "Last ingest (" }
                        <Link<Route> to={Route::Run { id: last.run_id }}>{ format!("run {}", last.run_id) }</Link<Route>>
                        { format!(", {})", timestamp(&last.finished_at)) }
                    </caption>
                    <thead><tr><th>{"File"}</th><th class="num">{"Read"}</th><th class="num">{"Loaded"}</th><th class="num">{"Duplicates"}</th><th class="num">{"Rejected"}</th></tr></thead>
                    <tbody>{ for last.files.iter().map(|f| html! {
                        <tr><th scope="row">{ f.file.clone() }</th><td class="num" data-label="Read">{ count(f.read) }</td><td class="num" data-label="Loaded">{ count(f.loaded) }</td>
                        <td class="num" data-label="Duplicates">{ count(f.duplicates) }</td>
                        <td class={classes!("num", (f.rejected > 0).then_some("warn"))} data-label="Rejected">{ count(f.rejected) }</td></tr>
                    }) }</tbody>
                </table></div>
            }
        </>
    }
}

#[cfg(test)]
mod tests {
    use yew::prelude::*;

    use super::ChecksSection;
    use crate::components::quality::fixtures::{loaded, report};
    use crate::components::ssr::render;

    #[tokio::test]
    async fn the_counts_keep_their_id_and_kpi_class() {
        let html = render(|| html! { <ChecksSection report={loaded(report())} /> }).await;
        assert!(html.contains(r#"<section id="quality""#), "{html}");
        assert!(html.matches(r#"class="kpi""#).count() >= 8, "{html}");
        assert!(html.contains(">630<") && html.contains("Customers only in transactions"));
    }
}

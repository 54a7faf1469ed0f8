//! The customers with the highest total spending.

use yew::prelude::*;

use super::ViewProps;
use crate::api;
use crate::components::drill::customer_link;
use crate::components::section::Section;
use crate::format::{count, money};
use crate::hooks::use_fetch;

#[component]
pub fn UsersSection(props: &ViewProps) -> Html {
    let report = use_fetch(props.view.clone(), |v| async move { api::top_users(&v).await });
    let data = report.data();
    let empty = data.as_ref().is_some_and(|r| r.users.is_empty());
    let table = data.map(|r| {
        html! {
            // On a phone each customer becomes a labelled block (`stack`):
            // five columns of ids, names and money do not fit 390 px.
            <div class="table-wrap"><table class="stack">
                <thead><tr><th>{"Rank"}</th><th>{"Customer"}</th><th>{"Name"}</th><th class="num">{"Total spending"}</th><th class="num">{"Transactions"}</th></tr></thead>
                <tbody>{ for r.users.iter().map(|u| html! {
                    <tr><td data-label="Rank">{ u.rank }</td><td data-label="Customer">{ customer_link(&u.customer_id) }</td>
                    <td data-label="Name">{ if u.customer_name.is_empty() { "(no name)".to_owned() } else { u.customer_name.clone() } }</td>
                    <td class="num" data-label="Total spending">{ money(u.total_spending, r.currency) }</td>
                    <td class="num" data-label="Transactions">{ count(u.transactions) }</td></tr>
                }) }</tbody>
            </table></div>
        }
    });
    let csv = api::csv_url(
        "/reports/top-users",
        &format!("limit=10&{}", props.view.currency_query()),
    );
    html! {
        <Section id="users" title="Top customers" subtitle={AttrValue::from("All data, by total spending")}
            status={report.status()} {empty} csv_href={AttrValue::from(csv)}>
            { table.unwrap_or_default() }
        </Section>
    }
}

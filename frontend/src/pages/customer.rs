//! The customers: a search by id or name (`/customer?q=ann`) and one
//! customer's page (`/customer/{id}`), which every list of customers links
//! to. Never an e-mail address: the API serves none.

use api_types::{CustomerFlag, CustomerReport};
use yew::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::drill::{customer_link, encode, month_link, QueryLink};
use crate::components::section::Section;
use crate::format::{count, money, month_label};
use crate::hooks::{use_fetch, use_query, use_title};
use crate::state::{pairs, parse_offset};

/// The search's URL state: `?q=ann&offset=20`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub q: String,
    pub offset: u32,
}

impl SearchQuery {
    pub fn from_query(query: &str) -> Self {
        let mut state = Self::default();
        for (key, value) in pairs(query) {
            match key {
                "q" => state.q = decode(value),
                "offset" => state.offset = parse_offset(value).map_or(0, |o| o as u32),
                _ => {}
            }
        }
        state
    }

    /// Without the leading `?`.
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if !self.q.is_empty() {
            parts.push(format!("q={}", encode(&self.q)));
        }
        if self.offset > 0 {
            parts.push(format!("offset={}", self.offset));
        }
        parts.join("&")
    }
}

/// A query value as typed: `%XX` decoded, `+` a space; invalid UTF-8 replaced.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |j: usize| bytes.get(j).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[component]
pub fn CustomersPage() -> Html {
    use_title("Customers · Revenue analytics".to_owned());
    let (query, push) = use_query(Route::Customers);
    let search = SearchQuery::from_query(&query);
    let found = use_fetch(search.clone(), |s| async move {
        api::search_customers(&s.q, s.offset).await
    });
    let onsubmit = {
        let push = push.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.get_element_by_id("customer-q"))
                .and_then(|el| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(el).ok());
            let q = input.map(|i| i.value().trim().to_owned()).unwrap_or_default();
            push.emit(SearchQuery { q, offset: 0 }.to_query());
        })
    };
    let page = |offset: u32| {
        let q = search.q.clone();
        push.reform(move |_: MouseEvent| SearchQuery { q: q.clone(), offset }.to_query())
    };
    let data = found.data();
    let table = data.as_ref().map(|r| {
        let rows = r.customers.iter().map(|c| {
            let name = if c.customer_name.is_empty() { "(no name)".to_owned() } else { c.customer_name.clone() };
            let spending = match (&c.total_spending, c.currency) {
                (Some(m), Some(cur)) => money(*m, cur),
                _ => "–".to_owned(),
            };
            html! { <tr><td>{ customer_link(&c.customer_id) }</td><td>{ name }</td><td class="num">{ spending }</td><td class="num">{ count(c.transactions) }</td></tr> }
        });
        html! {
            <div class="table-wrap"><table>
                <thead><tr><th>{"Customer"}</th><th>{"Name"}</th><th class="num">{"Spending (main currency)"}</th><th class="num">{"Transactions"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        }
    });
    let (offset, more) = data.as_ref().map_or((0, false), |r| (r.offset, r.more));
    let pager = {
        let (prev, next) = (
            page(offset.saturating_sub(api::CUSTOMERS_PER_PAGE)),
            page(offset + api::CUSTOMERS_PER_PAGE),
        );
        html! {
            <div class="pager">
                <button disabled={offset == 0} onclick={prev}>{ "Previous" }</button>
                <button disabled={!more} onclick={next}>{ "Next" }</button>
            </div>
        }
    };
    let toolbar = html! {
        <form class="controls" role="search" {onsubmit}>
            <label>{ "Customer id or name" }
                <input id="customer-q" type="search" value={search.q.clone()} maxlength="100" placeholder="cus_… or a name" />
            </label>
            <button type="submit" id="customer-search">{ "Search" }</button>
        </form>
    };
    html! {
        <main class="page">
            <Section id="customers" title="Customers" subtitle={AttrValue::from("By id; a name matches from the start of any of its words")}
                status={found.status()} empty={data.as_ref().is_some_and(|r| r.customers.is_empty())}
                empty_text="No customer's id or name starts like that." {toolbar}>
                { table.unwrap_or_default() }
                { pager }
            </Section>
        </main>
    }
}

#[derive(Properties, PartialEq)]
pub struct CustomerPageProps {
    /// From the path.
    pub id: String,
}

#[component]
pub fn CustomerPage(props: &CustomerPageProps) -> Html {
    use_title(format!("Customer {} · Revenue analytics", props.id));
    let report = use_fetch(props.id.clone(), |id| async move { api::customer(&id).await });
    let data = report.data();
    let title = data.as_ref().map_or(props.id.clone(), |r| {
        if r.customer_name.is_empty() {
            r.customer_id.clone()
        } else {
            format!("{} ({})", r.customer_name, r.customer_id)
        }
    });
    let csv = format!("{}?format=csv", api::customer_url(&props.id));
    html! {
        <main class="page">
            <nav class="toolbar" aria-label="Customers">
                <QueryLink to={Route::Customers}>{ "← Search customers" }</QueryLink>
            </nav>
            <Section id="customer" {title} subtitle={AttrValue::from("Spending per currency; currencies are never added together")}
                status={report.status()} csv_href={AttrValue::from(csv)}>
                { data.as_ref().map(|r| summary(r)).unwrap_or_default() }
            </Section>
            if let Some(r) = data {
                <div class="grid">
                    { months(&r) }
                    { subscriptions(&r) }
                </div>
            }
        </main>
    }
}

/// What a flag tells the analyst.
pub fn flag_text(flag: CustomerFlag) -> &'static str {
    match flag {
        CustomerFlag::OnlyInTransactions => "Not in the users file: known only from transactions",
        CustomerFlag::ConflictingName => "The users file gives different names",
        CustomerFlag::ConflictingEmail => "The users file gives different e-mail addresses (not shown)",
        CustomerFlag::NullSubscription => "Has transactions without a subscription",
        CustomerFlag::UnknownSubscription => "Has transactions on a subscription the products file does not list",
        CustomerFlag::SeveralCurrencies => "Pays in more than one currency",
    }
}

fn summary(r: &CustomerReport) -> Html {
    html! {
        <>
            <div class="kpis">
                { for r.totals.iter().map(|t| html! {
                    <div class="kpi" id={format!("customer-total-{}", t.currency)}>
                        <div class="kpi-label">{ format!("Total spending, {}", t.currency.as_str().to_uppercase()) }</div>
                        <div class="kpi-value">{ money(t.total_spending, t.currency) }</div>
                        <div class="kpi-sub">{ format!("{} transactions, {} to {}", count(t.transactions), month_label(t.first_month), month_label(t.latest_month)) }</div>
                    </div>
                }) }
            </div>
            if r.totals.is_empty() { <p class="empty">{ "No transactions." }</p> }
            if !r.products.is_empty() { <p id="customer-products">{ format!("Products: {}", r.products.join(", ")) }</p> }
            <h3>{ "Data quality" }</h3>
            if r.flags.is_empty() {
                <p id="customer-flags">{ "Nothing to note." }</p>
            } else {
                <ul id="customer-flags">{ for r.flags.iter().map(|f| html! { <li class="warn">{ flag_text(*f) }</li> }) }</ul>
            }
        </>
    }
}

fn months(r: &CustomerReport) -> Html {
    let rows = r.months.iter().rev().map(|m| html! {
        <tr><td>{ month_link(m.month, Some(m.currency), html! { { month_label(m.month) } }) }</td><td>{ m.currency.as_str().to_uppercase() }</td>
        <td class="num">{ money(m.spending, m.currency) }</td><td class="num">{ count(m.transactions) }</td></tr>
    });
    html! {
        <Section id="customer-months" title="Transactions by month" subtitle={AttrValue::from("Newest first; a month opens that month")}
            empty={r.months.is_empty()} empty_text="No transactions.">
            <div class="table-wrap"><table>
                <thead><tr><th>{"Month"}</th><th>{"Currency"}</th><th class="num">{"Spending"}</th><th class="num">{"Transactions"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </Section>
    }
}

fn subscriptions(r: &CustomerReport) -> Html {
    let rows = r.subscriptions.iter().map(|s| {
        let id = s.subscription_id.clone().unwrap_or_else(|| "(none)".to_owned());
        let plans = if s.known {
            s.plans
                .iter()
                .map(|p| format!("{} ({}, {})", p.product, p.interval, p.status))
                .collect::<Vec<_>>()
                .join("; ")
        } else if s.subscription_id.is_some() {
            "Not in the products file".to_owned()
        } else {
            "No subscription".to_owned()
        };
        html! {
            <tr><td><code>{ id }</code></td><td>{ plans }</td><td>{ s.currency.as_str().to_uppercase() }</td>
            <td class="num">{ money(s.spending, s.currency) }</td><td class="num">{ count(s.transactions) }</td>
            <td>{ format!("{} to {}", month_label(s.first_month), month_label(s.latest_month)) }</td></tr>
        }
    });
    html! {
        <Section id="customer-subscriptions" title="Subscriptions and products" empty={r.subscriptions.is_empty()} empty_text="No transactions.">
            <div class="table-wrap" tabindex="0" role="region" aria-label="Subscriptions of the customer"><table>
                <thead><tr><th>{"Subscription"}</th><th>{"Plans"}</th><th>{"Currency"}</th><th class="num">{"Spending"}</th><th class="num">{"Transactions"}</th><th>{"Months"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </Section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_round_trips_through_the_url() {
        let s = SearchQuery {
            q: "Ann Lee & 100%".into(),
            offset: 20,
        };
        assert_eq!(s.to_query(), "q=Ann%20Lee%20%26%20100%25&offset=20");
        assert_eq!(SearchQuery::from_query(&format!("?{}", s.to_query())), s);
        assert_eq!(SearchQuery::from_query("q=a+b&offset=x").q, "a b");
        assert_eq!(SearchQuery::default().to_query(), "");
    }

    #[tokio::test]
    async fn the_summary_shows_each_currency_and_the_flags_in_words() {
        let report = CustomerReport {
            customer_id: "c1".into(),
            customer_name: "Ann Lee".into(),
            in_users_file: true,
            flags: vec![CustomerFlag::ConflictingEmail, CustomerFlag::SeveralCurrencies],
            totals: ["usd", "eur"]
                .map(|c| api_types::CustomerTotal {
                    currency: c.parse().unwrap(),
                    total_spending: api_types::Money::new(2350, 2),
                    transactions: 5,
                    first_month: "2024-01".parse().unwrap(),
                    latest_month: "2024-03".parse().unwrap(),
                })
                .to_vec(),
            months: Vec::new(),
            subscriptions: Vec::new(),
            products: vec!["Alpha".into(), "Beta".into()],
        };
        let html = crate::components::ssr::render(move || summary(&report)).await;
        assert!(html.contains("$23.50") && html.contains("€23.50"), "{html}");
        assert!(
            html.contains("5 transactions, Jan 2024 to Mar 2024") && html.contains("Products: Alpha, Beta"),
            "{html}"
        );
        assert!(
            html.contains(flag_text(CustomerFlag::ConflictingEmail)) && html.contains("more than one currency"),
            "{html}"
        );
    }
}

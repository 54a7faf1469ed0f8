//! One month (`/month/2024-05?currency=eur`): what a click on a month of the
//! monthly charts opens. Its figures against the month before, its best
//! customers (each a link to the customer) and products, and the CSV.

use api_types::{Currency, Month, MonthFigures, MonthReport, Percent};
use yew::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::drill::{customer_link, month_link, QueryLink};
use crate::components::section::Section;
use crate::format::{count, money, month_label, percent, share, signed_count, signed_money};
use crate::hooks::{use_fetch, use_query, use_title};
use crate::state::ViewState;

#[derive(Properties, PartialEq)]
pub struct MonthPageProps {
    /// `YYYY-MM`, from the path.
    pub month: String,
}

#[component]
pub fn MonthPage(props: &MonthPageProps) -> Html {
    let month = Month::parse(&props.month);
    let title = month.map_or_else(|| props.month.clone(), month_label);
    use_title(format!("{title} · Revenue analytics"));
    let (query, _) = use_query(Route::Month {
        month: props.month.clone(),
    });
    let currency = ViewState::from_query(&query).currency;
    let raw = props.month.clone();
    let report = use_fetch((month, currency), move |(m, c)| async move {
        match m {
            Some(m) => api::month(m, c).await,
            None => Err(api::FetchError::new(
                "the month",
                format!("{raw:?} is not a month (YYYY-MM)"),
            )),
        }
    });
    let data = report.data();
    let shown = data.as_ref().map(|r| r.currency).or(currency);
    let csv = month.map(|m| AttrValue::from(format!("{}&format=csv", api::month_url(m, shown))));
    let back = ViewState {
        currency,
        ..ViewState::default()
    };
    html! {
        <main class="page">
            <nav class="toolbar month-nav" aria-label="Months">
                <QueryLink to={Route::Reports} query={back.to_query().trim_start_matches('?').to_owned()}>{ "← All months" }</QueryLink>
                if let Some(m) = month {
                    { month_link(m.plus(-1), shown, html! { <>{ "‹ " }{ month_label(m.plus(-1)) }</> }) }
                    { month_link(m.plus(1), shown, html! { <>{ month_label(m.plus(1)) }{ " ›" }</> }) }
                }
            </nav>
            <Section id="month" {title}
                subtitle={shown.map(|c| AttrValue::from(format!("{}, against the month before", c.as_str().to_uppercase())))}
                status={report.status()} csv_href={csv}>
                { data.as_ref().map(|r| figures(r)).unwrap_or_default() }
            </Section>
            if let Some(r) = data {
                <div class="grid">
                    { customers(&r) }
                    { products(&r) }
                </div>
            }
        </main>
    }
}

/// The month's tiles: each figure with its change against the month before.
fn figures(r: &MonthReport) -> Html {
    let c = &r.current;
    let change = r.change.as_ref();
    let before = r.previous.as_ref().map(|p| month_label(p.month));
    let versus = |delta: String, pct: Option<Percent>| match &before {
        Some(b) => format!("{delta} ({}) vs {b}", percent(pct)),
        None => "No month before in the data".to_owned(),
    };
    let partial = (!r.complete).then_some(if r.in_progress {
        "This month is still in progress."
    } else {
        "The data stop during this month: it is partial."
    });
    html! {
        <>
            <div class="kpis">
                { tile("month-revenue", "Revenue", money(c.revenue, r.currency),
                    versus(change.map(|d| signed_money(d.revenue, r.currency)).unwrap_or_default(), change.and_then(|d| d.revenue_pct))) }
                { tile("month-transactions", "Transactions", count(c.transactions),
                    versus(change.map(|d| signed_count(d.transactions)).unwrap_or_default(), change.and_then(|d| d.transactions_pct))) }
                { tile("month-customers", "Active customers", count(c.active_customers),
                    versus(change.map(|d| signed_count(d.active_customers)).unwrap_or_default(), change.and_then(|d| d.active_customers_pct))) }
                { tile("month-average", "Average transaction", money(c.avg_transaction_amount, r.currency),
                    previous_text(r.previous.as_ref(), r.currency)) }
            </div>
            if let Some(p) = partial { <p class="note">{ p }</p> }
        </>
    }
}

fn previous_text(previous: Option<&MonthFigures>, currency: Currency) -> String {
    previous.map_or("No month before in the data".to_owned(), |p| {
        format!(
            "{} in {}",
            money(p.avg_transaction_amount, currency),
            month_label(p.month)
        )
    })
}

fn tile(id: &'static str, label: &'static str, value: String, sub: String) -> Html {
    html! {
        <div class="kpi" {id}>
            <div class="kpi-label">{ label }</div>
            <div class="kpi-value">{ value }</div>
            <div class="kpi-sub">{ sub }</div>
        </div>
    }
}

fn customers(r: &MonthReport) -> Html {
    let rows = r.top_customers.iter().map(|u| {
        let name = if u.customer_name.is_empty() { "(no name)".to_owned() } else { u.customer_name.clone() };
        html! {
            <tr><td>{ u.rank }</td><td>{ customer_link(&u.customer_id) }</td><td>{ name }</td>
            <td class="num">{ money(u.total_spending, r.currency) }</td><td class="num">{ count(u.transactions) }</td></tr>
        }
    });
    html! {
        <Section id="month-customers-list" title="Top customers of the month" subtitle={AttrValue::from("By spending in the month, refunds subtracted")}
            empty={r.top_customers.is_empty()} empty_text="No customer paid in this currency this month.">
            <div class="table-wrap"><table>
                <thead><tr><th>{"Rank"}</th><th>{"Customer"}</th><th>{"Name"}</th><th class="num">{"Spending"}</th><th class="num">{"Transactions"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </Section>
    }
}

fn products(r: &MonthReport) -> Html {
    let unattributed = r.unattributed.null_subscription.minor() + r.unattributed.unknown_subscription.minor();
    let rows = r.top_products.iter().map(|p| html! {
        <tr><td>{ p.rank }</td><td>{ p.product.clone() }</td><td class="num">{ money(p.total_sales, r.currency) }</td>
        <td class="num">{ count(p.transactions) }</td><td class="num">{ share(p.share_pct) }</td></tr>
    });
    html! {
        <Section id="month-products" title="Top products of the month"
            subtitle={AttrValue::from(format!("{} attributable to a product; {} not",
                money(r.attributed_revenue, r.currency),
                money(api_types::Money::new(unattributed, r.attributed_revenue.exponent()), r.currency)))}
            empty={r.top_products.is_empty()} empty_text="No revenue of this month is attributable to a product.">
            <div class="table-wrap" tabindex="0" role="region" aria-label="Products of the month"><table>
                <thead><tr><th>{"Rank"}</th><th>{"Product"}</th><th class="num">{"Sales"}</th><th class="num">{"Transactions"}</th><th class="num">{"Share"}</th></tr></thead>
                <tbody>{ for rows }</tbody>
            </table></div>
        </Section>
    }
}

#[cfg(test)]
mod tests {
    use api_types::{MonthChange, Unattributed};

    use super::*;
    use crate::components::ssr::render;

    fn figures_of(month: &str, revenue: i64, transactions: i64, active: i64) -> MonthFigures {
        let money = |c| api_types::Money::new(c, 2);
        MonthFigures {
            month: month.parse().unwrap(),
            revenue: money(revenue),
            transactions,
            active_customers: active,
            avg_transaction_amount: money(revenue / transactions.max(1)),
        }
    }

    #[tokio::test]
    async fn the_tiles_show_the_month_against_the_month_before() {
        let report = MonthReport {
            currency: "usd".parse().unwrap(),
            current: figures_of("2024-02", 3350, 5, 4),
            previous: Some(figures_of("2024-01", 3500, 3, 2)),
            change: Some(MonthChange {
                revenue: api_types::Money::new(-150, 2),
                revenue_pct: Some(Percent(-429)),
                transactions: 2,
                transactions_pct: Some(Percent(6667)),
                active_customers: 2,
                active_customers_pct: Some(Percent(10000)),
            }),
            complete: false,
            in_progress: false,
            top_customers: Vec::new(),
            top_products: Vec::new(),
            attributed_revenue: api_types::Money::new(2400, 2),
            unattributed: Unattributed {
                null_subscription: api_types::Money::new(250, 2),
                unknown_subscription: api_types::Money::new(700, 2),
            },
        };
        let html = render(move || figures(&report)).await;
        assert!(
            html.contains("$33.50") && html.contains("(-4.29%) vs Jan 2024"),
            "{html}"
        );
        assert!(
            html.contains("+2 (+66.67%) vs Jan 2024") && html.contains("+2 (+100.00%)"),
            "{html}"
        );
        assert!(
            html.contains("The data stop during this month: it is partial."),
            "{html}"
        );
    }
}

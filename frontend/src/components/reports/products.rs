//! Products ranked by total sales, with what cannot be attributed to a product.

use api_types::TopProductsReport;
use yew::prelude::*;

use super::ChartSectionProps;
use crate::api;
use crate::charts::{Bar, Theme};
use crate::components::chart_canvas::{Axis, Chart, ChartCanvas};
use crate::components::section::Section;
use crate::format::{count, money, percent, share};
use crate::hooks::use_fetch;

#[component]
pub fn ProductsSection(props: &ChartSectionProps) -> Html {
    let report = use_fetch(props.view.clone(), |v| async move { api::top_products(&v).await });
    let data = report.data();
    let empty = data.as_ref().is_some_and(|r| r.products.is_empty());
    let (chart, table) = match &data {
        Some(r) => (chart(r, &props.theme(), props.dark, props.epoch), Some(table(r))),
        None => (html! {}, None),
    };
    let subtitle = if props.view.as_of.is_some() {
        "Selected window"
    } else {
        "All data"
    };
    let csv = api::csv_url(
        "/reports/top-products",
        &format!("limit=10&{}", api::products_range(&props.view)),
    );
    html! {
        <Section id="products" title="Top products by total sales" subtitle={AttrValue::from(subtitle)}
            status={report.status()} {empty} {table} csv_href={AttrValue::from(csv)}>
            { chart }
        </Section>
    }
}

fn chart(r: &TopProductsReport, theme: &Theme, dark: bool, epoch: u32) -> Html {
    let c = &r.currency;
    let bars: Vec<Bar> = r
        .products
        .iter()
        .map(|p| Bar {
            label: p.product.clone(),
            value: p.total_sales.to_f64(),
            color: theme.primary,
            partial: None,
        })
        .collect();
    let tips: Vec<String> = r
        .products
        .iter()
        .map(|p| {
            format!(
                "#{} {}\nTotal sales: {}\nShare: {}\nTransactions: {}",
                p.rank,
                p.product,
                money(p.total_sales, c),
                percent(p.share_pct),
                count(p.transactions)
            )
        })
        .collect();
    // The server keeps every sum of a currency within 64 bits: `None` cannot happen.
    let unattributed = r
        .unattributed
        .null_subscription
        .checked_add(r.unattributed.unknown_subscription)
        .map_or_else(|| "–".to_owned(), |m| money(m, c));
    html! {
        <>
            if let Some(top) = r.products.first() {
                <div class="headline">
                    <div class="kpi-label">{ "Highest total sales" }</div>
                    <div class="kpi-value" id="top-product">{ top.product.clone() }</div>
                    <div class="kpi-sub">{ format!("{} · {} of attributed revenue", money(top.total_sales, c), share(top.share_pct)) }</div>
                </div>
            }
            <ChartCanvas chart={Chart::Horizontal { bars, axis: Axis::Money(c.clone()) }} tooltips={tips}
                label="Products ranked by total sales" {dark} {epoch} height={320} />
            <p class="note">
                { format!("Ranking covers {} of attributed revenue. Not attributable to a product: {} (no subscription: {}, subscription not in products: {}), out of {} total.",
                    money(r.attributed_revenue, c), unattributed, money(r.unattributed.null_subscription, c), money(r.unattributed.unknown_subscription, c), money(r.total_revenue, c)) }
            </p>
        </>
    }
}

fn table(r: &TopProductsReport) -> Html {
    let c = &r.currency;
    html! {
        <div class="table-wrap"><table>
            <thead><tr><th>{"Rank"}</th><th>{"Product"}</th><th>{"Total sales"}</th><th>{"Share"}</th><th>{"Transactions"}</th></tr></thead>
            <tbody>{ for r.products.iter().map(|p| html! {
                <tr><td>{ p.rank }</td><td>{ p.product.clone() }</td><td>{ money(p.total_sales, c) }</td><td>{ share(p.share_pct) }</td><td>{ count(p.transactions) }</td></tr>
            }) }</tbody>
        </table></div>
    }
}

//! Products ranked by total sales, with what cannot be attributed to a product.

use api_types::{Percent, TopProductsReport};
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
    let empty_text = data
        .as_ref()
        .map_or_else(|| AttrValue::from(NO_REVENUE), |r| AttrValue::from(empty_text(r)));
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
            status={report.status()} {empty} {empty_text} {table} csv_href={AttrValue::from(csv)}>
            { chart }
        </Section>
    }
}

const NO_REVENUE: &str = "No revenue in this window. Pick another month or a longer window.";

/// Why there is no product to rank: no revenue at all in the window (another
/// window may have some), or revenue none of which can be attributed to a
/// product — which no choice of month changes when the currency's
/// transactions carry no known subscription.
pub fn empty_text(r: &TopProductsReport) -> String {
    if r.total_revenue.is_zero() {
        return NO_REVENUE.to_owned();
    }
    let c = &r.currency;
    format!(
        "None of the {} {} revenue in this window can be attributed to a product: {} is on transactions without a subscription and {} on subscriptions that are not in the products file.",
        money(r.total_revenue, c),
        c.as_str().to_uppercase(),
        money(r.unattributed.null_subscription, c),
        money(r.unattributed.unknown_subscription, c)
    )
}

/// Revenue a product can be credited with, and the rest, as shares of all
/// the window's revenue.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub attributed: Option<Percent>,
    pub unattributed: Option<Percent>,
    /// The unattributed amount, as text.
    pub unattributed_money: String,
}

impl Attribution {
    pub fn of(r: &TopProductsReport) -> Self {
        let total = r.total_revenue.minor();
        let rest = r
            .unattributed
            .null_subscription
            .checked_add(r.unattributed.unknown_subscription);
        Attribution {
            attributed: Percent::ratio(r.attributed_revenue.minor(), total),
            unattributed: rest.and_then(|m| Percent::ratio(m.minor(), total)),
            // The server keeps every sum of a currency within 64 bits: `None` cannot happen.
            unattributed_money: rest.map_or_else(|| "–".to_owned(), |m| money(m, r.currency)),
        }
    }

    /// The card's headline: what the ranking covers.
    pub fn headline(&self) -> String {
        format!("{} of revenue is attributable to a product", share(self.attributed))
    }
}

/// A bar of the window's revenue split in two: attributable to a product
/// (what the ranking covers) and not, with both figures.
fn split_bar(r: &TopProductsReport, a: &Attribution) -> Html {
    let c = &r.currency;
    let width = |p: Option<Percent>| format!("width:{}%", p.map_or(0.0, |p| p.hundredths() as f64 / 100.0));
    html! {
        <div class="attribution">
            <div class="split-bar" role="img"
                aria-label={format!("{} attributable to a product, {} not", share(a.attributed), share(a.unattributed))}>
                <span class="attributed" style={width(a.attributed)}></span>
                <span class="unattributed" style={width(a.unattributed)}></span>
            </div>
            <p class="legend">
                <span class="swatch primary"></span>{ format!("Attributable: {} ({})", money(r.attributed_revenue, c), share(a.attributed)) }
                <span class="swatch unattributed"></span>
                <span id="unattributed-share">{ format!("Not attributable: {} ({})", a.unattributed_money, share(a.unattributed)) }</span>
            </p>
        </div>
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
    let a = Attribution::of(r);
    html! {
        <>
            <div class="headline">
                <div class="kpi-value" id="attributed-share">{ a.headline() }</div>
                <div class="kpi-sub">{ format!("The ranking covers only that part: {} of {}. The rest cannot be credited to any product.",
                    money(r.attributed_revenue, c), money(r.total_revenue, c)) }</div>
            </div>
            { split_bar(r, &a) }
            if let Some(top) = r.products.first() {
                <div class="headline">
                    <div class="kpi-label">{ "Highest total sales" }</div>
                    <div class="kpi-value" id="top-product">{ top.product.clone() }</div>
                    <div class="kpi-sub">{ format!("{} · {} of attributable revenue", money(top.total_sales, c), share(top.share_pct)) }</div>
                </div>
            }
            <ChartCanvas chart={Chart::Horizontal { bars, axis: Axis::Money(*c) }} tooltips={tips}
                label="Products ranked by total sales" {dark} {epoch} height={320} />
            <p class="note">
                { format!("Not attributable to a product: {} (no subscription: {}, subscription not in products: {}), out of {} total.",
                    a.unattributed_money, money(r.unattributed.null_subscription, c), money(r.unattributed.unknown_subscription, c), money(r.total_revenue, c)) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::{Money, Unattributed};

    fn report(attributed: i64, null: i64, unknown: i64) -> TopProductsReport {
        TopProductsReport {
            currency: "usd".parse().unwrap(),
            from: None,
            to: None,
            attributed_revenue: Money::new(attributed, 2),
            unattributed: Unattributed {
                null_subscription: Money::new(null, 2),
                unknown_subscription: Money::new(unknown, 2),
            },
            total_revenue: Money::new(attributed + null + unknown, 2),
            products: Vec::new(),
        }
    }

    #[test]
    fn the_headline_says_the_attributable_share_and_the_rest_is_a_figure() {
        let a = Attribution::of(&report(7_000, 3_000, 90_000));
        assert_eq!(a.headline(), "7.00% of revenue is attributable to a product");
        assert_eq!(a.unattributed, Some(Percent(9_300)));
        assert_eq!(a.unattributed_money, "$930.00");
    }

    #[test]
    fn a_currency_without_attributable_revenue_says_so() {
        let text = empty_text(&report(0, 1_000, 2_500));
        assert!(
            text.starts_with("None of the $35.00 USD revenue in this window can be attributed"),
            "{text}"
        );
        assert!(!text.contains("Pick another month"));
        assert_eq!(empty_text(&report(0, 0, 0)), NO_REVENUE);
    }
}

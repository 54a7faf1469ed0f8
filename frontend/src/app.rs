//! The page: header controls bound to the URL, and one section per report.

use std::rc::Rc;

use api_types::{
    Meta, MonthlyTransactionsReport, QualityReport, RevenueGrowthReport, TopProductsReport, TopUsersReport,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, FetchError};
use crate::charts::{faded, growth_color, Bar, Theme};
use crate::components::chart_canvas::{prefers_dark, select_value, Axis, ChartCanvas, ChartKind};
use crate::components::section::Section;
use crate::format::{count, money, month_label, month_short, percent, share, timestamp};
use crate::state::{months_between, ViewState, WINDOW_CHOICES};

/// The state of one request.
#[derive(Clone, PartialEq)]
pub enum Fetch<T> {
    Loading,
    Failed(FetchError),
    Loaded(Rc<T>),
}

impl<T> Fetch<T> {
    fn loading(&self) -> bool {
        matches!(self, Fetch::Loading)
    }
    fn error(&self) -> Option<FetchError> {
        match self {
            Fetch::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }
    fn data(&self) -> Option<&T> {
        match self {
            Fetch::Loaded(d) => Some(d),
            _ => None,
        }
    }
}

fn load<T: 'static, F>(handle: UseStateHandle<Fetch<T>>, fut: F)
where
    F: std::future::Future<Output = Result<T, FetchError>> + 'static,
{
    handle.set(Fetch::Loading);
    spawn_local(async move {
        handle.set(match fut.await {
            Ok(v) => Fetch::Loaded(Rc::new(v)),
            Err(e) => Fetch::Failed(e),
        });
    });
}

fn location_search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Listens to a window event for the lifetime of the component.
fn on_window_event(name: &'static str, f: impl Fn() + 'static) -> impl FnOnce() {
    let closure = Closure::<dyn Fn()>::new(f);
    let window = web_sys::window();
    if let Some(w) = &window {
        let _ = w.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
    }
    move || {
        if let Some(w) = window {
            let _ = w.remove_event_listener_with_callback(name, closure.as_ref().unchecked_ref());
        }
    }
}

/// Calls `f(matches)` whenever a media query's result changes.
fn on_media_change(query: &str, f: impl Fn(bool) + 'static) -> impl FnOnce() {
    let list = web_sys::window().and_then(|w| w.match_media(query).ok().flatten());
    let target = list.clone();
    let closure = Closure::<dyn Fn()>::new(move || f(target.as_ref().is_some_and(|l| l.matches())));
    if let Some(l) = &list {
        let _ = l.add_event_listener_with_callback("change", closure.as_ref().unchecked_ref());
    }
    move || {
        if let Some(l) = list {
            let _ = l.remove_event_listener_with_callback("change", closure.as_ref().unchecked_ref());
        }
    }
}

#[component]
pub fn App() -> Html {
    let view = use_state(|| ViewState::from_query(&location_search()));
    let meta = use_state(|| Fetch::<Meta>::Loading);
    let monthly = use_state(|| Fetch::<MonthlyTransactionsReport>::Loading);
    let growth = use_state(|| Fetch::<RevenueGrowthReport>::Loading);
    let products = use_state(|| Fetch::<TopProductsReport>::Loading);
    let users = use_state(|| Fetch::<TopUsersReport>::Loading);
    let quality = use_state(|| Fetch::<QualityReport>::Loading);
    let retry = use_state(|| 0u32);
    let epoch = use_state(|| 0u32);
    let dark = use_state(prefers_dark);

    // Back/forward restore the view from the URL; resizing redraws the charts.
    {
        let view = view.clone();
        let epoch = epoch.clone();
        let dark = dark.clone();
        let dark_theme = dark.clone();
        use_effect_with((), move |_| {
            let v = view.clone();
            let stop_pop = on_window_event("popstate", move || v.set(ViewState::from_query(&location_search())));
            let e = epoch.clone();
            let stop_resize = on_window_event("resize", move || e.set(e.wrapping_add(1)));
            let _ = dark;
            // A change of the system theme redraws the charts in the new colours.
            let stop_theme = on_media_change("(prefers-color-scheme: dark)", move |matches| dark_theme.set(matches));
            move || {
                stop_pop();
                stop_resize();
                stop_theme();
            }
        });
    }
    {
        let (meta, quality) = (meta.clone(), quality.clone());
        use_effect_with(*retry, move |_| {
            load(meta, api::meta());
            load(quality, api::quality());
        });
    }
    {
        let (monthly, growth, products, users) = (monthly.clone(), growth.clone(), products.clone(), users.clone());
        use_effect_with(((*view).clone(), *retry), move |(v, _)| {
            let v = v.clone();
            let (v1, v2, v3, v4) = (v.clone(), v.clone(), v.clone(), v);
            load(monthly, async move { api::monthly(&v1).await });
            load(growth, async move { api::growth(&v2).await });
            load(products, async move { api::top_products(&v3).await });
            load(users, async move { api::top_users(&v4).await });
        });
    }

    let set_view = {
        let view = view.clone();
        Callback::from(move |next: ViewState| {
            if let Some(w) = web_sys::window() {
                let path = w.location().pathname().unwrap_or_else(|_| "/".into());
                if let Ok(history) = w.history() {
                    let _ = history.push_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&format!("{path}{}", next.to_query())),
                    );
                }
            }
            view.set(next);
        })
    };
    let on_retry = {
        let retry = retry.clone();
        Callback::from(move |_| retry.set(*retry + 1))
    };
    let theme = if *dark { Theme::DARK } else { Theme::LIGHT };

    html! {
        <>
            <header class="top">
                <h1>{ "Revenue analytics" }</h1>
                { controls(&view, meta.data(), &set_view) }
            </header>
            <main class="grid">
                { monthly_section(&monthly, &view, &on_retry, &theme, *dark, *epoch) }
                { products_section(&products, &view, &on_retry, &theme, *dark, *epoch) }
                { growth_section(&growth, &view, &on_retry, &theme, *dark, *epoch) }
                { users_section(&users, &view, &on_retry) }
                { quality_section(&quality, &on_retry) }
            </main>
            <footer class="foot">
                <a href="/docs">{ "API documentation" }</a>{ " · " }<a href="/openapi.json">{ "OpenAPI" }</a>
            </footer>
        </>
    }
}

fn controls(view: &UseStateHandle<ViewState>, meta: Option<&Meta>, set_view: &Callback<ViewState>) -> Html {
    // Each select changes one field of the view; an empty value means "default".
    let on_select = |apply: fn(&mut ViewState, Option<String>)| {
        let (view, set_view) = (view.clone(), set_view.clone());
        Callback::from(move |e: Event| {
            let mut next = (*view).clone();
            apply(&mut next, select_value(&e).filter(|v| !v.is_empty()));
            set_view.emit(next);
        })
    };
    let on_months = on_select(|v, value| {
        if let Some(m) = value.and_then(|m| m.parse().ok()) {
            v.months = m;
        }
    });
    let on_as_of = on_select(|v, value| v.as_of = value);
    let on_currency = on_select(|v, value| v.currency = value);
    let months = meta
        .and_then(|m| Some(months_between(m.first_month.as_deref()?, m.latest_month.as_deref()?)))
        .unwrap_or_default();
    let latest = meta.and_then(|m| m.latest_month.clone()).unwrap_or_default();
    let currencies: Vec<String> = meta
        .map(|m| m.currencies.iter().map(|c| c.currency.clone()).collect())
        .unwrap_or_default();
    html! {
        <form class="controls" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <label>{ "Window" }
                <select id="months" onchange={on_months}>
                    { for WINDOW_CHOICES.iter().map(|m| html! {
                        <option value={m.to_string()} selected={*m == view.months}>{ format!("{m} months") }</option>
                    }) }
                </select>
            </label>
            <label>{ "As of" }
                <select id="as-of" onchange={on_as_of}>
                    <option value="" selected={view.as_of.is_none()}>{ format!("Latest ({})", month_label(&latest)) }</option>
                    { for months.iter().map(|m| html! {
                        <option value={m.clone()} selected={view.as_of.as_deref() == Some(m)}>{ month_label(m) }</option>
                    }) }
                </select>
            </label>
            <label>{ "Currency" }
                <select id="currency" onchange={on_currency}>
                    { for currencies.iter().enumerate().map(|(i, c)| html! {
                        <option value={if i == 0 { String::new() } else { c.clone() }}
                            selected={view.currency.as_deref() == Some(c.as_str()) || (i == 0 && view.currency.is_none())}>
                            { c.to_uppercase() }
                        </option>
                    }) }
                </select>
            </label>
        </form>
    }
}

fn incomplete_note(any_incomplete: bool) -> Html {
    if any_incomplete {
        html! { <p class="legend"><span class="swatch faded"></span>{ "Lighter bar: the latest month is still in progress (partial data)." }</p> }
    } else {
        html! {}
    }
}

fn monthly_section(
    f: &Fetch<MonthlyTransactionsReport>,
    view: &ViewState,
    retry: &Callback<()>,
    theme: &Theme,
    dark: bool,
    epoch: u32,
) -> Html {
    let data = f.data();
    let empty = data.is_some_and(|r| r.months.iter().all(|m| m.transactions == 0));
    let (chart, table, subtitle) = match data {
        Some(r) => {
            let bars: Vec<Bar> = r
                .months
                .iter()
                .map(|m| Bar {
                    label: month_short(&m.month),
                    value: m.avg_transaction_amount.cents() as f64 / 100.0,
                    color: if m.complete {
                        theme.primary
                    } else {
                        faded(theme.primary, theme)
                    },
                })
                .collect();
            let tips: Vec<String> = r
                .months
                .iter()
                .map(|m| {
                    format!(
                        "{}{}\nAverage: {}\nTransactions: {}\nActive customers: {}\nRevenue: {}",
                        month_label(&m.month),
                        if m.complete { "" } else { " (in progress)" },
                        money(m.avg_transaction_amount, &r.currency),
                        count(m.transactions),
                        count(m.active_customers),
                        money(m.revenue, &r.currency)
                    )
                })
                .collect();
            let table = html! {
                <div class="table-wrap"><table>
                    <thead><tr><th>{"Month"}</th><th>{"Transactions"}</th><th>{"Active customers"}</th><th>{"Revenue"}</th><th>{"Avg / transaction"}</th><th>{"Avg / customer"}</th></tr></thead>
                    <tbody>{ for r.months.iter().map(|m| html! {
                        <tr><td>{ month_label(&m.month) }{ if m.complete { "" } else { " *" } }</td><td>{ count(m.transactions) }</td><td>{ count(m.active_customers) }</td>
                        <td>{ money(m.revenue, &r.currency) }</td><td>{ money(m.avg_transaction_amount, &r.currency) }</td><td>{ money(m.avg_amount_per_customer, &r.currency) }</td></tr>
                    }) }</tbody>
                </table></div>
            };
            let chart = html! {
                <>
                    <ChartCanvas kind={ChartKind::Vertical} {bars} tooltips={tips} axis={Axis::Money(r.currency.clone())}
                        label="Average transaction amount per month" {dark} {epoch} />
                    { incomplete_note(r.months.iter().any(|m| !m.complete && m.transactions > 0)) }
                </>
            };
            (
                chart,
                Some(table),
                Some(format!(
                    "{} to {}, {}",
                    month_label(&r.window.from),
                    month_label(&r.window.to),
                    r.currency.to_uppercase()
                )),
            )
        }
        None => (html! {}, None, None),
    };
    html! {
        <Section id="monthly" title="Average transaction amount per month" subtitle={subtitle.map(AttrValue::from)}
            loading={f.loading()} error={f.error()} on_retry={retry.clone()} {empty} {table}
            csv_href={AttrValue::from(api::csv_url("/reports/monthly-transactions", &view.api_query()))}>
            { chart }
        </Section>
    }
}

fn products_section(
    f: &Fetch<TopProductsReport>,
    view: &ViewState,
    retry: &Callback<()>,
    theme: &Theme,
    dark: bool,
    epoch: u32,
) -> Html {
    let data = f.data();
    let empty = data.is_some_and(|r| r.products.is_empty());
    let (chart, table) = match data {
        Some(r) => {
            let c = &r.currency;
            let bars: Vec<Bar> = r
                .products
                .iter()
                .map(|p| Bar {
                    label: p.product.clone(),
                    value: p.total_sales.cents() as f64 / 100.0,
                    color: theme.primary,
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
            let unattributed = api_types::Money(
                r.unattributed.null_subscription.cents() + r.unattributed.unknown_subscription.cents(),
            );
            let top = r.products.first();
            let chart = html! {
                <>
                    if let Some(top) = top {
                        <div class="headline">
                            <div class="kpi-label">{ "Highest total sales" }</div>
                            <div class="kpi-value" id="top-product">{ top.product.clone() }</div>
                            <div class="kpi-sub">{ format!("{} · {} of attributed revenue", money(top.total_sales, c), share(top.share_pct)) }</div>
                        </div>
                    }
                    <ChartCanvas kind={ChartKind::Horizontal} {bars} tooltips={tips} axis={Axis::Money(c.clone())}
                        label="Products ranked by total sales" {dark} {epoch} height={320} />
                    <p class="note">
                        { format!("Ranking covers {} of attributed revenue. Not attributable to a product: {} (no subscription: {}, subscription not in products: {}), out of {} total.",
                            money(r.attributed_revenue, c), money(unattributed, c), money(r.unattributed.null_subscription, c), money(r.unattributed.unknown_subscription, c), money(r.total_revenue, c)) }
                    </p>
                </>
            };
            let table = html! {
                <div class="table-wrap"><table>
                    <thead><tr><th>{"Rank"}</th><th>{"Product"}</th><th>{"Total sales"}</th><th>{"Share"}</th><th>{"Transactions"}</th></tr></thead>
                    <tbody>{ for r.products.iter().map(|p| html! {
                        <tr><td>{ p.rank }</td><td>{ p.product.clone() }</td><td>{ money(p.total_sales, c) }</td><td>{ share(p.share_pct) }</td><td>{ count(p.transactions) }</td></tr>
                    }) }</tbody>
                </table></div>
            };
            (chart, Some(table))
        }
        None => (html! {}, None),
    };
    let subtitle = if view.as_of.is_some() {
        "Selected window"
    } else {
        "All data"
    };
    html! {
        <Section id="products" title="Top products by total sales" subtitle={AttrValue::from(subtitle)}
            loading={f.loading()} error={f.error()} on_retry={retry.clone()} {empty} {table}
            csv_href={AttrValue::from(api::csv_url("/reports/top-products", &format!("limit=10&{}", api::products_range(view))))}>
            { chart }
        </Section>
    }
}

fn growth_section(
    f: &Fetch<RevenueGrowthReport>,
    view: &ViewState,
    retry: &Callback<()>,
    theme: &Theme,
    dark: bool,
    epoch: u32,
) -> Html {
    let data = f.data();
    let empty = data.is_some_and(|r| {
        r.months
            .iter()
            .all(|m| m.revenue.cents() == 0 && m.previous_revenue.is_none())
    });
    let (chart, table) = match data {
        Some(r) => {
            let c = &r.currency;
            let bars: Vec<Bar> = r
                .months
                .iter()
                .map(|m| Bar {
                    label: month_short(&m.month),
                    value: m.growth_pct.map_or(0.0, |p| p.hundredths() as f64 / 100.0),
                    color: growth_color(m.growth_pct, m.complete, theme),
                })
                .collect();
            let tips: Vec<String> = r
                .months
                .iter()
                .map(|m| {
                    format!(
                        "{}{}\nGrowth: {}\nRevenue: {}\nPrevious month: {}",
                        month_label(&m.month),
                        if m.complete { "" } else { " (in progress)" },
                        percent(m.growth_pct),
                        money(m.revenue, c),
                        m.previous_revenue.map_or("–".to_owned(), |p| money(p, c))
                    )
                })
                .collect();
            let chart = html! {
                <>
                    <ChartCanvas kind={ChartKind::Vertical} {bars} tooltips={tips} axis={Axis::Percent}
                        label="Month-over-month revenue growth" {dark} {epoch} />
                    <p class="legend"><span class="swatch up"></span>{ "Growth " }<span class="swatch down"></span>{ "Decline" }</p>
                    { incomplete_note(r.months.iter().any(|m| !m.complete)) }
                </>
            };
            let table = html! {
                <div class="table-wrap"><table>
                    <thead><tr><th>{"Month"}</th><th>{"Revenue"}</th><th>{"Previous month"}</th><th>{"Growth"}</th></tr></thead>
                    <tbody>{ for r.months.iter().map(|m| html! {
                        <tr class={classes!(m.declined.then_some("declined"))}><td>{ month_label(&m.month) }{ if m.complete { "" } else { " *" } }</td>
                        <td>{ money(m.revenue, c) }</td><td>{ m.previous_revenue.map_or("–".to_owned(), |p| money(p, c)) }</td><td>{ percent(m.growth_pct) }</td></tr>
                    }) }</tbody>
                </table></div>
            };
            (chart, Some(table))
        }
        None => (html! {}, None),
    };
    html! {
        <Section id="growth" title="Monthly revenue growth" loading={f.loading()} error={f.error()} on_retry={retry.clone()} {empty} {table}
            csv_href={AttrValue::from(api::csv_url("/reports/revenue-growth", &view.api_query()))}>
            { chart }
        </Section>
    }
}

fn users_section(f: &Fetch<TopUsersReport>, view: &ViewState, retry: &Callback<()>) -> Html {
    let data = f.data();
    let empty = data.is_some_and(|r| r.users.is_empty());
    let table = data.map(|r| {
        html! {
            <div class="table-wrap"><table>
                <thead><tr><th>{"Rank"}</th><th>{"Customer"}</th><th>{"Name"}</th><th class="num">{"Total spending"}</th><th class="num">{"Transactions"}</th></tr></thead>
                <tbody>{ for r.users.iter().map(|u| html! {
                    <tr><td>{ u.rank }</td><td><code>{ u.customer_id.clone() }</code></td>
                    <td>{ if u.customer_name.is_empty() { "(no name)".to_owned() } else { u.customer_name.clone() } }</td>
                    <td class="num">{ money(u.total_spending, &r.currency) }</td><td class="num">{ count(u.transactions) }</td></tr>
                }) }</tbody>
            </table></div>
        }
    });
    html! {
        <Section id="users" title="Top customers" subtitle={AttrValue::from("All data, by total spending")} loading={f.loading()} error={f.error()} on_retry={retry.clone()} {empty}
            csv_href={AttrValue::from(api::csv_url("/reports/top-users", &format!("limit=10&{}", view.currency_query())))}>
            { table.unwrap_or_default() }
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

fn quality_section(f: &Fetch<QualityReport>, retry: &Callback<()>) -> Html {
    let body = f.data().map(|q| {
        let amounts = |c: &api_types::SubscriptionCheck| {
            c.amount
                .iter()
                .filter(|(_, m)| m.cents() != 0)
                .map(|(cur, m)| format!("{} ({} of {} revenue)", money(*m, cur), share(c.share_of_revenue_pct.get(cur).copied()), cur.to_uppercase()))
                .collect::<Vec<_>>()
                .join(" · ")
        };
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
                        <caption>{ format!("Last ingest (run {}, {})", last.run_id, timestamp(&last.finished_at)) }</caption>
                        <thead><tr><th>{"File"}</th><th class="num">{"Read"}</th><th class="num">{"Loaded"}</th><th class="num">{"Duplicates"}</th><th class="num">{"Rejected"}</th></tr></thead>
                        <tbody>{ for last.files.iter().map(|f| html! {
                            <tr><td>{ f.file.clone() }</td><td class="num">{ count(f.read) }</td><td class="num">{ count(f.loaded) }</td><td class="num">{ count(f.duplicates) }</td>
                            <td class={classes!("num", (f.rejected > 0).then_some("warn"))}>{ count(f.rejected) }</td></tr>
                        }) }</tbody>
                    </table></div>
                }
            </>
        }
    });
    html! {
        <Section id="quality" title="Data quality" loading={f.loading()} error={f.error()} on_retry={retry.clone()}>
            { body.unwrap_or_default() }
        </Section>
    }
}

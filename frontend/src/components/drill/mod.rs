//! The drill-down's building blocks: links into a month or a customer that
//! keep the currency, shared by the reports page, the month page and the
//! customer pages.

use api_types::{Currency, Month};
use yew::prelude::*;
use yew_router::prelude::*;
use yew_router::query::Raw;

use crate::app::Route;
use crate::components::chart_canvas::Pick;

#[derive(Properties, PartialEq)]
pub struct QueryLinkProps {
    pub to: Route,
    /// Without the leading `?`; empty for none. Only URL-safe text.
    #[prop_or_default]
    pub query: String,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub children: Html,
}

/// A real `<a href>` to a page of the dashboard with a query, followed inside
/// the app on a plain click (modified clicks keep the browser's meaning).
#[component]
pub fn QueryLink(props: &QueryLinkProps) -> Html {
    let navigator = use_navigator();
    let onclick = {
        let (to, query) = (props.to.clone(), props.query.clone());
        Callback::from(move |e: MouseEvent| {
            if e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() || e.button() != 0 {
                return;
            }
            if let Some(navigator) = &navigator {
                e.prevent_default();
                let _ = navigator.push_with_query(&to, Raw(query.as_str()));
            }
        })
    };
    let href = href(&props.to, &props.query);
    html! {
        <a {href} id={props.id.clone()} class={props.class.clone()} {onclick}>{ props.children.clone() }</a>
    }
}

/// The path of `to` with `query` (no `?` when empty).
pub fn href(to: &Route, query: &str) -> String {
    if query.is_empty() {
        to.to_path()
    } else {
        format!("{}?{query}", to.to_path())
    }
}

/// `currency=eur`, or empty for the API's default.
pub fn currency_query(currency: Option<Currency>) -> String {
    currency.map(|c| format!("currency={c}")).unwrap_or_default()
}

/// The month page of `month` in `currency`.
pub fn month_link(month: Month, currency: Option<Currency>, text: Html) -> Html {
    let to = Route::Month {
        month: month.to_string(),
    };
    html! { <QueryLink {to} query={currency_query(currency)} class={classes!("month-link")}>{ text }</QueryLink> }
}

/// The customer page of `id`, shown as its id in code.
pub fn customer_link(id: &str) -> Html {
    let to = Route::Customer { id: id.to_owned() };
    html! { <QueryLink {to} class={classes!("customer-link")}><code>{ id.to_owned() }</code></QueryLink> }
}

/// Opens the month page of a clicked slot of a monthly chart: `months[index]`
/// in `currency`.
#[hook]
pub fn use_month_picker(months: Vec<Month>, currency: Option<Currency>) -> Callback<Pick> {
    let navigator = use_navigator();
    Callback::from(move |pick: Pick| {
        if let (Some(navigator), Some(month)) = (&navigator, months.get(pick.index)) {
            let to = Route::Month {
                month: month.to_string(),
            };
            let query = currency_query(currency);
            let _ = navigator.push_with_query(&to, Raw(query.as_str()));
        }
    })
}

/// Percent-encodes `text` for a URL's path segment or query value (all but
/// RFC 3986's unreserved characters).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_currency_and_encode_what_they_carry() {
        assert_eq!(
            href(
                &Route::Month {
                    month: "2024-05".into()
                },
                "currency=eur"
            ),
            "/month/2024-05?currency=eur"
        );
        assert_eq!(href(&Route::Customers, ""), "/customer");
        assert_eq!(encode("Ann Lee & co/100%"), "Ann%20Lee%20%26%20co%2F100%25");
        assert_eq!(encode("cus_0A-1.~"), "cus_0A-1.~");
        assert_eq!(encode("é"), "%C3%A9");
    }
}

//! The page's currency selector, offering the currencies the data holds
//! (`/reports/meta`). Every figure is of one currency: none is converted.

use api_types::Currency;
use yew::prelude::*;

use crate::api;
use crate::components::select_value;
use crate::hooks::use_fetch;
use crate::recurring::query::RecurringQuery;

#[derive(Properties, PartialEq)]
pub struct CurrencyProps {
    pub query: RecurringQuery,
    /// The currency of the report shown (the API's default when none is chosen).
    pub shown: Option<Currency>,
    pub on_query: Callback<RecurringQuery>,
}

#[component]
pub fn CurrencyControl(props: &CurrencyProps) -> Html {
    let meta = use_fetch((), |()| api::meta());
    let currencies: Vec<Currency> = meta
        .data()
        .map(|m| m.currencies.iter().map(|c| c.currency).collect())
        .unwrap_or_default();
    let onchange = {
        let (q, on_query) = (props.query.clone(), props.on_query.clone());
        Callback::from(move |e: Event| on_query.emit(q.with_currency(select_value(&e).and_then(|v| v.parse().ok()))))
    };
    let selected = props.query.currency.or(props.shown);
    html! {
        <form class="controls" aria-label="Recurring revenue filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <label>{ "Currency" }
                <select id="saas-currency" {onchange} title="Every figure is of one currency; none is converted">
                    { for currencies.iter().map(|c| html! {
                        <option value={c.to_string()} selected={selected == Some(*c)}>{ c.as_str().to_uppercase() }</option>
                    }) }
                </select>
            </label>
        </form>
    }
}

//! The reports page's filters (a preset window ending at an as-of month, or
//! a free from/to range; the currency), offering what the data holds
//! (`/reports/meta`).

use api_types::{Currency, Month};
use yew::prelude::*;

use crate::api;
use crate::components::select_value;
use crate::format::month_label;
use crate::hooks::use_fetch;
use crate::state::{months_between, ViewState, WINDOW_CHOICES};

#[derive(Properties, PartialEq)]
pub struct ReportControlsProps {
    pub view: ViewState,
    /// Called with the filters after a change.
    pub on_change: Callback<ViewState>,
}

#[component]
pub fn ReportControls(props: &ReportControlsProps) -> Html {
    let meta = use_fetch((), |()| api::meta());
    let meta = meta.data();
    let view = &props.view;
    // Each select changes one field of the view; an empty value means "default".
    let on_select = |apply: fn(&mut ViewState, Option<String>)| {
        let (view, on_change) = (view.clone(), props.on_change.clone());
        Callback::from(move |e: Event| {
            let mut next = view.clone();
            apply(&mut next, select_value(&e).filter(|v| !v.is_empty()));
            on_change.emit(next);
        })
    };
    // A preset or an as-of month leaves the free range; a range end enters it.
    let on_months = on_select(|v, value| {
        if let Some(m) = value.and_then(|m| m.parse().ok()) {
            v.months = m;
            (v.from, v.to) = (None, None);
        }
    });
    let on_as_of = on_select(|v, value| {
        v.as_of = value.and_then(|m| m.parse().ok());
        (v.from, v.to) = (None, None);
    });
    let on_from = on_select(|v, value| {
        v.from = value.and_then(|m| m.parse().ok());
        v.as_of = None;
    });
    let on_to = on_select(|v, value| {
        v.to = value.and_then(|m| m.parse().ok());
        v.as_of = None;
    });
    let on_currency = on_select(|v, value| v.currency = value.and_then(|c| c.parse().ok()));
    let months = meta
        .as_ref()
        .and_then(|m| Some(months_between(m.first_month?, m.latest_month?)))
        .unwrap_or_default();
    let latest = meta
        .as_ref()
        .and_then(|m| m.latest_month)
        .map(month_label)
        .unwrap_or_default();
    let currencies: Vec<Currency> = meta
        .as_ref()
        .map(|m| m.currencies.iter().map(|c| c.currency).collect())
        .unwrap_or_default();
    html! {
        <form class="controls" aria-label="Report filters" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <label>{ "Window" }
                <select id="months" onchange={on_months}>
                    { for WINDOW_CHOICES.iter().map(|m| html! {
                        <option value={m.to_string()} selected={*m == view.months && !view.is_range()}>{ format!("{m} months") }</option>
                    }) }
                    if view.is_range() { <option value="" selected=true>{ "From – to" }</option> }
                </select>
            </label>
            <label>{ "As of" }
                <select id="as-of" onchange={on_as_of}>
                    <option value="" selected={view.as_of.is_none()}>{ format!("Latest ({latest})") }</option>
                    { for months.iter().map(|m| html! {
                        <option value={m.to_string()} selected={view.as_of == Some(*m)}>{ month_label(*m) }</option>
                    }) }
                </select>
            </label>
            { month_select("from", "From", "First", &months, view.from, on_from) }
            { month_select("to", "To", "Latest", &months, view.to, on_to) }
            <label>{ "Currency" }
                <select id="currency" onchange={on_currency}>
                    { for currencies.iter().enumerate().map(|(i, c)| html! {
                        <option value={if i == 0 { String::new() } else { c.to_string() }}
                            selected={view.currency == Some(*c) || (i == 0 && view.currency.is_none())}>
                            { c.as_str().to_uppercase() }
                        </option>
                    }) }
                </select>
            </label>
        </form>
    }
}

/// A free range's end: the data's months, or the data's edge (empty value).
fn month_select(
    id: &'static str,
    label: &'static str,
    edge: &'static str,
    months: &[Month],
    chosen: Option<Month>,
    onchange: Callback<Event>,
) -> Html {
    html! {
        <label>{ label }
            <select {id} {onchange}>
                <option value="" selected={chosen.is_none()}>{ edge }</option>
                { for months.iter().map(|m| html! {
                    <option value={m.to_string()} selected={chosen == Some(*m)}>{ month_label(*m) }</option>
                }) }
            </select>
        </label>
    }
}

//! A dashboard section: title, loading skeleton, error banner with retry, empty
//! state, a "data" toggle showing the numbers as a table, and a CSV download.

use yew::prelude::*;

use crate::api::FetchError;

#[derive(Properties, PartialEq)]
pub struct SectionProps {
    pub id: AttrValue,
    pub title: AttrValue,
    #[prop_or_default]
    pub subtitle: Option<AttrValue>,
    pub loading: bool,
    #[prop_or_default]
    pub error: Option<FetchError>,
    pub on_retry: Callback<()>,
    #[prop_or_default]
    pub empty: bool,
    /// The API's CSV of exactly the rows shown.
    #[prop_or_default]
    pub csv_href: Option<AttrValue>,
    /// The same numbers as an accessible table.
    #[prop_or_default]
    pub table: Option<Html>,
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn Section(props: &SectionProps) -> Html {
    let show_table = use_state(|| false);
    let toggle = {
        let show_table = show_table.clone();
        Callback::from(move |_| show_table.set(!*show_table))
    };
    let body = if let Some(err) = &props.error {
        let retry = props.on_retry.reform(|_: MouseEvent| ());
        html! {
            <div class="error-banner" role="alert">
                <span>{ format!("Could not load {}: {}", err.what, err.message) }</span>
                <button onclick={retry}>{ "Retry" }</button>
            </div>
        }
    } else if props.loading {
        html! { <div class="skeleton" aria-busy="true" aria-label="Loading"></div> }
    } else if props.empty {
        html! { <p class="empty">{ "No data in this window. Pick another month or a longer window." }</p> }
    } else if *show_table {
        props.table.clone().unwrap_or_default()
    } else {
        props.children.clone()
    };
    let ready = !props.loading && props.error.is_none() && !props.empty;
    html! {
        <section id={props.id.clone()} class="card" aria-labelledby={format!("{}-title", props.id)}>
            <header class="card-head">
                <div>
                    <h2 id={format!("{}-title", props.id)}>{ props.title.clone() }</h2>
                    if let Some(s) = &props.subtitle { <p class="subtitle">{ s.clone() }</p> }
                </div>
                if ready {
                    <div class="card-actions">
                        if props.table.is_some() {
                            <button class="link" aria-pressed={(*show_table).to_string()} onclick={toggle}>
                                { if *show_table { "Chart" } else { "Data" } }
                            </button>
                        }
                        if let Some(href) = &props.csv_href {
                            <a class="link" href={href.clone()} download="">{ "CSV" }</a>
                        }
                    </div>
                }
            </header>
            { body }
        </section>
    }
}

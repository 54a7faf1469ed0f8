//! A dashboard section: title, loading skeleton, error banner with retry, empty
//! state, a "data" toggle showing the numbers as a table, and a CSV download.

use yew::prelude::*;

use crate::hooks::FetchStatus;

#[derive(Properties, PartialEq)]
pub struct SectionProps {
    pub id: AttrValue,
    pub title: AttrValue,
    #[prop_or_default]
    pub subtitle: Option<AttrValue>,
    /// The request behind the section (see [`crate::hooks::use_fetch`]); ready by default.
    #[prop_or_default]
    pub status: FetchStatus,
    #[prop_or_default]
    pub empty: bool,
    #[prop_or(AttrValue::Static("No data in this window. Pick another month or a longer window."))]
    pub empty_text: AttrValue,
    /// Filters or other controls shown above the body, kept while it loads.
    #[prop_or_default]
    pub toolbar: Html,
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
    let status = &props.status;
    let body = if let Some(err) = &status.error {
        let retry = status.retry.reform(|_: MouseEvent| ());
        html! {
            <div class="error-banner" role="alert">
                <span>{ format!("Could not load {}: {}", err.what, err.message) }</span>
                <button onclick={retry}>{ "Retry" }</button>
            </div>
        }
    } else if status.loading {
        html! { <div class="skeleton" aria-busy="true" aria-label="Loading"></div> }
    } else if props.empty {
        html! { <p class="empty">{ props.empty_text.clone() }</p> }
    } else if *show_table {
        props.table.clone().unwrap_or_default()
    } else {
        props.children.clone()
    };
    let ready = !status.loading && status.error.is_none() && !props.empty;
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
            { props.toolbar.clone() }
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use yew::prelude::*;

    use super::Section;
    use crate::api::FetchError;
    use crate::components::ssr::render;
    use crate::hooks::FetchStatus;

    #[tokio::test]
    async fn shows_the_error_with_a_retry_then_loading_then_empty() {
        let html = render(|| {
            let failed = FetchStatus {
                error: Some(FetchError {
                    what: "ingest runs",
                    message: "HTTP 503: the database is unavailable".into(),
                    code: Some("database_unavailable".into()),
                    status: Some(503),
                    credentials_refused: false,
                }),
                ..FetchStatus::default()
            };
            html! { <Section id="runs" title="Ingest runs" status={failed}>{ "rows" }</Section> }
        })
        .await;
        assert!(
            html.contains(r#"role="alert""#) && html.contains("Could not load ingest runs: HTTP 503"),
            "{html}"
        );
        assert!(html.contains(">Retry</button>") && !html.contains("rows"));

        let html = render(|| {
            let loading = FetchStatus {
                loading: true,
                ..FetchStatus::default()
            };
            html! { <Section id="runs" title="Ingest runs" status={loading} /> }
        })
        .await;
        assert!(html.contains(r#"aria-busy="true""#), "{html}");

        let html = render(|| html! { <Section id="reasons" title="Rejection reasons" empty=true empty_text="No rows were rejected." /> }).await;
        assert!(
            html.contains("No rows were rejected.") && html.contains(r#"<h2 id="reasons-title">"#),
            "{html}"
        );
    }
}

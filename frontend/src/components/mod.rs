//! The pages' building blocks: each section is a component that fetches its
//! own data through [`crate::hooks::use_fetch`] or draws data given as props.

pub mod chart_canvas;
pub mod drill;
pub mod ingests;
pub mod nav;
pub mod pager;
pub mod quality;
pub mod recurring;
pub mod reports;
pub mod section;
pub mod session;

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The value of the `<select>` a change event came from.
pub fn select_value(e: &Event) -> Option<String> {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
        .map(|s| s.value())
}

/// Renders views to strings natively, the way yew's server renderer does:
/// effects (fetching, drawing) do not run, so views are tested through props.
#[cfg(test)]
pub(crate) mod ssr {
    use yew::prelude::*;
    use yew_router::history::{AnyHistory, MemoryHistory};
    use yew_router::Router;

    #[derive(Properties, PartialEq)]
    struct HostProps {
        view: Html,
        path: &'static str,
    }

    #[component]
    fn Host(props: &HostProps) -> Html {
        let history = AnyHistory::from(MemoryHistory::with_entries([props.path]));
        html! { <Router {history}>{ props.view.clone() }</Router> }
    }

    /// The HTML of `view`, inside a router (links need one).
    pub async fn render(view: impl FnOnce() -> Html + Send + 'static) -> String {
        render_at("/", view).await
    }

    /// The HTML of `view`, inside a router at `path`.
    pub async fn render_at(path: &'static str, view: impl FnOnce() -> Html + Send + 'static) -> String {
        yew::ServerRenderer::<Host>::with_props(move || HostProps { view: view(), path })
            .render()
            .await
    }
}

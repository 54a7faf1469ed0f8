//! The page of a path the dashboard does not know.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::hooks::use_title;

#[component]
pub fn NotFound() -> Html {
    use_title("Page not found · Revenue analytics".to_owned());
    html! {
        <main class="page">
            <section class="card" aria-labelledby="not-found-title">
                <h2 id="not-found-title">{ "Page not found" }</h2>
                <p class="empty">
                    { "There is no page at this address. " }
                    <Link<Route> to={Route::Reports}>{ "Go to the reports" }</Link<Route>>
                </p>
            </section>
        </main>
    }
}

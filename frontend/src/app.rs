//! The layout (header, navigation, footer) and the routes: which page a path shows.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::nav::NavLink;
use crate::pages::ingests::{RunPage, RunsPage};
use crate::pages::not_found::NotFound;
use crate::pages::quality::QualityPage;
use crate::pages::reports::ReportsPage;

/// The dashboard's paths. The API owns `/reports/*`, `/quality*`, `/ingests*`,
/// `/health/*`, `/openapi.json` and `/docs`: no route may start like those (the
/// server answers them before the dashboard is ever loaded, so a shadowing
/// route would work when followed in the app and break on reload). Hence the
/// quality page lives at `/data-quality`.
#[derive(Debug, Clone, PartialEq, Eq, Routable)]
pub enum Route {
    #[at("/")]
    Reports,
    #[at("/runs")]
    Runs,
    #[at("/runs/:id")]
    Run { id: i64 },
    #[at("/data-quality")]
    Quality,
    #[not_found]
    #[at("/not-found")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        Route::Reports => html! { <ReportsPage /> },
        Route::Runs => html! { <RunsPage /> },
        Route::Run { id } => html! { <RunPage {id} /> },
        Route::Quality => html! { <QualityPage /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

#[component]
pub fn App() -> Html {
    html! {
        <BrowserRouter>
            <header class="top">
                <h1>{ "Revenue analytics" }</h1>
                <nav class="nav" aria-label="Pages">
                    <NavLink to={Route::Reports}>{ "Reports" }</NavLink>
                    <NavLink to={Route::Runs}>{ "Ingests" }</NavLink>
                    <NavLink to={Route::Quality}>{ "Data quality" }</NavLink>
                </nav>
            </header>
            <Switch<Route> render={switch} />
            <footer class="foot">
                <a href="/docs">{ "API documentation" }</a>{ " · " }<a href="/openapi.json">{ "OpenAPI" }</a>
            </footer>
        </BrowserRouter>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        for (path, route) in [
            ("/", Route::Reports),
            ("/runs", Route::Runs),
            ("/runs/7", Route::Run { id: 7 }),
            ("/data-quality", Route::Quality),
        ] {
            assert_eq!(Route::recognize(path), Some(route.clone()), "{path}");
            assert_eq!(route.to_path(), path);
        }
        assert_eq!(Route::recognize("/runs/"), Some(Route::Runs));
        assert_eq!(Route::recognize("/data-quality/"), Some(Route::Quality));
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in ["/runs/abc", "/runs/7/extra", "/nothing-here", "/data-quality/extra"] {
            assert_eq!(Route::recognize(path), Some(Route::NotFound), "{path}");
        }
    }

    #[test]
    fn no_route_shadows_the_api() {
        for path in [
            "/reports/meta",
            "/reports/monthly-transactions",
            "/quality",
            "/quality/history",
            "/ingests",
            "/ingests/7",
            "/ingests/7/rejections",
            "/health/live",
            "/openapi.json",
            "/docs",
        ] {
            assert_eq!(Route::recognize(path), Some(Route::NotFound), "{path}");
        }
    }
}

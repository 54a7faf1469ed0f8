//! The layout (header, navigation, footer), the routes (which page a path
//! shows), and the session every page runs in: nothing but the sign-in page
//! until `GET /session` says who is there.

use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::nav::NavLink;
use crate::components::session::user_menu::UserMenu;
use crate::pages::customer::{CustomerPage, CustomersPage};
use crate::pages::ingests::{RunPage, RunsPage};
use crate::pages::month::MonthPage;
use crate::pages::not_found::NotFound;
use crate::pages::quality::QualityPage;
use crate::pages::recurring::RecurringRevenuePage;
use crate::pages::reports::ReportsPage;
use crate::pages::sign_in::SignInPage;
use crate::session::{Session, SessionAction, SessionContext, SignIn};

/// The dashboard's paths. The API owns `/reports/*`, `/quality*`, `/ingests*`,
/// `/session`, `/health/*`, `/openapi.json` and `/docs`: no route may start like those (the
/// server answers them before the dashboard is ever loaded, so a shadowing
/// route would work when followed in the app and break on reload). Hence the
/// quality page lives at `/data-quality`, subscription metrics (API:
/// `/reports/saas/*`) at `/recurring-revenue`, a month (API:
/// `/reports/month/*`) at `/month/…` and the customers (API: `/customers*`)
/// at `/customer` and `/customer/…`.
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
    #[at("/recurring-revenue")]
    RecurringRevenue,
    #[at("/month/:month")]
    Month { month: String },
    #[at("/customer")]
    Customers,
    #[at("/customer/:id")]
    Customer { id: String },
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
        Route::RecurringRevenue => html! { <RecurringRevenuePage /> },
        Route::Month { month } => html! { <MonthPage {month} /> },
        Route::Customers => html! { <CustomersPage /> },
        Route::Customer { id } => html! { <CustomerPage {id} /> },
        Route::NotFound => html! { <NotFound /> },
    }
}

/// The session's state as a context: every page and section reads it (who
/// is signed in, the data version), and any 401 ends it.
#[component]
pub fn App() -> Html {
    let session = use_reducer(Session::default);
    {
        let dispatcher = session.dispatcher();
        use_effect_with(session.check, move |_| {
            spawn_local(async move { dispatcher.dispatch(SessionAction::Checked(api::session().await)) });
        });
    }
    let dispatch = {
        let dispatcher = session.dispatcher();
        use_callback((), move |action: SessionAction, _| dispatcher.dispatch(action))
    };
    let context = SessionContext {
        state: std::rc::Rc::new((*session).clone()),
        dispatch,
    };
    html! {
        <ContextProvider<SessionContext> {context}>
            <BrowserRouter>
                <Shell />
            </BrowserRouter>
        </ContextProvider<SessionContext>>
    }
}

/// The header, the page (or the sign-in) and the footer.
#[component]
pub fn Shell() -> Html {
    let Some(session) = use_context::<SessionContext>() else {
        return html! {};
    };
    let (menu, body) = match &session.state.sign_in {
        SignIn::SignedIn(user) => (
            html! {
                <>
                    <nav class="nav" aria-label="Pages">
                        <NavLink to={Route::Reports}>{ "Reports" }</NavLink>
                        <NavLink to={Route::RecurringRevenue}>{ "Recurring revenue" }</NavLink>
                        <NavLink to={Route::Customers}>{ "Customers" }</NavLink>
                        <NavLink to={Route::Runs}>{ "Ingests" }</NavLink>
                        <NavLink to={Route::Quality}>{ "Data quality" }</NavLink>
                    </nav>
                    <UserMenu user={user.clone()} />
                </>
            },
            html! { <Switch<Route> render={switch} /> },
        ),
        SignIn::SignedOut { notice } => (
            html! {},
            html! { <SignInPage notice={notice.clone().map(AttrValue::from)} /> },
        ),
        SignIn::Checking => (
            html! {},
            html! { <main class="page"><div class="skeleton" aria-busy="true" aria-label="Checking the sign-in"></div></main> },
        ),
        SignIn::Unknown(e) => {
            let retry = session.dispatch.reform(|_: MouseEvent| SessionAction::Recheck);
            (
                html! {},
                html! {
                    <main class="page">
                        <div class="error-banner" role="alert">
                            <span>{ format!("Could not reach the API: {}", e.message) }</span>
                            <button onclick={retry}>{ "Retry" }</button>
                        </div>
                    </main>
                },
            )
        }
    };
    html! {
        <>
            <header class="top">
                <h1>{ "Revenue analytics" }</h1>
                { menu }
            </header>
            { body }
            <footer class="foot">
                <a href="/docs">{ "API documentation" }</a>{ " · " }<a href="/openapi.json">{ "OpenAPI" }</a>
            </footer>
        </>
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use api_types::SessionInfo;

    use super::*;
    use crate::components::session::user_menu::OPEN_MODE;
    use crate::components::ssr::render_at;

    fn shell_with(sign_in: SignIn) -> Html {
        let context = SessionContext {
            state: Rc::new(Session {
                sign_in,
                ..Session::default()
            }),
            dispatch: Callback::noop(),
        };
        html! { <ContextProvider<SessionContext> {context}><Shell /></ContextProvider<SessionContext>> }
    }

    fn signed_in(role: &str, via: &str) -> SignIn {
        SignIn::SignedIn(Rc::new(
            SessionInfo {
                name: "alice".into(),
                role: role.parse().unwrap(),
                via: via.parse().unwrap(),
                expires_at: None,
            }
            .into(),
        ))
    }

    #[tokio::test]
    async fn signed_out_shows_only_the_sign_in() {
        let notice = Some("You signed out.".to_owned());
        let html = render_at("/nowhere", move || shell_with(SignIn::SignedOut { notice })).await;
        assert!(
            html.contains(r#"id="sign-in""#) && html.contains("You signed out."),
            "{html}"
        );
        // Neither the pages nor their navigation before a sign-in.
        assert!(
            !html.contains("Page not found") && !html.contains(r#"aria-label="Pages""#),
            "{html}"
        );
    }

    #[tokio::test]
    async fn signed_in_shows_the_page_and_who_is_there() {
        let html = render_at("/nowhere", || shell_with(signed_in("reader", "session"))).await;
        assert!(
            html.contains("Page not found") && html.contains(r#"aria-label="Pages""#),
            "{html}"
        );
        assert!(html.contains(">alice</span>") && html.contains("Sign out"), "{html}");
        assert!(!html.contains(r#"id="sign-in""#));
        let html = render_at("/nowhere", || shell_with(signed_in("admin", "anonymous"))).await;
        assert!(html.contains(OPEN_MODE) && !html.contains("Sign out"), "{html}");
    }

    #[tokio::test]
    async fn an_unreachable_api_offers_a_retry() {
        let down = crate::api::FetchError::new("the sign-in", "network error: offline".into());
        let html = render_at("/", move || shell_with(SignIn::Unknown(down))).await;
        assert!(
            html.contains("Could not reach the API: network error: offline") && html.contains(">Retry</button>"),
            "{html}"
        );
    }

    #[test]
    fn paths_round_trip() {
        for (path, route) in [
            ("/", Route::Reports),
            ("/runs", Route::Runs),
            ("/runs/7", Route::Run { id: 7 }),
            ("/data-quality", Route::Quality),
            ("/recurring-revenue", Route::RecurringRevenue),
            (
                "/month/2024-05",
                Route::Month {
                    month: "2024-05".into(),
                },
            ),
            ("/customer", Route::Customers),
            ("/customer/cus_1", Route::Customer { id: "cus_1".into() }),
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
            "/reports/saas/mrr",
            "/reports/saas/movements",
            "/reports/monthly-transactions",
            "/reports/month/2024-05",
            "/customers",
            "/customers/cus_1",
            "/quality",
            "/quality/history",
            "/ingests",
            "/ingests/7",
            "/ingests/7/rejections",
            "/health/live",
            "/openapi.json",
            "/docs",
            "/docs/",
            "/session",
        ] {
            assert_eq!(Route::recognize(path), Some(Route::NotFound), "{path}");
        }
    }
}

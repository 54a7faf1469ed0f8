//! Hooks shared by the pages: one request with its loading, error and retry
//! state ([`use_fetch`]), the page's query string, and the window signals
//! charts redraw on.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::platform::spawn_local;
use yew::prelude::*;
use yew_router::prelude::*;
use yew_router::query::Raw;

use crate::api::FetchError;
use crate::session::SessionContext;

/// The state of one request.
#[derive(Clone, PartialEq)]
pub enum Fetch<T> {
    Loading,
    Failed(FetchError),
    Loaded(Rc<T>),
}

/// What a section shows instead of its data while the data is not there, and
/// how it asks again. The default is "ready": nothing to wait for.
#[derive(Clone, PartialEq, Default)]
pub struct FetchStatus {
    pub loading: bool,
    pub error: Option<FetchError>,
    pub retry: Callback<()>,
}

/// One request's state as props: a page fetches a response once and hands it
/// to every section that shows part of it.
#[derive(Clone, PartialEq)]
pub struct Fetched<T> {
    pub status: FetchStatus,
    pub data: Option<Rc<T>>,
}

impl<T> Fetched<T> {
    /// The API had nothing to report yet (see [`FetchError::is_no_data`]).
    pub fn no_data(&self) -> bool {
        self.status.error.as_ref().is_some_and(FetchError::is_no_data)
    }

    /// The status to show: "no data yet" is an empty section, not an error.
    pub fn shown_status(&self) -> FetchStatus {
        if self.no_data() {
            FetchStatus::default()
        } else {
            self.status.clone()
        }
    }
}

/// The result of [`use_fetch`].
pub struct UseFetchHandle<T> {
    state: UseStateHandle<Fetch<T>>,
    retry: Callback<()>,
}

impl<T> UseFetchHandle<T> {
    /// The response, once loaded.
    pub fn data(&self) -> Option<Rc<T>> {
        match &*self.state {
            Fetch::Loaded(d) => Some(d.clone()),
            _ => None,
        }
    }

    /// Loading/error/retry, for [`crate::components::section::Section`].
    pub fn status(&self) -> FetchStatus {
        FetchStatus {
            loading: matches!(*self.state, Fetch::Loading),
            error: match &*self.state {
                Fetch::Failed(e) => Some(e.clone()),
                _ => None,
            },
            retry: self.retry.clone(),
        }
    }

    /// The state as props (see [`Fetched`]).
    pub fn fetched(&self) -> Fetched<T> {
        Fetched {
            status: self.status(),
            data: self.data(),
        }
    }
}

/// Runs `fetch(deps)` when the component mounts, whenever `deps` change, when
/// the returned handle's retry is called, and when an upload changed the data
/// ([`SessionContext`]'s data version). A 401 signs the dashboard out.
#[hook]
pub fn use_fetch<T, D, F, Fut>(deps: D, fetch: F) -> UseFetchHandle<T>
where
    T: 'static,
    D: PartialEq + Clone + 'static,
    F: FnOnce(D) -> Fut + 'static,
    Fut: Future<Output = Result<T, FetchError>> + 'static,
{
    let state = use_state(|| Fetch::Loading);
    let attempt = use_state(|| 0u32);
    let session = use_context::<SessionContext>();
    let data_version = session.as_ref().map_or(0, |s| s.state.data_version);
    {
        let state = state.clone();
        use_effect_with((deps, *attempt, data_version), move |(deps, _, _)| {
            if !matches!(*state, Fetch::Loading) {
                state.set(Fetch::Loading);
            }
            // Responses can arrive out of order (quick filter changes, a retry
            // while the first attempt hangs): only the latest request may
            // write the state, and none after the section is gone.
            let current = Rc::new(Cell::new(true));
            let live = current.clone();
            let request = fetch(deps.clone());
            spawn_local(async move {
                let result = request.await;
                if live.get() {
                    if let (Err(e), Some(session)) = (&result, &session) {
                        session.failed(e);
                    }
                    state.set(match result {
                        Ok(v) => Fetch::Loaded(Rc::new(v)),
                        Err(e) => Fetch::Failed(e),
                    });
                }
            });
            move || current.set(false)
        });
    }
    let retry = Callback::from(move |()| attempt.set(attempt.wrapping_add(1)));
    UseFetchHandle { state, retry }
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

/// A number that changes on every window resize: charts take it as a prop so
/// that they redraw at the new width.
#[hook]
pub fn use_resize_epoch() -> u32 {
    let epoch = use_state(|| 0u32);
    {
        let epoch = epoch.clone();
        use_effect_with((), move |_| {
            on_window_event("resize", move || epoch.set(epoch.wrapping_add(1)))
        });
    }
    *epoch
}

/// Whether the system prefers a dark theme, following changes while the page is open
/// (canvas colours do not follow CSS media queries by themselves).
#[hook]
pub fn use_prefers_dark() -> bool {
    let dark = use_state(prefers_dark);
    {
        let dark = dark.clone();
        use_effect_with((), move |_| {
            let list = web_sys::window().and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten());
            let target = list.clone();
            let closure = Closure::<dyn Fn()>::new(move || dark.set(target.as_ref().is_some_and(|l| l.matches())));
            if let Some(l) = &list {
                let _ = l.add_event_listener_with_callback("change", closure.as_ref().unchecked_ref());
            }
            move || {
                if let Some(l) = list {
                    let _ = l.remove_event_listener_with_callback("change", closure.as_ref().unchecked_ref());
                }
            }
        });
    }
    *dark
}

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Sets the document title while the page is shown, so history entries and
/// tabs name the page.
#[hook]
pub fn use_title(title: String) {
    use_effect_with(title, |title| {
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(title);
        }
    });
}

/// The current URL's query string (with its `?`, or empty), and a callback
/// that moves `route` to another query string as a new history entry, so
/// back/forward step through filter changes and a copied link reopens the view.
#[hook]
pub fn use_query<R: Routable + 'static>(route: R) -> (String, Callback<String>) {
    let query = use_location().map(|l| l.query_str().to_owned()).unwrap_or_default();
    let navigator = use_navigator();
    let push = Callback::from(move |next: String| {
        if let Some(navigator) = &navigator {
            let _ = navigator.push_with_query(&route, Raw(next.trim_start_matches('?')));
        }
    });
    (query, push)
}

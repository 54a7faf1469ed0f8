//! A link of the main navigation: a real `<a href>` (open in a new tab, copy
//! the address) that navigates inside the app on a plain click and marks the
//! current page for assistive technology.

use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;

#[derive(Properties, PartialEq)]
pub struct NavLinkProps {
    pub to: Route,
    #[prop_or_default]
    pub children: Html,
}

/// Whether `current` belongs to the page `link` leads to (a run belongs to the run list).
pub fn is_current(link: &Route, current: &Route) -> bool {
    match (link, current) {
        (Route::Runs, Route::Run { .. }) | (Route::Customers, Route::Customer { .. }) => true,
        _ => link == current,
    }
}

#[component]
pub fn NavLink(props: &NavLinkProps) -> Html {
    let navigator = use_navigator();
    let current = use_route::<Route>().unwrap_or(Route::NotFound);
    let onclick = {
        let to = props.to.clone();
        Callback::from(move |e: MouseEvent| {
            // Modified clicks keep the browser's meaning (new tab, new window).
            if e.meta_key() || e.ctrl_key() || e.shift_key() || e.alt_key() || e.button() != 0 {
                return;
            }
            if let Some(navigator) = &navigator {
                e.prevent_default();
                navigator.push(&to);
            }
        })
    };
    let active = is_current(&props.to, &current);
    html! {
        <a href={props.to.to_path()} class={classes!("nav-link", active.then_some("active"))}
            aria-current={active.then_some("page")} {onclick}>
            { props.children.clone() }
        </a>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_belongs_to_the_run_list() {
        assert!(is_current(&Route::Runs, &Route::Run { id: 3 }));
        assert!(is_current(&Route::Runs, &Route::Runs));
        assert!(!is_current(&Route::Reports, &Route::Runs));
        assert!(is_current(&Route::Reports, &Route::Reports));
    }
}

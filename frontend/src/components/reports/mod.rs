//! The reports page's sections, one per API report, and its filter controls.

pub mod controls;
pub mod growth;
pub mod monthly;
pub mod products;
pub mod quality;
pub mod users;

use yew::prelude::*;

use crate::charts::Theme;
use crate::state::ViewState;

/// What a chart section draws from: the page's filters and the screen.
#[derive(Properties, PartialEq)]
pub struct ChartSectionProps {
    pub view: ViewState,
    /// Dark colours (the system theme).
    pub dark: bool,
    /// Changes when the window is resized.
    pub epoch: u32,
}

impl ChartSectionProps {
    fn theme(&self) -> Theme {
        Theme::of(self.dark)
    }
}

/// A section that follows the page's filters but draws no chart.
#[derive(Properties, PartialEq)]
pub struct ViewProps {
    pub view: ViewState,
}

fn incomplete_note(any_incomplete: bool) -> Html {
    if any_incomplete {
        html! { <p class="legend"><span class="swatch faded"></span>{ "Lighter bar: the latest month is still in progress (partial data)." }</p> }
    } else {
        html! {}
    }
}

//! The reports page's sections, one per API report, and its filter controls.

pub mod controls;
pub mod growth;
pub mod monthly;
pub mod products;
pub mod quality;
pub mod users;

use api_types::{Month, Timestamp};
use yew::prelude::*;

use crate::charts::Theme;
use crate::format::{date, month_label};
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

/// A month the data do not cover whole, named for what it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartialMonth<'a> {
    pub month: Month,
    /// The calendar month is not over: more data may come.
    pub in_progress: bool,
    /// The data's latest transaction.
    pub data_stop: Option<&'a Timestamp>,
}

impl PartialMonth<'_> {
    /// After the month's name in a tooltip: `"(in progress)"`, or
    /// `"(partial: the data stop on 3 Oct 2024)"`.
    pub fn tag(&self) -> String {
        match (self.in_progress, self.data_stop) {
            (true, _) => "(in progress)".to_owned(),
            (false, Some(t)) => format!("(partial: the data stop on {})", date(t)),
            (false, None) => "(partial)".to_owned(),
        }
    }

    /// The legend under a chart.
    pub fn note(&self) -> String {
        let month = month_label(self.month);
        match (self.in_progress, self.data_stop) {
            (true, _) => format!("Lighter bar: {month} is still in progress; it does not set the scale."),
            (false, Some(t)) => format!(
                "Lighter bar: the data stop on {}, so {month} is partial; it does not set the scale.",
                date(t)
            ),
            (false, None) => {
                format!("Lighter bar: {month} is not covered whole by the data; it does not set the scale.")
            }
        }
    }
}

fn incomplete_note(partial: Option<PartialMonth>) -> Html {
    match partial {
        Some(p) => html! { <p class="legend"><span class="swatch faded"></span>{ p.note() }</p> },
        None => html! {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_month_says_whether_it_is_in_progress_or_where_the_data_stop() {
        let stop: Timestamp = "2024-10-03T16:44:00Z".parse().unwrap();
        let ended = PartialMonth {
            month: "2024-10".parse().unwrap(),
            in_progress: false,
            data_stop: Some(&stop),
        };
        assert_eq!(ended.tag(), "(partial: the data stop on 3 Oct 2024)");
        assert_eq!(
            ended.note(),
            "Lighter bar: the data stop on 3 Oct 2024, so Oct 2024 is partial; it does not set the scale."
        );
        let running = PartialMonth {
            in_progress: true,
            ..ended
        };
        assert_eq!(running.tag(), "(in progress)");
        assert_eq!(
            running.note(),
            "Lighter bar: Oct 2024 is still in progress; it does not set the scale."
        );
    }
}

//! A run's status as a coloured badge.

use yew::prelude::*;

use crate::ingests::{status_label, RunStatus, Tone};

/// The badge of the API's status code (`succeeded`, `dry_run`, …).
pub fn status_badge(status: &str) -> Html {
    let tone = match RunStatus::parse(status).tone() {
        Tone::Good => "good",
        Tone::Bad => "bad",
        Tone::Neutral => "neutral",
        Tone::Busy => "busy",
    };
    html! {
        <span class={classes!("badge", tone)} data-status={status.to_owned()}>{ status_label(status) }</span>
    }
}

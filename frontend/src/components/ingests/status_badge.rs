//! A run's status as a coloured badge.

use yew::prelude::*;

use crate::ingests::{status_label, tone, RunStatus, Tone};

/// The badge of a run's status (`succeeded`, `dry run`, …).
pub fn status_badge(status: RunStatus) -> Html {
    let tone = match tone(status) {
        Tone::Good => "good",
        Tone::Bad => "bad",
        Tone::Neutral => "neutral",
        Tone::Busy => "busy",
    };
    html! {
        <span class={classes!("badge", tone)} data-status={status.as_str()}>{ status_label(status) }</span>
    }
}

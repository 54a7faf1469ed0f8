//! A run's header: status, mode, times, and why it failed or was refused.

use api_types::IngestRun;
use yew::prelude::*;

use super::status_badge::status_badge;
use crate::format::{duration, timestamp};

pub fn run_summary(run: &IngestRun) -> Html {
    let committed = run.status.committed();
    let data = if !committed {
        "Nothing changed (not committed)"
    } else if run.data_changed {
        "Changed"
    } else {
        "Nothing new to load"
    };
    html! {
        <>
            <dl class="facts">
                <div><dt>{"Status"}</dt><dd>{ status_badge(run.status) }</dd></div>
                <div><dt>{"Mode"}</dt><dd>{ run.mode.as_str() }{ if run.forced { " (forced past the guard rails)" } else { "" } }</dd></div>
                <div><dt>{"Started"}</dt><dd>{ timestamp(&run.started_at) }</dd></div>
                <div><dt>{"Finished"}</dt><dd>{ run.finished_at.as_ref().map_or("–".to_owned(), timestamp) }</dd></div>
                <div><dt>{"Duration"}</dt><dd>{ duration(run.duration_ms) }</dd></div>
                <div><dt>{"Data"}</dt><dd>{ data }</dd></div>
            </dl>
            if let Some(error) = &run.error {
                <p class={classes!("run-error", (!committed).then_some("bad"))} id="run-error">{ error.clone() }</p>
            }
        </>
    }
}

//! The run history as a table: one row per run, linking to its page.

use api_types::{IngestList, IngestRun, RunStatus};
use yew::prelude::*;
use yew_router::prelude::*;

use super::status_badge::status_badge;
use crate::app::Route;
use crate::format::{duration, timestamp};
use crate::ingests::file_summary;

/// What to say about a run beside its status: its error or refusal, or that it found nothing new.
pub fn run_message(run: &IngestRun) -> Option<String> {
    run.error.clone().or_else(|| {
        (run.status == RunStatus::Succeeded && !run.data_changed).then(|| "Nothing new to load.".to_owned())
    })
}

pub fn runs_table(list: &IngestList) -> Html {
    html! {
        <div class="table-wrap"><table class="runs stack">
            <thead><tr>
                <th scope="col">{"Run"}</th><th scope="col">{"Started"}</th><th scope="col">{"Mode"}</th><th scope="col">{"Status"}</th>
                <th scope="col" class="num">{"Duration"}</th><th scope="col">{"Files"}</th><th scope="col">{"Message"}</th>
            </tr></thead>
            <tbody>{ for list.runs.iter().map(row) }</tbody>
        </table></div>
    }
}

fn row(run: &IngestRun) -> Html {
    html! {
        <tr data-run={run.id.to_string()}>
            <th scope="row" data-label="Run">
                <Link<Route> to={Route::Run { id: run.id }}>{ format!("Run {}", run.id) }</Link<Route>>
            </th>
            <td data-label="Started" class="when">{ timestamp(&run.started_at) }</td>
            <td data-label="Mode">{ run.mode.as_str() }{ if run.forced { " (forced)" } else { "" } }</td>
            <td data-label="Status">{ status_badge(run.status) }</td>
            <td data-label="Duration" class="num">{ duration(run.duration_ms) }</td>
            <td data-label="Files">
                <ul class="file-list">{ for run.files.iter().map(|f| html! {
                    <li><span class="file-name">{ f.file.clone() }</span>{ " " }
                        <span class="file-counts">{ for file_summary(f).into_iter().enumerate().map(|(i, p)| html! {
                            <>
                                if i > 0 { { " · " } }
                                <span class={classes!(p.warn.then_some("warn"))}>{ p.text }</span>
                            </>
                        }) }</span></li>
                }) }</ul>
            </td>
            <td data-label="Message" class="message">{ run_message(run).unwrap_or_default() }</td>
        </tr>
    }
}

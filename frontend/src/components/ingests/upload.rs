//! The upload form (admins only): three export files, the mode and a dry run;
//! a bar while the files are sent, then the run's live progress (polling
//! `GET /ingests/{id}`), then its result. When the run ends, every section
//! of the dashboard fetches its data again (the session's data version).

use std::time::Duration;

use yew::platform::spawn_local;
use yew::platform::time::sleep;
use yew::prelude::*;
use yew_router::prelude::*;

use super::force::ForceOffer;
use super::status_badge::status_badge;
use crate::api;
use crate::api::upload::UploadRequest;
use crate::app::Route;
use crate::components::section::Section;
use crate::components::select_value;
use crate::ingests::RunStatus;
use crate::session::{SessionAction, SessionContext};
use crate::upload::{
    check_files, failure_title, outcome, progress_text, Chosen, ExportFile, Upload, UploadEvent, UploadMode,
};

/// How often a running upload's run is asked for.
const POLL_EVERY: Duration = Duration::from_millis(400);

#[component]
pub fn UploadSection() -> Html {
    let session = use_context::<SessionContext>();
    let upload = use_reducer(Upload::default);
    let mode = use_state(UploadMode::default);
    let dry_run = use_state(|| false);
    let chosen = use_state(Chosen::default);
    let invalid = use_state(|| None::<String>);
    let inputs = [use_node_ref(), use_node_ref(), use_node_ref()];
    // The request last sent: what "load anyway" sends again after a refusal.
    let last = use_mut_ref(|| None::<UploadRequest>);

    let on_file = |file: ExportFile| {
        let (chosen, invalid, input) = (chosen.clone(), invalid.clone(), inputs[file.index()].clone());
        Callback::from(move |_: Event| {
            let mut next = *chosen;
            next[file.index()] = selected(&input).is_some();
            chosen.set(next);
            invalid.set(None);
        })
    };
    let on_mode = {
        let (mode, invalid) = (mode.clone(), invalid.clone());
        Callback::from(move |e: Event| {
            mode.set(UploadMode::parse(&select_value(&e).unwrap_or_default()));
            invalid.set(None);
        })
    };
    let on_dry_run = {
        let dry_run = dry_run.clone();
        Callback::from(move |_: Event| dry_run.set(!*dry_run))
    };
    let onsubmit = {
        let (upload, invalid, last, session) = (upload.clone(), invalid.clone(), last.clone(), session.clone());
        let (mode, dry_run, chosen, inputs) = (*mode, *dry_run, *chosen, inputs.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if upload.busy() {
                return;
            }
            if let Err(why) = check_files(mode, chosen) {
                invalid.set(Some(why));
                return;
            }
            let files = ExportFile::ALL
                .iter()
                .filter_map(|f| selected(&inputs[f.index()]).map(|file| (*f, file)))
                .collect();
            let request = UploadRequest {
                mode,
                dry_run,
                force: false,
                files,
            };
            *last.borrow_mut() = Some(request.clone());
            upload.dispatch(UploadEvent::Start);
            spawn_local(send(request, upload.dispatcher(), session.clone()));
        })
    };
    // "Load anyway": the refused files themselves, sent again with force
    // (whatever was chosen in the form since).
    let on_force = {
        let (upload, last, session) = (upload.clone(), last.clone(), session.clone());
        Callback::from(move |()| {
            let Some(refused) = last.borrow().clone() else {
                return;
            };
            if upload.busy() {
                return;
            }
            let request = UploadRequest {
                dry_run: false,
                force: true,
                ..refused
            };
            upload.dispatch(UploadEvent::Start);
            spawn_local(send(request, upload.dispatcher(), session.clone()));
        })
    };

    let busy = upload.busy();
    html! {
        <Section id="upload" title="Upload exports"
            subtitle={AttrValue::from("Load products.csv, transactions.csv and users.csv into the database, as backend ingest does")}>
            <form id="upload-form" class="upload-form" {onsubmit}>
                <div class="upload-files">
                    { for ExportFile::ALL.iter().map(|f| html! {
                        <label>{ f.file_name() }
                            <input type="file" id={format!("upload-{}", f.part())} name={f.part()}
                                accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain"
                                ref={inputs[f.index()].clone()} disabled={busy} onchange={on_file(*f)} />
                        </label>
                    }) }
                </div>
                <div class="controls">
                    <label>{ "Mode" }
                        <select id="upload-mode" onchange={on_mode} disabled={busy}>
                            <option value="replace" selected={*mode == UploadMode::Replace}>{ "Replace: the files are the whole history" }</option>
                            <option value="append" selected={*mode == UploadMode::Append}>{ "Append: add to the loaded data" }</option>
                        </select>
                    </label>
                    <label class="check">
                        <input type="checkbox" id="upload-dry-run" checked={*dry_run} onchange={on_dry_run} disabled={busy} />
                        { "Dry run: check and report, change nothing" }
                    </label>
                    <button type="submit" id="upload-submit" class="primary" disabled={busy}>{ "Upload" }</button>
                </div>
                if let Some(why) = &*invalid {
                    <p class="form-error" role="alert" id="upload-invalid">{ why.clone() }</p>
                }
            </form>
            { status(&upload) }
            if let Upload::Ended(run) = &*upload {
                if run.status == RunStatus::Refused && !run.forced {
                    <ForceOffer run={run.clone()} on_force={on_force} />
                }
            }
        </Section>
    }
}

/// The file chosen in an `<input type="file">`.
fn selected(input: &NodeRef) -> Option<web_sys::File> {
    input
        .cast::<web_sys::HtmlInputElement>()
        .and_then(|i| i.files())
        .and_then(|files| files.get(0))
}

/// Sends the files, then follows the run until it ends.
async fn send(request: UploadRequest, upload: UseReducerDispatcher<Upload>, session: Option<SessionContext>) {
    let progress = {
        let upload = upload.clone();
        Callback::from(move |t| upload.dispatch(UploadEvent::Sent(t)))
    };
    let accepted = match api::upload::upload(request, progress).await {
        Ok(a) => a,
        Err(e) => {
            if let Some(s) = &session {
                s.failed(&e);
            }
            upload.dispatch(UploadEvent::Failed(e));
            return;
        }
    };
    let id = accepted.run_id;
    upload.dispatch(UploadEvent::Accepted(accepted));
    // Every report shows the new data once the run ended, whatever became of
    // this section meanwhile (the run history lists the run either way).
    let mut changed_data = false;
    loop {
        sleep(POLL_EVERY).await;
        match api::ingest(id).await {
            Ok(detail) => {
                let status = detail.run.status;
                changed_data = status.committed() && detail.run.data_changed;
                upload.dispatch(UploadEvent::Polled(detail.run));
                if status != RunStatus::Running {
                    break;
                }
            }
            Err(e) => {
                if let Some(s) = &session {
                    s.failed(&e);
                }
                upload.dispatch(UploadEvent::Failed(e));
                break;
            }
        }
    }
    if changed_data {
        reports_of(id).await;
    }
    if let Some(s) = &session {
        s.dispatch.emit(SessionAction::DataChanged);
    }
}

/// Waits (a few seconds at most) until the API's reports are those of run
/// `id`. The server keeps the reports in memory and looks for a newer run at
/// most once a second; meanwhile, requests arriving together are answered from
/// the copy it had (a 304 to the browser's revalidation), so a refetch of
/// every section right at the end of the run could show the data before it.
async fn reports_of(id: i64) {
    for _ in 0..REPORTS_TRIES {
        if let Ok(q) = api::quality().await {
            if q.last_ingest.is_some_and(|l| l.run_id >= id) {
                return;
            }
        }
        sleep(REPORTS_RETRY).await;
    }
}

/// How long [`reports_of`] waits: 20 × 250 ms, five times the server's recheck.
const REPORTS_TRIES: u32 = 20;
const REPORTS_RETRY: Duration = Duration::from_millis(250);

/// The transfer's bar, the run's progress, its result, or what went wrong.
pub fn status(upload: &Upload) -> Html {
    match upload {
        Upload::Idle => html! {},
        Upload::Sending(transfer) => {
            let (value, text) = match transfer {
                Some(t) => (t.percent().to_string(), t.describe()),
                None => ("0".to_owned(), "Sending…".to_owned()),
            };
            html! {
                <div id="upload-status" class="upload-status" role="status">
                    <progress id="upload-progress" max="100" value={value} aria-label="Upload sent"></progress>
                    <span class="upload-text">{ text }</span>
                </div>
            }
        }
        Upload::Running { run_id, progress } => html! {
            <div id="upload-status" class="upload-status" role="status" data-run={run_id.to_string()}>
                // No value: the run's length is not known in advance.
                <progress aria-label="Run in progress"></progress>
                <span class="upload-text">
                    { format!("Run {run_id} is running: ") }
                    { progress.as_ref().map_or("starting…".to_owned(), progress_text) }
                </span>
            </div>
        },
        Upload::Ended(run) => html! {
            <div id="upload-result" class="upload-result" role="status" data-status={run.status.as_str()}>
                { status_badge(run.status) }{ " " }
                <span class="upload-text">{ outcome(run) }</span>{ " " }
                <Link<Route> to={Route::Run { id: run.id }}>{ format!("Open run {}", run.id) }</Link<Route>>
            </div>
        },
        Upload::Failed { error, run_id } => html! {
            <div id="upload-error" class="error-banner upload-error" role="alert" data-status={error.status.map(|s| s.to_string())}>
                <span>
                    <strong>{ failure_title(error) }</strong>{ ": " }{ error.api_message().to_owned() }
                    if let Some(id) = run_id {
                        { " The run goes on on the server: " }
                        <Link<Route> to={Route::Run { id: *id }}>{ format!("follow run {id}") }</Link<Route>>{ "." }
                    }
                </span>
            </div>
        },
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use api_types::{IngestFile, IngestMode, IngestProgress, IngestRun};

    use super::*;
    use crate::api::FetchError;
    use crate::components::ssr::render;
    use crate::upload::Transfer;

    fn run(status: &str) -> IngestRun {
        IngestRun {
            id: 9,
            mode: IngestMode::Replace,
            status: status.parse().unwrap(),
            data_changed: true,
            forced: false,
            started_at: "2024-11-02T09:15:03Z".parse().unwrap(),
            finished_at: None,
            duration_ms: None,
            files: vec![IngestFile {
                file: "transactions.csv".into(),
                read: 10,
                loaded: 9,
                rejected: 1,
                ..IngestFile::default()
            }],
            error: None,
            requested_by: None,
            progress: None,
        }
    }

    #[tokio::test]
    async fn the_form_has_three_files_a_mode_and_a_dry_run() {
        let html = render(|| html! { <UploadSection /> }).await;
        for id in [
            "upload-products",
            "upload-transactions",
            "upload-users",
            "upload-mode",
            "upload-dry-run",
        ] {
            assert!(html.contains(&format!(r#"id="{id}""#)), "{id}: {html}");
        }
        assert_eq!(html.matches(r#"type="file""#).count(), 3);
        assert!(!html.contains("upload-status") && !html.contains("role=\"alert\""));
    }

    #[tokio::test]
    async fn each_step_shows_what_it_is_doing() {
        let html = render(|| {
            status(&Upload::Sending(Some(Transfer {
                sent: 1024.0,
                total: 4096.0,
            })))
        })
        .await;
        assert!(
            html.contains(r#"value="25""#) && html.contains("1.0 KB of 4.0 KB sent"),
            "{html}"
        );
        let html = render(|| {
            status(&Upload::Running {
                run_id: 9,
                progress: Some(IngestProgress {
                    phase: "load".into(),
                    rows: 2_500,
                    elapsed_ms: 1_200,
                }),
            })
        })
        .await;
        assert!(html.contains("Run 9 is running: load · 2,500 rows · 1.2 s"), "{html}");
        let html = render(|| status(&Upload::Ended(Rc::new(run("succeeded"))))).await;
        assert!(
            html.contains(r#"data-status="succeeded""#) && html.contains("Run 9 succeeded: 9 rows loaded, 1 rejected."),
            "{html}"
        );
        assert!(html.contains(r#"href="/runs/9""#), "{html}");
    }

    #[tokio::test]
    async fn refusals_name_the_problem_in_the_api_s_words() {
        let body = r#"{"error":"payload_too_large","message":"the upload is larger than this server's limit of 1 MiB (--max-upload-mb)"}"#;
        let error = FetchError::from_answer("the upload", 413, "Payload Too Large", Some(body));
        let html = render(move || status(&Upload::Failed { error, run_id: None })).await;
        assert!(
            html.contains("The files are too large for this server</strong>: the upload is larger than this server"),
            "{html}"
        );
        assert!(html.contains(r#"data-status="413""#) && html.contains(r#"role="alert""#));
        let error = FetchError::new("the ingest run", "network error: offline".into());
        let html = render(move || status(&Upload::Failed { error, run_id: Some(9) })).await;
        assert!(
            html.contains("follow run 9") && html.contains(r#"href="/runs/9""#),
            "{html}"
        );
    }
}

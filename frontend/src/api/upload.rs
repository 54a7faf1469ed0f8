//! `POST /ingests` through `XMLHttpRequest`: unlike fetch, it reports how much
//! of the request body has been sent, and an export takes a while to send.

use std::cell::RefCell;
use std::rc::Rc;

use api_types::IngestAccepted;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{File, FormData, ProgressEvent, XmlHttpRequest};
use yew::platform::pinned::oneshot;
use yew::prelude::*;

use super::FetchError;
use crate::upload::{ExportFile, Transfer, UploadMode};

const WHAT: &str = "the upload";

/// What to upload.
#[derive(Clone)]
pub struct UploadRequest {
    pub mode: UploadMode,
    pub dry_run: bool,
    /// Past the guard rails (an admin's "load anyway" after a refusal).
    pub force: bool,
    /// The chosen files, each under its part.
    pub files: Vec<(ExportFile, File)>,
}

/// How the request ended, as `XMLHttpRequest` tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Answered,
    NetworkError,
    Aborted,
}

/// Sends the files; `on_progress` hears how much of them is sent. Answers the
/// started run, or the API's refusal (409, 413, 400…) as a [`FetchError`].
pub async fn upload(request: UploadRequest, on_progress: Callback<Transfer>) -> Result<IngestAccepted, FetchError> {
    let form = form(&request).map_err(js_error)?;
    let xhr = XmlHttpRequest::new().map_err(js_error)?;
    xhr.open("POST", "/ingests").map_err(js_error)?;
    xhr.set_request_header("Accept", "application/json").map_err(js_error)?;

    let (tx, rx) = oneshot::channel::<Ended>();
    let tx = Rc::new(RefCell::new(Some(tx)));
    let ended = |how: Ended| {
        let tx = tx.clone();
        Closure::<dyn Fn()>::new(move || {
            if let Some(tx) = tx.borrow_mut().take() {
                let _ = tx.send(how);
            }
        })
    };
    // The closures live in this future until the request ended; the handlers
    // are removed before they are dropped.
    let on_load = ended(Ended::Answered);
    let on_error = ended(Ended::NetworkError);
    let on_abort = ended(Ended::Aborted);
    let on_sent = Closure::<dyn Fn(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() {
            on_progress.emit(Transfer {
                sent: e.loaded(),
                total: e.total(),
            });
        }
    });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(on_abort.as_ref().unchecked_ref()));
    let target = xhr.upload().map_err(js_error)?;
    target.set_onprogress(Some(on_sent.as_ref().unchecked_ref()));

    let sent = xhr.send_with_opt_form_data(Some(&form)).map_err(js_error);
    let how = match sent {
        Ok(()) => rx.await.unwrap_or(Ended::NetworkError),
        Err(e) => {
            detach(&xhr);
            return Err(e);
        }
    };
    detach(&xhr);
    drop((on_load, on_error, on_abort, on_sent));
    match how {
        Ended::Answered => answer(
            xhr.status().unwrap_or(0),
            &xhr.status_text().unwrap_or_default(),
            xhr.response_text().ok().flatten().as_deref(),
            xhr.get_response_header("www-authenticate").ok().flatten().as_deref(),
        ),
        Ended::NetworkError => Err(FetchError::new(
            WHAT,
            "the connection broke off before the server answered (a server cuts off an upload over its size limit this way)"
                .to_owned(),
        )),
        Ended::Aborted => Err(FetchError::new(WHAT, "the upload was cancelled".to_owned())),
    }
}

fn form(request: &UploadRequest) -> Result<FormData, JsValue> {
    let form = FormData::new()?;
    // The values first: small, and the server knows the mode before the files.
    form.append_with_str("mode", request.mode.key())?;
    form.append_with_str("dry_run", if request.dry_run { "true" } else { "false" })?;
    if request.force {
        form.append_with_str("force", "true")?;
    }
    for (part, file) in &request.files {
        form.append_with_blob_and_filename(part.part(), file, &file.name())?;
    }
    Ok(form)
}

fn detach(xhr: &XmlHttpRequest) {
    xhr.set_onload(None);
    xhr.set_onerror(None);
    xhr.set_onabort(None);
    if let Ok(target) = xhr.upload() {
        target.set_onprogress(None);
    }
}

fn js_error(e: JsValue) -> FetchError {
    FetchError::new(WHAT, format!("the browser could not send it: {e:?}"))
}

/// The answer to the upload: the started run (202), or the API's error.
fn answer(
    status: u16,
    status_text: &str,
    body: Option<&str>,
    challenge: Option<&str>,
) -> Result<IngestAccepted, FetchError> {
    if !(200..300).contains(&status) {
        return Err(FetchError::from_answer(WHAT, status, status_text, body).with_challenge(challenge));
    }
    body.and_then(|b| serde_json::from_str(b).ok())
        .ok_or_else(|| FetchError::new(WHAT, format!("unexpected response (HTTP {status})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_run_or_the_api_s_refusal() {
        let accepted = answer(
            202,
            "Accepted",
            Some(r#"{"run_id":7,"status":"running","href":"/ingests/7"}"#),
            None,
        );
        assert_eq!(accepted.map(|a| a.run_id), Ok(7));
        let body = r#"{"type":"urn:revenue-analytics:problem:conflict","title":"Conflict","status":409,
            "detail":"another ingest is running (run 6): upload again when it has ended","error":"conflict",
            "message":"another ingest is running (run 6): upload again when it has ended"}"#;
        let Err(e) = answer(409, "Conflict", Some(body), None) else {
            panic!("a 409 is an error")
        };
        assert_eq!(
            (e.status, e.code.as_deref(), e.api_message()),
            (
                Some(409),
                Some("conflict"),
                "another ingest is running (run 6): upload again when it has ended"
            )
        );
        // A proxy's 413 page: the status says it.
        let Err(e) = answer(413, "Payload Too Large", Some("<html>"), None) else {
            panic!("a 413 is an error")
        };
        assert_eq!(e.message, "HTTP 413: Payload Too Large");
        assert!(answer(202, "Accepted", Some("not json"), None).is_err());
    }
}

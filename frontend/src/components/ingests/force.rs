//! "Load anyway": after the guard rails refused an upload, an admin may load
//! the same files past them, after reading the refusal's figures and
//! confirming; the run is recorded as forced.

use std::rc::Rc;

use api_types::{IngestMode, IngestRun};
use yew::prelude::*;

use crate::format::count;

#[derive(Properties, PartialEq)]
pub struct ForceOfferProps {
    /// The refused run.
    pub run: Rc<IngestRun>,
    /// Sends the refused files again, forced.
    pub on_force: Callback<()>,
}

/// What loading anyway would do, in one sentence.
pub fn consequence(mode: IngestMode) -> &'static str {
    match mode {
        IngestMode::Replace => "The files will replace all the loaded data",
        IngestMode::Append => "The files will be added to the loaded data",
    }
}

#[component]
pub fn ForceOffer(props: &ForceOfferProps) -> Html {
    let confirming = use_state(|| false);
    let run = &props.run;
    let figures = html! {
        <ul class="force-figures">
            { for run.files.iter().map(|f| html! {
                <li>{ format!("{}: {} rows read, {} would load, {} rejected", f.file, count(f.read), count(f.loaded), count(f.rejected)) }</li>
            }) }
        </ul>
    };
    let ask = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(true))
    };
    let cancel = {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(false))
    };
    let confirm = {
        let (confirming, on_force) = (confirming.clone(), props.on_force.clone());
        Callback::from(move |_: MouseEvent| {
            confirming.set(false);
            on_force.emit(());
        })
    };
    html! {
        <div id="upload-force" class="force-offer">
            <p>{ "The guard rails refused these files and nothing was changed. As an admin you may load them anyway; the run is then recorded as forced." }</p>
            { figures }
            if *confirming {
                <div id="upload-force-confirm" class="force-confirm" role="alertdialog" aria-labelledby="upload-force-question">
                    <p id="upload-force-question">
                        { format!("{}, {} rejected rows left out, past this refusal: ", consequence(run.mode), count(run.files.iter().map(|f| f.rejected).sum())) }
                        <em>{ run.error.clone().unwrap_or_default() }</em>{ ". Load anyway?" }
                    </p>
                    <div class="card-actions">
                        <button type="button" id="upload-force-yes" class="primary" onclick={confirm}>{ "Yes, load anyway" }</button>
                        <button type="button" id="upload-force-cancel" onclick={cancel}>{ "Cancel" }</button>
                    </div>
                </div>
            } else {
                <button type="button" id="upload-force-start" class="link" onclick={ask}>{ "Load anyway…" }</button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use api_types::IngestFile;

    use super::*;
    use crate::components::ssr::render;

    #[tokio::test]
    async fn the_offer_shows_the_refusal_s_figures() {
        let run = IngestRun {
            id: 4,
            mode: IngestMode::Replace,
            status: "refused".parse().unwrap(),
            data_changed: false,
            forced: false,
            started_at: "2024-11-02T09:15:03Z".parse().unwrap(),
            finished_at: None,
            duration_ms: None,
            files: vec![IngestFile {
                file: "transactions.csv".into(),
                read: 40,
                loaded: 30,
                rejected: 10,
                ..IngestFile::default()
            }],
            error: Some(
                "transactions.csv: 10 of 40 rows rejected (25.00%), more than the server's max-reject-pct of 5%".into(),
            ),
            requested_by: None,
            progress: None,
        };
        let html =
            render(move || html! { <ForceOffer run={Rc::new(run.clone())} on_force={Callback::noop()} /> }).await;
        assert!(
            html.contains("transactions.csv: 40 rows read, 30 would load, 10 rejected"),
            "{html}"
        );
        assert!(
            html.contains("Load anyway…") && !html.contains("Yes, load anyway"),
            "{html}"
        );
        assert_eq!(
            consequence(IngestMode::Replace),
            "The files will replace all the loaded data"
        );
    }
}

//! A run's per-file counts: read = loaded + already loaded + duplicates + rejected.

use api_types::IngestFile;
use yew::prelude::*;

use crate::format::{bytes, count};

pub fn file_counts(files: &[IngestFile]) -> Html {
    html! {
        <div class="table-wrap"><table class="files stack">
            <thead><tr>
                <th scope="col">{"File"}</th><th scope="col" class="num">{"Read"}</th><th scope="col" class="num">{"Loaded"}</th>
                <th scope="col" class="num">{"Already loaded"}</th><th scope="col" class="num">{"Duplicates"}</th><th scope="col" class="num">{"Rejected"}</th>
            </tr></thead>
            <tbody>{ for files.iter().map(|f| html! {
                <tr>
                    <th scope="row" data-label="File">
                        <span>{ f.file.clone() }
                        <div class="file-meta" title={format!("SHA-256 {}", f.sha256)}>
                            { format!("{} · {}", bytes(f.bytes), f.sha256.get(..12).unwrap_or(&f.sha256)) }
                            if let Some(run) = f.same_as_run { { format!(" · skipped: same file as run {run}") } }
                        </div></span>
                    </th>
                    <td data-label="Read" class="num">{ count(f.read) }</td>
                    <td data-label="Loaded" class="num">{ count(f.loaded) }</td>
                    <td data-label="Already loaded" class="num">{ count(f.already_loaded) }</td>
                    <td data-label="Duplicates" class="num">{ count(f.duplicates) }</td>
                    <td data-label="Rejected" class={classes!("num", (f.rejected > 0).then_some("warn"))}>{ count(f.rejected) }</td>
                </tr>
            }) }</tbody>
        </table></div>
    }
}

//! Why a run rejected rows: per file and reason, how many, and the first example.

use api_types::RejectionReason;
use yew::prelude::*;

use crate::format::count;

pub fn reasons_table(reasons: &[RejectionReason]) -> Html {
    html! {
        <div class="table-wrap"><table class="reasons stack">
            <thead><tr><th scope="col">{"File"}</th><th scope="col">{"Reason"}</th><th scope="col" class="num">{"Rows"}</th><th scope="col">{"First example"}</th></tr></thead>
            <tbody>{ for reasons.iter().map(|r| html! {
                <tr>
                    <td data-label="File">{ r.file.clone() }</td>
                    <td data-label="Reason"><code class="reason">{ r.reason.clone() }</code></td>
                    <td data-label="Rows" class="num">{ count(r.rows) }</td>
                    <td data-label="First example" class="example"><span><span class="line">{ format!("line {}: ", r.first_line) }</span>{ r.example.clone() }</span></td>
                </tr>
            }) }</tbody>
        </table></div>
    }
}

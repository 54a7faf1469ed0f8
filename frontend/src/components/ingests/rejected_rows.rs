//! A run's rejected rows: filterable by file and reason (the filter lives in
//! the URL), paged, with a CSV of every row the filter matches.

use std::rc::Rc;

use api_types::{IngestDetail, RejectionList};
use yew::prelude::*;

use crate::api;
use crate::components::pager::{pager, Paging};
use crate::components::section::Section;
use crate::components::select_value;
use crate::format::count;
use crate::hooks::use_fetch;
use crate::ingests::{files_with_rejections, reason_choices, ReasonChoice};
use crate::state::{RejectionQuery, CSV_ROW_LIMIT};

#[derive(Properties, PartialEq)]
pub struct RejectedRowsProps {
    pub run: Rc<IngestDetail>,
    pub query: RejectionQuery,
    /// Called with the next filter or page.
    pub on_query: Callback<RejectionQuery>,
}

#[component]
pub fn RejectedRows(props: &RejectedRowsProps) -> Html {
    let id = props.run.run.id;
    let rows = use_fetch((id, props.query.clone()), |(id, q)| async move {
        api::rejections(id, &q).await
    });
    let any_rejected = props.run.run.files.iter().any(|f| f.rejected > 0);
    let data = rows.data();
    let empty = data.as_ref().is_some_and(|l| l.rejections.is_empty());
    let empty_text = if !any_rejected {
        "This run rejected no rows."
    } else if props.query.offset > 0 {
        "No rejected rows on this page."
    } else {
        "No rejected rows match these filters."
    };
    let csv = api::rejections_csv_url(id, &props.query);
    let subtitle = data.as_ref().filter(|l| l.total > i64::from(CSV_ROW_LIMIT)).map(|l| {
        AttrValue::from(format!(
            "The CSV holds the first {} of {} matching rows.",
            count(i64::from(CSV_ROW_LIMIT)),
            count(l.total)
        ))
    });
    let toolbar = if any_rejected {
        filters(props)
    } else {
        html! {}
    };
    html! {
        <Section id="rejections" title="Rejected rows" {subtitle} status={rows.status()} {empty}
            empty_text={AttrValue::from(empty_text)} csv_href={AttrValue::from(csv)} {toolbar}>
            { data.map(|l| table(&l, props)).unwrap_or_default() }
        </Section>
    }
}

fn filters(props: &RejectedRowsProps) -> Html {
    let q = &props.query;
    let mut files = files_with_rejections(&props.run.run.files);
    // A filter from a shared link stays visible even when it matches nothing.
    if let Some(f) = q.file.as_ref().filter(|f| !files.contains(f)) {
        files.push(f.clone());
    }
    let mut reasons = reason_choices(&props.run.reasons, q.file.as_deref());
    if let Some(r) = q.reason.as_ref().filter(|r| !reasons.iter().any(|c| &c.reason == *r)) {
        reasons.push(ReasonChoice {
            reason: r.clone(),
            rows: 0,
        });
    }
    let on_file = {
        let (q, on_query, all) = (q.clone(), props.on_query.clone(), props.run.reasons.clone());
        Callback::from(move |e: Event| {
            let file = select_value(&e).filter(|v| !v.is_empty());
            on_query.emit(q.with_file(file, &all));
        })
    };
    let on_reason = {
        let (q, on_query) = (q.clone(), props.on_query.clone());
        Callback::from(move |e: Event| on_query.emit(q.with_reason(select_value(&e).filter(|v| !v.is_empty()))))
    };
    html! {
        <form class="controls filters" aria-label="Filter rejected rows" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
            <label>{ "File" }
                <select id="rejections-file" onchange={on_file}>
                    <option value="" selected={q.file.is_none()}>{ "All files" }</option>
                    { for files.iter().map(|f| html! {
                        <option value={f.clone()} selected={q.file.as_ref() == Some(f)}>{ f.clone() }</option>
                    }) }
                </select>
            </label>
            <label>{ "Reason" }
                <select id="rejections-reason" onchange={on_reason}>
                    <option value="" selected={q.reason.is_none()}>{ "All reasons" }</option>
                    { for reasons.iter().map(|c| html! {
                        <option value={c.reason.clone()} selected={q.reason.as_ref() == Some(&c.reason)}>
                            { format!("{} ({})", c.reason, count(c.rows)) }
                        </option>
                    }) }
                </select>
            </label>
        </form>
    }
}

fn paging(list: &RejectionList) -> Paging {
    Paging {
        offset: list.offset,
        limit: list.limit,
        shown: list.rejections.len(),
        total: list.total,
        noun: "rejected rows",
    }
}

fn table(list: &RejectionList, props: &RejectedRowsProps) -> Html {
    let on_page = {
        let (q, on_query) = (props.query.clone(), props.on_query.clone());
        Callback::from(move |offset: u64| on_query.emit(RejectionQuery { offset, ..q.clone() }))
    };
    html! {
        <>
            <div class="table-wrap"><table class="rejections stack">
                <thead><tr>
                    <th scope="col">{"File"}</th><th scope="col" class="num">{"Line"}</th><th scope="col">{"Reason"}</th>
                    <th scope="col">{"Message"}</th><th scope="col">{"Row as read"}</th>
                </tr></thead>
                <tbody>{ for list.rejections.iter().map(|r| html! {
                    <tr>
                        <td data-label="File">{ r.file.clone() }</td>
                        <td data-label="Line" class="num">{ r.line }</td>
                        <td data-label="Reason"><code class="reason">{ r.reason.clone() }</code></td>
                        <td data-label="Message" class="message">{ r.message.clone() }</td>
                        <td data-label="Row as read"><code class="raw">{ r.raw_line.clone() }</code></td>
                    </tr>
                }) }</tbody>
            </table></div>
            { pager(&paging(list), on_page) }
        </>
    }
}

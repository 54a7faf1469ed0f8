//! The ingest pages: the run history (`/runs?offset=`), with the upload form
//! for admins, and one run (`/runs/{id}?file=&reason=&offset=`).

use std::rc::Rc;

use api_types::{IngestDetail, IngestList};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::ingests::changes::changes;
use crate::components::ingests::files::file_counts;
use crate::components::ingests::reasons::reasons_table;
use crate::components::ingests::rejected_rows::RejectedRows;
use crate::components::ingests::runs_table::runs_table;
use crate::components::ingests::summary::run_summary;
use crate::components::ingests::upload::UploadSection;
use crate::components::pager::{pager, Paging};
use crate::components::section::Section;
use crate::hooks::{use_fetch, use_query, use_title};
use crate::session::SessionContext;
use crate::state::{RejectionQuery, RunsQuery};

#[component]
pub fn RunsPage() -> Html {
    use_title("Ingest runs · Revenue analytics".to_owned());
    let (query, push_query) = use_query(Route::Runs);
    let query = RunsQuery::from_query(&query);
    let list = use_fetch(query, api::ingests);
    // Readers never see the form (the API would refuse them anyway).
    let admin = use_context::<SessionContext>().is_some_and(|s| s.is_admin());
    let data = list.data();
    let empty = data.as_ref().is_some_and(|l| l.runs.is_empty());
    let empty_text = if query.offset > 0 {
        "No runs on this page."
    } else {
        "No ingest runs yet: each load of the export files (backend ingest, or an upload) is listed here."
    };
    let on_page = push_query.reform(|offset: u64| RunsQuery { offset }.to_query());
    html! {
        <main class="page">
            <div class="grid">
                if admin {
                    <UploadSection />
                }
                <Section id="runs" title="Ingest runs" subtitle={AttrValue::from("Every load of the export files, newest first")}
                    status={list.status()} {empty} empty_text={AttrValue::from(empty_text)}>
                    if let Some(l) = data {
                        { runs_table(&l) }
                        { pager(&paging(&l), on_page) }
                    }
                </Section>
            </div>
        </main>
    }
}

fn paging(list: &IngestList) -> Paging {
    Paging {
        offset: list.offset,
        limit: list.limit,
        shown: list.runs.len(),
        total: list.total,
        noun: "runs",
    }
}

#[derive(Properties, PartialEq)]
pub struct RunPageProps {
    pub id: i64,
}

#[component]
pub fn RunPage(props: &RunPageProps) -> Html {
    let id = props.id;
    use_title(format!("Run {id} · Ingests · Revenue analytics"));
    let (query, push_query) = use_query(Route::Run { id });
    let query = RejectionQuery::from_query(&query);
    let detail = use_fetch(id, api::ingest);
    let on_query = push_query.reform(|q: RejectionQuery| q.to_query());
    let body = match detail.data() {
        Some(run) => sections(run, query, on_query),
        // One placeholder until the run is there: its loading skeleton or error banner.
        None => html! { <Section id="run" title={format!("Run {id}")} status={detail.status()} /> },
    };
    html! {
        <main class="page">
            <p class="crumbs"><Link<Route> to={Route::Runs}>{ "← All runs" }</Link<Route>></p>
            <div class="grid">{ body }</div>
        </main>
    }
}

fn sections(run: Rc<IngestDetail>, query: RejectionQuery, on_query: Callback<RejectionQuery>) -> Html {
    let r = &run.run;
    let committed = r.status.committed();
    let changes_subtitle = (!committed).then_some(AttrValue::from(
        "What the run would have changed; it committed nothing.",
    ));
    let totals = run.before.as_ref().zip(run.after.as_ref());
    html! {
        <>
            <Section id="run" title={format!("Run {}", r.id)}
                subtitle={AttrValue::from(format!("{} ingest of {} files", r.mode, r.files.len()))}>
                { run_summary(r) }
            </Section>
            <Section id="files" title="Files" subtitle={AttrValue::from("read = loaded + already loaded + duplicates + rejected")}
                empty={r.files.is_empty()} empty_text={AttrValue::from("The run stopped before reading any file.")}>
                { file_counts(&r.files) }
            </Section>
            <Section id="changes" title="Changes" subtitle={changes_subtitle}
                empty={totals.is_none()} empty_text={AttrValue::from("The run stopped before it measured the data.")}>
                { totals.map(|(before, after)| changes(before, after)).unwrap_or_default() }
            </Section>
            <Section id="reasons" title="Rejection reasons" subtitle={AttrValue::from("Per file, most rows first, with the first rejected line")}
                empty={run.reasons.is_empty()} empty_text={AttrValue::from("No rows were rejected.")}>
                { reasons_table(&run.reasons) }
            </Section>
            <RejectedRows {run} {query} {on_query} />
        </>
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use api_types::SessionInfo;
    use yew::prelude::*;

    use super::RunsPage;
    use crate::components::ssr::render_at;
    use crate::session::{Session, SessionContext, SignIn};

    fn runs_page_for(role: &'static str) -> Html {
        let user = SessionInfo {
            name: "alice".into(),
            role: role.parse().unwrap(),
            via: api_types::Via::Session,
            expires_at: None,
        };
        let context = SessionContext {
            state: Rc::new(Session {
                sign_in: SignIn::SignedIn(Rc::new(user.into())),
                ..Session::default()
            }),
            dispatch: Callback::noop(),
        };
        html! { <ContextProvider<SessionContext> {context}><RunsPage /></ContextProvider<SessionContext>> }
    }

    #[tokio::test]
    async fn only_admins_see_the_upload_form() {
        let html = render_at("/runs", || runs_page_for("admin")).await;
        assert!(
            html.contains(r#"id="upload-form""#) && html.contains(r#"id="runs""#),
            "{html}"
        );
        let html = render_at("/runs", || runs_page_for("reader")).await;
        assert!(!html.contains("upload") && html.contains(r#"id="runs""#), "{html}");
    }
}

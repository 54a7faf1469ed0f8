//! The data-quality page (`/data-quality`): the latest run's score, its
//! dimensions and alerts, the trend across runs, and the checks of the loaded
//! data.

use yew::prelude::*;

use crate::api;
use crate::components::quality::alerts::AlertsSection;
use crate::components::quality::checks::ChecksSection;
use crate::components::quality::dimensions::DimensionsSection;
use crate::components::quality::rows::RowsSection;
use crate::components::quality::score::ScoreSection;
use crate::components::quality::trend::TrendSection;
use crate::hooks::{use_fetch, use_prefers_dark, use_resize_epoch, use_title};

#[component]
pub fn QualityPage() -> Html {
    use_title("Data quality · Revenue analytics".to_owned());
    // Fetched once here and shared: every section shows the same run.
    let report = use_fetch((), |()| api::quality()).fetched();
    let history = use_fetch((), |()| api::quality_history()).fetched();
    let dark = use_prefers_dark();
    let epoch = use_resize_epoch();
    html! {
        <main class="page">
            <div class="grid">
                <ScoreSection report={report.clone()} history={history.clone()} />
                <DimensionsSection report={report.clone()} {dark} {epoch} />
                <AlertsSection report={report.clone()} />
                <RowsSection history={history.clone()} {dark} {epoch} />
                <TrendSection {history} {dark} {epoch} />
                <ChecksSection {report} />
            </div>
        </main>
    }
}

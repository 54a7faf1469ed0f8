//! The reports page (`/`): filters bound to the URL query
//! (`?months=&as_of=&currency=`) and one section per report.

use yew::prelude::*;

use crate::app::Route;
use crate::components::reports::controls::ReportControls;
use crate::components::reports::growth::GrowthSection;
use crate::components::reports::monthly::MonthlySection;
use crate::components::reports::products::ProductsSection;
use crate::components::reports::quality::QualitySummary;
use crate::components::reports::users::UsersSection;
use crate::hooks::{use_prefers_dark, use_query, use_resize_epoch, use_title};
use crate::state::ViewState;

#[component]
pub fn ReportsPage() -> Html {
    use_title("Revenue analytics".to_owned());
    let (query, push_query) = use_query(Route::Reports);
    let view = ViewState::from_query(&query);
    let dark = use_prefers_dark();
    let epoch = use_resize_epoch();
    let on_change = push_query.reform(|next: ViewState| next.to_query());
    html! {
        <main class="page">
            <div class="toolbar">
                <ReportControls view={view.clone()} {on_change} />
            </div>
            <div class="grid">
                <MonthlySection view={view.clone()} {dark} {epoch} />
                <ProductsSection view={view.clone()} {dark} {epoch} />
                <GrowthSection view={view.clone()} {dark} {epoch} />
                <UsersSection {view} />
                <QualitySummary />
            </div>
        </main>
    }
}

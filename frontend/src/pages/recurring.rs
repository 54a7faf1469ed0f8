//! The recurring-revenue page (`/recurring-revenue`): subscription metrics
//! of one currency — MRR and its evidence, the movements with their
//! customers, the rates, the cohorts — with the URL holding the currency,
//! the movement listed and the cohort measure.

use yew::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::recurring::cohorts::CohortsSection;
use crate::components::recurring::controls::CurrencyControl;
use crate::components::recurring::customers::CustomersSection;
use crate::components::recurring::headline::HeadlineSection;
use crate::components::recurring::movements::MovementsSection;
use crate::components::recurring::mrr::MrrSection;
use crate::components::recurring::rates::{RateGroup, RatesSection};
use crate::hooks::{use_fetch, use_prefers_dark, use_query, use_resize_epoch, use_title};
use crate::recurring::query::RecurringQuery;

#[component]
pub fn RecurringRevenuePage() -> Html {
    use_title("Recurring revenue · Revenue analytics".to_owned());
    let (raw, push_query) = use_query(Route::RecurringRevenue);
    let query = RecurringQuery::from_query(&raw);
    // Fetched once per currency and shared: every section shows the same figures.
    let currency = RecurringQuery {
        currency: query.currency,
        ..RecurringQuery::default()
    };
    let report = use_fetch(currency.clone(), |q| async move { api::saas::mrr(&q).await }).fetched();
    let cohorts = use_fetch(currency, |q| async move { api::saas::cohorts(&q).await }).fetched();
    let dark = use_prefers_dark();
    let epoch = use_resize_epoch();
    let on_query = push_query.reform(|next: RecurringQuery| next.to_query());
    let shown = report.data.as_ref().map(|r| r.currency);
    html! {
        <main class="page">
            <div class="toolbar">
                <CurrencyControl query={query.clone()} {shown} on_query={on_query.clone()} />
            </div>
            <div class="grid">
                <HeadlineSection report={report.clone()} />
                <MrrSection report={report.clone()} {dark} {epoch} />
                <MovementsSection report={report.clone()} query={query.clone()} on_query={on_query.clone()} {dark} {epoch} />
                <CustomersSection report={report.clone()} query={query.clone()} on_query={on_query.clone()} />
                <RatesSection group={RateGroup::Churn} report={report.clone()} {dark} {epoch} />
                <RatesSection group={RateGroup::Retention} report={report.clone()} {dark} {epoch} />
                <RatesSection group={RateGroup::QuickRatio} report={report.clone()} {dark} {epoch} />
                <CohortsSection {cohorts} {report} {query} {on_query} />
            </div>
        </main>
    }
}

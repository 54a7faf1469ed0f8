//! The generator's subscriptions (`backend generate`) give the subscription
//! metrics something to measure: every movement, every interval and every
//! way of inferring one occur, and late renewals are what the grace period
//! is for.

use reqwest::StatusCode;
use serde_json::Value;

use crate::both;
use crate::helpers::{cents, generated, Engine, TestApp, TestDb};
use crate::saas::check_identities;

/// The money of `field` of `month` under `group` (e.g. movements/new), 0 when absent.
fn money(month: &Value, group: &str, field: &str) -> i64 {
    month[group][field].as_str().map_or(0, cents)
}

async fn generated_subscriptions_move(engine: Engine) {
    let input = generated(6_000, 5);
    let t = TestDb::new(engine).await;
    let summary = t.ingest(input.path()).await.unwrap();
    for file in &summary.files {
        assert_eq!(file.counts.rejected, 0, "{}: {:?}", file.file, file.counts);
    }
    let app = TestApp::spawn(&t.db).await;
    let res = app.get("/reports/saas/mrr?currency=usd").await;
    assert_eq!(res.status(), StatusCode::OK, "the §13 invariants hold");
    let mrr: Value = res.json().await.unwrap();
    let months = mrr["months"].as_array().unwrap();
    assert!(months.len() >= 9, "January to September are closed");
    for kind in ["new", "expansion", "contraction", "churn", "reactivation"] {
        assert!(
            months.iter().any(|m| money(m, "movements", kind) > 0),
            "no month has {kind}"
        );
    }
    let last = months.last().unwrap();
    for interval in ["1", "3", "12"] {
        assert!(
            money(last, "mrr_by_interval_months", interval) > 0,
            "{interval}: {last}"
        );
    }
    for source in [
        "observed_next",
        "observed_previous",
        "catalogue_year",
        "catalogue_month",
        "assumed_annual",
        "assumed_monthly",
    ] {
        assert!(
            months.iter().any(|m| money(m, "mrr_by_interval_source", source) > 0),
            "no month has MRR from {source}"
        );
    }
    check_identities(&app, "usd").await;
    // Renewals a day or two late: without grace some customers churn and come back.
    let strict = app.json("/reports/saas/mrr?currency=usd&grace_days=0").await;
    let churned = |report: &Value| -> i64 {
        let months = report["months"].as_array().unwrap();
        months
            .iter()
            .skip(1)
            .map(|m| m["movement_customers"]["churn"].as_i64().unwrap())
            .sum()
    };
    assert!(churned(&strict) > churned(&mrr), "late renewals churn without grace");
}
both!(generated, generated_subscriptions_move);

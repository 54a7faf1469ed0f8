//! After an append, a server that keeps the previous run's transactions for
//! the subscription figures reads only the appended ones and merges them in
//! (`revenue_saas_caught_up_transactions`); its answers are those of a new
//! server, which reads every transaction. A replace, or a run the server
//! did not keep the predecessor of, takes the full read.

use std::time::Duration;

use backend::etl::RunSummary;

use crate::both;
use crate::helpers::{generated, Engine, TestApp, TestDb};
use crate::operations::scrape;

/// The subscription answers compared: the default figures, other
/// parameters (computed from the kept transactions) and movement lists.
pub(crate) const PATHS: [&str; 6] = [
    "/reports/saas/mrr?currency=usd",
    "/reports/saas/cohorts?currency=usd",
    "/reports/saas/mrr?currency=eur&grace_days=0",
    "/reports/saas/cohorts?currency=usd&annual_threshold=500",
    "/reports/saas/movements?currency=usd&month=2024-06&kind=churn",
    "/reports/saas/movements?currency=usd&month=2024-09&kind=new&limit=1000",
];

pub(crate) async fn bodies(app: &TestApp) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for path in PATHS {
        out.push(app.json(path).await);
    }
    out
}

/// The server's `/metrics` gauges of the kept transactions: (kept, of
/// which caught up, of which read from the subscription feed).
pub(crate) async fn kept_counts(app: &TestApp) -> (f64, f64, f64) {
    let text = app.get("/metrics").await.text().await.unwrap();
    let samples = scrape(&text);
    let value = |metric: &str| {
        let found = samples.iter().find(|(name, _, _)| name == metric);
        found.unwrap_or_else(|| panic!("{metric} missing:\n{text}")).2
    };
    (
        value("revenue_saas_kept_transactions"),
        value("revenue_saas_caught_up_transactions"),
        value("revenue_saas_fed_transactions"),
    )
}

/// (transactions kept, of which caught up).
async fn kept(app: &TestApp) -> (f64, f64) {
    let (kept, caught_up, _) = kept_counts(app).await;
    (kept, caught_up)
}

fn loaded(summary: &RunSummary) -> f64 {
    let file = summary.files.iter().find(|f| f.file == "transactions.csv").unwrap();
    file.counts.loaded as f64
}

/// `app`'s answers equal a new server's on the same data, which read
/// every transaction; `app` took the catch-up with `appended` transactions
/// (`None`: it read all of them).
async fn same_as_a_new_server(t: &TestDb, app: &TestApp, appended: Option<f64>, what: &str) {
    let served = bodies(app).await;
    let (kept_by_app, caught_up) = kept(app).await;
    let fresh = TestApp::spawn(&t.db).await;
    let expected = bodies(&fresh).await;
    let (kept_by_fresh, fresh_caught_up) = kept(&fresh).await;
    assert_eq!(fresh_caught_up, 0.0, "{what}: a new server reads everything");
    assert_eq!(kept_by_app, kept_by_fresh, "{what}: the same transactions");
    assert_eq!(caught_up, appended.unwrap_or(0.0), "{what}: the path taken");
    for ((path, got), want) in PATHS.iter().zip(&served).zip(&expected) {
        assert_eq!(got, want, "{what}: {path}");
    }
}

async fn appends_catch_up(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(generated(6_000, 5).path()).await.unwrap();
    let app = TestApp::spawn_with(&t.db, Duration::ZERO).await;
    same_as_a_new_server(&t, &app, None, "after the replace").await;

    // Seeds share customers and subscriptions: the appended invoices land
    // inside the kept groups, not only after them.
    let b = t.append(generated(1_500, 6).path()).await.unwrap();
    assert!(loaded(&b) > 1_000.0, "{}", b.render());
    same_as_a_new_server(&t, &app, Some(loaded(&b)), "after an append").await;

    let c = t.append(generated(800, 7).path()).await.unwrap();
    same_as_a_new_server(&t, &app, Some(loaded(&c)), "after a second append").await;

    // Larger than the data it replaces: the guard rail refuses a shrink.
    t.ingest(generated(9_000, 8).path()).await.unwrap();
    same_as_a_new_server(&t, &app, None, "after a replace").await;
    let table = "SELECT COUNT(*) FROM etl_appended_transaction";
    assert_eq!(t.scalar_i64(table).await, 0, "a replace empties the record");

    let e = t.append(generated(1_000, 9).path()).await.unwrap();
    same_as_a_new_server(&t, &app, Some(loaded(&e)), "after an append to the replace").await;
    assert_eq!(t.scalar_i64(table).await as f64, loaded(&e), "one run's rows");

    // Two appends the server did not see apart: the second's predecessor is
    // not the run it keeps.
    t.append(generated(700, 10).path()).await.unwrap();
    t.append(generated(600, 11).path()).await.unwrap();
    same_as_a_new_server(&t, &app, None, "after two unseen appends").await;
}
both!(appends_catch_up, appends_catch_up);

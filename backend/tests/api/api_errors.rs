//! Errors are RFC 9457 problems with a code, a sentence and the right status.

use serde_json::Value;

use crate::helpers::{realistic_input, Engine, TestApp, TestDb};

async fn error(app: &TestApp, path: &str, status: u16) -> (String, String) {
    let res = app.get(path).await;
    assert_eq!(res.status().as_u16(), status, "GET {path}");
    assert_eq!(res.headers()["content-type"], "application/problem+json", "GET {path}");
    let body: Value = res.json().await.unwrap();
    // The problem fields, consistent with the API's own.
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["detail"], body["message"], "{body}");
    assert_eq!(
        body["type"],
        format!("urn:revenue-analytics:problem:{}", body["error"].as_str().unwrap()),
        "{body}"
    );
    assert!(!body["title"].as_str().unwrap().is_empty(), "{body}");
    (
        body["error"].as_str().unwrap().to_owned(),
        body["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn bad_parameters_name_the_parameter_and_range() {
    let t = TestDb::new(Engine::Sqlite).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let (code, msg) = error(&app, "/reports/monthly-transactions?months=0", 400).await;
    assert_eq!(code, "invalid_parameter");
    assert!(msg.contains("`months`") && msg.contains("1 to 36"), "{msg}");
    let (_, msg) = error(&app, "/reports/revenue-growth?months=abc", 400).await;
    assert!(msg.contains("`months`"), "{msg}");
    let (_, msg) = error(&app, "/reports/revenue-growth?as_of=2024-13", 400).await;
    assert!(msg.contains("`as_of`") && msg.contains("YYYY-MM"), "{msg}");
    // A window reaching before year 0000 could not be written as YYYY-MM.
    for path in [
        "/reports/monthly-transactions?as_of=0000-01",
        "/reports/revenue-growth?as_of=0000-05&months=6",
    ] {
        let (_, msg) = error(&app, path, 400).await;
        assert!(msg.contains("`as_of`") && msg.contains("before 0000-01"), "{msg}");
    }
    assert_eq!(
        app.get("/reports/monthly-transactions?as_of=0000-06&months=6")
            .await
            .status()
            .as_u16(),
        200
    );
    let (code, msg) = error(&app, "/reports/top-users?currency=gbp", 400).await;
    assert_eq!(code, "unknown_currency");
    assert!(msg.contains("usd"), "lists the available currencies: {msg}");
    let (_, msg) = error(&app, "/reports/top-products?limit=1000", 400).await;
    assert!(msg.contains("`limit`") && msg.contains("1 to 100"), "{msg}");
    let (_, msg) = error(&app, "/reports/top-products?from=2024-05&to=2024-01", 400).await;
    assert!(msg.contains("`from`"), "{msg}");
    let (_, msg) = error(&app, "/reports/top-users?format=xml", 400).await;
    assert!(msg.contains("`format`"), "{msg}");
    let (code, _) = error(&app, "/reports/nope", 404).await;
    assert_eq!(code, "not_found");
    // Upper-case currency codes are accepted.
    assert_eq!(app.json("/reports/top-users?currency=USD").await["currency"], "usd");
}

#[tokio::test]
async fn empty_database_says_so() {
    let t = TestDb::new(Engine::Sqlite).await;
    use migration::MigratorTrait;
    migration::Migrator::up(&t.db, None).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let (code, msg) = error(&app, "/reports/monthly-transactions", 404).await;
    assert_eq!(code, "no_data");
    assert!(msg.contains("ingest"));
    error(&app, "/quality", 404).await;
}

#[tokio::test]
async fn unreachable_database_is_503_without_details() {
    let t = TestDb::new(Engine::Sqlite).await;
    t.ingest(&realistic_input()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    t.db.clone().close().await.unwrap();
    for path in ["/reports/monthly-transactions", "/health/ready"] {
        let (code, msg) = error(&app, path, 503).await;
        assert_eq!(code, "database_unavailable");
        assert!(
            !msg.to_lowercase().contains("select") && !msg.contains("sqlite"),
            "{msg}"
        );
    }
}

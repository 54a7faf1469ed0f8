//! A busy database is not a database that is down: drill-downs that hold
//! their connections for a long while (a month of millions of facts) are
//! refused with 503 `busy` beyond their share of the pool, while the kept
//! reports, `/health/ready` and the readiness watch go on being served — never
//! 503 `database_unavailable` while PostgreSQL answers.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{generated, postgres_admin_url, Engine, TestApp, TestDb};

/// How long the facts stay locked: longer than the readiness ping's timeout
/// (3 s) and its interval, so that a ping starved of connections shows.
const HELD: Duration = Duration::from_secs(6);

/// `GET path` with a deadline: a request that waits longer than this for a
/// connection counts as an answer that did not come.
async fn get(app: &TestApp, path: &str) -> (StatusCode, Option<String>, String) {
    let res = app
        .client
        .get(format!("{}{path}", app.address))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = res.status();
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
    (status, retry_after, res.text().await.unwrap())
}

/// Polls `paths` until `held` has passed: every answer must be 200.
async fn stay_served(app: &TestApp, paths: &[&str], held: Duration) -> usize {
    let until = Instant::now() + held;
    let mut answers = 0;
    while Instant::now() < until {
        for path in paths {
            let started = Instant::now();
            let (status, _, body) = get(app, path).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "GET {path} while the drill-downs wait: {body} (after {:?})",
                started.elapsed()
            );
            answers += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    answers
}

/// Many month and customer pages at once, each stuck on the facts (locked
/// by another session, as a month of millions of rows takes seconds): the
/// kept reports and readiness stay 200, and every drill-down answers
/// either its right body or 503 `busy` with `Retry-After: 1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_drill_downs_leave_the_rest_of_the_api_served() {
    if postgres_admin_url().is_none() {
        return; // skipped (counted by `postgres_admin_url`)
    }
    let t = TestDb::new(Engine::Postgres).await;
    let input = generated(2_000, 7);
    t.ingest(input.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let meta = app.json("/reports/meta").await;
    let month = meta["latest_month"].as_str().unwrap().to_owned();
    let top = app.json("/reports/top-users?limit=3").await;
    let customer = top["users"][0]["customer_id"].as_str().unwrap().to_owned();
    let month_path = format!("/reports/month/{month}");
    let customer_path = format!("/customers/{customer}");
    let expected_month = app.json(&month_path).await;
    let expected_customer = app.json(&customer_path).await;

    // Another session locks the facts: every drill-down blocks on them, holding its connection.
    let locker = backend::db::connect(&t.settings).await.unwrap();
    let lock = {
        use sea_orm::{ConnectionTrait, TransactionTrait};
        let tx = locker.begin().await.unwrap();
        tx.execute_unprepared("LOCK TABLE fct_transaction IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        tx
    };
    let mut drills = Vec::new();
    for i in 0..(2 * backend::db::POOL_SIZE) {
        let path = if i % 2 == 0 {
            month_path.clone()
        } else {
            customer_path.clone()
        };
        let app = TestApp {
            address: app.address.clone(),
            client: app.client.clone(),
        };
        drills.push(tokio::spawn(async move {
            let answer = get(&app, &path).await;
            (path, answer)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answers = stay_served(&app, &["/reports/meta", "/health/ready"], HELD).await;
    assert!(answers >= 4, "{answers} answers while the drill-downs waited");
    lock.commit().await.unwrap();

    let (mut ok, mut busy) = (0, 0);
    for drill in drills {
        let (path, (status, retry_after, body)) = drill.await.unwrap();
        match status {
            StatusCode::OK => {
                let expected = match path == month_path {
                    true => &expected_month,
                    false => &expected_customer,
                };
                assert_eq!(&serde_json::from_str::<Value>(&body).unwrap(), expected, "GET {path}");
                ok += 1;
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                let problem: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(problem["error"], "busy", "GET {path}: {body}");
                assert_eq!(retry_after.as_deref(), Some("1"), "GET {path}: Retry-After");
                busy += 1;
            }
            other => panic!("GET {path}: {other} {body}"),
        }
    }
    // Both outcomes happened: some ran once the facts were free, the rest
    // were refused rather than left to take the whole pool.
    assert!(ok > 0 && busy > 0, "{ok} answered, {busy} refused");
    assert_eq!(get(&app, "/health/ready").await.0, StatusCode::OK);
}

/// Every connection of the server's pool checked out (by work that is
/// merely slow): readiness asks over its own connection, so the server
/// stays ready — the database answers — instead of declaring it down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_all_checked_out_is_not_a_database_down() {
    if postgres_admin_url().is_none() {
        return; // skipped (counted by `postgres_admin_url`)
    }
    let t = TestDb::new(Engine::Postgres).await;
    let input = generated(200, 3);
    t.ingest(input.path()).await.unwrap();
    // The kept reports need no connection meanwhile: this is about readiness.
    let app = TestApp::spawn_with(&t.db, Duration::from_secs(3600)).await;
    app.json("/reports/meta").await;
    // The app's pool is `t.db`'s: hold every connection of it.
    let mut held = Vec::new();
    for _ in 0..backend::db::POOL_SIZE {
        use sea_orm::TransactionTrait;
        held.push(t.db.begin().await.unwrap());
    }
    stay_served(&app, &["/health/ready", "/reports/meta"], HELD).await;
    for tx in held {
        tx.rollback().await.unwrap();
    }
}

//! Answers kept as bytes per run (`reports::Answers`): a kept answer is the
//! fresh one byte for byte, as JSON, CSV and compressed; a new run starts
//! from none; 304 and access control still come before them.

use std::io::Read;

use backend::auth::Role;
use backend::reports::{self as r, ReportContext, ToCsv};
use reqwest::StatusCode;

use crate::both;
use crate::helpers::{fixture, generated, Engine, TestApp, TestDb};

/// `GET path` with these headers: status, headers, body.
async fn fetch(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = app.client.get(format!("{}{path}", app.address));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.bytes().await.unwrap().to_vec())
}

/// A report as the JSON bytes it goes out as.
macro_rules! json {
    ($report:expr) => {
        serde_json::to_vec(&$report).unwrap()
    };
}

/// The answers of the paths below, built now from a snapshot of the database.
async fn fresh(t: &TestDb, month: &str) -> Vec<(String, Vec<u8>)> {
    let (_, ctx) = ReportContext::load(&t.db).await.unwrap();
    let window = |months: Option<&str>| r::WindowParams {
        months: months.map(str::to_owned),
        ..Default::default()
    };
    let users = |limit: &str| r::TopUsersParams {
        limit: Some(limit.to_owned()),
        ..Default::default()
    };
    let saas = r::SaasParams::default();
    let movements = r::SaasMovementsParams {
        month: Some(month.to_owned()),
        kind: Some("new".to_owned()),
        ..Default::default()
    };
    vec![
        ("/reports/meta".into(), json!(r::meta(&ctx).unwrap())),
        ("/quality".into(), json!(r::quality(&ctx, chrono::Utc::now()).unwrap())),
        (
            "/reports/monthly-transactions".into(),
            json!(r::monthly_transactions(&ctx, &window(None)).unwrap()),
        ),
        (
            "/reports/revenue-growth?months=12".into(),
            json!(r::revenue_growth(&ctx, &window(Some("12"))).unwrap()),
        ),
        (
            "/reports/top-products".into(),
            json!(r::top_products(&ctx, &Default::default()).unwrap()),
        ),
        (
            "/reports/top-users?limit=7".into(),
            json!(r::top_users(&ctx, &users("7")).unwrap()),
        ),
        (
            "/reports/top-users?limit=7&format=csv".into(),
            r::top_users(&ctx, &users("7")).unwrap().to_csv(),
        ),
        (
            "/reports/saas/mrr".into(),
            json!(r::saas_mrr(&ctx.saas, &t.db, &saas).await.unwrap()),
        ),
        (
            "/reports/saas/cohorts".into(),
            json!(r::saas_cohorts(&ctx.saas, &t.db, &saas).await.unwrap()),
        ),
        (
            format!("/reports/saas/movements?month={month}&kind=new"),
            json!(r::saas_movements(&ctx.saas, &t.db, &movements).await.unwrap()),
        ),
    ]
}

/// `body` decoded from `coding`.
fn decoded(coding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap(),
        "zstd" => out = zstd::decode_all(body).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(body).read_to_end(&mut out).unwrap();
        }
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// A generated export with subscriptions, loaded; the app; a month with movements.
async fn loaded(engine: Engine) -> (TestDb, TestApp, String) {
    let t = TestDb::new(engine).await;
    t.ingest(generated(3000, 24).path()).await.unwrap();
    let app = TestApp::spawn_with(&t.db, std::time::Duration::ZERO).await;
    let mrr = app.json("/reports/saas/mrr").await;
    let month = mrr["months"][3]["month"].as_str().unwrap().to_owned();
    (t, app, month)
}

/// The first answer (made and kept) and the next ones (kept) are the
/// answer built fresh, byte for byte, plain and in every coding.
async fn kept_answers_are_the_fresh_ones(engine: Engine) {
    let (t, app, month) = loaded(engine).await;
    let answers = fresh(&t, &month).await;
    for (path, expected) in answers.clone() {
        for round in ["made", "kept"] {
            let (status, headers, body) = fetch(&app, &path, &[]).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(headers.get("content-encoding").is_none(), "{path}");
            assert!(body == expected, "{path} ({round}): {}", String::from_utf8_lossy(&body));
            for coding in ["br", "zstd", "gzip"] {
                let (status, headers, body) = fetch(&app, &path, &[("accept-encoding", coding)]).await;
                assert_eq!(status, StatusCode::OK, "{path} {coding}");
                assert_eq!(headers["content-encoding"], coding, "{path} ({round})");
                let vary: Vec<_> = headers.get_all("vary").iter().map(|v| v.to_str().unwrap()).collect();
                assert!(vary.iter().any(|v| v.contains("accept-encoding")), "{path}: {vary:?}");
                assert!(decoded(coding, &body) == expected, "{path} in {coding} ({round})");
            }
        }
        // As the browser asks: its preferred coding (Brotli), the same answer.
        let (_, headers, body) = fetch(&app, &path, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
        assert_eq!(headers["content-encoding"], "br", "{path}");
        assert!(decoded("br", &body) == expected, "{path}");
        // A coding not kept (deflate) is compressed on the way, from the kept bytes.
        let (_, headers, body) = fetch(&app, &path, &[("accept-encoding", "deflate")]).await;
        assert_eq!(headers["content-encoding"], "deflate", "{path}");
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(&body[..]).read_to_end(&mut out).unwrap();
        assert!(out == expected, "{path} in deflate");
    }
    // The JSON of this path and query is kept; asked for as CSV by `Accept`,
    // the answer is the CSV.
    let csv = &answers
        .iter()
        .find(|(p, _)| p.ends_with("limit=7&format=csv"))
        .unwrap()
        .1;
    let (_, headers, body) = fetch(&app, "/reports/top-users?limit=7", &[("accept", "text/csv")]).await;
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(&body == csv, "{}", String::from_utf8_lossy(&body));
}
both!(kept_equal_fresh, kept_answers_are_the_fresh_ones);

/// A kept answer's tag answers 304 without a body, compressed or not.
async fn kept_answers_still_answer_304(engine: Engine) {
    let (_t, app, _) = loaded(engine).await;
    for path in ["/reports/top-users?limit=3", "/reports/saas/mrr", "/quality"] {
        for coding in [None, Some("br")] {
            let headers: Vec<(&str, &str)> = coding.map(|c| ("accept-encoding", c)).into_iter().collect();
            let (_, first, _) = fetch(&app, path, &headers).await;
            let (_, kept, _) = fetch(&app, path, &headers).await;
            let tag = first["etag"].to_str().unwrap().to_owned();
            assert_eq!(kept["etag"], tag.as_str(), "{path}");
            let mut conditional = headers.clone();
            conditional.push(("if-none-match", &tag));
            let (status, again, body) = fetch(&app, path, &conditional).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED, "{path} {coding:?}");
            assert_eq!(again["etag"], tag.as_str());
            assert!(body.is_empty(), "{path}");
        }
    }
}
both!(kept_304, kept_answers_still_answer_304);

/// After a new run the answers are the new run's, not the kept ones.
async fn a_new_run_starts_from_no_kept_answer(engine: Engine) {
    let (t, app, month) = loaded(engine).await;
    let paths = ["/reports/top-users?limit=3", "/reports/meta", "/reports/saas/mrr"];
    let mut before = Vec::new();
    for path in paths {
        fetch(&app, path, &[]).await;
        before.push(fetch(&app, path, &[]).await.2);
    }
    // A new customer who outspends every other.
    let more = fixture(&[], &["1/5/24 10:00\ttxn_kept_1\tcus_kept_1\t\t99999999.00\tusd"], &[]);
    std::fs::remove_file(more.path().join("products.csv")).unwrap();
    std::fs::remove_file(more.path().join("users.csv")).unwrap();
    t.append(more.path()).await.unwrap();
    let expected = fresh(&t, &month).await;
    for (path, old) in paths.iter().zip(before) {
        let (status, _, body) = fetch(&app, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        // The subscription figures need not move with a one-off invoice.
        if !path.contains("saas") {
            assert!(body != old, "{path}: the previous run's answer");
        }
        if let Some((_, fresh)) = expected.iter().find(|(p, _)| p == path) {
            assert!(&body == fresh, "{path}: {}", String::from_utf8_lossy(&body));
        }
    }
    let users = String::from_utf8(fetch(&app, "/reports/top-users?limit=3", &[]).await.2).unwrap();
    assert!(users.contains("cus_kept_1"), "{users}");
}
both!(kept_new_run, a_new_run_starts_from_no_kept_answer);

/// Access control comes before the kept answers: a request without a
/// token, or with a role that may not read, gets no kept bytes.
async fn access_control_comes_before_kept_answers(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(generated(1000, 3).path()).await.unwrap();
    let reader = crate::access::token(&t, "reader", Role::Reader).await;
    let app = crate::access::app(&t).await;
    for path in ["/reports/top-users", "/reports/saas/mrr", "/quality"] {
        for _ in 0..2 {
            assert_eq!(app.get_as(path, &reader).await.status(), StatusCode::OK, "{path}");
        }
        let (status, headers, _) = fetch(&app, path, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(headers["content-type"], "application/problem+json", "{path}");
        let (status, _, _) = fetch(&app, path, &[("authorization", "Bearer not-a-token")]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
}
both!(kept_behind_access, access_control_comes_before_kept_answers);

/// A month's customers and a customer are read from the database, not the
/// snapshot, so they are never kept: they show a newer run even while the
/// snapshot (rechecked once an hour here) and its kept answers are the older one's.
async fn views_of_the_database_are_never_kept(engine: Engine) {
    let t = TestDb::new(engine).await;
    let first = fixture(
        &["sub_a\tBase\tAlpha\tmonth\t300\tactive"],
        &[
            "1/5/24 10:00\tt1\tc1\tsub_a\t10.00\tusd",
            "2/5/24 10:00\tt2\tc2\tsub_a\t20.00\tusd",
        ],
        &["c1\tAnn Lee\tann@x.test"],
    );
    t.ingest(first.path()).await.unwrap();
    let app = TestApp::spawn_with(&t.db, std::time::Duration::from_secs(3600)).await;
    let (month, customer) = ("/reports/month/2024-01", "/customers/c1");
    for path in [month, customer, "/reports/top-users"] {
        for _ in 0..2 {
            assert_eq!(fetch(&app, path, &[]).await.0, StatusCode::OK, "{path}");
        }
    }
    let kept = fetch(&app, "/reports/top-users", &[]).await.2;
    // c1 pays again in January, and a new customer outspends every other.
    let more = fixture(
        &[],
        &[
            "1/9/24 10:00\tt3\tc1\tsub_a\t5.00\tusd",
            "1/10/24 10:00\tt4\tc9\tsub_a\t500.00\tusd",
        ],
        &[],
    );
    std::fs::remove_file(more.path().join("products.csv")).unwrap();
    std::fs::remove_file(more.path().join("users.csv")).unwrap();
    t.append(more.path()).await.unwrap();
    // The snapshot is still the first run's, and so are its kept answers.
    assert!(fetch(&app, "/reports/top-users", &[]).await.2 == kept);
    let body = app.json(month).await;
    assert_eq!(body["top_customers"][0]["customer_id"], "c9", "{body}");
    let body = app.json(customer).await;
    assert_eq!(body["totals"][0]["transactions"], 2, "{body}");
}
both!(database_views_not_kept, views_of_the_database_are_never_kept);

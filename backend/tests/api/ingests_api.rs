//! The run history over HTTP: `/ingests`, `/ingests/{id}`, `/ingests/{id}/rejections`.

use backend::etl::IngestOptions;
use serde_json::Value;

use crate::both;
use crate::helpers::{fixture, Engine, TestApp, TestDb, TX_HEADER};

const PRODUCT: &str = "s1\tBase\tAlpha\tmonth\t100\tactive";

async fn history_is_served(engine: Engine) {
    let t = TestDb::new(engine).await;
    let first = fixture(
        &[PRODUCT],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\t\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c2\tBob\tbob@x.test"],
    );
    t.ingest(first.path()).await.unwrap();
    // An append with a conflict, bad rows, and a rejected users row carrying an e-mail.
    let second = fixture(
        &[PRODUCT],
        &[
            "1/2/24 7:00\tt2\tc2\t\t6.00\tusd",
            "2/1/24 7:00\tt3\tc1\ts1\t3.00\tusd",
            "yesterday\tt4\tc1\ts1\t3.00\tusd",
            "2/3/24 7:00\tt5\tc1\ts1\tabc\tusd",
            "2/4/24 7:00\tt6\tc3\ts1\t4.00\tusd",
        ],
        &["c3\tCid\tcid@x.test", "\tEve\teve.secret@mail.example.com"],
    );
    let mut options = IngestOptions::append(second.path());
    options.guard.max_reject_pct = "80".parse().unwrap();
    let run2 = t.committed(&options).await.unwrap().run_id;
    // A refused run.
    let bad = fixture(&[PRODUCT], &[], &["c1\tAnn\tann@x.test"]);
    std::fs::write(bad.path().join("transactions.csv"), format!("{TX_HEADER}\r\n")).unwrap();
    let run3 = t.run(&IngestOptions::append(bad.path())).await.unwrap().run_id;

    let app = TestApp::spawn(&t.db).await;
    let list = app.json("/ingests").await;
    assert_eq!(list["total"], 3);
    let runs = list["runs"].as_array().unwrap();
    let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [run3, run2, 1], "newest first");
    assert_eq!(runs[0]["status"], "refused");
    assert!(
        runs[0]["error"].as_str().unwrap().contains("no data rows"),
        "{}",
        runs[0]
    );
    assert_eq!(runs[1]["mode"], "append");
    assert_eq!(runs[1]["status"], "succeeded");
    assert!(runs[1]["duration_ms"].as_i64().unwrap() >= 0);
    let tx = &runs[1]["files"][1];
    assert_eq!(tx["file"], "transactions.csv");
    assert_eq!(
        (tx["read"].as_i64(), tx["loaded"].as_i64(), tx["rejected"].as_i64()),
        (Some(5), Some(2), Some(3))
    );
    // Pagination.
    let page = app.json("/ingests?limit=1&offset=1").await;
    assert_eq!(page["runs"].as_array().unwrap().len(), 1);
    assert_eq!(page["runs"][0]["id"], run2);
    assert_eq!((page["limit"].as_i64(), page["offset"].as_i64()), (Some(1), Some(1)));

    let detail = app.json(&format!("/ingests/{run2}")).await;
    let reasons: Vec<(String, String, i64, i64)> = detail["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap().to_owned(),
                r["rows"].as_i64().unwrap(),
                r["first_line"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("transactions.csv".into(), "conflicts_with_loaded".into(), 1, 2),
            ("transactions.csv".into(), "invalid_amount".into(), 1, 5),
            ("transactions.csv".into(), "invalid_date".into(), 1, 4),
            ("users.csv".into(), "empty_customer_id".into(), 1, 3),
        ]
    );
    assert_eq!(detail["before"]["transactions"], 2);
    assert_eq!(detail["after"]["transactions"], 4);
    assert_eq!(detail["after"]["revenue"]["usd"], "22.00");

    let all = app.json(&format!("/ingests/{run2}/rejections")).await;
    assert_eq!(all["total"], 4);
    let users = app.json(&format!("/ingests/{run2}/rejections?file=users.csv")).await;
    assert_eq!(users["total"], 1);
    let raw = users["rejections"][0]["raw_line"].as_str().unwrap();
    assert_eq!(raw, "\tEve\te***@m***.com", "e-mail masked in what is served");
    let stored: String = t
        .rows("SELECT raw_line FROM etl_rejected_row WHERE file = 'users.csv'")
        .await[0]
        .try_get("", "raw_line")
        .unwrap();
    assert!(
        stored.contains("eve.secret@mail.example.com"),
        "kept intact in the database"
    );
    let dates = app
        .json(&format!(
            "/ingests/{run2}/rejections?file=transactions.csv&reason=invalid_date"
        ))
        .await;
    assert_eq!(dates["total"], 1);
    assert_eq!(dates["rejections"][0]["line"], 4);
    assert!(dates["rejections"][0]["message"]
        .as_str()
        .unwrap()
        .contains("yesterday"));
    let page = app.json(&format!("/ingests/{run2}/rejections?limit=2&offset=2")).await;
    let lines: Vec<(String, i64)> = page["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["file"].as_str().unwrap().to_owned(), r["line"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [("transactions.csv".into(), 5), ("users.csv".into(), 3)]);

    let csv = app.get(&format!("/ingests/{run2}/rejections?format=csv")).await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("run_id,file,line,reason,message,raw_line"));
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(!csv.contains("eve.secret"), "{csv}");

    // Errors name the parameter.
    for (path, status, text) in [
        ("/ingests?limit=0".to_owned(), 400, "limit"),
        ("/ingests?offset=-1".to_owned(), 400, "offset"),
        ("/ingests/abc".to_owned(), 400, "run id"),
        ("/ingests/999".to_owned(), 404, "no ingest run 999"),
        ("/ingests/999/rejections".to_owned(), 404, "no ingest run 999"),
        (format!("/ingests/{run2}/rejections?file=x.csv"), 400, "`file`"),
        (
            format!("/ingests/{run2}/rejections?reason=DROP%20TABLE"),
            400,
            "`reason`",
        ),
        (format!("/ingests/{run2}/rejections?format=xml"), 400, "`format`"),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status().as_u16(), status, "{path}");
        let body: Value = res.json().await.unwrap();
        assert!(body["message"].as_str().unwrap().contains(text), "{path}: {body}");
    }
    // The same history in the CLI.
    let cli = |args: &[&str]| {
        use secrecy::ExposeSecret;
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(args)
            .env("DATABASE_URL", t.settings.url().expose_secret())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let list = cli(&["history"]);
    assert!(list.contains("refused") && list.contains("no data rows"), "{list}");
    assert!(list.contains("3 of 3 runs"), "{list}");
    let shown = cli(&["history", &run2.to_string()]);
    for text in [
        "conflicts_with_loaded",
        "invalid_date",
        "transactions.csv:4",
        "e***@m***.com",
        "transactions 2 → 4",
    ] {
        assert!(shown.contains(text), "{text:?} missing: {shown}");
    }
    assert!(!shown.contains("eve.secret"), "{shown}");

    // The contract lists them.
    let doc = app.json("/openapi.json").await;
    for path in ["/ingests", "/ingests/{id}", "/ingests/{id}/rejections"] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}
both!(history, history_is_served);

/// The CSV of rejected rows holds every matching row (pages are for JSON).
async fn rejections_csv_is_whole(engine: Engine) {
    let t = TestDb::new(engine).await;
    let bad: Vec<String> = (0..1500).map(|i| format!("someday\tb{i}\tc1\t\t1.00\tusd")).collect();
    let mut lines: Vec<&str> = bad.iter().map(String::as_str).collect();
    lines.push("1/1/24 7:00\tgood\tc1\t\t1.00\tusd");
    let dir = fixture(&[PRODUCT], &lines, &["c1\tAnn\tann@x.test"]);
    let run = t.ingest(dir.path()).await.unwrap().run_id;
    let app = TestApp::spawn(&t.db).await;
    let page = app.json(&format!("/ingests/{run}/rejections")).await;
    assert_eq!(
        (page["total"].as_i64(), page["rejections"].as_array().unwrap().len()),
        (Some(1500), 100)
    );
    let csv = app
        .get(&format!("/ingests/{run}/rejections?reason=invalid_date&format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 1 + 1500);
    let limited = app
        .get(&format!("/ingests/{run}/rejections?format=csv&limit=10&offset=1495"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(limited.lines().count(), 1 + 5);
}
both!(rejections_csv, rejections_csv_is_whole);

/// Every instant the API serves is written one way (`api_types::Timestamp`):
/// RFC 3339 in UTC with milliseconds, whichever endpoint serves it.
async fn timestamps_have_one_form(engine: Engine) {
    let t = TestDb::new(engine).await;
    let input = fixture(
        &[PRODUCT],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "2/1/24 7:00:30\tt2\tc1\ts1\t10.00\tusd",
        ],
        &["c1\tAnn\tann@x.test"],
    );
    t.ingest(input.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let mut seen = Vec::new();
    for path in [
        "/ingests",
        "/ingests/1",
        "/quality",
        "/quality/history",
        "/reports/saas/mrr?currency=usd",
    ] {
        collect_timestamps(&app.json(path).await, "", &mut seen);
    }
    let fields: std::collections::BTreeSet<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    for field in [
        "started_at",
        "finished_at",
        "first_transaction_at",
        "latest_transaction_at",
        "last_transaction",
    ] {
        assert!(fields.contains(field), "no {field} among {fields:?}");
    }
    let form = |v: &str| {
        let b = v.as_bytes();
        v.len() == 24 && b[10] == b'T' && b[19] == b'.' && v.ends_with('Z') && v.parse::<api_types::Timestamp>().is_ok()
    };
    for (field, value) in &seen {
        assert!(
            form(value),
            "{field}: {value:?} is not RFC 3339 with milliseconds in UTC"
        );
    }
    assert!(seen.iter().any(|(_, v)| v == "2024-02-01T07:00:30.000Z"), "{seen:?}");
}
both!(timestamps, timestamps_have_one_form);

/// The (field, value) of every string under a key naming an instant.
fn collect_timestamps(value: &Value, key: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => map.iter().for_each(|(k, v)| collect_timestamps(v, k, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_timestamps(v, key, out)),
        Value::String(s) if key.ends_with("_at") || key.ends_with("_transaction") => {
            out.push((key.to_owned(), s.clone()))
        }
        _ => {}
    }
}

//! The quality score and its six dimensions: on hand-written files where every
//! expected percentage is written down, on the real export against an
//! independent reading of its raw files, across a sequence of runs, and as a
//! guard rail.

use std::collections::{BTreeMap, BTreeSet};

use backend::etl::{IngestOptions, RunStatus};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::both;
use crate::helpers::{fixture, realistic_input, seed_input, Engine, TestApp, TestDb};

/// Products: 3 rows read, 1 rejected (empty plan). Transactions: 10 read —
/// t1 twice (exact duplicate), t2 twice with different content (both
/// rejected), t3 with an unknown subscription, t4 without one, t5 of a
/// customer missing from users.csv, t6 with a bad date (rejected), t7 and t8
/// fine. Users: 6 read — c1 twice with conflicting names, c2 without an
/// e-mail, c3, c4, one without an id (rejected).
const PRODUCTS: &[&str] = &[
    "s1\tBase\tAlpha\tmonth\t100\tactive",
    "s2\tPro\tBeta\tmonth\t200\tactive",
    "s3\t\tGamma\tmonth\t300\tactive",
];
const TRANSACTIONS: &[&str] = &[
    "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
    "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
    "1/2/24 7:00\tt2\tc2\ts1\t5.00\tusd",
    "1/2/24 7:00\tt2\tc2\ts1\t6.00\tusd",
    "1/3/24 7:00\tt3\tc2\tsub_unknown\t7.00\tusd",
    "1/4/24 7:00\tt4\tc3\t\t8.00\tusd",
    "1/5/24 7:00\tt5\tc9\ts2\t9.00\tusd",
    "someday\tt6\tc3\ts2\t1.00\tusd",
    "1/7/24 7:00\tt7\tc3\ts2\t2.00\tusd",
    "1/8/24 7:00\tt8\tc4\ts1\t3.00\tusd",
];
const USERS: &[&str] = &[
    "c1\tAnn\tann@x.test",
    "c1\tAnna\tann@x.test",
    "c2\tBob\t",
    "c3\tCid\tcid@x.test",
    "c4\tDee\tdee@x.test",
    "\tNobody\tno@x.test",
];

fn pct(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
        .to_owned()
}

async fn dimensions_of_a_handwritten_export(engine: Engine) {
    let t = TestDb::new(engine).await;
    let dir = fixture(PRODUCTS, TRANSACTIONS, USERS);
    let mut options = IngestOptions::replace(dir.path());
    options.guard.max_reject_pct = "100".parse().unwrap();
    // A target so long that 2024's data is fresh: timeliness 100.
    options.freshness_sla_days = 100_000;
    t.committed(&options).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let q = app.json("/quality").await;
    let s = &q["score"];
    // validity: 19 rows read, 5 rejected (1 product, 2 + 1 transactions, 1 user): 14/19.
    assert_eq!(pct(s, "validity"), "73.68");
    // uniqueness: 10 transaction rows, 1 exact duplicate, 2 sharing an id: 7/10.
    assert_eq!(pct(s, "uniqueness"), "70.00");
    // completeness: customers c1 c2 c3 c4 c9; c2 has no e-mail, c9 nothing: 3/5.
    assert_eq!(pct(s, "completeness"), "60.00");
    // consistency: users-file customers c1 c2 c3 c4; c1's names conflict: 3/4.
    assert_eq!(pct(s, "consistency"), "75.00");
    // integrity: loaded t1 t3 t4 t5 t7 t8; t3 unknown subscription, t4 none,
    // t5's customer not in users.csv: 3/6.
    assert_eq!(pct(s, "integrity"), "50.00");
    assert_eq!(pct(s, "timeliness"), "100.00");
    // (14/19 + 7/10 + 3/5 + 3/4 + 1/2 + 1) / 6 × 100 = 71.4473…
    assert_eq!(pct(s, "overall"), "71.45");
    assert_eq!(
        q["rows"],
        serde_json::json!({"processed": 19, "succeeded": 14, "failed": 5})
    );
    let alerts: BTreeSet<String> = q["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["dimension"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = [
        "overall",
        "validity",
        "uniqueness",
        "completeness",
        "consistency",
        "integrity",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(alerts, expected);
    // The minimums the run used are served with the score.
    assert_eq!(
        q["thresholds"],
        serde_json::json!({"overall": "80.00", "completeness": "90.00", "validity": "95.00",
            "uniqueness": "99.00", "consistency": "95.00", "integrity": "90.00", "timeliness": "50.00"})
    );
    // The same data, default freshness target: 2024 is long past it.
    let mut stale = options.clone();
    stale.freshness_sla_days = 2;
    t.committed(&stale).await.unwrap();
    let q = TestApp::spawn(&t.db).await.json("/quality").await;
    assert_eq!(pct(&q["score"], "timeliness"), "0.00");
    // (14/19 + 7/10 + 3/5 + 3/4 + 1/2 + 0) / 6 × 100 = 54.7807…
    assert_eq!(pct(&q["score"], "overall"), "54.78");
}
both!(handwritten, dimensions_of_a_handwritten_export);

/// The real export (or the generated sample): every dimension recomputed from
/// the raw files, independently of the ETL.
async fn dimensions_of_the_real_export(engine: Engine) {
    let input = seed_input().unwrap_or_else(realistic_input);
    let t = TestDb::new(engine).await;
    t.ingest(&input).await.unwrap();
    let q = TestApp::spawn(&t.db).await.json("/quality").await;
    let read = |name: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(input.join(name)).unwrap();
        text.split('\n')
            .skip(1)
            .map(|l| l.trim_end_matches('\r'))
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split('\t').map(|f| f.trim().to_owned()).collect())
            .collect()
    };
    let (products, transactions, users) = (read("products.csv"), read("transactions.csv"), read("users.csv"));
    // These files have no rejected rows and no repeated transaction ids (the
    // tests of the cleaning rules cover those): validity and uniqueness are 100.
    let ids: BTreeSet<&str> = transactions.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(ids.len(), transactions.len());
    let subscriptions: BTreeSet<&str> = products.iter().map(|r| r[0].as_str()).collect();
    // Customers: the last non-empty name and e-mail win; a conflict is two
    // different non-empty names (e-mails: ignoring case).
    let mut names: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut emails: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in &users {
        let (id, name, email) = (r[0].as_str(), r[1].as_str(), r[2].as_str());
        names.entry(id).or_default();
        emails.entry(id).or_default();
        if !name.is_empty() {
            names.get_mut(id).unwrap().push(name);
        }
        if !email.is_empty() {
            emails.get_mut(id).unwrap().push(email.to_lowercase());
        }
    }
    let mut customers: BTreeSet<&str> = names.keys().copied().collect();
    customers.extend(transactions.iter().map(|r| r[2].as_str()));
    let complete = customers
        .iter()
        .filter(|c| names.get(*c).is_some_and(|n| !n.is_empty()) && emails.get(*c).is_some_and(|e| !e.is_empty()))
        .count();
    let consistent = names
        .keys()
        .filter(|c| {
            let n: BTreeSet<&&str> = names[*c].iter().collect();
            let e: BTreeSet<&String> = emails[*c].iter().collect();
            n.len() <= 1 && e.len() <= 1
        })
        .count();
    let referenced = transactions
        .iter()
        .filter(|r| subscriptions.contains(r[3].as_str()) && names.contains_key(r[2].as_str()))
        .count();
    // Rounded half-up to hundredths, with integer arithmetic.
    let p = |good: usize, all: usize| {
        let h = (20_000 * good as u128 + all as u128) / (2 * all as u128);
        format!("{}.{:02}", h / 100, h % 100)
    };
    let s = &q["score"];
    assert_eq!(pct(s, "validity"), "100.00");
    assert_eq!(pct(s, "uniqueness"), "100.00");
    assert_eq!(pct(s, "completeness"), p(complete, customers.len()));
    assert_eq!(pct(s, "consistency"), p(consistent, names.len()));
    assert_eq!(pct(s, "integrity"), p(referenced, transactions.len()));
    assert_eq!(pct(s, "timeliness"), "0.00", "2024's data is past a 2-day target");
    let total = products.len() + transactions.len() + users.len();
    assert_eq!(q["rows"]["processed"], total);
    assert_eq!(q["rows"]["failed"], 0);
}
both!(real_export, dimensions_of_the_real_export);

/// A clean export, then a worse one, then a better one: the history lists
/// them oldest first, with their values and alerts; `--strict-quality`
/// refuses a run below a threshold.
async fn history_of_a_sequence(engine: Engine) {
    let t = TestDb::new(engine).await;
    let clean = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\ts1\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c2\tBob\tbob@x.test"],
    );
    let worse = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\tnope\t5.00\tusd",
            "bad\tt3\tc2\ts1\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c1\tAnnie\tann@x.test", "c2\tBob\t"],
    );
    let better = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\tnope\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c2\tBob\tbob@x.test"],
    );
    let run = |dir: &tempfile::TempDir| {
        let mut o = IngestOptions::replace(dir.path());
        o.guard.max_reject_pct = "100".parse().unwrap();
        o.freshness_sla_days = 100_000;
        o
    };
    for dir in [&clean, &worse, &better] {
        t.committed(&run(dir)).await.unwrap();
    }
    // Strict: the worse export again is refused, and changes nothing.
    let mut strict = run(&worse);
    strict.strict_quality = true;
    strict.force = false;
    let refused = t.run(&strict).await.unwrap();
    assert_eq!(refused.status, RunStatus::Refused, "{}", refused.render());
    assert!(
        refused
            .refusals
            .iter()
            .any(|r| r.to_string().contains("quality: validity is 85.71%")),
        "{:?}",
        refused.refusals
    );
    let app = TestApp::spawn(&t.db).await;
    let h = app.json("/quality/history").await;
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "refused runs are not in the history");
    let ids: Vec<i64> = runs.iter().map(|r| r["run_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2, 3], "oldest first");
    let overall: Vec<String> = runs.iter().map(|r| pct(&r["score"], "overall")).collect();
    // clean: all 100. worse: validity 6/7 (t3's date rejected; no id repeats,
    // uniqueness 100); completeness 1/2 (c2 without e-mail); consistency 1/2
    // (c1's names); integrity 1/2 (t2's unknown subscription):
    // (600/7 + 100 + 50 + 50 + 50 + 100) / 6 = 72.62. better: integrity 1/2
    // only: (100 × 5 + 50) / 6 = 91.67.
    assert_eq!(overall, ["100.00", "72.62", "91.67"]);
    let dims = |r: &Value| -> Vec<String> {
        r["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["dimension"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(dims(&runs[0]).is_empty());
    assert_eq!(
        dims(&runs[1]),
        ["overall", "completeness", "validity", "consistency", "integrity"]
    );
    assert_eq!(dims(&runs[2]), ["integrity"]);
    assert_eq!(
        runs[1]["rows"],
        serde_json::json!({"processed": 7, "succeeded": 6, "failed": 1})
    );
    assert_eq!(runs[1]["mode"], "replace");
    // /quality is the latest data's run.
    assert_eq!(app.json("/quality").await["score"]["overall"], "91.67");
    // Filters, pages and CSV.
    assert_eq!(
        app.json("/quality/history?limit=2").await["runs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.json("/quality/history?limit=2").await["runs"][0]["run_id"],
        2,
        "the latest two, oldest first"
    );
    assert_eq!(
        app.json("/quality/history?to=2000-01-01").await["runs"],
        serde_json::json!([])
    );
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(
        app.json(&format!("/quality/history?from={today}")).await["runs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let csv = app.get("/quality/history?format=csv").await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .starts_with("run_id,finished_at,mode,rows_processed"));
    for bad in [
        "/quality/history?from=2024-13-01",
        "/quality/history?limit=0",
        "/quality/history?from=2024-02-01&to=2024-01-01",
    ] {
        assert_eq!(app.get(bad).await.status().as_u16(), 400, "{bad}");
    }
    let doc = app.json("/openapi.json").await;
    assert!(doc["paths"]["/quality/history"]["get"].is_object());
    assert!(doc["components"]["schemas"]["QualityScore"].is_object());
}
both!(history_sequence, history_of_a_sequence);

/// A run whose stored figures cannot be decoded (here a dimension renamed,
/// as when a dimension is added after the run) stays in the history as a
/// gap, never dropped; and `/quality` of such a run is an error naming it,
/// not "no data".
async fn an_unreadable_run_is_a_gap(engine: Engine) {
    let t = TestDb::new(engine).await;
    let clean = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    let more = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc1\ts1\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test"],
    );
    for dir in [&clean, &more] {
        let mut o = IngestOptions::replace(dir.path());
        o.freshness_sla_days = 100_000;
        t.committed(&o).await.unwrap();
    }
    let rename = |id: i64| {
        format!(
            "UPDATE etl_run SET quality_json = replace(quality_json, '\"timeliness\"', '\"freshness_old\"') WHERE id = {id}"
        )
    };
    t.db.execute_unprepared(&rename(1)).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let h = app.json("/quality/history").await;
    let runs = h["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "the unreadable run is kept: {h}");
    assert_eq!(runs[0]["run_id"], 1);
    assert!(runs[0].get("score").is_none() && runs[0].get("rows").is_none(), "{h}");
    assert!(runs[0]["unreadable"].is_string(), "{h}");
    assert_eq!(runs[0]["alerts"], serde_json::json!([]));
    assert_eq!(pct(&runs[1]["score"], "overall"), "100.00");
    assert!(runs[1].get("unreadable").is_none(), "the normal case is unchanged: {h}");
    let csv = app.get("/quality/history?format=csv").await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with("1,") && lines[1].contains(",replace,,,,,,,,,,,"),
        "{csv}"
    );
    assert_eq!(app.json("/quality").await["score"]["overall"], "100.00");
    // The run /quality describes, unreadable: an error, not "no data".
    t.db.execute_unprepared(&rename(2)).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let res = app.get("/quality").await;
    assert_eq!(res.status().as_u16(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "internal_error");
    assert!(body["message"].as_str().unwrap().contains("run 2"), "{body}");
}
both!(unreadable_run, an_unreadable_run_is_a_gap);

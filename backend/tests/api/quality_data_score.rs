//! `/quality` after an append: the score of the data as loaded (every run
//! since the last replace) beside the latest run's own score. A replace of
//! January–May followed by an append of June–October scores exactly as one
//! replace of the whole.

use api_types::Dimension;
use backend::etl::IngestOptions;
use serde_json::Value;

use crate::both;
use crate::helpers::{fixture, Engine, TestApp, TestDb, PRODUCTS_HEADER, TX_HEADER, USERS_HEADER};

const PRODUCTS: &[&str] = &[
    "s1\tBase\tAlpha\tmonth\t100\tactive",
    "s2\tPro\tBeta\tmonth\t200\tactive",
    "s3\t\tGamma\tmonth\t300\tactive",
];
/// January–May: an exact duplicate, an id conflict, an unknown
/// subscription, a customer missing from users.csv, a bad date.
const EARLY: &[&str] = &[
    "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
    "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
    "2/2/24 7:00\tt2\tc2\ts1\t5.00\tusd",
    "2/2/24 7:00\tt2\tc2\ts1\t6.00\tusd",
    "3/3/24 7:00\tt3\tc2\tsub_unknown\t7.00\tusd",
    "4/5/24 7:00\tt5\tc9\ts2\t9.00\tusd",
    "someday\tt6\tc3\ts2\t1.00\tusd",
    "5/7/24 7:00\tt7\tc3\ts2\t2.00\tusd",
];
/// June–October: more of the same kinds, in other proportions.
const LATE: &[&str] = &[
    "6/1/24 7:00\tt11\tc1\ts1\t10.00\tusd",
    "7/4/24 7:00\tt14\tc3\t\t8.00\tusd",
    "7/5/24 7:00\tt15\tc9\ts2\t9.00\tusd",
    "8/5/24 7:00\tt16\tc8\tsub_unknown\t9.00\tusd",
    "8/5/24 7:00\tt16\tc8\tsub_unknown\t9.00\tusd",
    "never\tt17\tc3\ts2\t1.00\tusd",
    "9/7/24 7:00\tt18\tc4\ts1\t2.00\tusd",
    "10/3/24 7:00\tt19\tc4\ts1\t3.00\tusd",
];
const USERS: &[&str] = &[
    "c1\tAnn\tann@x.test",
    "c1\tAnna\tann@x.test",
    "c2\tBob\t",
    "c3\tCid\tcid@x.test",
    "c4\tDee\tdee@x.test",
    "\tNobody\tno@x.test",
];

fn options(mut o: IngestOptions) -> IngestOptions {
    o.guard.max_reject_pct = "100".parse().unwrap();
    // The data are old: timeliness would be 0 either way; a wide target
    // keeps it a figure the comparison sees.
    o.freshness_sla_days = 100_000;
    // Minimums the data misses (integrity is below 100%), so that alerts
    // are there to compare.
    o.quality.overall = "99.99".parse().unwrap();
    o.quality.dimensions[Dimension::Integrity] = "99.99".parse().unwrap();
    o
}

async fn quality(t: &TestDb) -> (Value, Value) {
    let app = TestApp::spawn(&t.db).await;
    (app.json("/quality").await, app.json("/quality/history").await)
}

async fn append_scores_as_one_replace(engine: Engine) {
    let whole: Vec<&str> = EARLY.iter().chain(LATE).copied().collect();
    let all = fixture(PRODUCTS, &whole, USERS);
    let first = fixture(PRODUCTS, EARLY, USERS);
    // The append brings transactions.csv alone.
    let rest = tempfile::tempdir().unwrap();
    let lines: Vec<&str> = std::iter::once(TX_HEADER).chain(LATE.iter().copied()).collect();
    std::fs::write(rest.path().join("transactions.csv"), lines.join("\r\n")).unwrap();

    let one = TestDb::new(engine).await;
    one.committed(&options(IngestOptions::replace(all.path())))
        .await
        .unwrap();
    let (once, _) = quality(&one).await;
    // A replace is the whole data: its own score is the data's.
    assert_eq!(once["data_score"], once["score"], "{once}");
    assert!(once["data_score"]["integrity"] != "100.00", "{once}");
    assert_eq!(once["data_alerts"], once["alerts"], "{once}");
    let alerted: Vec<&str> = once["data_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["dimension"].as_str().unwrap())
        .collect();
    assert!(alerted.contains(&"integrity"), "{once}");

    let two = TestDb::new(engine).await;
    two.committed(&options(IngestOptions::replace(first.path())))
        .await
        .unwrap();
    two.committed(&options(IngestOptions::append(rest.path())))
        .await
        .unwrap();
    let (after, history) = quality(&two).await;
    assert_eq!(
        after["data_score"], once["data_score"],
        "append:\n{after}\nreplace:\n{once}"
    );
    // The data misses the same minimums as after one replace.
    assert_eq!(after["data_alerts"], once["data_alerts"], "{after}");
    // Beside it, the append's own score: its 8 rows only.
    assert_ne!(after["score"], after["data_score"], "{after}");
    assert_eq!(after["rows"]["processed"], LATE.len(), "{after}");
    // The history keeps both, per run.
    let runs = history["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{history}");
    assert_eq!(runs[1]["data_score"], after["data_score"]);
    assert_eq!(runs[1]["score"], after["score"]);
    assert_eq!(runs[0]["data_score"], runs[0]["score"], "{history}");
    assert_ne!(runs[0]["data_score"], runs[1]["data_score"], "{history}");
    // And so does its CSV: the run's measures, then the data's, by name.
    let app = TestApp::spawn(&two.db).await;
    let csv = app.get("/quality/history?format=csv").await.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    let cell = |row: &csv::StringRecord, name: &str| {
        let i = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column: {csv}"));
        row[i].to_owned()
    };
    for (row, run) in rows.iter().zip(runs) {
        for measure in ["overall", "integrity", "completeness"] {
            assert_eq!(cell(row, measure), run["score"][measure].as_str().unwrap(), "{csv}");
            assert_eq!(
                cell(row, &format!("data_{measure}")),
                run["data_score"][measure].as_str().unwrap(),
                "{csv}"
            );
        }
    }
}
both!(append_equals_replace, append_scores_as_one_replace);

/// One ingest's files, as data lines (`None`: the file is not given).
struct Files<'a> {
    products: Option<&'a [&'a str]>,
    transactions: &'a [&'a str],
    users: &'a [&'a str],
}

fn write_files(files: &Files<'_>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, header: &str, lines: &[&str]| {
        let all: Vec<&str> = std::iter::once(header).chain(lines.iter().copied()).collect();
        std::fs::write(dir.path().join(name), all.join("\r\n")).unwrap();
    };
    if let Some(products) = files.products {
        write("products.csv", PRODUCTS_HEADER, products);
    }
    write("transactions.csv", TX_HEADER, files.transactions);
    write("users.csv", USERS_HEADER, files.users);
    dir
}

/// The row counts behind the data's score, as the latest run recorded them.
async fn data_rows(t: &TestDb) -> Value {
    let rows = t
        .rows("SELECT state_json FROM etl_run WHERE state_json IS NOT NULL ORDER BY id DESC")
        .await;
    let state: Value = serde_json::from_str(&rows[0].try_get_by_index::<String>(0).unwrap()).unwrap();
    state["rows"].clone()
}

/// A replace of `first` then an append of `rest` against one replace of
/// both (each file's lines after the other's): the same data score, and the
/// same row counts behind it. Returns those counts.
async fn append_then_replace_agree(engine: Engine, first: &Files<'static>, rest: &Files<'static>) -> Value {
    let both = |a: Option<&[&'static str]>, b: Option<&[&'static str]>| -> Vec<&'static str> {
        a.unwrap_or_default()
            .iter()
            .chain(b.unwrap_or_default())
            .copied()
            .collect()
    };
    let products = both(first.products, rest.products);
    let transactions = both(Some(first.transactions), Some(rest.transactions));
    let users = both(Some(first.users), Some(rest.users));
    let whole = fixture(&products, &transactions, &users);
    let (first, rest) = (write_files(first), write_files(rest));

    let one = TestDb::new(engine).await;
    one.committed(&options(IngestOptions::replace(whole.path())))
        .await
        .unwrap();
    let two = TestDb::new(engine).await;
    two.committed(&options(IngestOptions::replace(first.path())))
        .await
        .unwrap();
    two.committed(&options(IngestOptions::append(rest.path())))
        .await
        .unwrap();
    let ((once, _), (after, _)) = (quality(&one).await, quality(&two).await);
    let (rows_once, rows_after) = (data_rows(&one).await, data_rows(&two).await);
    assert_eq!(rows_after, rows_once, "append:\n{rows_after}\nreplace:\n{rows_once}");
    assert_eq!(
        after["data_score"], once["data_score"],
        "append:\n{after}\nreplace:\n{once}"
    );
    rows_once
}

/// Customer cx's transactions: on a known subscription, on an unknown one,
/// on none. cy's: on a known one. Neither is in the first users.csv.
const BEFORE_USERS: &[&str] = &[
    "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
    "1/2/24 7:00\tt2\tcx\ts1\t10.00\tusd",
    "2/2/24 7:00\tt3\tcx\ts1\t10.00\tusd",
    "2/3/24 7:00\tt4\tcx\tsub_late\t10.00\tusd",
    "2/4/24 7:00\tt5\tcx\t\t10.00\tusd",
    "3/4/24 7:00\tt6\tcy\ts2\t10.00\tusd",
];
/// On s2 only: the run's catalogue lacks s1, which cx's stored transactions
/// are on (known from the stored products).
const AFTER_USERS: &[&str] = &[
    "6/1/24 7:00\tt7\tcx\ts2\t10.00\tusd",
    "6/2/24 7:00\tt8\tc1\ts2\t10.00\tusd",
];
const FIRST_USERS: &[&str] = &["c1\tAnn\tann@x.test"];
/// c1 again, unchanged; cx and cy for the first time.
const LATER_USERS: &[&str] = &["c1\tAnn\tann@x.test", "cx\tXavier\tx@x.test", "cy\tYves\ty@x.test"];
const LATE_PRODUCT: &[&str] = &["sub_late\tBase\tDelta\tmonth\t50\tactive"];
/// The first run of the tests below: cx's transactions, cx in no users file.
const FIRST_RUN: Files = Files {
    products: Some(PRODUCTS),
    transactions: BEFORE_USERS,
    users: FIRST_USERS,
};

/// An append's users.csv brings customers earlier runs loaded transactions
/// of: those of them on a known subscription stop counting as unreferenced.
async fn customers_joining_the_users_file(engine: Engine) {
    let rest = Files {
        products: None,
        transactions: AFTER_USERS,
        users: LATER_USERS,
    };
    let rows = append_then_replace_agree(engine, &FIRST_RUN, &rest).await;
    // cx's transactions on sub_late and on no subscription.
    assert_eq!(
        (rows["tx_loaded"].as_u64(), rows["tx_unreferenced"].as_u64()),
        (Some(8), Some(2))
    );
}
both!(users_file_brings_a_customer, customers_joining_the_users_file);

/// The same append with a products.csv that makes cx's unknown subscription
/// known: its transaction there is counted referenced once, not twice.
async fn customers_joining_as_their_subscription_is_learnt(engine: Engine) {
    let rest = Files {
        products: Some(LATE_PRODUCT),
        transactions: AFTER_USERS,
        users: LATER_USERS,
    };
    let rows = append_then_replace_agree(engine, &FIRST_RUN, &rest).await;
    // cx's transaction on no subscription.
    assert_eq!(
        (rows["tx_loaded"].as_u64(), rows["tx_unreferenced"].as_u64()),
        (Some(8), Some(1))
    );
}
both!(
    users_file_and_catalogue_together,
    customers_joining_as_their_subscription_is_learnt
);

/// An append's users.csv that re-sends a customer of the users files
/// (beside a new one without transactions: another file than the first)
/// changes nothing of what is referenced.
async fn a_customer_sent_again(engine: Engine) {
    let rest = Files {
        products: None,
        transactions: AFTER_USERS,
        users: &["c1\tAnn\tann@x.test", "cz\tZoe\tz@x.test"],
    };
    let rows = append_then_replace_agree(engine, &FIRST_RUN, &rest).await;
    // Every transaction of cx and cy.
    assert_eq!(
        (rows["tx_loaded"].as_u64(), rows["tx_unreferenced"].as_u64()),
        (Some(8), Some(6))
    );
}
both!(users_file_sends_a_customer_again, a_customer_sent_again);

//! A movement with more customers than one statement can bind: its whole
//! list as CSV names every customer, with the default parameters and with
//! others (the names are looked up in bounded batches).

use reqwest::StatusCode;

use crate::both;
use crate::helpers::{fixture, Engine, TestApp, TestDb};

/// More than PostgreSQL's 65,535 bound parameters per statement (and
/// SQLite's 32,766).
const CHURNED: usize = 70_000;

async fn a_long_list_is_named_whole(engine: Engine) {
    // Every churned customer pays once in January and not again: churned at
    // February's close. One customer stays, so that February is closed.
    let mut transactions: Vec<String> = (0..CHURNED)
        .map(|i| format!("1/10/24 12:00\tin_{i}\tcus_{i:05}\tsub_{i}\t10\tusd"))
        .collect();
    for month in 1..=3 {
        transactions.push(format!(
            "{month}/5/24 12:00\tin_stay_{month}\tcus_stay\tsub_stay\t10\tusd"
        ));
    }
    let users: Vec<String> = (0..CHURNED)
        .map(|i| format!("cus_{i:05}\tName {i}\tc{i}@example.com"))
        .collect();
    let transactions: Vec<&str> = transactions.iter().map(String::as_str).collect();
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    let input = fixture(
        &["sub_stay\tprice_stay\tPlain\tmonth\t10\tactive"],
        &transactions,
        &users,
    );
    let t = TestDb::new(engine).await;
    t.ingest(input.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    for parameters in ["", "&grace_days=6"] {
        let path = format!("/reports/saas/movements?currency=usd&month=2024-02&kind=churn&format=csv{parameters}");
        let res = app.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let body = res.text().await.unwrap();
        let mut rows = csv::Reader::from_reader(body.as_bytes());
        let headers = rows.headers().unwrap().clone();
        let [id, name] = ["customer_id", "customer_name"].map(|h| headers.iter().position(|x| x == h).unwrap());
        let mut seen = 0;
        for row in rows.records() {
            let row = row.unwrap();
            let n: usize = row[id].trim_start_matches("cus_").parse().unwrap();
            assert_eq!(&row[name], format!("Name {n}"), "{path}");
            seen += 1;
        }
        assert_eq!(seen, CHURNED, "{path}");
    }
}

both!(long_lists, a_long_list_is_named_whole);

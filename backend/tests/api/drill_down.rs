//! Free month ranges on the monthly reports, one month's drill-down
//! (`/reports/month/{month}`) and the customer page and search
//! (`/customers*`): checked against hand-computed fixture arithmetic, an
//! independent reading of the raw files, and SQL.

use std::collections::{BTreeMap, BTreeSet};

use backend::auth::Role;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{cents, fixture, money, raw_transactions, realistic_input, Engine, TestApp, TestDb};

const PRODUCTS: &[&str] = &[
    "sub_a\tBase\tAlpha\tmonth\t300\tactive",
    "sub_a\tBase - Support\tAlpha Support\tmonth\t100\tactive",
    "sub_b\tPro\tBeta\tyear\t1200\tactive",
];

const TRANSACTIONS: &[&str] = &[
    "1/5/24 10:00\tt1\tc1\tsub_a\t10.00\tusd",
    "1/20/24 10:00\tt2\tc1\tsub_a\t5.00\tusd",
    "1/7/24 10:00\tt3\tc2\tsub_b\t20.00\tusd",
    "2/3/24 10:00\tt4\tc1\t\t2.50\tusd",
    "2/10/24 10:00\tt5\tc1\tsub_zzz\t7.00\tusd",
    "2/7/24 10:00\tt6\tc2\tsub_b\t20.00\tusd",
    "2/15/24 10:00\tt7\tc3\tsub_b\t3.00\tusd",
    "2/29/24 23:59\tt8\tc4\tsub_a\t1.00\tusd",
    "3/1/24 0:00\tt9\tc1\tsub_b\t9.99\teur",
    "3/2/24 10:00\tt10\tc1\tsub_a\t-1.00\tusd",
];

const USERS: &[&str] = &[
    "c1\tAnn Lee\tann@x.test",
    "c1\tAnnie Lee\tannie@x.test",
    "c2\tBob Stone\tbob@x.test",
    "c4\t100% Real_Co\treal@x.test",
    "c5\tZed Ann\tzed@x.test",
];

async fn small(engine: Engine) -> (TestDb, TestApp) {
    let dir = fixture(PRODUCTS, TRANSACTIONS, USERS);
    let t = TestDb::new(engine).await;
    t.ingest(dir.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    (t, app)
}

/// The status and JSON body of `GET path`.
async fn answer(app: &TestApp, path: &str) -> (u16, Value) {
    let res = app.get(path).await;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A 400 whose message holds every one of `words`.
async fn bad_request(app: &TestApp, path: &str, words: &[&str]) {
    let (status, body) = answer(app, path).await;
    assert_eq!(status, 400, "{path}: {body}");
    let detail = body["detail"].as_str().unwrap_or_default().to_owned() + body["message"].as_str().unwrap_or("");
    for w in words {
        assert!(detail.contains(w), "{path}: {w:?} not in {body}");
    }
}

/// The `ETag` of `path`, and that sending it back answers 304.
async fn revalidates(app: &TestApp, path: &str) {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(format!("{}{path}", app.address))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "{path}");
}

fn months_of(body: &Value) -> Vec<String> {
    body["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap().to_owned())
        .collect()
}

async fn monthly_reports_take_a_free_range(engine: Engine) {
    let input = realistic_input();
    let t = TestDb::new(engine).await;
    t.ingest(&input).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let raw = raw_transactions(&input);
    let mut usd: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (month, _, _, c, currency) in &raw {
        if currency == "usd" {
            let e = usd.entry(month.clone()).or_default();
            e.0 += 1;
            e.1 += c;
        }
    }
    let all: Vec<&String> = usd.keys().collect();
    let (first, latest) = (all[0].clone(), all[all.len() - 1].clone());
    let (from, to) = (all[1].clone(), all[all.len() - 2].clone());
    let expected = calendar(&from, &to);
    for report in ["monthly-transactions", "revenue-growth"] {
        let body = app.json(&format!("/reports/{report}?from={from}&to={to}")).await;
        assert_eq!(months_of(&body), expected, "{report}");
        assert_eq!(
            body["window"],
            json!({"from": from, "to": to, "as_of": to, "months": expected.len()})
        );
        for m in body["months"].as_array().unwrap() {
            let (n, c) = usd.get(m["month"].as_str().unwrap()).copied().unwrap_or_default();
            assert_eq!(m["revenue"], money(c), "{report} {m}");
            if report == "monthly-transactions" {
                assert_eq!(m["transactions"], n);
            }
        }
        // One end given: the other is the data's edge.
        let body = app.json(&format!("/reports/{report}?from={from}")).await;
        assert_eq!(body["window"]["to"], latest.as_str(), "{report}");
        let body = app.json(&format!("/reports/{report}?to={to}")).await;
        assert_eq!(body["window"]["from"], first.as_str(), "{report}");
        // A single month, and a range longer than the 36 `months` allow.
        let body = app.json(&format!("/reports/{report}?from={from}&to={from}")).await;
        assert_eq!(months_of(&body), std::slice::from_ref(&from));
        let body = app.json(&format!("/reports/{report}?from=2020-01&to=2024-12")).await;
        assert_eq!(body["months"].as_array().unwrap().len(), 60);
        // Errors name what is wrong.
        bad_request(
            &app,
            &format!("/reports/{report}?from={to}&to={from}"),
            &["`from`", "after", "`to`"],
        )
        .await;
        bad_request(&app, &format!("/reports/{report}?from=2024-13"), &["`from`", "YYYY-MM"]).await;
        bad_request(&app, &format!("/reports/{report}?to=24-05"), &["`to`", "YYYY-MM"]).await;
        bad_request(
            &app,
            &format!("/reports/{report}?from={from}&months=3"),
            &["`from`", "`months`"],
        )
        .await;
        bad_request(
            &app,
            &format!("/reports/{report}?to={to}&as_of={to}"),
            &["`to`", "`as_of`"],
        )
        .await;
        bad_request(
            &app,
            &format!("/reports/{report}?from=2000-01&to=2024-12"),
            &["300 months", "240"],
        )
        .await;
        // CSV: the same months; ETag and 304 as on every report.
        let csv = app
            .get(&format!("/reports/{report}?from={from}&to={to}&format=csv"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(csv.lines().count(), expected.len() + 1, "{csv}");
        revalidates(&app, &format!("/reports/{report}?from={from}&to={to}")).await;
    }
    // Growth at the start of a range still compares with the month before it.
    let body = app
        .json(&format!("/reports/revenue-growth?from={from}&to={from}"))
        .await;
    let before = calendar(&first, &from);
    let before = &before[before.len() - 2];
    assert_eq!(
        body["months"][0]["previous_revenue"],
        money(usd.get(before).map_or(0, |u| u.1))
    );
}

/// The calendar months `from` ..= `to` (`YYYY-MM`), counted by hand.
fn calendar(from: &str, to: &str) -> Vec<String> {
    let index = |m: &str| m[..4].parse::<i32>().unwrap() * 12 + m[5..].parse::<i32>().unwrap() - 1;
    (index(from)..=index(to))
        .map(|i| format!("{:04}-{:02}", i / 12, i % 12 + 1))
        .collect()
}
both!(ranges, monthly_reports_take_a_free_range);

/// Hand arithmetic on the fixture: February 2024 in usd against January.
async fn a_month_drills_down(engine: Engine) {
    let (_t, app) = small(engine).await;
    let body = app.json("/reports/month/2024-02?limit=2").await;
    assert_eq!(body["currency"], "usd");
    // t4 2.50 + t5 7.00 + t6 20.00 + t7 3.00 + t8 1.00 (23:59 on the 29th).
    assert_eq!(
        body["current"],
        json!({"month": "2024-02", "revenue": "33.50", "transactions": 5, "active_customers": 4,
               "avg_transaction_amount": "6.70"})
    );
    assert_eq!(
        body["previous"],
        json!({"month": "2024-01", "revenue": "35.00", "transactions": 3, "active_customers": 2,
               "avg_transaction_amount": "11.67"})
    );
    // -1.50 / 35.00 = -4.2857 %; +2 / 3; +2 / 2.
    assert_eq!(
        body["change"],
        json!({"revenue": "-1.50", "revenue_pct": "-4.29", "transactions": 2, "transactions_pct": "66.67",
               "active_customers": 2, "active_customers_pct": "100.00"})
    );
    assert_eq!(body["complete"], true);
    assert_eq!(body["in_progress"], false);
    // c2 20.00; c1 2.50 + 7.00; (c3 3.00 and c4 1.00 past the limit).
    let customers: Vec<(&str, &str, &str, i64)> = body["top_customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let s = |k: &str| u[k].as_str().unwrap();
            (
                s("customer_id"),
                s("customer_name"),
                s("total_spending"),
                u["transactions"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        customers,
        [("c2", "Bob Stone", "20.00", 1), ("c1", "Annie Lee", "9.50", 2)]
    );
    // Beta: t6 20.00 + t7 3.00; Alpha 3:1 of t8's 1.00. Unattributed: t4, t5.
    assert_eq!(body["top_products"][0]["product"], "Beta");
    assert_eq!(body["top_products"][0]["total_sales"], "23.00");
    assert_eq!(body["top_products"][1]["product"], "Alpha");
    assert_eq!(body["top_products"][1]["total_sales"], "0.75");
    assert_eq!(body["top_products"].as_array().unwrap().len(), 2);
    assert_eq!(body["attributed_revenue"], "24.00");
    assert_eq!(
        body["unattributed"],
        json!({"null_subscription": "2.50", "unknown_subscription": "7.00"})
    );
    // The first month has nothing before it; a currency's month of its own.
    let jan = app.json("/reports/month/2024-01").await;
    assert_eq!(jan["previous"], Value::Null);
    assert_eq!(jan["change"], Value::Null);
    assert_eq!(jan["top_customers"][0]["customer_id"], "c2");
    assert_eq!(jan["top_customers"][1]["total_spending"], "15.00");
    let eur = app.json("/reports/month/2024-03?currency=EUR").await;
    assert_eq!(eur["current"]["revenue"], "9.99");
    assert_eq!(eur["complete"], false, "the latest month");
    // February had no eur: zeros, not an error (the month is inside the data).
    let none = app.json("/reports/month/2024-02?currency=eur").await;
    assert_eq!(none["current"]["revenue"], "0.00");
    assert_eq!(none["top_customers"], json!([]));
    assert_eq!(none["change"]["revenue_pct"], Value::Null);
    // Outside the data: 404 naming the data's months; malformed: 400.
    for month in ["2024-04", "2023-12"] {
        let (status, body) = answer(&app, &format!("/reports/month/{month}")).await;
        assert_eq!(status, 404, "{body}");
        assert!(body.to_string().contains("2024-01 to 2024-03"), "{body}");
    }
    bad_request(&app, "/reports/month/2024-2", &["`month`", "YYYY-MM"]).await;
    bad_request(&app, "/reports/month/2024-02?currency=gbp", &["usd"]).await;
    bad_request(&app, "/reports/month/2024-02?limit=0", &["`limit`"]).await;
    // CSV: the month, the previous month, the change, 2 customers, 2 products.
    let csv = app.get("/reports/month/2024-02?limit=2&format=csv").await;
    assert!(csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("month-2024-02-usd.csv"));
    let csv = csv.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 8, "{csv}");
    assert_eq!(rows[1], "usd,2024-02,month,,2024-02,,33.50,5,4,");
    assert_eq!(rows[3], "usd,2024-02,change,,,,-1.50,2,2,-4.29");
    assert_eq!(rows[4], "usd,2024-02,customer,1,c2,Bob Stone,20.00,1,,");
    revalidates(&app, "/reports/month/2024-02").await;
    assert!(!app
        .get("/reports/month/2024-02?format=csv")
        .await
        .text()
        .await
        .unwrap()
        .contains('@'));
}
both!(month, a_month_drills_down);

/// On the realistic export: a middle month against the raw file.
async fn a_month_matches_the_raw_file(engine: Engine) {
    let input = realistic_input();
    let t = TestDb::new(engine).await;
    t.ingest(&input).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let raw = raw_transactions(&input);
    let months: BTreeSet<&String> = raw.iter().filter(|r| r.4 == "usd").map(|r| &r.0).collect();
    let month = months.iter().nth(months.len() / 2).unwrap().to_string();
    let rows = || raw.iter().filter(|r| r.4 == "usd" && r.0 == month);
    let mut spend: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in rows() {
        let e = spend.entry(&r.1).or_default();
        e.0 += r.3;
        e.1 += 1;
    }
    let mut ranked: Vec<(&str, (i64, i64))> = spend.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    let body = app.json(&format!("/reports/month/{month}?limit=25")).await;
    assert_eq!(body["current"]["transactions"], rows().count());
    assert_eq!(body["current"]["revenue"], money(rows().map(|r| r.3).sum()));
    let customers: BTreeSet<&str> = rows().map(|r| r.1.as_str()).collect();
    assert_eq!(body["current"]["active_customers"], customers.len());
    let top = body["top_customers"].as_array().unwrap();
    assert_eq!(top.len(), ranked.len().min(25));
    for (u, (id, (c, n))) in top.iter().zip(&ranked) {
        assert_eq!(
            (
                u["customer_id"].as_str().unwrap(),
                &u["total_spending"],
                &u["transactions"]
            ),
            (*id, &json!(money(*c)), &json!(n))
        );
    }
    let attributed = cents(body["attributed_revenue"].as_str().unwrap());
    let unattributed: i64 = ["null_subscription", "unknown_subscription"]
        .iter()
        .map(|k| cents(body["unattributed"][k].as_str().unwrap()))
        .sum();
    assert_eq!(attributed + unattributed, rows().map(|r| r.3).sum::<i64>());
    assert!(!body.to_string().contains('@'));
}
both!(month_raw, a_month_matches_the_raw_file);

async fn a_customer_page(engine: Engine) {
    let (t, app) = small(engine).await;
    let c1 = app.json("/customers/c1").await;
    let name = t
        .rows("SELECT customer_name FROM dim_user WHERE customer_id = 'c1'")
        .await;
    assert_eq!(
        c1["customer_name"],
        name[0].try_get::<String>("", "customer_name").unwrap()
    );
    assert_eq!(c1["in_users_file"], true);
    assert_eq!(
        c1["flags"],
        json!([
            "conflicting_name",
            "conflicting_email",
            "null_subscription",
            "unknown_subscription",
            "several_currencies"
        ])
    );
    // usd: 10.00 + 5.00 + 2.50 + 7.00 - 1.00; eur: 9.99. Never added together.
    assert_eq!(
        c1["totals"],
        json!([
            {"currency": "usd", "total_spending": "23.50", "transactions": 5, "first_month": "2024-01", "latest_month": "2024-03"},
            {"currency": "eur", "total_spending": "9.99", "transactions": 1, "first_month": "2024-03", "latest_month": "2024-03"},
        ])
    );
    assert_eq!(
        c1["months"],
        json!([
            {"month": "2024-01", "currency": "usd", "spending": "15.00", "transactions": 2},
            {"month": "2024-02", "currency": "usd", "spending": "9.50", "transactions": 2},
            {"month": "2024-03", "currency": "eur", "spending": "9.99", "transactions": 1},
            {"month": "2024-03", "currency": "usd", "spending": "-1.00", "transactions": 1},
        ])
    );
    let subs: Vec<(Value, bool, &str, &str, usize)> = c1["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let plans = s["plans"].as_array().unwrap().len();
            (
                s["subscription_id"].clone(),
                s["known"].as_bool().unwrap(),
                s["currency"].as_str().unwrap(),
                s["spending"].as_str().unwrap(),
                plans,
            )
        })
        .collect();
    assert_eq!(
        subs,
        [
            (json!("sub_a"), true, "usd", "14.00", 2),
            (json!("sub_b"), true, "eur", "9.99", 1),
            (json!("sub_zzz"), false, "usd", "7.00", 0),
            (Value::Null, false, "usd", "2.50", 0),
        ]
    );
    assert_eq!(
        c1["subscriptions"][0]["plans"][1],
        json!({"plan": "Base - Support", "product": "Alpha Support", "interval": "month", "status": "active"})
    );
    assert_eq!(c1["products"], json!(["Alpha", "Alpha Support", "Beta"]));
    // The totals agree with the stored spending per currency (SQL).
    let stored = t
        .scalar_i64(
            "SELECT total_spending_cents FROM agg_customer_spending WHERE customer_id = 'c1' AND currency = 'usd'",
        )
        .await;
    assert_eq!(money(stored), "23.50");
    // A customer only in the transactions; never an e-mail address.
    let c3 = app.json("/customers/c3").await;
    assert_eq!(
        (&c3["flags"], &c3["in_users_file"], &c3["customer_name"]),
        (&json!(["only_in_transactions"]), &json!(false), &json!(""))
    );
    for id in ["c1", "c2", "c4", "c5"] {
        let text = app.get(&format!("/customers/{id}")).await.text().await.unwrap();
        assert!(!text.contains('@'), "{text}");
    }
    let c5 = app.json("/customers/c5").await;
    assert_eq!((&c5["totals"], &c5["months"]), (&json!([]), &json!([])));
    for id in ["nobody", "c1%00"] {
        let (status, body) = answer(&app, &format!("/customers/{id}")).await;
        assert_eq!(status, 404, "{id}: {body}");
    }
    // CSV: the months.
    let csv = app.get("/customers/c1?format=csv").await.text().await.unwrap();
    assert_eq!(csv.lines().nth(4), Some("c1,Annie Lee,usd,2024-03,-1.00,1"), "{csv}");
    revalidates(&app, "/customers/c1").await;
}
both!(customer, a_customer_page);

fn ids(body: &Value) -> Vec<&str> {
    body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect()
}

async fn customers_are_found_by_id_or_name(engine: Engine) {
    let (_t, app) = small(engine).await;
    for (q, want) in [
        // A name's first word, another word, any ASCII case.
        ("ann", vec!["c1", "c5"]),
        ("ANN", vec!["c1", "c5"]),
        ("lee", vec!["c1"]),
        ("Bob%20St", vec!["c2"]),
        // An id's start; `%` and `_` are themselves, not wildcards.
        ("c3", vec!["c3"]),
        ("100%25", vec!["c4"]),
        ("10_", vec![]),
        ("_", vec![]),
        ("zzz", vec![]),
    ] {
        let body = app.json(&format!("/customers?q={q}")).await;
        assert_eq!(ids(&body), want, "q={q}");
    }
    let first = app.json("/customers?q=c&limit=2").await;
    assert_eq!((ids(&first), &first["more"]), (vec!["c1", "c2"], &json!(true)));
    let last = app.json("/customers?q=c&limit=2&offset=4").await;
    assert_eq!((ids(&last), &last["more"]), (vec!["c5"], &json!(false)));
    let every = app.json("/customers").await;
    assert_eq!(ids(&every), ["c1", "c2", "c3", "c4", "c5"]);
    let c2 = &app.json("/customers?q=c2").await["customers"][0];
    assert_eq!(
        *c2,
        json!({"customer_id": "c2", "customer_name": "Bob Stone", "currency": "usd", "total_spending": "40.00", "transactions": 2})
    );
    bad_request(&app, "/customers?limit=0", &["`limit`"]).await;
    bad_request(&app, "/customers?limit=101", &["`limit`"]).await;
    bad_request(&app, &format!("/customers?q={}", "a".repeat(101)), &["`q`", "100"]).await;
    bad_request(&app, "/customers?q=a%00", &["`q`", "NUL"]).await;
    assert!(!app.get("/customers?q=a").await.text().await.unwrap().contains('@'));
}
both!(customer_search, customers_are_found_by_id_or_name);

/// The new endpoints are data endpoints: a token is needed once one exists.
async fn the_drill_down_needs_a_reader(engine: Engine) {
    let dir = fixture(PRODUCTS, TRANSACTIONS, USERS);
    let t = TestDb::new(engine).await;
    t.ingest(dir.path()).await.unwrap();
    let reader = crate::access::token(&t, "analyst", Role::Reader).await;
    let app = crate::access::app(&t).await;
    for path in [
        "/customers?q=c",
        "/customers/c1",
        "/reports/month/2024-02",
        "/reports/monthly-transactions?from=2024-01",
    ] {
        assert_eq!(app.get(path).await.status(), 401, "{path}");
        assert_eq!(app.get_as(path, &reader).await.status(), 200, "{path}");
    }
}
both!(access, the_drill_down_needs_a_reader);

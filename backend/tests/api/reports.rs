//! The reports over HTTP, checked against an independent reading of the raw files.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::both;
use crate::helpers::{money, raw_transactions, realistic_input, Engine, TestApp, TestDb};

/// Loads the realistic input and starts the app.
async fn loaded(engine: Engine) -> (TestDb, TestApp, Vec<(String, String, String, i64, String)>) {
    let input = realistic_input();
    let t = TestDb::new(engine).await;
    t.ingest(&input).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    (t, app, raw_transactions(&input))
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

async fn monthly_report_matches_raw_data(engine: Engine) {
    let (_t, app, raw) = loaded(engine).await;
    let latest = raw.iter().map(|r| r.0.clone()).max().unwrap();
    let mut by_month: BTreeMap<String, (i64, i64, std::collections::BTreeSet<String>)> = BTreeMap::new();
    for (month, customer, _, cents, currency) in &raw {
        if currency == "usd" {
            let e = by_month.entry(month.clone()).or_default();
            e.0 += 1;
            e.1 += cents;
            e.2.insert(customer.clone());
        }
    }
    let body = app.json("/reports/monthly-transactions").await;
    assert_eq!(body["currency"], "usd", "default currency: most transactions");
    assert_eq!(
        body["window"]["as_of"],
        latest.as_str(),
        "default as_of: latest month in the data"
    );
    assert_eq!(body["window"]["to"], latest.as_str());
    let months = body["months"].as_array().unwrap();
    assert_eq!(months.len(), 6);
    for m in months {
        let (n, cents, customers) = by_month.get(s(&m["month"])).cloned().unwrap_or_default();
        assert_eq!(m["transactions"], n);
        assert_eq!(m["active_customers"], customers.len() as i64);
        assert_eq!(m["revenue"], money(cents));
        // revenue / transactions, rounded half away from zero.
        let avg = (2 * cents + n) / (2 * n);
        assert_eq!(m["avg_transaction_amount"], money(avg), "{m}");
        assert_eq!(m["complete"], s(&m["month"]) != latest, "{m}");
        // The data stop in the past: their last month has ended, it is not "in progress".
        assert_eq!(m["in_progress"], false, "{m}");
    }
    let quality = app.json("/quality").await;
    assert_eq!(
        body["latest_transaction_at"],
        quality["freshness"]["latest_transaction_at"]
    );
    assert!(s(&body["latest_transaction_at"]).starts_with(latest.as_str()), "{body}");
    let growth = app.json("/reports/revenue-growth").await;
    assert_eq!(growth["latest_transaction_at"], body["latest_transaction_at"]);
    assert!(growth["months"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["in_progress"] == false));
    // Months without data inside the window are zeros, not gaps.
    let later = app.json("/reports/monthly-transactions?as_of=2031-02&months=3").await;
    let later = later["months"].as_array().unwrap();
    assert_eq!(later.len(), 3);
    assert!(later
        .iter()
        .all(|m| m["transactions"] == 0 && m["revenue"] == "0.00" && m["complete"] == false));
    // CSV: the same rows.
    let csv = app.get("/reports/monthly-transactions?format=csv").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 7, "{text}");
    assert!(text.starts_with("currency,month,transactions,active_customers,revenue"));
    let accept = app
        .client
        .get(format!("{}/reports/monthly-transactions", app.address))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(accept.text().await.unwrap(), text);
}
both!(monthly, monthly_report_matches_raw_data);

async fn growth_uses_the_month_before_the_window(engine: Engine) {
    let (_t, app, raw) = loaded(engine).await;
    let mut revenue: BTreeMap<String, i64> = BTreeMap::new();
    for (month, _, _, cents, currency) in &raw {
        if currency == "usd" {
            *revenue.entry(month.clone()).or_default() += cents;
        }
    }
    let months: Vec<&String> = revenue.keys().collect();
    let first = months[0].clone();
    let second = months[1].clone();
    let body = app
        .json(&format!("/reports/revenue-growth?as_of={second}&months=1"))
        .await;
    let row = &body["months"][0];
    assert_eq!(row["month"], second.as_str());
    assert_eq!(
        row["previous_revenue"],
        money(revenue[&first]),
        "previous month outside the window still counts"
    );
    let (cur, prev) = (revenue[&second], revenue[&first]);
    let growth = {
        let num = (cur - prev) as i128 * 10_000;
        let d = prev as i128;
        let q = num / d;
        let r = num % d;
        let q = if 2 * r.abs() >= d.abs() {
            if (num < 0) == (d < 0) {
                q + 1
            } else {
                q - 1
            }
        } else {
            q
        };
        money(q as i64)
    };
    assert_eq!(row["growth_pct"], growth.as_str());
    assert_eq!(row["declined"], cur < prev);
    // Nothing before the first month: previous is null, growth null.
    let body = app
        .json(&format!("/reports/revenue-growth?as_of={first}&months=1"))
        .await;
    assert_eq!(body["months"][0]["previous_revenue"], Value::Null);
    assert_eq!(body["months"][0]["growth_pct"], Value::Null);
    assert_eq!(body["months"][0]["declined"], false);
}
both!(growth, growth_uses_the_month_before_the_window);

async fn top_products_add_up(engine: Engine) {
    let (t, app, raw) = loaded(engine).await;
    for currency in ["usd", "eur"] {
        let body = app
            .json(&format!("/reports/top-products?currency={currency}&limit=100"))
            .await;
        let total: i64 = raw.iter().filter(|r| r.4 == currency).map(|r| r.3).sum();
        let cents = |v: &Value| crate::helpers::cents(s(v));
        let attributed = cents(&body["attributed_revenue"]);
        let unattributed =
            cents(&body["unattributed"]["null_subscription"]) + cents(&body["unattributed"]["unknown_subscription"]);
        assert_eq!(
            attributed + unattributed,
            total,
            "{currency}: attributed + unattributed = all revenue"
        );
        assert_eq!(cents(&body["total_revenue"]), total);
        let null_sub: i64 = raw
            .iter()
            .filter(|r| r.4 == currency && r.2.is_empty())
            .map(|r| r.3)
            .sum();
        assert_eq!(cents(&body["unattributed"]["null_subscription"]), null_sub);
        let products = body["products"].as_array().unwrap();
        let sum: i64 = products.iter().map(|p| cents(&p["total_sales"])).sum();
        assert_eq!(
            sum, attributed,
            "all products listed: their totals add up to attributed revenue"
        );
        for w in products.windows(2) {
            assert!(cents(&w[0]["total_sales"]) >= cents(&w[1]["total_sales"]));
        }
    }
    // A multi-plan subscription's transaction is not double counted: the sum of
    // allocations equals the transactions' own total (checked in SQL too).
    let direct = t
        .scalar_i64(
            "SELECT CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) FROM fct_transaction f WHERE currency = 'usd' AND \
             EXISTS (SELECT 1 FROM dim_product p WHERE p.subscription_id = f.subscription_id)",
        )
        .await;
    let body = app.json("/reports/top-products?limit=3").await;
    assert_eq!(crate::helpers::cents(s(&body["attributed_revenue"])), direct);
    assert_eq!(
        body["products"].as_array().unwrap().len().min(3),
        body["products"].as_array().unwrap().len()
    );
    assert_eq!(body["products"][0]["rank"], 1);
}
both!(top_products, top_products_add_up);

async fn top_users_ranked_without_email(engine: Engine) {
    let (_t, app, raw) = loaded(engine).await;
    let mut spend: BTreeMap<String, i64> = BTreeMap::new();
    for (_, customer, _, cents, currency) in &raw {
        if currency == "usd" {
            *spend.entry(customer.clone()).or_default() += cents;
        }
    }
    let mut ranked: Vec<(String, i64)> = spend.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let res = app.get("/reports/top-users").await;
    let text = res.text().await.unwrap();
    assert!(!text.contains('@'), "e-mail addresses must never be served: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let users = body["users"].as_array().unwrap();
    assert_eq!(users.len(), 5);
    for (u, (id, cents)) in users.iter().zip(&ranked) {
        assert_eq!(u["customer_id"], id.as_str());
        assert_eq!(u["total_spending"], money(*cents));
        assert!(u.get("customer_email").is_none());
    }
}
both!(top_users, top_users_ranked_without_email);

async fn quality_reports_the_checks(engine: Engine) {
    let (_t, app, raw) = loaded(engine).await;
    let q = app.json("/quality").await;
    let null_rows = raw.iter().filter(|r| r.2.is_empty()).count() as i64;
    assert_eq!(q["subscriptions"]["null_subscription"]["transactions"], null_rows);
    let null_usd: i64 = raw.iter().filter(|r| r.2.is_empty() && r.4 == "usd").map(|r| r.3).sum();
    assert_eq!(
        q["subscriptions"]["null_subscription"]["amount"]["usd"],
        money(null_usd)
    );
    let files = q["last_ingest"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        assert_eq!(
            f["read"].as_i64().unwrap(),
            f["loaded"].as_i64().unwrap() + f["duplicates"].as_i64().unwrap() + f["rejected"].as_i64().unwrap()
        );
    }
    let tx = files.iter().find(|f| f["file"] == "transactions.csv").unwrap();
    assert_eq!(tx["read"], raw.len() as i64);
    assert!(q["freshness"]["days_since_latest_transaction"].as_i64().unwrap() >= 0);
    assert!(q["customers"]["in_transactions_not_in_users"].is_i64());
    let text = serde_json::to_string(&q).unwrap();
    assert!(!text.contains('@'));
}
both!(quality, quality_reports_the_checks);

#[tokio::test]
async fn openapi_and_health() {
    let t = TestDb::new(Engine::Sqlite).await;
    let app = TestApp::spawn(&t.db).await;
    let doc = app.json("/openapi.json").await;
    for path in [
        "/reports/monthly-transactions",
        "/reports/revenue-growth",
        "/reports/top-products",
        "/reports/top-users",
        "/quality",
    ] {
        assert!(
            doc["paths"][path]["get"].is_object(),
            "{path} missing from the contract"
        );
    }
    assert!(doc["components"]["schemas"]["MonthlyTransactionsReport"].is_object());
    assert_eq!(app.json("/health/live").await["status"], "ok");
    assert_eq!(app.json("/health/ready").await["status"], "ready");
}

/// Reports are served from memory, but a new ingest shows within a second.
#[tokio::test]
async fn a_new_ingest_is_served_within_a_second() {
    use backend::generate::{generate, GenerateOptions};
    let t = TestDb::new(Engine::Sqlite).await;
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    generate(
        a.path(),
        GenerateOptions {
            transactions: 300,
            seed: 1,
            ..Default::default()
        },
    )
    .unwrap();
    generate(
        b.path(),
        GenerateOptions {
            transactions: 500,
            seed: 2,
            ..Default::default()
        },
    )
    .unwrap();
    t.ingest(a.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let total = |m: &Value| {
        m["currencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["transactions"].as_i64().unwrap())
            .sum::<i64>()
    };
    let read = |q: &Value| {
        q["last_ingest"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["read"].as_i64().unwrap())
            .sum::<i64>()
    };
    assert_eq!(total(&app.json("/reports/meta").await), 300);
    let quality_a = app.json("/quality").await;
    let users_a = app.json("/reports/top-users?limit=100").await;
    t.ingest(b.path()).await.unwrap();
    tokio::time::sleep(backend::reports::RECHECK + std::time::Duration::from_millis(200)).await;
    assert_eq!(total(&app.json("/reports/meta").await), 500);
    // The cached top users and quality checks follow the new run too.
    let quality_b = app.json("/quality").await;
    assert!(quality_b["last_ingest"]["run_id"].as_i64() > quality_a["last_ingest"]["run_id"].as_i64());
    assert!(read(&quality_b) > read(&quality_a), "{quality_b}");
    assert_ne!(
        app.json("/reports/top-users?limit=100").await["users"],
        users_a["users"]
    );
}

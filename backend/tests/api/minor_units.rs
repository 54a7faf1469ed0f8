//! Currencies by their ISO 4217 minor units: whole yen, thousandths of a
//! Kuwaiti dinar, cents of a dollar — read, stored, served in JSON and CSV,
//! and the migration that converts a database of an earlier version.

use migration::MigratorTrait;
use serde_json::{json, Value};

use crate::both;
use crate::helpers::{fixture, Engine, TestApp, TestDb};

const PRODUCTS: &[&str] = &[
    "s_jpy\tA\tAlpha\tmonth\t1000\tactive",
    "s_jpy\tB\tBeta\tmonth\t1000\tactive",
    "s_jpy\tC\tGamma\tmonth\t1000\tactive",
    "s_kwd\tK\tKappa\tmonth\t12.345\tactive",
];

const USERS: &[&str] = &["c1\tAnn\t", "c2\tBob\t", "c3\tCy\t", "c4\tDi\t", "c5\tEd\t"];

async fn csv(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert!(res.status().is_success(), "GET {path}: {}", res.status());
    res.text().await.unwrap()
}

async fn served_in_each_currencys_minor_unit(engine: Engine) {
    let input = fixture(
        PRODUCTS,
        &[
            "1/5/24 7:00\tt1\tc1\ts_jpy\t1000\tjpy",
            "1/6/24 7:00\tt2\tc2\t\t2501.00\tJPY",
            "1/7/24 7:00\tt3\tc2\t\t1500.50\tjpy",
            "1/8/24 7:00\tt4\tc3\ts_kwd\t12.345\tkwd",
            "1/9/24 7:00\tt5\tc3\t\t1\tkwd",
            "1/10/24 7:00\tt6\tc4\t\t19.99\tusd",
            "1/11/24 7:00\tt7\tc4\t\t5.125\tusd",
            "1/12/24 7:00\tt8\tc5\t\t-100\tjpy",
        ],
        USERS,
    );
    let t = TestDb::new(engine).await;
    let run = t.ingest(input.path()).await.unwrap().run_id;
    // Stored in minor units: yen, fils, cents.
    assert_eq!(
        t.scalar_i64("SELECT total_cents FROM fct_transaction WHERE transaction_id = 't2'")
            .await,
        2501
    );
    assert_eq!(
        t.scalar_i64("SELECT total_cents FROM fct_transaction WHERE transaction_id = 't4'")
            .await,
        12_345
    );
    assert_eq!(
        t.scalar_i64("SELECT total_cents FROM fct_transaction WHERE transaction_id = 't6'")
            .await,
        1999
    );
    let app = TestApp::spawn(&t.db).await;

    // The amounts with more decimals than their currency has: rejected, with
    // the line, the column, the value and the currency.
    let rejections = app.json(&format!("/ingests/{run}/rejections")).await;
    let rows: Vec<(i64, String, String)> = rejections["rejections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap(),
                r["reason"].as_str().unwrap().to_owned(),
                r["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                4,
                "too_many_decimals".to_owned(),
                "column \"Total\": \"1500.50\" has 1 decimal, more than the 0 of the currency's minor unit \
                 (currency jpy)"
                    .to_owned()
            ),
            (
                8,
                "too_many_decimals".to_owned(),
                "column \"Total\": \"5.125\" has 3 decimals, more than the 2 of the currency's minor unit \
                 (currency usd)"
                    .to_owned()
            ),
        ]
    );

    let meta = app.json("/reports/meta").await;
    assert_eq!(
        meta["currencies"],
        json!([
            {"currency": "jpy", "transactions": 3, "revenue": "3401"},
            {"currency": "kwd", "transactions": 2, "revenue": "13.345"},
            {"currency": "usd", "transactions": 1, "revenue": "19.99"},
        ])
    );

    // Averages round half away from zero to the currency's minor unit:
    // 3401 / 3 = 1133.67 → 1134 yen; 13.345 / 2 = 6.6725 → 6.673 dinars.
    let jpy = app.json("/reports/monthly-transactions?currency=jpy&months=2").await;
    assert_eq!(
        jpy["months"],
        json!([
            {"month": "2023-12", "transactions": 0, "active_customers": 0, "revenue": "0",
             "avg_transaction_amount": "0", "avg_amount_per_customer": "0", "complete": true, "in_progress": false},
            {"month": "2024-01", "transactions": 3, "active_customers": 3, "revenue": "3401",
             "avg_transaction_amount": "1134", "avg_amount_per_customer": "1134", "complete": false,
             "in_progress": false},
        ])
    );
    assert_eq!(
        csv(&app, "/reports/monthly-transactions?currency=kwd&months=2&format=csv").await,
        "currency,month,transactions,active_customers,revenue,avg_transaction_amount,avg_amount_per_customer,complete\n\
         kwd,2023-12,0,0,0.000,0.000,0.000,true\n\
         kwd,2024-01,2,1,13.345,6.673,13.345,false\n"
    );
    assert_eq!(
        csv(&app, "/reports/monthly-transactions?currency=jpy&months=1&format=csv").await,
        "currency,month,transactions,active_customers,revenue,avg_transaction_amount,avg_amount_per_customer,complete\n\
         jpy,2024-01,3,3,3401,1134,1134,false\n"
    );
    let growth = app.json("/reports/revenue-growth?currency=usd&months=1").await;
    assert_eq!(growth["months"][0]["revenue"], "19.99");

    // 1000 yen split over three equal plans: whole yen, the extra one to the first plan.
    let products = app.json("/reports/top-products?currency=jpy").await;
    assert_eq!(
        (
            &products["attributed_revenue"],
            &products["unattributed"],
            &products["total_revenue"]
        ),
        (
            &json!("1000"),
            &json!({"null_subscription": "2401", "unknown_subscription": "0"}),
            &json!("3401")
        )
    );
    assert_eq!(
        csv(&app, "/reports/top-products?currency=jpy&format=csv").await,
        "currency,rank,product,total_sales,transactions,share_pct\n\
         jpy,1,Alpha,334,1,33.40\n\
         jpy,2,Beta,333,1,33.30\n\
         jpy,3,Gamma,333,1,33.30\n"
    );
    let kwd = app.json("/reports/top-products?currency=kwd").await;
    assert_eq!(kwd["products"][0]["total_sales"], "12.345");
    assert_eq!(kwd["unattributed"]["null_subscription"], "1.000");

    assert_eq!(
        csv(&app, "/reports/top-users?currency=jpy&format=csv").await,
        "currency,rank,customer_id,customer_name,total_spending,transactions\n\
         jpy,1,c2,Bob,2501,1\n\
         jpy,2,c1,Ann,1000,1\n\
         jpy,3,c5,Ed,-100,1\n"
    );
    let users = app.json("/reports/top-users?currency=kwd").await;
    assert_eq!(users["users"][0]["total_spending"], "13.345");

    let quality = app.json("/quality").await;
    assert_eq!(quality["currencies"], meta["currencies"]);
    assert_eq!(quality["refunds"]["amount"], json!({"jpy": "-100"}));
    assert_eq!(
        quality["subscriptions"]["null_subscription"]["amount"],
        json!({"jpy": "2401", "kwd": "1.000", "usd": "19.99"})
    );
    let detail = app.json(&format!("/ingests/{run}")).await;
    assert_eq!(
        detail["after"]["revenue"],
        json!({"jpy": "3401", "kwd": "13.345", "usd": "19.99"})
    );
}
both!(served_in_minor_units, served_in_each_currencys_minor_unit);

/// The served figures a migration must keep.
async fn served(app: &TestApp, run: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/reports/meta".to_owned(),
        "/reports/monthly-transactions?currency=jpy&months=1".to_owned(),
        "/reports/monthly-transactions?currency=kwd&months=1".to_owned(),
        "/reports/top-products?currency=jpy".to_owned(),
        "/reports/top-users?currency=jpy".to_owned(),
        format!("/ingests/{run}"),
    ] {
        let mut body = app.json(&path).await;
        // Timings, not figures.
        if let Some(run) = body.get_mut("run") {
            run["duration_ms"] = Value::Null;
        }
        out.push(body);
    }
    let quality = app.json("/quality").await;
    out.push(quality["currencies"].clone());
    out.push(quality["subscriptions"].clone());
    out
}

async fn one(t: &TestDb, sql: &str) -> i64 {
    t.scalar_i64(sql).await
}

async fn facts(t: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for id in ["t1", "t2", "t4", "t6"] {
        out.push(
            one(
                t,
                &format!("SELECT total_cents FROM fct_transaction WHERE transaction_id = '{id}'"),
            )
            .await,
        );
    }
    out
}

async fn product_months(t: &TestDb) -> Vec<i64> {
    let rows = t
        .rows("SELECT total_sales_cents FROM agg_product_month WHERE currency = 'jpy' ORDER BY product")
        .await;
    rows.iter().map(|r| r.try_get_by_index::<i64>(0).unwrap()).collect()
}

async fn gross(t: &TestDb, currency: &str) -> i64 {
    let rows = t
        .rows("SELECT state_json FROM etl_run WHERE state_json IS NOT NULL ORDER BY id DESC")
        .await;
    let state: Value = serde_json::from_str(&rows[0].try_get_by_index::<String>(0).unwrap()).unwrap();
    state["gross_cents"][currency].as_i64().unwrap()
}

/// Rewrites the runs' stored JSON as a version before minor units wrote it:
/// two decimals for every currency.
async fn as_written_before(t: &TestDb) {
    for column in ["summary_json", "quality_json"] {
        let rows = t
            .rows(&format!("SELECT id, {column} FROM etl_run WHERE {column} IS NOT NULL"))
            .await;
        for row in rows {
            let id: i64 = row.try_get_by_index(0).unwrap();
            let text: String = row.try_get_by_index(1).unwrap();
            let old = text
                .replace("\"3501\"", "\"3501.00\"")
                .replace("\"2501\"", "\"2501.00\"")
                .replace("\"12.340\"", "\"12.34\"");
            assert_ne!(old, text, "{column} holds the figures");
            let backend = t.db.get_database_backend();
            use sea_orm::ConnectionTrait;
            t.db.execute(sea_orm::Statement::from_sql_and_values(
                backend,
                match backend {
                    sea_orm::DbBackend::Postgres => format!("UPDATE etl_run SET {column} = $1 WHERE id = $2"),
                    _ => format!("UPDATE etl_run SET {column} = ? WHERE id = ?"),
                },
                [old.into(), id.into()],
            ))
            .await
            .unwrap();
        }
    }
}

/// A database as an earlier version left it (made by migrating down, then
/// shaped as that version wrote it) is converted by the migration, and serves
/// exactly what a fresh load serves; a yen amount with a fraction stops the
/// migration before it changes anything; an interrupted conversion is not
/// repeated.
async fn migration_converts_stored_amounts(engine: Engine) {
    // Plans of two decimals: hundredths (the migration's down) hold them.
    let mut products = PRODUCTS.to_vec();
    products[3] = "s_kwd\tK\tKappa\tmonth\t12.34\tactive";
    let input = fixture(
        &products,
        &[
            "1/5/24 7:00\tt1\tc1\ts_jpy\t1000\tjpy",
            "1/6/24 7:00\tt2\tc2\t\t2501\tjpy",
            "1/8/24 7:00\tt4\tc3\t\t12.34\tkwd",
            "1/10/24 7:00\tt6\tc4\t\t19.99\tusd",
        ],
        USERS,
    );
    let t = TestDb::new(engine).await;
    let run = t.ingest(input.path()).await.unwrap().run_id;
    let fresh = served(&TestApp::spawn(&t.db).await, run).await;
    assert_eq!(facts(&t).await, [1000, 2501, 12_340, 1999]);
    assert_eq!(product_months(&t).await, [334, 333, 333]);
    assert_eq!((gross(&t, "jpy").await, gross(&t, "kwd").await), (3501, 12_340));

    // Down: hundredths of every currency, as before (past the later
    // migrations, which reshape PostgreSQL's tables or rank the customers).
    crate::helpers::migrate_down_to(&t.db, 6).await.unwrap();
    assert_eq!(facts(&t).await, [100_000, 250_100, 1234, 1999]);
    assert_eq!(product_months(&t).await, [33_400, 33_300, 33_300]);
    assert_eq!(
        one(
            &t,
            "SELECT MIN(amount_cents) FROM dim_product WHERE subscription_id = 's_jpy'"
        )
        .await,
        100_000
    );
    assert_eq!((gross(&t, "jpy").await, gross(&t, "kwd").await), (350_100, 1234));
    // What the earlier version stored: its own split of the yen in hundredths,
    // and two decimals in the runs' JSON.
    t.rows("UPDATE agg_product_month SET total_sales_cents = 33333 WHERE currency = 'jpy' AND product <> 'Alpha'")
        .await;
    t.rows("UPDATE agg_product_month SET total_sales_cents = 33334 WHERE currency = 'jpy' AND product = 'Alpha'")
        .await;
    as_written_before(&t).await;

    // 2501.50 yen (accepted by mistake then): the migration stops, names it, changes nothing.
    t.rows("UPDATE fct_transaction SET total_cents = 250150 WHERE transaction_id = 't2'")
        .await;
    let err = migration::Migrator::up(&t.db, None).await.unwrap_err().to_string();
    assert!(err.contains("\"t2\" (2501.50 jpy)"), "{err}");
    assert!(err.contains("Nothing was changed"), "{err}");
    assert_eq!(facts(&t).await, [100_000, 250_150, 1234, 1999]);
    assert_eq!(product_months(&t).await, [33_334, 33_333, 33_333]);
    assert_eq!(gross(&t, "jpy").await, 350_100);

    t.rows("UPDATE fct_transaction SET total_cents = 250100 WHERE transaction_id = 't2'")
        .await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(facts(&t).await, [1000, 2501, 12_340, 1999]);
    assert_eq!(product_months(&t).await, [334, 333, 333]);
    assert_eq!(
        one(
            &t,
            "SELECT MIN(amount_cents) FROM dim_product WHERE subscription_id = 's_jpy'"
        )
        .await,
        1_000_000
    );
    assert_eq!((gross(&t, "jpy").await, gross(&t, "kwd").await), (3501, 12_340));
    assert_eq!(
        one(
            &t,
            "SELECT CAST(exponent AS BIGINT) FROM currency_minor_unit WHERE currency = 'jpy'"
        )
        .await,
        0
    );
    let migrated = served(&TestApp::spawn(&t.db).await, run).await;
    assert_eq!(migrated, fresh);

    // Converted but not recorded (SQLite, interrupted between the two): not converted twice.
    t.rows("DELETE FROM seaql_migrations WHERE version LIKE 'm20261202_000007%'")
        .await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(facts(&t).await, [1000, 2501, 12_340, 1999]);

    // Down refuses a third decimal, which hundredths cannot hold, changing nothing.
    t.rows("UPDATE fct_transaction SET total_cents = 12345 WHERE transaction_id = 't4'")
        .await;
    let err = crate::helpers::migrate_down_to(&t.db, 6).await.unwrap_err().to_string();
    assert!(err.contains("fct_transaction.total_cents"), "{err}");
    assert_eq!(facts(&t).await, [1000, 2501, 12_345, 1999]);
}
both!(migration_to_minor_units, migration_converts_stored_amounts);

/// The migration that converted stored amounts to minor units lists the
/// currencies whose exponent is not 2: if an upgrade of the currency table
/// changes an exponent, stored amounts of that currency are in the old unit
/// and a new migration must convert them.
#[test]
fn the_migration_converted_every_currency_whose_exponent_is_not_two() {
    use backend::domain::{Currency, LEGACY_EXPONENT};
    let now: Vec<(&str, u8)> = Currency::all()
        .iter()
        .filter(|c| c.exponent() != LEGACY_EXPONENT)
        .map(|c| (c.as_str(), c.exponent()))
        .collect();
    assert_eq!(now, migration::MINOR_UNITS);
}

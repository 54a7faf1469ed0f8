//! Subscription metrics over HTTP (`/reports/saas/*`): fixture K1 of the
//! spec (§12) with grace 7 and 0, the identities of §13 on the real export,
//! parameters, CSV, ETag, access control, and append against replace.

use backend::auth::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::access::{app as token_app, token};
use crate::both;
use crate::helpers::{cents, fixture, realistic_input, seed_input, skip, Engine, TestApp, TestDb};
use crate::recurring::split_by_month;

const K1_PRODUCTS: &[&str] = &[
    "sub_B\tprice_B\tChat Enterprise : Annually\tyear\t1200\tactive",
    "sub_J\tprice_J\tTiny : Annually\tyear\t1.02\tactive",
    "sub_M\tprice_M\tVideo : Quarterly\tmonth\t600\tactive",
];

const K1_TRANSACTIONS: &[&str] = &[
    "1/10/24 12:00\tin_A1\tcus_A\tsub_A\t100\tusd",
    "2/10/24 12:00\tin_A2\tcus_A\tsub_A\t100\tusd",
    "3/10/24 12:00\tin_A3\tcus_A\tsub_A\t100\tusd",
    "1/15/24 9:00\tin_B1\tcus_B\tsub_B\t1200\tusd",
    "2/20/24 8:00\tin_C1\tcus_C\tsub_C\t6000\tusd",
    "1/5/24 8:00\tin_D1\tcus_D\tsub_D\t300\tusd",
    "4/5/24 8:00\tin_D2\tcus_D\tsub_D\t300\tusd",
    "1/31/24 10:00\tin_E1\tcus_E\tsub_E\t80\tusd",
    "3/1/24 9:00\tin_E2\tcus_E\tsub_E\t80\tusd",
    "4/1/24 9:00\tin_E3\tcus_E\tsub_E\t80\tusd",
    "1/3/24 7:00\tin_F1\tcus_F\tsub_F\t50\tusd",
    "2/3/24 7:00\tin_F2\tcus_F\tsub_F\t50\tusd",
    "2/20/24 7:00\tin_F3\tcus_F\tsub_F\t-50\tusd",
    "2/25/24 7:00\tin_F4\tcus_F\tsub_F\t0\tusd",
    "3/3/24 7:00\tin_F5\tcus_F\tsub_F\t50\tusd",
    "4/3/24 7:00\tin_F6\tcus_F\tsub_F\t50\tusd",
    "1/1/24 6:00\tin_G1\tcus_G\tsub_G1\t100\tusd",
    "2/1/24 6:00\tin_G2\tcus_G\tsub_G1\t100\tusd",
    "3/1/24 6:00\tin_G3\tcus_G\tsub_G1\t100\tusd",
    "4/1/24 6:00\tin_G4\tcus_G\tsub_G1\t100\tusd",
    "2/1/24 7:00\tin_G5\tcus_G\tsub_G2\t50\tusd",
    "3/1/24 7:00\tin_G6\tcus_G\tsub_G2\t50\tusd",
    "1/7/24 5:00\tin_H1\tcus_H1\tsub_H\t20\tusd",
    "2/7/24 5:00\tin_H2\tcus_H1\tsub_H\t20\tusd",
    "3/7/24 5:00\tin_H3\tcus_H2\tsub_H\t20\tusd",
    "4/7/24 5:00\tin_H4\tcus_H2\tsub_H\t20\tusd",
    "1/12/24 4:00\tin_I1\tcus_I\tsub_I1\t10\tusd",
    "2/12/24 4:00\tin_I2\tcus_I\tsub_I1\t10\tusd",
    "3/12/24 4:00\tin_I3\tcus_I\tsub_I1\t10\tusd",
    "4/12/24 4:00\tin_I4\tcus_I\tsub_I1\t10\tusd",
    "1/12/24 4:00\tin_I5\tcus_I\tsub_I2\t20\teur",
    "2/12/24 4:00\tin_I6\tcus_I\tsub_I2\t20\teur",
    "3/12/24 4:00\tin_I7\tcus_I\tsub_I2\t20\teur",
    "4/12/24 4:00\tin_I8\tcus_I\tsub_I2\t20\teur",
    "3/15/24 3:00\tin_J1\tcus_J\tsub_J\t1.02\tusd",
    "2/14/24 2:00\tin_K1\tcus_K\t\t500\tusd",
    "1/20/24 1:00\tin_L1\tcus_L\tsub_L\t0\tusd",
    "2/20/24 1:00\tin_L2\tcus_L\tsub_L\t0\tusd",
    "2/10/24 11:00\tin_M1\tcus_M\tsub_M\t600\tusd",
    "5/5/24 12:00\tin_Z1\tcus_Z\tsub_Z\t10\tusd",
];

/// K1 loaded into a new database (a name for two customers, to see it in the drill-down).
async fn k1_loaded(engine: Engine) -> TestDb {
    let users = ["cus_A\tAnn Able\tann@example.com", "cus_H2\tHal Two\thal@example.com"];
    let input = fixture(K1_PRODUCTS, K1_TRANSACTIONS, &users);
    let t = TestDb::new(engine).await;
    t.ingest(input.path()).await.unwrap();
    t
}

/// K1 loaded, and the app.
async fn k1(engine: Engine) -> (TestDb, TestApp) {
    let t = k1_loaded(engine).await;
    let app = TestApp::spawn(&t.db).await;
    (t, app)
}

/// The customers of one movement as (id, previous, current), all pages.
async fn movement(app: &TestApp, query: &str) -> Vec<(String, String, String)> {
    let body = app.json(&format!("/reports/saas/movements?{query}")).await;
    body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap().to_owned();
            (s("customer_id"), s("previous_mrr"), s("current_mrr"))
        })
        .collect()
}

fn row<'a>(mrr: &'a Value, month: &str) -> &'a Value {
    mrr["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == month)
        .unwrap()
}

async fn k1_reproduces_the_spec(engine: Engine) {
    let (_t, app) = k1(engine).await;
    let mrr = app.json("/reports/saas/mrr?currency=usd").await;
    assert_eq!(mrr["parameters"]["grace_days"], 7);
    assert_eq!(mrr["parameters"]["annual_threshold"], "3000.00");
    assert_eq!(
        mrr["window"]["closed_months"],
        serde_json::json!(["2024-01", "2024-02", "2024-03", "2024-04"])
    );
    let expected = [
        ("2024-01", "560.00", 8, None),
        (
            "2024-02",
            "1310.00",
            10,
            Some(["700.00", "50.00", "0.00", "0.00", "0.00", "700.00"]),
        ),
        (
            "2024-03",
            "1310.09",
            11,
            Some(["20.09", "0.00", "0.00", "20.00", "0.00", "0.09"]),
        ),
        (
            "2024-04",
            "1160.09",
            10,
            Some(["0.00", "0.00", "50.00", "100.00", "0.00", "0.00"]),
        ),
    ];
    for (month, value, customers, movements) in expected {
        let m = row(&mrr, month);
        assert_eq!(
            (m["mrr"].as_str().unwrap(), m["customers"].as_i64().unwrap()),
            (value, customers),
            "{month}"
        );
        let names = [
            "new",
            "expansion",
            "contraction",
            "churn",
            "reactivation",
            "new_left_censored",
        ];
        match movements {
            None => assert!(m["movements"].is_null() && m["nrr_pct"].is_null(), "{month}: opening"),
            Some(v) => {
                for (name, want) in names.iter().zip(v) {
                    assert_eq!(m["movements"][name], want, "{month} {name}");
                }
            }
        }
    }
    assert!(row(&mrr, "2024-02")["quick_ratio"].is_null());
    let (mar, apr) = (row(&mrr, "2024-03"), row(&mrr, "2024-04"));
    assert_eq!(
        (&mar["logo_churn_rate_pct"], &mar["quick_ratio"]),
        (&"10.00".into(), &"1.00".into())
    );
    for (field, want) in [
        ("logo_churn_rate_pct", "9.09"),
        ("nrr_pct", "88.55"),
        ("grr_pct", "88.55"),
        ("nrr_3m_pct", "78.57"),
        ("grr_3m_pct", "78.57"),
        ("arpa", "116.01"),
    ] {
        assert_eq!(apr[field], want, "2024-04 {field}");
    }
    k1_billed_and_cohorts(app, &mrr).await;
}
both!(k1_grace_7, k1_reproduces_the_spec);

/// K1's billed amounts of February, its cohorts, its eur figures and drill-down.
async fn k1_billed_and_cohorts(app: TestApp, mrr: &Value) {
    let billed = &row(mrr, "2024-02")["billed"];
    assert_eq!(billed["recurring"]["amount"], "6930.00");
    assert_eq!(billed["one_off"]["amount"], "500.00");
    assert_eq!(billed["refunds"]["amount"], "-50.00");
    assert_eq!(billed["zero_invoices"]["count"], 2);
    assert_eq!(billed["total"], "7380.00");
    let cohorts = app.json("/reports/saas/cohorts?currency=usd").await;
    let sizes: Vec<(&str, bool, i64)> = cohorts["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cohort"].as_str().unwrap(),
                c["opening"].as_bool().unwrap(),
                c["customers"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [("2024-01", true, 8), ("2024-02", false, 2), ("2024-03", false, 2)]
    );
    let eur = app.json("/reports/saas/mrr?currency=EUR").await;
    assert!(
        eur["months"].as_array().unwrap().iter().all(|m| m["mrr"] == "20.00"),
        "{eur}"
    );
    k1_drill_down(&app).await;
}

/// The customers behind K1's movements, with names from the users file and never an e-mail.
async fn k1_drill_down(app: &TestApp) {
    let q = |month: &str, kind: &str| format!("currency=usd&month={month}&kind={kind}");
    let owned = |v: &[(&str, &str, &str)]| -> Vec<(String, String, String)> {
        v.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect()
    };
    assert_eq!(
        movement(app, &q("2024-02", "new")).await,
        owned(&[("cus_C", "0.00", "500.00"), ("cus_M", "0.00", "200.00")])
    );
    assert_eq!(
        movement(app, &q("2024-02", "expansion")).await,
        owned(&[("cus_G", "100.00", "150.00")])
    );
    assert_eq!(
        movement(app, &q("2024-03", "churn")).await,
        owned(&[("cus_H1", "20.00", "0.00")])
    );
    assert_eq!(
        movement(app, &q("2024-03", "new")).await,
        owned(&[("cus_H2", "0.00", "20.00"), ("cus_J", "0.00", "0.09")])
    );
    assert_eq!(
        movement(app, &q("2024-04", "contraction")).await,
        owned(&[("cus_G", "150.00", "100.00")])
    );
    let churn = app
        .json(&format!("/reports/saas/movements?{}", q("2024-04", "churn")))
        .await;
    assert_eq!((&churn["amount"], &churn["total"]), (&"100.00".into(), &1.into()));
    let customer = &churn["customers"][0];
    assert_eq!(
        (&customer["customer_name"], &customer["change"]),
        (&"Ann Able".into(), &"-100.00".into())
    );
    let text = churn.to_string();
    assert!(!text.contains('@') && !text.contains("email"), "{text}");
    let page = app
        .json(&format!(
            "/reports/saas/movements?{}&offset=1&limit=1",
            q("2024-03", "new")
        ))
        .await;
    assert_eq!(
        (&page["total"], &page["offset"], &page["limit"]),
        (&2.into(), &1.into(), &1.into())
    );
    assert_eq!(page["customers"][0]["customer_id"], "cus_J");
    assert_eq!(
        page["customers"][0]["left_censored"], true,
        "0.09 of March is left-censored"
    );
    // A download holds the whole movement (up to 1,000,000 rows asked for);
    // a page of JSON stays within 1,000.
    let csv = app
        .get(&format!("/reports/saas/movements?{}&format=csv", q("2024-03", "new")))
        .await;
    assert_eq!(csv.status().as_u16(), 200);
    assert_eq!(
        csv.text().await.unwrap().lines().count(),
        1 + 2,
        "the header and both customers"
    );
    let big = |format: &str| format!("/reports/saas/movements?{}&limit=5000{format}", q("2024-03", "new"));
    assert_eq!(app.get(&big("&format=csv")).await.status().as_u16(), 200);
    assert_eq!(app.get(&big("")).await.status().as_u16(), 400);
}

async fn k1_with_grace_0(engine: Engine) {
    let (_t, app) = k1(engine).await;
    let mrr = app.json("/reports/saas/mrr?currency=usd&grace_days=0").await;
    assert_eq!(mrr["parameters"]["grace_days"], 0);
    assert_eq!(row(&mrr, "2024-02")["movements"]["churn"], "80.00");
    assert_eq!(row(&mrr, "2024-02")["mrr"], "1230.00");
    assert_eq!(row(&mrr, "2024-03")["movements"]["reactivation"], "80.00");
    assert_eq!(row(&mrr, "2024-03")["mrr"], "1310.09");
    let back = movement(&app, "currency=usd&month=2024-03&kind=reactivation&grace_days=0").await;
    assert_eq!(back, [("cus_E".to_owned(), "0.00".to_owned(), "80.00".to_owned())]);
    // The default figures are not disturbed by the on-demand ones.
    let default = app.json("/reports/saas/mrr?currency=usd").await;
    assert_eq!(row(&default, "2024-02")["mrr"], "1310.00");
    // Asked again: the kept figures, the same answer.
    assert_eq!(app.json("/reports/saas/mrr?currency=usd&grace_days=0").await, mrr);
}
both!(k1_grace_0, k1_with_grace_0);

/// Amount in minor units of a JSON money string (two decimals).
fn c(v: &Value) -> i64 {
    cents(v.as_str().unwrap_or_else(|| panic!("not money: {v}")))
}

/// §8, §7, §10 and §11's identities on one currency's three reports.
pub(crate) async fn check_identities(app: &TestApp, currency: &str) {
    let mrr = app.json(&format!("/reports/saas/mrr?currency={currency}")).await;
    let months = mrr["months"].as_array().unwrap();
    assert!(!months.is_empty());
    let revenue = app
        .json(&format!(
            "/reports/monthly-transactions?currency={currency}&months=36&as_of={}",
            months.last().unwrap()["month"].as_str().unwrap()
        ))
        .await;
    for (i, m) in months.iter().enumerate() {
        let sources: i64 = m["mrr_by_interval_source"].as_object().unwrap().values().map(c).sum();
        let intervals: i64 = m["mrr_by_interval_months"].as_object().unwrap().values().map(c).sum();
        assert_eq!((sources, intervals), (c(&m["mrr"]), c(&m["mrr"])), "{m}");
        let month_revenue = revenue["months"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["month"] == m["month"])
            .unwrap();
        assert_eq!(m["billed"]["total"], month_revenue["revenue"], "§10 {}", m["month"]);
        let b = &m["billed"];
        assert_eq!(
            c(&b["recurring"]["amount"]) + c(&b["one_off"]["amount"]) + c(&b["refunds"]["amount"]),
            c(&b["total"])
        );
        if i == 0 {
            continue;
        }
        let (p, mv, n) = (&months[i - 1], &m["movements"], &m["movement_customers"]);
        let inflow = c(&mv["new"]) + c(&mv["expansion"]) + c(&mv["reactivation"]);
        let outflow = c(&mv["contraction"]) + c(&mv["churn"]);
        assert_eq!(c(&m["mrr"]), c(&p["mrr"]) + inflow - outflow, "§8 {}", m["month"]);
        assert_eq!(c(&mv["net_new"]), c(&m["mrr"]) - c(&p["mrr"]));
        let customers = |v: &Value| v.as_i64().unwrap();
        assert_eq!(
            customers(&m["customers"]),
            customers(&p["customers"]) + customers(&n["new"]) + customers(&n["reactivation"]) - customers(&n["churn"])
        );
        assert!(outflow <= c(&p["mrr"]));
        check_drill_down(app, currency, m).await;
    }
    let cohorts = app.json(&format!("/reports/saas/cohorts?currency={currency}")).await;
    for m in months {
        let cells = cohorts["cohorts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|k| k["cells"].as_array().unwrap())
            .filter(|cell| cell["month"] == m["month"]);
        let (active, money) = cells.fold((0, 0), |(a, s), cell| {
            (a + cell["active_customers"].as_i64().unwrap(), s + c(&cell["mrr"]))
        });
        assert_eq!(
            (active, money),
            (m["customers"].as_i64().unwrap(), c(&m["mrr"])),
            "§11 {}",
            m["month"]
        );
    }
}

/// Each movement of `month` equals the sum of its customers' changes, over all pages.
async fn check_drill_down(app: &TestApp, currency: &str, month: &Value) {
    for kind in ["new", "expansion", "contraction", "churn", "reactivation"] {
        let (mut offset, mut sum, mut seen) = (0, 0, 0);
        loop {
            let q = format!(
                "currency={currency}&month={}&kind={kind}&offset={offset}&limit=1000",
                month["month"].as_str().unwrap()
            );
            let page = app.json(&format!("/reports/saas/movements?{q}")).await;
            let customers = page["customers"].as_array().unwrap();
            sum += customers.iter().map(|x| c(&x["change"]).abs()).sum::<i64>();
            seen += customers.len() as i64;
            offset += 1000;
            if customers.len() < 1000 {
                assert_eq!(page["total"].as_i64().unwrap(), seen);
                break;
            }
        }
        assert_eq!(sum, c(&month["movements"][kind]), "{} {kind}", month["month"]);
        assert_eq!(
            seen,
            month["movement_customers"][kind].as_i64().unwrap(),
            "{} {kind}",
            month["month"]
        );
    }
}

async fn identities_on_the_real_export(engine: Engine) {
    let Some(input) = seed_input() else {
        return skip("the real export (../shared/seed-input) is absent");
    };
    let t = TestDb::new(engine).await;
    t.ingest(&input).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    for currency in ["usd", "eur"] {
        check_identities(&app, currency).await;
    }
    let september = app.json("/reports/saas/mrr?currency=usd").await;
    assert_eq!(row(&september, "2024-09")["mrr"], "1809459.58", "the spec's §14 figure");
    // Another threshold is computed on demand and keeps its own identities.
    let other = app
        .json("/reports/saas/mrr?currency=usd&annual_threshold=5000&grace_days=14")
        .await;
    assert_eq!(other["parameters"]["annual_threshold"], "5000");
    assert_ne!(other["months"], september["months"]);
}
both!(real_export, identities_on_the_real_export);

async fn parameters_are_validated(engine: Engine) {
    let (_t, app) = k1(engine).await;
    for (query, code, named) in [
        ("/reports/saas/mrr?grace_days=91", 400, "grace_days"),
        ("/reports/saas/mrr?grace_days=-1", 400, "grace_days"),
        ("/reports/saas/cohorts?grace_days=x", 400, "grace_days"),
        ("/reports/saas/mrr?annual_threshold=-1", 400, "annual_threshold"),
        ("/reports/saas/cohorts?annual_threshold=abc", 400, "annual_threshold"),
        ("/reports/saas/mrr?currency=xyz", 400, "xyz"),
        ("/reports/saas/mrr?format=xml", 400, "format"),
        ("/reports/saas/movements?kind=new", 400, "month"),
        ("/reports/saas/movements?month=2024-02", 400, "kind"),
        ("/reports/saas/movements?month=2024-02&kind=net_new", 400, "kind"),
        ("/reports/saas/movements?month=2024-13&kind=new", 400, "month"),
        ("/reports/saas/movements?month=2024-02&kind=new&limit=0", 400, "limit"),
        (
            "/reports/saas/movements?month=2024-02&kind=new&offset=-1",
            400,
            "offset",
        ),
        (
            "/reports/saas/movements?month=2024-01&kind=new",
            404,
            "2024-02 to 2024-04",
        ),
        ("/reports/saas/movements?month=2024-05&kind=churn", 404, "2024-05"),
    ] {
        let res = app.get(query).await;
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, code, "{query}: {body}");
        assert!(body["message"].as_str().unwrap().contains(named), "{query}: {body}");
    }
    let unknown = app.json_status("/reports/saas/mrr?currency=jpy").await;
    assert_eq!(unknown["error"], "unknown_currency");
    assert!(
        unknown["message"].as_str().unwrap().contains("eur, usd")
            || unknown["message"].as_str().unwrap().contains("usd, eur")
    );
}
both!(parameters, parameters_are_validated);

impl TestApp {
    /// The body of an answer, whatever its status.
    async fn json_status(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }
}

async fn csv_and_etag(engine: Engine) {
    let (_t, app) = k1(engine).await;
    let csv = app.get("/reports/saas/mrr?currency=usd&format=csv").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(text.starts_with("currency,month,warm_up,opening_complete_up_to_months,mrr,arr,customers,arpa,new"));
    assert!(
        text.lines()
            .nth(2)
            .unwrap()
            .starts_with("usd,2024-02,true,2,1310.00,15720.00,10,131.00,700.00"),
        "{text}"
    );
    let cohorts = app
        .get("/reports/saas/cohorts?currency=usd&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(cohorts.lines().count(), 1 + 4 + 3 + 2, "{cohorts}");
    let drill = app
        .get("/reports/saas/movements?currency=usd&month=2024-04&kind=churn&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(drill, "currency,month,kind,customer_id,customer_name,previous_mrr,current_mrr,change,left_censored\nusd,2024-04,churn,cus_A,Ann Able,100.00,0.00,-100.00,false\n");
    for path in [
        "/reports/saas/mrr?currency=usd",
        "/reports/saas/cohorts?grace_days=0",
        "/reports/saas/movements?month=2024-02&kind=new",
    ] {
        let first = app.get(path).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let again = app
            .client
            .get(format!("{}{path}", app.address))
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(again.headers()["etag"], etag.as_str());
    }
}
both!(csv_etag, csv_and_etag);

async fn a_token_is_required(engine: Engine) {
    let t = k1_loaded(engine).await;
    let reader = token(&t, "reader", Role::Reader).await;
    let app = token_app(&t).await;
    for path in [
        "/reports/saas/mrr",
        "/reports/saas/cohorts",
        "/reports/saas/movements?month=2024-02&kind=new",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(app.get_as(path, &reader).await.status(), StatusCode::OK, "{path}");
    }
}
both!(access, a_token_is_required);

/// Every subscription response of `app`: each currency, month and movement,
/// with the default parameters and others.
async fn saas_responses(app: &TestApp) -> Vec<(String, String)> {
    let meta = app.json("/reports/meta").await;
    let currencies = meta["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["currency"].as_str().unwrap().to_owned());
    let mut paths = Vec::new();
    for currency in currencies {
        for params in ["", "&grace_days=0&annual_threshold=2000"] {
            let mrr = app
                .json(&format!("/reports/saas/mrr?currency={currency}{params}"))
                .await;
            paths.push(format!("/reports/saas/mrr?currency={currency}{params}"));
            paths.push(format!("/reports/saas/cohorts?currency={currency}{params}&format=csv"));
            for m in mrr["months"].as_array().unwrap().iter().skip(1) {
                for kind in ["new", "expansion", "contraction", "churn", "reactivation"] {
                    let month = m["month"].as_str().unwrap();
                    paths.push(format!(
                        "/reports/saas/movements?currency={currency}&month={month}&kind={kind}&limit=1000{params}"
                    ));
                }
            }
        }
    }
    let mut out = Vec::new();
    for path in paths {
        let res = app.get(&path).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        out.push((path, res.text().await.unwrap()));
    }
    out
}

/// January–May by replace, then June–October by append, serves exactly the
/// figures of one replace of everything (an append restates earlier months).
async fn append_equals_replace(engine: Engine) {
    let input = realistic_input();
    let [first, second, all] = split_by_month(&input, |m| m <= 5);
    let appended = TestDb::new(engine).await;
    appended.ingest(first.path()).await.unwrap();
    let before = saas_responses(&TestApp::spawn(&appended.db).await).await;
    appended.append(second.path()).await.unwrap();
    let replaced = TestDb::new(engine).await;
    replaced.ingest(all.path()).await.unwrap();
    let a = saas_responses(&TestApp::spawn(&appended.db).await).await;
    let b = saas_responses(&TestApp::spawn(&replaced.db).await).await;
    assert_eq!(a.len(), b.len());
    for ((path, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(x, y, "append vs replace: {path} differs");
    }
    assert!(a.len() > before.len(), "the append added months");
}
both!(append_vs_replace, append_equals_replace);

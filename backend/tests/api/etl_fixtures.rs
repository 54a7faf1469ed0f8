//! Every cleaning rule on small hand-written files.

use backend::etl::EtlError;

use crate::both;
use crate::helpers::{fixture, Engine, TestDb};

const PRODUCTS: &[&str] = &[
    "sub_a\tBase\tAlpha\tmonth\t300\tactive",
    "sub_a\tBase - Support\tAlpha Support\tmonth\t100\tactive",
    "sub_b\tPro\tBeta\tyear\t0\tactive",
    "sub_b\tPro\tBeta\tyear\t0\tcanceled",
    "\tX\tGamma\tmonth\t1\tactive",
    "sub_c\tY\tGamma\tmonth\t-5\tactive",
];

const TRANSACTIONS: &[&str] = &[
    "1/1/24 7:00\tt1\tc1\tsub_a\t10.00\tusd",
    "2/29/2024 23:59:59\tt2\tc1\t\t5.5\tusd",
    "2024-03-01T10:15:30Z\tt3\tc2\tsub_zzz\t0\tusd",
    "2024-03-02 10:15\tt4\tc2\tsub_b\t7.01\tEUR",
    "2024-03-03T01:00:00+02:00\tt5\tc3\tsub_b\t-1.00\tusd",
    "1/1/24 7:00\tt1\tc1\tsub_a\t10.00\tusd",
    "1/2/24 7:00\tt6\tc1\t\t1\tusd",
    "1/3/24 7:00\tt6\tc1\t\t2\tusd",
    "yesterday\tt7\tc1\t\t1\tusd",
    "1/4/24 7:00\tt8\tc1\t\tabc\tusd",
    "1/4/24 7:00\tt9\tc1\t\t1.999\tusd",
    "1/4/24 7:00\tt10\tc1\t\t1\txxx",
    "1/4/24 7:00\tt11\t\t\t1\tusd",
    "1/5/24 7:00\tt12\tc9\t\t3\tusd",
];

const USERS: &[&str] = &[
    "c1\tAnn\tann@x.test",
    "c1\t\t",
    "c1\tAnna\t",
    "c2\t\tbob@x.test",
    "c3\tCid\tcid@x.test",
    "c4\tDee\tdee@x.test",
    "\tNo\tid",
];

async fn cleaning_rules(engine: Engine) {
    let dir = fixture(PRODUCTS, TRANSACTIONS, USERS);
    let t = TestDb::new(engine).await;
    let s = t.ingest(dir.path()).await.unwrap();
    let counts: Vec<_> = s
        .files
        .iter()
        .map(|f| {
            (
                f.file,
                f.counts.read,
                f.counts.loaded,
                f.counts.duplicates,
                f.counts.rejected,
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("products.csv", 6, 3, 1, 2),
            ("transactions.csv", 14, 6, 1, 7),
            ("users.csv", 7, 4, 2, 1)
        ]
    );
    assert_eq!(s.customers, 5);
    assert_eq!(s.customers_only_in_transactions, 1);
    assert_eq!(s.customers_without_transactions, 1);
    assert_eq!(s.customers_with_conflicting_names, 1);

    // Products: last row of a key wins.
    let status = t
        .rows("SELECT status FROM dim_product WHERE subscription_id = 'sub_b'")
        .await;
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].try_get::<String>("", "status").unwrap(), "canceled");

    // Users: last non-empty name and e-mail; orphan customer gets empty strings.
    let users = t
        .rows("SELECT customer_id, customer_name, customer_email, in_users_file FROM dim_user ORDER BY customer_id")
        .await;
    let users: Vec<(String, String, String, bool)> = users
        .iter()
        .map(|r| {
            (
                r.try_get("", "customer_id").unwrap(),
                r.try_get("", "customer_name").unwrap(),
                r.try_get("", "customer_email").unwrap(),
                r.try_get("", "in_users_file").unwrap(),
            )
        })
        .collect();
    assert_eq!(users[0], ("c1".into(), "Anna".into(), "ann@x.test".into(), true));
    assert_eq!(users[4], ("c9".into(), String::new(), String::new(), false));

    // Dates: every format, offsets converted to UTC.
    let ts = t
        .rows("SELECT transaction_id, date_utc FROM fct_transaction ORDER BY transaction_id")
        .await;
    let ts: Vec<(String, chrono::NaiveDateTime)> = ts
        .iter()
        .map(|r| {
            (
                r.try_get("", "transaction_id").unwrap(),
                r.try_get("", "date_utc").unwrap(),
            )
        })
        .collect();
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    assert_eq!(
        ts,
        vec![
            ("t1".into(), at("2024-01-01 07:00:00")),
            ("t12".into(), at("2024-01-05 07:00:00")),
            ("t2".into(), at("2024-02-29 23:59:59")),
            ("t3".into(), at("2024-03-01 10:15:30")),
            ("t4".into(), at("2024-03-02 10:15:00")),
            ("t5".into(), at("2024-03-02 23:00:00")),
        ]
    );

    // Money: exact, per currency; refunds netted; allocation by plan amount.
    assert_eq!(
        t.scalar_i64("SELECT CAST(SUM(total_cents) AS BIGINT) FROM fct_transaction WHERE currency = 'usd'")
            .await,
        1750
    );
    assert_eq!(
        t.scalar_i64("SELECT CAST(SUM(total_cents) AS BIGINT) FROM fct_transaction WHERE currency = 'eur'")
            .await,
        701
    );
    let products = t
        .rows("SELECT currency, product, CAST(SUM(total_sales_cents) AS BIGINT) AS c FROM agg_product_month GROUP BY currency, product ORDER BY currency, product")
        .await;
    let products: Vec<(String, String, i64)> = products
        .iter()
        .map(|r| {
            (
                r.try_get("", "currency").unwrap(),
                r.try_get("", "product").unwrap(),
                r.try_get("", "c").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        products,
        vec![
            ("eur".into(), "Beta".into(), 701),
            ("usd".into(), "Alpha".into(), 750),
            ("usd".into(), "Alpha Support".into(), 250),
            ("usd".into(), "Beta".into(), -100),
        ]
    );
    let jan = t.rows("SELECT transactions, active_customers, revenue_cents FROM agg_monthly WHERE currency = 'usd' AND month = '2024-01'").await;
    assert_eq!(jan[0].try_get::<i64>("", "transactions").unwrap(), 2);
    assert_eq!(jan[0].try_get::<i64>("", "active_customers").unwrap(), 2);
    assert_eq!(jan[0].try_get::<i64>("", "revenue_cents").unwrap(), 1300);

    // Rejects: stored with line numbers and reasons quoting the value.
    let rejects = t
        .rows("SELECT file, line_number, reason, raw_line FROM etl_rejected_row ORDER BY file, line_number")
        .await;
    let rejects: Vec<(String, i64, String, String)> = rejects
        .iter()
        .map(|r| {
            (
                r.try_get("", "file").unwrap(),
                r.try_get("", "line_number").unwrap(),
                r.try_get("", "reason").unwrap(),
                r.try_get("", "raw_line").unwrap(),
            )
        })
        .collect();
    assert_eq!(rejects.len(), 10);
    let find = |file: &str, line: i64| {
        rejects
            .iter()
            .find(|r| r.0 == file && r.1 == line)
            .unwrap_or_else(|| panic!("{file}:{line} not rejected: {rejects:?}"))
    };
    assert!(
        find("products.csv", 6).2.contains("empty subscription ID"),
        "{rejects:?}"
    );
    assert!(find("products.csv", 7).2.contains("negative amount \"-5\""));
    assert!(find("transactions.csv", 8).2.contains("\"t6\" appears on 2 rows"));
    assert!(find("transactions.csv", 9).2.contains("\"t6\" appears on 2 rows"));
    assert!(find("transactions.csv", 10).2.contains("\"yesterday\""));
    assert!(find("transactions.csv", 11).2.contains("\"abc\""));
    assert!(find("transactions.csv", 12).2.contains("\"1.999\""));
    assert!(find("transactions.csv", 13).2.contains("\"xxx\""));
    assert!(find("transactions.csv", 14).2.contains("empty Customer ID"));
    assert!(find("users.csv", 8).2.contains("empty Customer ID"));
    assert_eq!(find("transactions.csv", 10).3, "yesterday\tt7\tc1\t\t1\tusd");
}
both!(cleaning, cleaning_rules);

async fn comma_bom_lf_and_quotes(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("products.csv"),
        "\u{FEFF}Subscription_ID,plan,PRODUCT,Interval,Amount,Status\n\"sub,1\",\"Plan \"\"A\"\"\",Prod A,month,10,active\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("transactions.csv"),
        "transaction id,DATE (utc),customer id,subscription id,total,currency\nt1,1/1/24 7:00,c1,\"sub,1\",\"12.34\",usd\n\
         t2,\"1/2/24 7:00\",c1,,\"multi\nline\",usd\nt3,1/3/24 7:00,c1,,-,usd\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users.csv"),
        "\u{FEFF}customer_id;customer_name;customer_email\nc1;\"Doe; Jane\";jane@x.test\n",
    )
    .unwrap();
    let t = TestDb::new(engine).await;
    let s = t.ingest(dir.path()).await.unwrap();
    assert!(s.files.iter().all(|f| f.counts.loaded == 1), "{s:?}");
    // A record is one line: the quote opened on line 3 does not swallow line 4,
    // both are rejected on their own, and line 5 is read normally.
    assert_eq!(s.files[1].counts.rejected, 3);
    assert_eq!(s.files[1].counts.read, 4);
    let lines: Vec<i64> = t
        .rows("SELECT line_number FROM etl_rejected_row ORDER BY line_number")
        .await
        .iter()
        .map(|r| r.try_get("", "line_number").unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5]);
    let codes: Vec<String> = t
        .rows("SELECT reason_code FROM etl_rejected_row ORDER BY line_number")
        .await
        .iter()
        .map(|r| r.try_get("", "reason_code").unwrap())
        .collect();
    assert_eq!(codes, ["unclosed_quote", "missing_field", "invalid_amount"]);
    assert_eq!(
        t.rows("SELECT plan FROM dim_product").await[0]
            .try_get::<String>("", "plan")
            .unwrap(),
        "Plan \"A\""
    );
    assert_eq!(
        t.rows("SELECT customer_name FROM dim_user").await[0]
            .try_get::<String>("", "customer_name")
            .unwrap(),
        "Doe; Jane"
    );
    assert_eq!(
        t.scalar_i64("SELECT total_sales_cents FROM agg_product_month").await,
        1234
    );
}
both!(comma_bom_lf, comma_bom_lf_and_quotes);

#[tokio::test]
async fn non_utf8_row_is_rejected_and_kept() {
    let dir = fixture(&[PRODUCT], &["1/1/24 7:00\tt1\tc1\t\t1\tusd"], &["c1\tAnn\tann@x.test"]);
    let mut bytes = std::fs::read(dir.path().join("transactions.csv")).unwrap();
    bytes.extend_from_slice(b"\r\n1/1/24 8:00\tt2\tc\xff2\t\t1\tusd");
    std::fs::write(dir.path().join("transactions.csv"), bytes).unwrap();
    let t = TestDb::new(Engine::Sqlite).await;
    let s = t.ingest(dir.path()).await.unwrap();
    assert_eq!((s.files[1].counts.loaded, s.files[1].counts.rejected), (1, 1));
    let r = t.rows("SELECT reason, raw_line FROM etl_rejected_row").await;
    assert!(r[0]
        .try_get::<String>("", "reason")
        .unwrap()
        .contains("not valid UTF-8"));
    assert!(r[0]
        .try_get::<String>("", "raw_line")
        .unwrap()
        .contains("t2\tc\u{FFFD}2"));
}

#[tokio::test]
async fn unusable_files_fail_with_one_clear_line() {
    let t = TestDb::new(Engine::Sqlite).await;

    let dir = fixture(&[], &[], &[]);
    std::fs::write(
        dir.path().join("transactions.csv"),
        "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\r\n",
    )
    .unwrap();
    let err = t.ingest(dir.path()).await.unwrap_err();
    assert!(
        matches!(err, EtlError::MissingColumn { column: "Currency", .. }),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("transactions.csv") && msg.contains("\"Currency\"") && !msg.contains('\n'),
        "{msg}"
    );

    let dir = fixture(&[], &[], &[]);
    std::fs::remove_file(dir.path().join("users.csv")).unwrap();
    let msg = t.ingest(dir.path()).await.unwrap_err().to_string();
    assert!(msg.contains("users.csv") && msg.contains("cannot open"), "{msg}");

    let dir = fixture(&[], &[], &[]);
    std::fs::write(dir.path().join("products.csv"), "").unwrap();
    let msg = t.ingest(dir.path()).await.unwrap_err().to_string();
    assert!(msg.contains("products.csv") && msg.contains("empty"), "{msg}");

    let dir = fixture(&[], &[], &[]);
    std::fs::write(dir.path().join("users.csv"), b"Customer \xffID\tName\tEmail\r\n").unwrap();
    let msg = t.ingest(dir.path()).await.unwrap_err().to_string();
    assert!(msg.contains("users.csv") && msg.contains("UTF-8"), "{msg}");

    // Failed runs are recorded with their error, and nothing was loaded.
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'failed' AND error IS NOT NULL")
            .await,
        4
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 0);
}

/// A product row for fixtures that test other files (a file without data rows
/// is refused).
const PRODUCT: &str = "sub_x\tBase\tAlpha\tmonth\t100\tactive";

/// A NUL byte cannot be stored in a text column of either database: the row is
/// rejected with the column named, and its raw line kept (NUL shown as ␀).
async fn nul_byte_row_is_rejected_and_kept(engine: Engine) {
    let dir = fixture(&[PRODUCT], &["1/1/24 7:00\tt1\tc1\t\t1\tusd"], &["c1\tAnn\tann@x.test"]);
    let mut bytes = std::fs::read(dir.path().join("transactions.csv")).unwrap();
    bytes.extend_from_slice(b"\r\n1/1/24 8:00\tt2\tc\x002\t\t1\tusd");
    std::fs::write(dir.path().join("transactions.csv"), bytes).unwrap();
    let t = TestDb::new(engine).await;
    let s = t.ingest(dir.path()).await.unwrap();
    assert_eq!((s.files[1].counts.loaded, s.files[1].counts.rejected), (1, 1));
    let r = t.rows("SELECT reason, raw_line FROM etl_rejected_row").await;
    let reason: String = r[0].try_get("", "reason").unwrap();
    assert!(reason.contains("\"Customer ID\"") && reason.contains("NUL"), "{reason}");
    let raw: String = r[0].try_get("", "raw_line").unwrap();
    assert!(raw.contains("t2\tc\u{2400}2"), "{raw}");
}
both!(nul_byte, nul_byte_row_is_rejected_and_kept);

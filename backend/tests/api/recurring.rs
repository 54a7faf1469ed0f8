//! Recurring loads: append mode, its equivalence with a replace, idempotence,
//! conflicts with loaded rows, and a kill during an append.

use std::path::Path;
use std::time::{Duration, Instant};

use backend::etl::{IngestOptions, RunStatus};
use serde_json::Value;

use crate::both;
use crate::helpers::{fixture, generated, realistic_input, Engine, TestApp, TestDb};

/// Splits an export by the month of each transaction: rows of months for
/// which `first` holds go to the first part, the others to the second. The
/// users file follows its transactions line by line when it has one row per
/// transaction (both the real export and the generator write it so), else it
/// goes whole into the first part; products.csv goes whole into both.
/// Returns (first, second, both concatenated).
pub fn split_by_month(dir: &Path, first: impl Fn(u32) -> bool) -> [tempfile::TempDir; 3] {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let lines = |text: &str| -> (String, Vec<String>) {
        let mut it = text.split('\n').map(|l| l.trim_end_matches('\r').to_owned());
        let header = it.next().unwrap();
        (header, it.filter(|l| !l.is_empty()).collect())
    };
    let (tx_header, tx) = lines(&read("transactions.csv"));
    let (users_header, users) = lines(&read("users.csv"));
    let products = read("products.csv");
    let aligned = users.len() == tx.len();
    let parts: [tempfile::TempDir; 3] = std::array::from_fn(|_| tempfile::tempdir().unwrap());
    let mut rows: [(Vec<&str>, Vec<&str>); 3] = Default::default();
    for (i, line) in tx.iter().enumerate() {
        let month: u32 = line.split('/').next().unwrap().parse().unwrap();
        let part = if first(month) { 0 } else { 1 };
        for p in [part, 2] {
            rows[p].0.push(line);
            if aligned {
                rows[p].1.push(&users[i]);
            }
        }
    }
    if !aligned {
        rows[0].1 = users.iter().map(String::as_str).collect();
        rows[2].1 = rows[0].1.clone();
    }
    let join = |header: &str, lines: &[&str]| {
        let mut all = vec![header];
        all.extend_from_slice(lines);
        all.join("\r\n")
    };
    for (p, (tx_rows, user_rows)) in rows.iter().enumerate() {
        let out = parts[p].path();
        std::fs::write(out.join("transactions.csv"), join(&tx_header, tx_rows)).unwrap();
        std::fs::write(out.join("users.csv"), join(&users_header, user_rows)).unwrap();
        let products = if p == 2 {
            // Both parts' products files, concatenated.
            let (header, body) = lines(&products);
            let body: Vec<&str> = body.iter().chain(&body).map(String::as_str).collect();
            join(&header, &body)
        } else {
            products.clone()
        };
        std::fs::write(out.join("products.csv"), products).unwrap();
    }
    parts
}

/// How much of `/quality` a comparison looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// Everything it serves.
    Whole,
    /// Without `last_ingest` (the run's id and times, not its data).
    WithoutTheRun,
    /// Also without the figures of what the run read (its rows, the score
    /// and alerts of its files): an append reads less than a replace of the
    /// same data.
    DataOnly,
}

/// Removes from a `/quality` body what `keep` leaves out.
pub fn strip(quality: &mut Value, keep: Quality) {
    let fields: &[&str] = match keep {
        Quality::Whole => &[],
        Quality::WithoutTheRun => &["last_ingest"],
        Quality::DataOnly => &["last_ingest", "rows", "score", "alerts"],
    };
    for field in fields {
        quality.as_object_mut().unwrap().remove(*field);
    }
}

/// Every report (each currency, several windows, JSON and CSV) and `/quality`
/// as served, the latter reduced to `keep`.
pub async fn every_response(app: &TestApp, keep: Quality) -> Vec<(String, String)> {
    let meta = app.json("/reports/meta").await;
    let currencies: Vec<String> = meta["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["currency"].as_str().unwrap().to_owned())
        .collect();
    let latest = meta["latest_month"].as_str().unwrap().to_owned();
    let mut paths = vec!["/reports/meta".to_owned()];
    for c in &currencies {
        for q in [
            format!("months=12&currency={c}"),
            format!("months=36&currency={c}&as_of={latest}"),
            format!("months=3&currency={c}&format=csv"),
        ] {
            paths.push(format!("/reports/monthly-transactions?{q}"));
            paths.push(format!("/reports/revenue-growth?{q}"));
        }
        paths.push(format!("/reports/top-products?limit=100&currency={c}"));
        paths.push(format!(
            "/reports/top-products?limit=100&currency={c}&from=2024-03&to=2024-07"
        ));
        paths.push(format!("/reports/top-users?limit=100&currency={c}"));
        paths.push(format!("/reports/top-users?limit=100&currency={c}&format=csv"));
    }
    let mut out = Vec::new();
    for path in paths {
        let res = app.get(&path).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        out.push((path, res.text().await.unwrap()));
    }
    let mut quality: Value = app.json("/quality").await;
    strip(&mut quality, keep);
    out.push(("/quality".to_owned(), quality.to_string()));
    out
}

fn assert_same(a: &[(String, String)], b: &[(String, String)], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: different endpoints");
    for ((path, x), (_, y)) in a.iter().zip(b) {
        assert_eq!(x, y, "{what}: {path} differs");
    }
}

/// January–May by replace, then June–October by append, serves exactly what
/// one replace of the concatenated files serves.
async fn append_equals_replace_of_everything(engine: Engine) {
    for input in [realistic_input(), generated(20_000, 11).path().to_owned()] {
        let [first, second, all] = split_by_month(&input, |m| m <= 5);
        let appended = TestDb::new(engine).await;
        appended.ingest(first.path()).await.unwrap();
        let s = appended.append(second.path()).await.unwrap();
        assert!(s.data_changed);
        let tx = &s.files[1].counts;
        assert!(tx.loaded > 0 && tx.already_loaded == 0, "{tx:?}");
        let products = &s.files[0].counts;
        assert_eq!(
            products.loaded, 0,
            "the same catalog again changes nothing: {products:?}"
        );
        let replaced = TestDb::new(engine).await;
        replaced.ingest(all.path()).await.unwrap();
        let a = every_response(&TestApp::spawn(&appended.db).await, Quality::DataOnly).await;
        let b = every_response(&TestApp::spawn(&replaced.db).await, Quality::DataOnly).await;
        assert_same(&a, &b, &format!("append vs replace of {}", input.display()));
        // The stored rows agree too, not only what is served.
        for sql in [
            "SELECT COUNT(*) FROM fct_transaction",
            "SELECT CAST(SUM(total_cents) AS BIGINT) FROM fct_transaction",
            "SELECT COUNT(*) FROM dim_user",
            "SELECT COUNT(*) FROM dim_user WHERE conflicting_name",
            "SELECT CAST(SUM(total_spending_cents) AS BIGINT) FROM dim_user",
            "SELECT COUNT(*) FROM agg_customer_spending",
            "SELECT CAST(SUM(active_customers) AS BIGINT) FROM agg_monthly",
            "SELECT COUNT(*) FROM dim_product",
        ] {
            assert_eq!(appended.scalar_i64(sql).await, replaced.scalar_i64(sql).await, "{sql}");
        }
    }
}
both!(append_equals_replace, append_equals_replace_of_everything);

/// Appending the same files again loads nothing and changes no response, byte
/// for byte: skipped by checksum, or with --force counted as already loaded.
async fn append_is_idempotent(engine: Engine) {
    let input = realistic_input();
    let [first, second, _] = split_by_month(&input, |m| m <= 7);
    let t = TestDb::new(engine).await;
    t.ingest(first.path()).await.unwrap();
    t.append(second.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let before = every_response(&app, Quality::Whole).await;
    let counts = (
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        t.scalar_i64("SELECT COUNT(*) FROM dim_user").await,
    );

    let skipped = t.run(&IngestOptions::append(second.path())).await.unwrap();
    assert_eq!(skipped.status, RunStatus::Skipped);
    // products.csv was the same in both parts: run 1 ingested it (run 2 skipped it).
    let seen: Vec<Option<i64>> = skipped.files.iter().map(|f| f.same_as_run).collect();
    assert_eq!(seen, [Some(1), Some(2), Some(2)]);
    assert!(skipped.message.as_deref().unwrap().contains("ingested before"));

    let mut forced = IngestOptions::append(second.path());
    forced.force = true;
    let again = t.run(&forced).await.unwrap();
    assert_eq!(again.status, RunStatus::Succeeded);
    assert!(!again.data_changed);
    let tx = &again.files[1].counts;
    assert_eq!((tx.loaded, tx.rejected), (0, 0));
    assert_eq!(tx.already_loaded + tx.duplicates, tx.read);
    assert_eq!(again.files[2].counts.loaded, 0, "users: nothing new");

    tokio::time::sleep(backend::reports::RECHECK + Duration::from_millis(200)).await;
    assert_same(
        &before,
        &every_response(&app, Quality::Whole).await,
        "after appending again",
    );
    let fresh = TestApp::spawn(&t.db).await;
    assert_same(&before, &every_response(&fresh, Quality::Whole).await, "a fresh server");
    assert_eq!(
        counts,
        (
            t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
            t.scalar_i64("SELECT COUNT(*) FROM dim_user").await,
        )
    );
    // Every run is in the history, with what it did.
    let statuses: Vec<String> = t
        .rows("SELECT status || ':' || mode || ':' || CASE WHEN data_changed THEN 'changed' ELSE 'same' END AS s FROM etl_run ORDER BY id")
        .await
        .iter()
        .map(|r| r.try_get("", "s").unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "succeeded:replace:changed",
            "succeeded:append:changed",
            "skipped:append:same",
            "succeeded:append:same"
        ]
    );
}
both!(idempotent_append, append_is_idempotent);

/// A transaction id loaded before, with other content, is rejected as
/// `conflicts_with_loaded`; the loaded row stays; the rest of the file loads.
async fn conflicting_rows_are_rejected(engine: Engine) {
    const P: &str = "s1\tBase\tAlpha\tmonth\t100\tactive";
    let t = TestDb::new(engine).await;
    let first = fixture(
        &[P],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\t\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c2\tBob\tbob@x.test"],
    );
    t.ingest(first.path()).await.unwrap();
    let second = fixture(
        &[P, "s2\tPro\tBeta\tyear\t300\tactive"],
        &[
            // The same row again, in another date format: already loaded.
            "2024-01-01T07:00:00Z\tt1\tc1\ts1\t10\tusd",
            // Same id, another amount: a conflict.
            "1/2/24 7:00\tt2\tc2\t\t6.00\tusd",
            "2/1/24 7:00\tt3\tc1\ts2\t3.00\tusd",
            "2/2/24 7:00\tt4\tc3\ts1\t1.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c3\tCid\tcid@x.test"],
    );
    let mut options = IngestOptions::append(second.path());
    options.guard.max_reject_pct = "30".parse().unwrap();
    let s = t.committed(&options).await.unwrap();
    let c = |i: usize| {
        let c = &s.files[i].counts;
        (c.read, c.loaded, c.already_loaded, c.duplicates, c.rejected)
    };
    assert_eq!(c(0), (2, 1, 1, 0, 0), "products: s2 is new, s1 unchanged");
    assert_eq!(c(1), (4, 2, 1, 0, 1), "transactions");
    assert_eq!(c(2), (2, 1, 1, 0, 0), "users: c3 is new, c1 unchanged");
    let reasons: Vec<(&str, u64, i64)> = s.reasons.iter().map(|r| (r.reason, r.rows, r.first_line)).collect();
    assert_eq!(reasons, [("conflicts_with_loaded", 1, 3)]);
    let rejected = t
        .rows("SELECT reason_code, reason, raw_line, line_number FROM etl_rejected_row WHERE run_id = 2")
        .await;
    assert_eq!(rejected.len(), 1);
    let reason: String = rejected[0].try_get("", "reason").unwrap();
    assert!(
        reason.contains("\"t2\"") && reason.contains("5.00") && reason.contains("6.00"),
        "{reason}"
    );
    assert_eq!(
        t.scalar_i64("SELECT total_cents FROM fct_transaction WHERE transaction_id = 't2'")
            .await,
        500,
        "the loaded row stays"
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 4);
    // Revenue by product: t3 went to the new product, t4 to the stored one.
    assert_eq!(
        t.scalar_i64("SELECT total_sales_cents FROM agg_product_month WHERE product = 'Beta'")
            .await,
        300
    );
    assert_eq!(
        t.scalar_i64("SELECT CAST(SUM(total_sales_cents) AS BIGINT) FROM agg_product_month WHERE product = 'Alpha'")
            .await,
        1100
    );
    // January's active customers did not double: c1 and c2 were counted already.
    assert_eq!(
        t.scalar_i64("SELECT active_customers FROM agg_monthly WHERE month = '2024-01'")
            .await,
        2
    );
    assert_eq!(
        t.scalar_i64("SELECT active_customers FROM agg_monthly WHERE month = '2024-02'")
            .await,
        2
    );
}
both!(conflicts_with_loaded, conflicting_rows_are_rejected);

/// SIGKILL of a real `backend ingest --mode append` while it writes: the data
/// stays as it was, and the next append loads everything.
async fn killed_append_keeps_previous_data(engine: Engine) {
    let t = TestDb::new(engine).await;
    let base = generated(2_000, 21);
    t.ingest(base.path()).await.unwrap();
    let before = (
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        t.scalar_i64("SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly")
            .await,
        t.scalar_i64("SELECT COUNT(*) FROM dim_user").await,
    );
    let big = generated(300_000, 22);
    let spawn = || t.spawn_ingest("append", big.path());
    let mut child = spawn();
    // Kill it once it is writing: PostgreSQL shows a COPY into a staging
    // table; SQLite's write-ahead log grows.
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let writing = match engine {
            Engine::Postgres => {
                t.scalar_i64(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query LIKE 'COPY fct_transaction__stage%'",
                )
                .await
                    > 0
            }
            Engine::Sqlite => std::fs::metadata(t.dir.path().join("test.db-wal")).map_or(0, |m| m.len()) > 8 << 20,
        };
        if writing {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the append ended before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the append never started writing"
        );
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    let after = (
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        t.scalar_i64("SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly")
            .await,
        t.scalar_i64("SELECT COUNT(*) FROM dim_user").await,
    );
    assert_eq!(after, before, "a killed append changed the data");
    // The killed run is not "ingested": the same files append in full next time.
    let s = t.append(big.path()).await.unwrap();
    assert_eq!(s.files[1].counts.loaded, 300_000);
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'abandoned'")
            .await,
        1
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        before.0 + 300_000
    );
}
both!(killed_append, killed_append_keeps_previous_data);

/// A database loaded before this version (migrations 1–3, no recorded state):
/// migration 4 keeps its rows (PostgreSQL: they become the tables' partitions),
/// the reports still answer, an append asks for one replace first, and a
/// replace then works.
async fn data_of_an_older_version_is_kept(engine: Engine) {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    let t = TestDb::new(engine).await;
    migration::Migrator::up(&t.db, Some(3)).await.unwrap();
    for sql in [
        "INSERT INTO dim_user (customer_id, customer_name, customer_email, currency, total_spending_cents, transactions, in_users_file) \
         VALUES ('c1', 'Ann', 'ann@x.test', 'usd', 1500, 2, true)",
        "INSERT INTO dim_product VALUES ('s1', 'Base', 'Alpha', 'month', 100, 'active')",
        "INSERT INTO fct_transaction VALUES ('t1', '2024-01-05 07:00:00', 'c1', 's1', 1000, 'usd'), \
         ('t2', '2024-02-05 07:00:00', 'c1', NULL, 500, 'usd')",
        "INSERT INTO agg_monthly VALUES ('usd', '2024-01', 1, 1, 1000, 0, 0, 0, 0, 0), ('usd', '2024-02', 1, 1, 500, 0, 1, 500, 0, 0)",
        "INSERT INTO agg_product_month VALUES ('usd', '2024-01', 'Alpha', 1000, 1)",
        "INSERT INTO agg_customer_spending VALUES ('usd', 'c1', 1500, 2)",
    ] {
        t.db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // The run record such a version wrote, with its quality checks.
    let quality = serde_json::json!({
        "customers": {"in_transactions_not_in_users": 0, "in_users_without_transactions": 0, "total": 1, "multi_currency": 0},
        "subscriptions": {
            "null_subscription": {"transactions": 1, "customers": 1, "amount": {"usd": "5.00"}, "share_of_revenue_pct": {"usd": "33.33"}},
            "unknown_subscription": {"transactions": 0, "customers": 0, "amount": {"usd": "0.00"}, "share_of_revenue_pct": {"usd": "0.00"}}
        },
        "last_ingest": null,
        "completeness": {"customers_without_name": 0, "customers_without_email": 0, "user_rows_without_name": 0,
                         "user_rows_without_email": 0, "customers_with_conflicting_names": 0, "customers_with_conflicting_emails": 0},
        "zero_amount": {"transactions": 0},
        "refunds": {"transactions": 0, "amount": {}},
        "currencies": [{"currency": "usd", "transactions": 2, "revenue": "15.00"}],
        "freshness": {"first_transaction_at": "2024-01-05T07:00:00Z", "latest_transaction_at": "2024-02-05T07:00:00Z",
                      "days_since_latest_transaction": null}
    });
    t.db.execute_unprepared(&format!(
        "INSERT INTO etl_run (started_at, finished_at, status, input_dir, summary_json, quality_json) \
         VALUES ('2024-03-01 00:00:00', '2024-03-01 00:00:01', 'succeeded', 'old', '{{}}', '{quality}')"
    ))
    .await
    .unwrap();
    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 2);
    assert_eq!(
        t.scalar_i64("SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly")
            .await,
        1500
    );
    if engine == Engine::Postgres {
        assert_eq!(
            t.scalar_i64("SELECT COUNT(*) FROM fct_transaction__data").await,
            2,
            "the old rows, through migrations 6 and 8, in the one partition"
        );
    }
    let app = TestApp::spawn(&t.db).await;
    let monthly = app.json("/reports/monthly-transactions?months=2&as_of=2024-02").await;
    assert_eq!(monthly["months"][1]["revenue"], "5.00");
    assert_eq!(app.json("/quality").await["last_ingest"]["run_id"], 1);

    let input = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["3/1/24 7:00\tt3\tc1\ts1\t1.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    let err = t.run(&IngestOptions::append(input.path())).await.unwrap_err();
    assert!(err.to_string().contains("older version"), "{err}");
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        2,
        "nothing changed"
    );
    let mut replace = IngestOptions::replace(input.path());
    replace.guard.min_keep_pct = "0".parse().unwrap();
    t.committed(&replace).await.unwrap();
    let next = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["4/1/24 7:00\tt4\tc1\ts1\t2.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    t.append(next.path()).await.unwrap();
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 2);
}
both!(older_version, data_of_an_older_version_is_kept);

/// A recorded state that cannot be read (edited by hand, say) is named as
/// such: an append, which builds on it, is refused saying which run's
/// record and why, and changes nothing; a replace, which does not need it,
/// goes ahead.
async fn unreadable_recorded_state(engine: Engine) {
    let t = TestDb::new(engine).await;
    let first = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    t.ingest(first.path()).await.unwrap();
    t.rows("UPDATE etl_run SET state_json = '{\"customers\": ' WHERE id = 1")
        .await;
    let next = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["2/1/24 7:00\tt2\tc1\ts1\t2.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    let err = t.run(&IngestOptions::append(next.path())).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("recorded by run 1 cannot be read"), "{message}");
    assert!(!message.contains("older version"), "{message}");
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        1,
        "nothing changed"
    );
    let mut replace = IngestOptions::replace(next.path());
    replace.guard.min_keep_pct = "0".parse().unwrap();
    t.committed(&replace).await.unwrap();
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 1);
}
both!(unreadable_state, unreadable_recorded_state);

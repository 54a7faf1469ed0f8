//! The fact table partitioned by month (PostgreSQL): what an append writes,
//! the migration of data loaded before, and a kill at the worst moment of a
//! replace. SQLite keeps a plain table; the rules that do not depend on the
//! partitions (an id is unique across months) are tested on both engines.

use std::time::{Duration, Instant};

use backend::etl::IngestOptions;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::both;
use crate::helpers::{fixture, postgres_admin_url, realistic_input, Engine, TestApp, TestDb};

/// Every report and the quality pages, as (path, status and body) from a new
/// server (whose cache is empty: it reads the database).
async fn every_report(t: &TestDb) -> Vec<(String, String)> {
    let app = TestApp::spawn(&t.db).await;
    let mut out = Vec::new();
    for path in [
        "/reports/meta",
        "/reports/monthly-transactions?months=24&as_of=2024-12",
        "/reports/revenue-growth",
        "/reports/top-products",
        "/reports/top-products?currency=eur",
        "/reports/top-users?limit=100",
        "/reports/top-users?currency=eur&limit=100",
        "/reports/top-users?format=csv",
        "/quality",
        "/quality/history",
    ] {
        let res = app.get(path).await;
        let status = res.status().as_u16();
        assert_eq!(status, 200, "{path}");
        out.push((path.to_owned(), res.text().await.unwrap()));
    }
    out
}

/// Every stored transaction, hashed in id order.
async fn facts_digest(t: &TestDb) -> (i64, String) {
    let rows = t
        .rows(
            "SELECT COUNT(*) AS n, md5(COALESCE(string_agg(concat_ws('|', transaction_id, date_utc, customer_id, \
             subscription_id, total_cents, currency), E'\\n' ORDER BY transaction_id), '')) AS h FROM fct_transaction",
        )
        .await;
    (rows[0].try_get("", "n").unwrap(), rows[0].try_get("", "h").unwrap())
}

/// The fact table's partitions: (name, rows).
async fn partitions(t: &TestDb) -> Vec<(String, i64)> {
    let names: Vec<String> = t
        .rows(
            "SELECT c.relname::text AS p FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'fct_transaction'::regclass ORDER BY 1",
        )
        .await
        .iter()
        .map(|r| r.try_get("", "p").unwrap())
        .collect();
    let mut out = Vec::new();
    for name in names {
        let rows = t.scalar_i64(&format!("SELECT COUNT(*) FROM {name}")).await;
        out.push((name, rows));
    }
    out
}

/// Pages of `table` that are not all-frozen: a load's `COPY FREEZE` leaves
/// none, and any later write leaves some.
async fn unfrozen_pages(t: &TestDb, table: &str) -> i64 {
    t.db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_visibility")
        .await
        .expect("the pg_visibility extension (PostgreSQL contrib)");
    t.scalar_i64(&format!(
        "SELECT COUNT(*) FROM pg_visibility_map('{table}') WHERE NOT (all_frozen AND all_visible)"
    ))
    .await
}

async fn leftover_load_tables(t: &TestDb) -> i64 {
    t.scalar_i64("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%\\_\\_load%'")
        .await
}

/// An append writes only the partitions of the months it touches: a new month
/// gets its partition (with the keys and foreign key of the others, and the
/// rows of that month someone had inserted into the default partition), a
/// month already loaded gets its rows, and every other month's pages stay
/// exactly as the replace wrote them (all frozen: nothing rewrote them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_writes_only_the_months_it_touches() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    let loaded = partitions(&t).await;
    let months: Vec<&str> = loaded.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(months.len(), 11, "{loaded:?}");
    assert_eq!(months[0], "fct_transaction__2024_01");
    assert_eq!(months[9], "fct_transaction__2024_10");
    assert_eq!(loaded[10], ("fct_transaction__default".to_owned(), 0));
    for (partition, _) in &loaded {
        assert_eq!(unfrozen_pages(&t, partition).await, 0, "{partition} after the replace");
    }
    let customer: String = t.rows("SELECT MIN(customer_id) AS c FROM dim_user").await[0]
        .try_get("", "c")
        .unwrap();
    // October (loaded) and November (new); the customer and products as stored.
    let next = fixture(
        &[],
        &[
            &format!("10/31/24 23:00\tpart_t1\t{customer}\t\t12.34\tusd"),
            &format!("11/2/24 7:00\tpart_t2\t{customer}\t\t1.00\tusd"),
            &format!("11/30/24 23:59\tpart_t3\t{customer}\t\t2.00\tusd"),
        ],
        &[],
    );
    std::fs::remove_file(next.path().join("products.csv")).unwrap();
    std::fs::remove_file(next.path().join("users.csv")).unwrap();
    // A row of a month without a partition, inserted by hand: the default partition holds it.
    t.db.execute_unprepared(&format!(
        "INSERT INTO fct_transaction VALUES ('by_hand', '2024-11-15 10:00:00', '{customer}', NULL, 500, 'usd')"
    ))
    .await
    .unwrap();
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction__default").await, 1);
    t.append(next.path()).await.unwrap();

    let after = partitions(&t).await;
    assert_eq!(after.len(), 12, "{after:?}");
    for ((before_name, before_rows), (name, rows)) in loaded.iter().zip(&after) {
        if name == "fct_transaction__2024_10" {
            assert_eq!(*rows, before_rows + 1);
            assert!(unfrozen_pages(&t, name).await > 0, "October was written");
        } else if name == "fct_transaction__2024_11" {
            assert_eq!(*rows, 3, "two appended, one moved out of the default partition");
        } else {
            assert_eq!((name, rows), (before_name, before_rows));
            assert_eq!(unfrozen_pages(&t, name).await, 0, "{name} was rewritten");
        }
    }
    assert!(after.iter().any(|(p, n)| p == "fct_transaction__2024_11" && *n == 3));
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction__default").await, 0);
    assert_eq!(
        t.scalar_i64(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = 'fct_transaction__2024_11'::regclass \
             AND (conname = 'fk_fct_transaction_customer' AND convalidated \
                  OR conname = 'fct_transaction__2024_11_fct_transaction_pkey')"
        )
        .await,
        2,
        "the new month has the key and the validated foreign key"
    );
    let monthly = TestApp::spawn(&t.db)
        .await
        .json("/reports/monthly-transactions?months=2&as_of=2024-11")
        .await;
    assert_eq!(monthly["months"][1]["month"], "2024-11");
    assert_eq!(monthly["months"][1]["revenue"], "3.00");
}

/// A transaction id is unique across months: the same id sent again with a
/// date in another month is a conflict with the loaded row (which stays), not
/// a second row (on PostgreSQL the primary key includes the month, so the ETL's
/// lookup is what keeps ids unique), and it creates no partition.
async fn an_id_is_unique_across_months(engine: Engine) {
    const P: &str = "s1\tBase\tAlpha\tmonth\t100\tactive";
    let t = TestDb::new(engine).await;
    let first = fixture(
        &[P],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc1\t\t5.00\tusd",
        ],
        &["c1\tAnn\tann@x.test"],
    );
    t.ingest(first.path()).await.unwrap();
    let second = fixture(
        &[P],
        &[
            "3/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "3/2/24 7:00\tt3\tc1\t\t1.00\tusd",
        ],
        &["c1\tAnn\tann@x.test"],
    );
    let mut options = IngestOptions::append(second.path());
    options.guard.max_reject_pct = "50".parse().unwrap();
    let s = t.committed(&options).await.unwrap();
    let reasons: Vec<(&str, u64)> = s.reasons.iter().map(|r| (r.reason, r.rows)).collect();
    assert_eq!(reasons, [("conflicts_with_loaded", 1)]);
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 3);
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = 't1'")
            .await,
        1
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = 't1' AND date_utc < '2024-02-01'")
            .await,
        1,
        "the loaded row stays"
    );
    if engine == Engine::Postgres {
        let names: Vec<String> = partitions(&t).await.into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            names,
            [
                "fct_transaction__2024_01",
                "fct_transaction__2024_03",
                "fct_transaction__default"
            ]
        );
    }
}
both!(id_unique_across_months, an_id_is_unique_across_months);

/// A database loaded under the previous schema (the fact table one partition,
/// `fct_transaction__data`, as migration 5 leaves it) is migrated with its data:
/// every report and every stored transaction is the same before and after,
/// GRANTs, the comment and an analyst's index are kept, and loads go on.
/// The previous schema is made by migrating down, and checked to be exactly
/// what migrations 1–5 make.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_carries_existing_data_over() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    let reports = every_report(&t).await;
    let digest = facts_digest(&t).await;
    assert!(digest.0 > 10_000);

    // Down past m7 (minor units) and m6 (month partitions).
    migration::Migrator::down(&t.db, Some(2)).await.unwrap();
    let fresh = TestDb::new(Engine::Postgres).await;
    migration::Migrator::up(&fresh.db, Some(5)).await.unwrap();
    assert_eq!(
        crate::schema::schema_objects(&t).await,
        crate::schema::schema_objects(&fresh).await,
        "migrating down makes the previous schema"
    );
    assert_eq!(
        partitions(&t).await,
        [("fct_transaction__data".to_owned(), digest.0)],
        "the rows as the previous version kept them"
    );
    assert_eq!(every_report(&t).await, reports, "the previous schema answers the same");
    // What users added to the table under the previous version.
    let role = format!("bi_reader_{:08x}", fastrand::u32(..));
    for sql in [
        format!("CREATE ROLE {role} NOLOGIN"),
        format!("GRANT SELECT ON fct_transaction TO {role}"),
        "COMMENT ON TABLE fct_transaction IS 'one row per billing transaction'".to_owned(),
        "CREATE INDEX analyst_tx_by_customer ON fct_transaction (customer_id, date_utc)".to_owned(),
    ] {
        t.db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(facts_digest(&t).await, digest, "every transaction, unchanged");
    assert_eq!(every_report(&t).await, reports, "every report, unchanged");
    let after = partitions(&t).await;
    assert_eq!(after.len(), 11, "ten months and the default partition: {after:?}");
    assert_eq!(after.iter().map(|(_, n)| n).sum::<i64>(), digest.0);
    assert!(after.iter().all(|(p, n)| *n > 0 || p == "fct_transaction__default"));
    assert_eq!(
        t.scalar_i64(&format!(
            "SELECT COUNT(*) FROM information_schema.role_table_grants \
             WHERE table_name = 'fct_transaction' AND grantee = '{role}' AND privilege_type = 'SELECT'"
        ))
        .await,
        1,
        "the grant"
    );
    let comment: String = t
        .rows("SELECT obj_description('fct_transaction'::regclass, 'pg_class') AS c")
        .await[0]
        .try_get("", "c")
        .unwrap();
    assert_eq!(comment, "one row per billing transaction");
    assert_eq!(
        t.scalar_i64(
            "SELECT COUNT(*) FROM pg_inherits i JOIN pg_index x ON x.indrelid = i.inhrelid \
             WHERE i.inhparent = 'fct_transaction'::regclass \
             AND pg_get_indexdef(x.indexrelid) LIKE '%USING btree (customer_id, date_utc)'"
        )
        .await,
        11,
        "the analyst's index, on every partition"
    );
    // Loads go on: an append of a new month, then a replace.
    let customer: String = t.rows("SELECT MIN(customer_id) AS c FROM dim_user").await[0]
        .try_get("", "c")
        .unwrap();
    let next = fixture(&[], &[&format!("11/2/24 7:00\tmig_t1\t{customer}\t\t1.00\tusd")], &[]);
    std::fs::remove_file(next.path().join("products.csv")).unwrap();
    std::fs::remove_file(next.path().join("users.csv")).unwrap();
    t.append(next.path()).await.unwrap();
    assert_eq!(facts_digest(&t).await.0, digest.0 + 1);
    t.ingest(&realistic_input()).await.unwrap();
    assert_eq!(facts_digest(&t).await, digest);
    t.db.execute_unprepared(&format!("REVOKE ALL ON fct_transaction FROM {role}; DROP ROLE {role}"))
        .await
        .unwrap();
}

/// Views are bound to the table the migration rebuilds, and row-level
/// security and policies would be lost with it: it refuses, naming them, and
/// changes nothing (PostgreSQL migrations run in one transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_refuses_views_on_the_fact_table() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    // Down past m7 (minor units) and m6 (month partitions).
    migration::Migrator::down(&t.db, Some(2)).await.unwrap();
    let digest = facts_digest(&t).await;
    t.db.execute_unprepared("CREATE VIEW usd_facts AS SELECT * FROM fct_transaction WHERE currency = 'usd'")
        .await
        .unwrap();
    let err = migration::Migrator::up(&t.db, None).await.unwrap_err().to_string();
    assert!(
        err.contains("view usd_facts") && err.contains("cannot carry over"),
        "{err}"
    );
    assert_eq!(facts_digest(&t).await, digest);
    assert_eq!(
        partitions(&t).await,
        [("fct_transaction__data".to_owned(), digest.0)],
        "nothing changed"
    );
    t.db.execute_unprepared("DROP VIEW usd_facts").await.unwrap();
    // Row-level security and its policy would be lost with the old table.
    t.db.execute_unprepared(
        "ALTER TABLE fct_transaction ENABLE ROW LEVEL SECURITY; \
         CREATE POLICY usd_only ON fct_transaction USING (currency = 'usd')",
    )
    .await
    .unwrap();
    let err = migration::Migrator::up(&t.db, None).await.unwrap_err().to_string();
    assert!(
        err.contains("row-level security") && err.contains("policy usd_only"),
        "{err}"
    );
    assert_eq!(facts_digest(&t).await, digest);
    t.db.execute_unprepared(
        "DROP POLICY usd_only ON fct_transaction; ALTER TABLE fct_transaction DISABLE ROW LEVEL SECURITY",
    )
    .await
    .unwrap();
    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(facts_digest(&t).await, digest);
}

/// SIGKILL of a real `backend ingest` (a replace) after its months' tables
/// were committed on their own connection, while the swap waits for a reader:
/// the data stays as it was, and the next run drops the orphan tables and
/// loads normally. (A kill during the COPY is `atomicity::killed_process`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_months_were_committed() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    let digest = facts_digest(&t).await;
    let top = TestApp::spawn(&t.db).await.json("/reports/top-users?limit=100").await;
    let big = tempfile::tempdir().unwrap();
    backend::generate::generate(
        big.path(),
        backend::generate::GenerateOptions {
            transactions: 50_000,
            seed: 11,
            ..Default::default()
        },
    )
    .unwrap();
    // A reader holding its shared lock (as the report cache does while it
    // reads) makes the swap wait after the months were committed.
    let reader = t.db.begin().await.unwrap();
    reader
        .execute_unprepared("LOCK TABLE fct_transaction IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let mut child = t.spawn_ingest("replace", big.path());
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let committed = leftover_load_tables(&t).await > 0;
        let waiting = t
            .scalar_i64("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = to_regclass('fct_transaction')")
            .await
            > 0;
        if committed && waiting {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "the ingest ended without waiting");
        assert!(start.elapsed() < Duration::from_secs(120), "the swap never waited");
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
    reader.commit().await.unwrap();
    // The server side of the killed connection goes once it notices.
    let start = Instant::now();
    while t
        .scalar_i64("SELECT COUNT(*) FROM pg_locks WHERE relation = to_regclass('fct_transaction') AND mode = 'AccessExclusiveLock'")
        .await
        > 0
    {
        assert!(start.elapsed() < Duration::from_secs(30), "the killed load's session stayed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(facts_digest(&t).await, digest, "the previous data");
    assert_eq!(
        TestApp::spawn(&t.db).await.json("/reports/top-users?limit=100").await,
        top
    );
    assert!(
        leftover_load_tables(&t).await > 0,
        "the killed run's months are orphans"
    );

    t.ingest(&realistic_input()).await.unwrap();
    assert_eq!(leftover_load_tables(&t).await, 0, "the next run dropped them");
    assert_eq!(facts_digest(&t).await, digest);
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'abandoned'")
            .await,
        1
    );
}

/// While a load waits for a long reader (an analyst's open transaction over
/// the fact table) to let it swap or attach, other readers are not queued
/// behind it: each read answers within about one lock try (1 s), where a
/// plain lock request would hold every reader until the long one ends. The
/// load goes through once the long reader ends. Both a new month's append
/// (it attaches a partition, locking the default one) and a replace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_reader_does_not_queue_the_others_behind_a_load() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    let new_month = fixture(&[], &["1/15/25 10:00\ttxn_lock_1\tcus_lock_1\t\t12.00\tusd"], &[]);
    std::fs::remove_file(new_month.path().join("products.csv")).unwrap();
    std::fs::remove_file(new_month.path().join("users.csv")).unwrap();
    let mut append = IngestOptions::append(new_month.path());
    append.guard.max_reject_pct = "100".parse().unwrap();
    let mut replace = IngestOptions::replace(realistic_input());
    replace.guard.max_reject_pct = "100".parse().unwrap();

    for (what, options) in [("append", append), ("replace", replace)] {
        let holder = t.db.begin().await.unwrap();
        holder
            .execute_unprepared("SELECT COUNT(*) FROM fct_transaction")
            .await
            .unwrap();
        // The load and the readers, side by side in this task (the ingest's
        // future is not `Send` enough to be spawned).
        let ended = std::sync::atomic::AtomicBool::new(false);
        let is_ended = || ended.load(std::sync::atomic::Ordering::SeqCst);
        let load = async {
            let summary = backend::etl::ingest(&t.db, &options).await;
            ended.store(true, std::sync::atomic::Ordering::SeqCst);
            summary
        };
        let readers = async {
            let start = Instant::now();
            while t
                .scalar_i64(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND backend_type = 'client backend'",
                )
                .await
                == 0
            {
                assert!(!is_ended(), "{what}: the load ended without waiting for the reader");
                assert!(start.elapsed() < Duration::from_secs(120), "{what}: the load never waited");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Readers come and go while the load waits.
            let sampling = Instant::now();
            while sampling.elapsed() < Duration::from_secs(4) {
                tokio::time::timeout(
                    Duration::from_secs(3),
                    t.scalar_i64("SELECT COUNT(*) FROM fct_transaction"),
                )
                .await
                .unwrap_or_else(|_| panic!("{what}: a reader queued behind the waiting load"));
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            assert!(!is_ended(), "{what}: the load did not wait for the long reader");
            holder.commit().await.unwrap();
        };
        let (summary, ()) = tokio::time::timeout(Duration::from_secs(240), async { tokio::join!(load, readers) })
            .await
            .unwrap_or_else(|_| panic!("{what}: the load did not end once the long reader had"));
        let summary = summary.unwrap();
        assert_eq!(
            summary.status,
            backend::etl::RunStatus::Succeeded,
            "{what}: {}",
            summary.render()
        );
    }
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = 'txn_lock_1'")
            .await,
        0,
        "the replace after the append holds the realistic data alone"
    );
}

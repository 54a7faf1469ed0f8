//! The fact table, one table with one key over the whole history: an id is
//! unique across months (both engines), migration 8 brings a database of the
//! month-partitioned version back to it with everything it held (and refuses
//! what it cannot carry), and a replace killed at its worst moment or held up
//! by a long reader (PostgreSQL).

use std::time::{Duration, Instant};

use backend::etl::IngestOptions;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::both;
use crate::helpers::{fixture, postgres_admin_url, realistic_input, Engine, TestApp, TestDb};

/// The reports and quality pages that need no month or customer of the data.
pub(crate) const EVERY_REPORT: [&str; 10] = [
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
];

/// Every report and the quality pages, as (path, body) from a new server
/// (whose cache is empty: it reads the database). The server migrates the
/// database up first, as `serve` does.
pub(crate) async fn every_report(t: &TestDb) -> Vec<(String, String)> {
    let app = TestApp::spawn(&t.db).await;
    let mut out = Vec::new();
    for path in EVERY_REPORT {
        let res = app.get(path).await;
        let status = res.status().as_u16();
        assert_eq!(status, 200, "{path}");
        out.push((path.to_owned(), res.text().await.unwrap()));
    }
    out
}

/// Every stored transaction in id order: (rows, their md5 on PostgreSQL, the
/// rows themselves on SQLite, which has no md5).
async fn facts_digest(t: &TestDb) -> (i64, String) {
    let sql = match t.engine {
        Engine::Postgres => {
            "SELECT COUNT(*) AS n, md5(COALESCE(string_agg(concat_ws('|', transaction_id, date_utc, customer_id, \
             subscription_id, total_cents, currency), E'\\n' ORDER BY transaction_id), '')) AS h FROM fct_transaction"
        }
        Engine::Sqlite => {
            "SELECT COUNT(*) AS n, COALESCE(group_concat(r, char(10)), '') AS h FROM \
             (SELECT transaction_id || '|' || date_utc || '|' || customer_id || '|' || COALESCE(subscription_id, '') \
              || '|' || total_cents || '|' || currency AS r FROM fct_transaction ORDER BY transaction_id)"
        }
    };
    let rows = t.rows(sql).await;
    (rows[0].try_get("", "n").unwrap(), rows[0].try_get("", "h").unwrap())
}

/// The fact table's partitions (PostgreSQL): (name, rows).
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

async fn text(t: &TestDb, sql: &str) -> String {
    t.rows(sql).await[0].try_get("", "v").unwrap()
}

async fn leftover_load_tables(t: &TestDb) -> i64 {
    t.scalar_i64("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%\\_\\_load%'")
        .await
}

/// A transaction id is unique across months: the same id sent again with a
/// date in another month is a conflict with the loaded row (which stays), not
/// a second row. On PostgreSQL the database enforces it too: the primary key
/// is the id alone.
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
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = 't1' AND date_utc < '2024-02-01'")
            .await,
        1,
        "the loaded row stays, alone"
    );
    let by_hand = t
        .db
        .execute_unprepared("INSERT INTO fct_transaction VALUES ('t1', '2024-05-01 00:00:00', 'c1', NULL, 1, 'usd')")
        .await;
    assert!(by_hand.is_err(), "the database took a second row for t1");
    if engine == Engine::Postgres {
        assert_eq!(partitions(&t).await, [("fct_transaction__data".to_owned(), 3)]);
        assert_eq!(
            text(
                &t,
                "SELECT pg_get_constraintdef(oid) AS v FROM pg_constraint \
                 WHERE conrelid = 'fct_transaction'::regclass AND contype = 'p'"
            )
            .await,
            "PRIMARY KEY (transaction_id)"
        );
    }
}
both!(id_unique_across_months, an_id_is_unique_across_months);

/// A database of the month-partitioned version (migrated to step 6, loaded)
/// comes back through migrations 7 and 8 with every transaction, every report
/// unchanged, and (PostgreSQL) one partition under the key `transaction_id`
/// with its owner, GRANT, comment and an analyst's index; orphan month tables
/// of a killed replace are dropped, a user's table of a like name is not. The
/// step-6 database is made by migrating a loaded one down (migration 8's
/// `down`, then 7's), checked to be what `up` to step 6 makes, plus the
/// months' partitions. Loads go on afterwards.
async fn the_migration_carries_a_partitioned_database_over(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let reports = every_report(&t).await;
    let digest = facts_digest(&t).await;
    assert!(
        digest.0 > 1_000,
        "the data to carry over is loaded (the real export, or input/ without it)"
    );
    let fresh = TestDb::new(engine).await;
    migration::Migrator::up(&fresh.db, None).await.unwrap();
    let migrated = crate::schema::schema_objects(&fresh).await;

    // Past the later migrations (10, 9: Citus only, nothing to undo here), then 8 and 7.
    crate::helpers::migrate_down_to(&t.db, 6).await.unwrap();
    let step6 = TestDb::new(engine).await;
    migration::Migrator::up(&step6.db, Some(6)).await.unwrap();
    let months_objects = |objects: Vec<String>| -> Vec<String> {
        objects
            .into_iter()
            .filter(|d| !d.contains("fct_transaction__20"))
            .collect()
    };
    assert_eq!(
        months_objects(crate::schema::schema_objects(&t).await),
        crate::schema::schema_objects(&step6).await,
        "migrating down makes step 6's schema (and the months' partitions)"
    );
    assert_eq!(
        migration::Migrator::get_pending_migrations(&t.db).await.unwrap().len(),
        migration::Migrator::migrations().len() - 6
    );
    assert_eq!(facts_digest(&t).await, digest, "migration 8's down kept every row");
    let roles = [
        format!("bi_reader_{:08x}", fastrand::u32(..)),
        format!("bi_owner_{:08x}", fastrand::u32(..)),
    ];
    let [reader, owner] = &roles;
    if engine == Engine::Postgres {
        let months = partitions(&t).await;
        assert_eq!(months.len(), 11, "ten months and the default partition: {months:?}");
        assert_eq!(months.iter().map(|(_, n)| n).sum::<i64>(), digest.0);
        // What users added under the partitioned version, and what a killed
        // replace of it left behind.
        for sql in [
            format!("CREATE ROLE {reader} NOLOGIN"),
            format!("CREATE ROLE {owner} NOLOGIN"),
            format!("GRANT SELECT ON fct_transaction TO {reader}"),
            format!("ALTER TABLE fct_transaction OWNER TO {owner}"),
            "COMMENT ON TABLE fct_transaction IS 'one row per billing transaction'".to_owned(),
            "CREATE INDEX analyst_tx_by_customer ON fct_transaction (customer_id, date_utc)".to_owned(),
            "CREATE TABLE fct_transaction__load_2024_03 (LIKE fct_transaction)".to_owned(),
            "CREATE TABLE fct_transaction__load_audit (note text)".to_owned(),
        ] {
            t.db.execute_unprepared(&sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }

    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(facts_digest(&t).await, digest, "every transaction, unchanged");
    assert_eq!(every_report(&t).await, reports, "every report, unchanged");
    if engine == Engine::Postgres {
        assert_eq!(
            partitions(&t).await,
            [("fct_transaction__data".to_owned(), digest.0)],
            "every row in the one partition"
        );
        assert_eq!(
            months_objects(crate::schema::schema_objects(&t).await)
                .into_iter()
                .filter(|d| !d.contains("analyst_tx_by_customer") && !d.contains("fct_transaction__load_audit"))
                .collect::<Vec<_>>(),
            migrated,
            "the schema a fresh database migrates to"
        );
        assert_analysts_objects_kept(&t, reader, owner).await;
        assert_eq!(
            t.scalar_i64("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'fct\\_transaction\\_\\_load%'")
                .await,
            1,
            "the orphan month table is dropped, the user's table stays"
        );
        t.db.execute_unprepared("DROP TABLE fct_transaction__load_audit")
            .await
            .unwrap();
    } else {
        assert_eq!(crate::schema::schema_objects(&t).await, migrated);
    }

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
    if engine == Engine::Postgres {
        assert_eq!(
            t.scalar_i64(
                "SELECT COUNT(*) FROM pg_indexes WHERE tablename IN ('fct_transaction', 'fct_transaction__data') \
                 AND indexdef LIKE '%USING btree (customer_id, date_utc)'"
            )
            .await,
            2,
            "the analyst's index, after the loads too"
        );
        t.db.execute_unprepared(&format!(
            "REVOKE ALL ON fct_transaction FROM {reader}; REASSIGN OWNED BY {owner} TO CURRENT_USER; \
             DROP ROLE {reader}; DROP ROLE {owner}"
        ))
        .await
        .unwrap();
    }
}
both!(
    migration_carries_partitioned_data,
    the_migration_carries_a_partitioned_database_over
);

/// The GRANT, owner, comment and index added under the partitioned version,
/// on the one-partition table.
async fn assert_analysts_objects_kept(t: &TestDb, reader: &str, owner: &str) {
    assert_eq!(
        t.scalar_i64(&format!(
            "SELECT COUNT(*) FROM information_schema.role_table_grants \
             WHERE table_name = 'fct_transaction' AND grantee = '{reader}' AND privilege_type = 'SELECT'"
        ))
        .await,
        1,
        "the grant"
    );
    for table in ["fct_transaction", "fct_transaction__data"] {
        assert_eq!(
            text(
                t,
                &format!("SELECT pg_get_userbyid(relowner)::text AS v FROM pg_class WHERE oid = '{table}'::regclass")
            )
            .await,
            owner,
            "the owner of {table}"
        );
    }
    assert_eq!(
        text(
            t,
            "SELECT obj_description('fct_transaction'::regclass, 'pg_class') AS v"
        )
        .await,
        "one row per billing transaction"
    );
    assert_eq!(
        text(
            t,
            "SELECT string_agg(indexname || ' ' || indexdef, E'\\n' ORDER BY indexname) AS v FROM pg_indexes \
             WHERE indexdef LIKE '%USING btree (customer_id, date_utc)'"
        )
        .await,
        "analyst_tx_by_customer CREATE INDEX analyst_tx_by_customer ON ONLY public.fct_transaction \
         USING btree (customer_id, date_utc)\n\
         analyst_tx_by_customer__data CREATE INDEX analyst_tx_by_customer__data ON public.fct_transaction__data \
         USING btree (customer_id, date_utc)",
        "the analyst's index, on the table and its partition"
    );
    assert_eq!(
        text(
            t,
            "SELECT pg_get_constraintdef(oid) AS v FROM pg_constraint \
             WHERE conrelid = 'fct_transaction'::regclass AND contype = 'p'"
        )
        .await,
        "PRIMARY KEY (transaction_id)"
    );
}

/// Views are bound to the table the migration rebuilds, and row-level
/// security and policies would be lost with it: migration 8 refuses, naming
/// them, and changes nothing (PostgreSQL migrations run in one transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_refuses_what_it_cannot_carry() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    // Back to the month partitions (migration 8's down, after the later
    // ones, which leave the facts alone off Citus).
    crate::helpers::migrate_down_to(&t.db, 7).await.unwrap();
    let digest = facts_digest(&t).await;
    let months = partitions(&t).await;
    assert_eq!(months.len(), 11, "{months:?}");
    t.db.execute_unprepared("CREATE VIEW usd_facts AS SELECT * FROM fct_transaction WHERE currency = 'usd'")
        .await
        .unwrap();
    let err = migration::Migrator::up(&t.db, None).await.unwrap_err().to_string();
    assert!(
        err.contains("view usd_facts") && err.contains("cannot carry over"),
        "{err}"
    );
    assert_eq!(facts_digest(&t).await, digest);
    assert_eq!(partitions(&t).await, months, "nothing changed");
    assert_eq!(
        migration::Migrator::get_pending_migrations(&t.db).await.unwrap().len(),
        migration::Migrator::migrations().len() - 7,
        "migration 8 refused, and the ones after it are not applied"
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
    assert_eq!(partitions(&t).await, months, "nothing changed");
    t.db.execute_unprepared(
        "DROP POLICY usd_only ON fct_transaction; ALTER TABLE fct_transaction DISABLE ROW LEVEL SECURITY",
    )
    .await
    .unwrap();
    migration::Migrator::up(&t.db, None).await.unwrap();
    assert_eq!(facts_digest(&t).await, digest);
    assert_eq!(partitions(&t).await, [("fct_transaction__data".to_owned(), digest.0)]);
}

/// SIGKILL of a real `backend ingest` (a replace) after its fact table was
/// committed on its own connection, while the swap waits for a reader: the
/// data stays as it was, and the next run drops the orphan table and loads
/// normally. (A kill during the COPY is `atomicity::killed_process`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_fact_table_was_committed() {
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
    // reads) makes the swap wait after the fact table was committed.
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
    // The killed run's fact table is an orphan, and so is its spending
    // table if that one had committed too (it is built on a connection of
    // its own while the swap waits): never any other table.
    let orphans: Vec<String> = t
        .rows("SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE '%\\_\\_load%' ORDER BY 1")
        .await
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    assert!(orphans.contains(&"fct_transaction__load".to_owned()), "{orphans:?}");
    assert!(
        orphans
            .iter()
            .all(|o| ["fct_transaction__load", "agg_customer_spending__load"].contains(&o.as_str())),
        "{orphans:?}"
    );

    t.ingest(&realistic_input()).await.unwrap();
    assert_eq!(leftover_load_tables(&t).await, 0, "the next run dropped it");
    assert_eq!(facts_digest(&t).await, digest);
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'abandoned'")
            .await,
        1
    );
}

/// A long reader (an analyst's open transaction over the fact table) does
/// not hold up an append at all (it only adds rows), and while a replace
/// waits for it to swap, other readers are not queued behind the replace:
/// each read answers within about one lock try (1 s), where a plain lock
/// request would hold every reader until the long one ends. The replace goes
/// through once the long reader ends.
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

    let holder = t.db.begin().await.unwrap();
    holder
        .execute_unprepared("SELECT COUNT(*) FROM fct_transaction")
        .await
        .unwrap();
    let summary = tokio::time::timeout(Duration::from_secs(120), backend::etl::ingest(&t.db, &append))
        .await
        .expect("the append waited for the long reader")
        .unwrap();
    assert_eq!(
        summary.status,
        backend::etl::RunStatus::Succeeded,
        "{}",
        summary.render()
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = 'txn_lock_1'")
            .await,
        1
    );

    // The load and the readers, side by side in this task (the ingest's
    // future is not `Send` enough to be spawned).
    let ended = std::sync::atomic::AtomicBool::new(false);
    let is_ended = || ended.load(std::sync::atomic::Ordering::SeqCst);
    let load = async {
        let summary = backend::etl::ingest(&t.db, &replace).await;
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
            assert!(!is_ended(), "the replace ended without waiting for the reader");
            assert!(start.elapsed() < Duration::from_secs(120), "the replace never waited");
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
            .unwrap_or_else(|_| panic!("a reader queued behind the waiting replace"));
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        assert!(!is_ended(), "the replace did not wait for the long reader");
        holder.commit().await.unwrap();
    };
    let (summary, ()) = tokio::time::timeout(Duration::from_secs(240), async { tokio::join!(load, readers) })
        .await
        .unwrap_or_else(|_| panic!("the replace did not end once the long reader had"));
    let summary = summary.unwrap();
    assert_eq!(
        summary.status,
        backend::etl::RunStatus::Succeeded,
        "{}",
        summary.render()
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = 'txn_lock_1'")
            .await,
        0,
        "the replace after the append holds the realistic data alone"
    );
}

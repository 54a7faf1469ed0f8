//! A run replaces the previous data completely or not at all.

use std::time::{Duration, Instant};

use backend::etl::{self, IngestOptions};

use crate::both;
use crate::helpers::{realistic_input, Engine, TestDb};

async fn counts(t: &TestDb) -> (i64, i64, i64, i64) {
    (
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        t.scalar_i64("SELECT COUNT(*) FROM dim_user").await,
        t.scalar_i64("SELECT CAST(SUM(total_cents) AS BIGINT) FROM fct_transaction")
            .await,
        t.scalar_i64("SELECT COUNT(*) FROM agg_monthly").await,
    )
}

async fn failure_mid_load_keeps_previous_data(engine: Engine) {
    let t = TestDb::new(engine).await;
    // The previous data: a small, different dataset.
    let small = tempfile::tempdir().unwrap();
    backend::generate::generate(
        small.path(),
        backend::generate::GenerateOptions {
            transactions: 700,
            seed: 7,
            ..Default::default()
        },
    )
    .unwrap();
    t.ingest(small.path()).await.unwrap();
    let before = counts(&t).await;
    assert_eq!(before.0, 700);

    // A run that fails after half of the larger input's rows were written.
    let big = tempfile::tempdir().unwrap();
    backend::generate::generate(
        big.path(),
        backend::generate::GenerateOptions {
            transactions: 20_000,
            seed: 8,
            ..Default::default()
        },
    )
    .unwrap();
    let err = etl::ingest(
        &t.db,
        &IngestOptions {
            fail_after_rows: Some(10_000),
            ..IngestOptions::replace(big.path())
        },
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("forced failure"), "{err}");
    assert_eq!(counts(&t).await, before, "the failed run changed the visible data");
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'failed'")
            .await,
        1
    );
    if engine == Engine::Postgres {
        // The fact table's own load connection rolled back too.
        assert_eq!(
            t.scalar_i64("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE '%\\_\\_load%'")
                .await,
            0
        );
    }
    // Nothing of the failed run leaked into the audit tables either.
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run_file WHERE run_id = 2").await,
        0
    );

    // And the next run works normally.
    t.ingest(big.path()).await.unwrap();
    assert_eq!(counts(&t).await.0, 20_000);
}
both!(failure_mid_load, failure_mid_load_keeps_previous_data);

/// SIGKILL of a real `backend ingest` process in the middle of its load.
async fn killed_process_keeps_previous_data(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = counts(&t).await;

    if engine == Engine::Sqlite {
        // Start from an empty write-ahead log, so its growth shows the new load.
        use sea_orm::ConnectionTrait;
        t.db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await
            .unwrap();
    }
    let big = tempfile::tempdir().unwrap();
    backend::generate::generate(
        big.path(),
        backend::generate::GenerateOptions {
            transactions: 400_000,
            seed: 9,
            ..Default::default()
        },
    )
    .unwrap();
    let mut child = t.spawn_ingest("replace", big.path());
    // Wait until the load transaction is writing transactions: PostgreSQL shows the
    // COPY in pg_stat_activity; SQLite's write-ahead log grows.
    let start = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let loading = match engine {
            Engine::Postgres => {
                t.scalar_i64(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                     AND query LIKE 'COPY fct_transaction__load%'",
                )
                .await
                    > 0
            }
            Engine::Sqlite => std::fs::metadata(t.dir.path().join("test.db-wal")).map_or(0, |m| m.len()) > 4 << 20,
        };
        if loading {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest finished before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the ingest never started loading"
        );
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());

    assert_eq!(
        counts(&t).await,
        before,
        "readers must see the previous data after a kill"
    );
    // The next run marks the killed one as abandoned and succeeds.
    t.ingest(&realistic_input()).await.unwrap();
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'abandoned'")
            .await,
        1
    );
    assert_eq!(counts(&t).await, before);
}
both!(killed_process, killed_process_keeps_previous_data);

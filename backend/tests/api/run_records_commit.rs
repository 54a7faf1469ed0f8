//! A run's `finished_at` (and so its `duration_ms`) includes the commit of
//! its load: the record is written inside the load transaction, and its end
//! time is moved past the commit once that succeeded.

use chrono::{NaiveDateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::both;
use crate::helpers::{generated, Engine, TestDb};

/// `started_at` and `finished_at` of run `id`.
async fn times(t: &TestDb, id: i64) -> (NaiveDateTime, NaiveDateTime) {
    let backend = t.db.get_database_backend();
    let row =
        t.db.query_one(Statement::from_string(
            backend,
            format!("SELECT started_at, finished_at FROM etl_run WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap())
}

/// On PostgreSQL the commit is made slow (a deferred trigger sleeps when
/// the run's record is committed, then notes the time): the recorded end is
/// after that moment, so the commit is inside the run's duration.
async fn finished_at_is_after_the_commit(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(generated(200, 7).path()).await.unwrap();
    let slow = engine == Engine::Postgres;
    if slow {
        t.db.execute_unprepared(
            "CREATE TABLE commit_seen (at timestamp NOT NULL);
             CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_sleep(0.4); INSERT INTO commit_seen VALUES (clock_timestamp() AT TIME ZONE 'UTC'); RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON etl_run DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running') EXECUTE FUNCTION slow_commit();",
        )
        .await
        .unwrap();
    }
    let before = Utc::now().naive_utc();
    let summary = t.ingest(generated(300, 8).path()).await.unwrap();
    let returned = Utc::now().naive_utc();
    let (started, finished) = times(&t, summary.run_id).await;
    assert!(
        before <= started && started <= finished && finished <= returned,
        "{before} {started} {finished} {returned}"
    );
    if slow {
        let seen = t.rows("SELECT at FROM commit_seen").await;
        assert_eq!(seen.len(), 1, "the trigger fired once, at the load's commit");
        let committing: NaiveDateTime = seen[0].try_get_by_index(0).unwrap();
        assert!(
            finished >= committing,
            "finished_at {finished} is before the commit's end {committing}"
        );
        assert!((finished - started).num_milliseconds() >= 400, "{started} → {finished}");
    }
}
both!(finished_at_after_commit, finished_at_is_after_the_commit);

//! The subscription figures read each run's transactions from the feed the
//! load writes (`etl_saas_feed`) instead of the fact table: a new server's
//! answers from the feed equal its answers from the facts, after a replace
//! and after appends (one of them without transactions); a run of the data
//! without a complete feed, with a part numbered below 0, or with an end
//! part counting more records than memory holds, sends the read back to the
//! facts; a replace
//! keeps only its own feed, and a refused run leaves none.

use std::time::Duration;

use backend::etl::IngestOptions;

use crate::both;
use crate::helpers::{fixture, generated, Engine, TestApp, TestDb};
use crate::saas_catch_up::{bodies, kept_counts, PATHS};

/// A new server's answers, and (kept, read from the feed) of its transactions.
async fn answers(t: &TestDb) -> (Vec<serde_json::Value>, (f64, f64)) {
    // Never rechecks the run: each server serves the data it started on.
    let app = TestApp::spawn_with(&t.db, Duration::from_secs(3600)).await;
    let served = bodies(&app).await;
    let (kept, caught_up, fed) = kept_counts(&app).await;
    assert_eq!(caught_up, 0.0, "a new server reads in full");
    (served, (kept, fed))
}

fn assert_same(from_feed: &[serde_json::Value], from_facts: &[serde_json::Value], what: &str) {
    for ((path, got), want) in PATHS.iter().zip(from_feed).zip(from_facts) {
        assert_eq!(got, want, "{what}: {path}");
    }
}

/// A new server reads the facts (no transaction from the feed), keeps
/// `kept` transactions and answers `fed`, the answers read from the feed.
async fn same_from_the_facts(t: &TestDb, fed: &[serde_json::Value], kept: f64, what: &str) {
    let (facts, (kept_from_facts, from_feed)) = answers(t).await;
    assert_eq!((kept_from_facts, from_feed), (kept, 0.0), "{what}: from the facts");
    assert_same(fed, &facts, what);
}

async fn runs_with_a_feed(t: &TestDb) -> Vec<i64> {
    let rows = t
        .rows("SELECT DISTINCT run_id FROM etl_saas_feed ORDER BY run_id")
        .await;
    rows.iter().map(|r| r.try_get_by_index(0).unwrap()).collect()
}

async fn figures_come_from_the_feed(engine: Engine) {
    let t = TestDb::new(engine).await;
    let first = t.ingest(generated(6_000, 5).path()).await.unwrap();
    let (fed, (kept, from_feed)) = answers(&t).await;
    assert!(kept > 5_000.0, "{kept}");
    assert_eq!(from_feed, kept, "after a replace, every transaction from the feed");
    assert_eq!(runs_with_a_feed(&t).await, [first.run_id]);

    // A part numbered below 0 (the column is signed; the load never writes
    // one): the facts are read, to the same answers.
    let bytes = match engine {
        Engine::Postgres => "'\\x00'::bytea",
        Engine::Sqlite => "x'00'",
    };
    let negative = format!(
        "INSERT INTO etl_saas_feed (run_id, part, bytes) VALUES ({}, -1, {bytes})",
        first.run_id
    );
    t.rows(&negative).await;
    same_from_the_facts(&t, &fed, kept, "after a replace, a feed with a negative part").await;
    t.rows("DELETE FROM etl_saas_feed WHERE part < 0").await;

    // An end part counting more records than memory holds (damaged): the
    // facts are read, to the same answers, instead of the server aborting.
    let huge = match engine {
        Engine::Postgres => "overlay(bytes placing '\\xffffffffffffff00'::bytea from 4 for 8)",
        Engine::Sqlite => "substr(bytes, 1, 3) || x'ffffffffffffff00' || substr(bytes, 12)",
    };
    t.rows(&format!(
        "UPDATE etl_saas_feed SET bytes = {huge} WHERE part = (SELECT MAX(part) FROM etl_saas_feed)"
    ))
    .await;
    same_from_the_facts(&t, &fed, kept, "after a replace, a feed counting too many records").await;

    // The same data without its feed: the facts are read, to the same answers.
    t.rows("DELETE FROM etl_saas_feed").await;
    same_from_the_facts(&t, &fed, kept, "after a replace, without a feed").await;

    // A replace, then two appends (the second adds a customer only, so its
    // feed holds no transaction): the three runs' feeds make the data.
    let replace = t.ingest(generated(6_000, 5).path()).await.unwrap();
    let append = t.append(generated(1_500, 6).path()).await.unwrap();
    let users_only = fixture(&[], &[], &["c-feed-only\tOnly Users\tonly@x.test"]);
    for file in ["products.csv", "transactions.csv"] {
        std::fs::remove_file(users_only.path().join(file)).unwrap();
    }
    let users = t.append(users_only.path()).await.unwrap();
    assert!(users.data_changed, "{}", users.render());
    let runs = [replace.run_id, append.run_id, users.run_id];
    assert_eq!(runs_with_a_feed(&t).await, runs, "a replace keeps its own feed only");
    let (fed, (kept, from_feed)) = answers(&t).await;
    assert_eq!(from_feed, kept, "after appends, every transaction from the feeds");

    // The middle run's feed missing: the facts are read, to the same answers.
    t.rows(&format!("DELETE FROM etl_saas_feed WHERE run_id = {}", append.run_id))
        .await;
    same_from_the_facts(&t, &fed, kept, "after appends, a run without its feed").await;

    // A refused run (the guard rail against a shrink) writes no feed.
    let shrink = generated(1_000, 8);
    let refused = t.run(&IngestOptions::replace(shrink.path())).await.unwrap();
    assert_eq!(refused.status, backend::etl::RunStatus::Refused, "{}", refused.render());
    assert!(!runs_with_a_feed(&t).await.contains(&refused.run_id));

    // A run that failed after its feed committed (a PostgreSQL replace
    // writes it on its own connection) leaves an orphan: the next append
    // deletes it, and keeps the feeds of the data.
    let orphan = format!(
        "INSERT INTO etl_saas_feed (run_id, part, bytes) VALUES ({}, 0, {bytes})",
        refused.run_id
    );
    t.rows(&orphan).await;
    assert!(runs_with_a_feed(&t).await.contains(&refused.run_id));
    let next = t.append(generated(300, 9).path()).await.unwrap();
    // (The middle run's feed was deleted above.)
    let expected = [replace.run_id, users.run_id, next.run_id];
    assert_eq!(runs_with_a_feed(&t).await, expected);
}
both!(figures_come_from_the_feed, figures_come_from_the_feed);

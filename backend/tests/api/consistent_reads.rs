//! Reads during loads: every response comes from one run, a cancelled
//! refresh answers from the previous run, a database never loaded answers
//! clearly, and ingests into one SQLite file wait for each other.

use std::time::Duration;

use backend::etl::IngestOptions;
use serde_json::Value;

use crate::both;
use crate::helpers::{generated, realistic_input, Engine, TestApp, TestDb};
use crate::recurring::{every_response, strip, Quality};

/// Every figure the reports serve, computed from one read of the data: the
/// top customers and months of each currency, the products, the checks.
fn fingerprint(ctx: &backend::reports::ReportContext) -> String {
    use backend::reports::{self, TopProductsParams, TopUsersParams, WindowParams};
    let mut out = Vec::new();
    for (currency, _, _) in &ctx.currencies {
        let window = WindowParams {
            months: Some("36".into()),
            currency: Some(currency.to_string()),
            ..Default::default()
        };
        let users = TopUsersParams {
            limit: Some("100".into()),
            currency: Some(currency.to_string()),
            ..Default::default()
        };
        let products = TopProductsParams {
            limit: Some("100".into()),
            currency: Some(currency.to_string()),
            ..Default::default()
        };
        out.push(serde_json::to_string(&reports::monthly_transactions(ctx, &window).unwrap()).unwrap());
        out.push(serde_json::to_string(&reports::top_users(ctx, &users).unwrap()).unwrap());
        out.push(serde_json::to_string(&reports::top_products(ctx, &products).unwrap()).unwrap());
    }
    let mut quality = serde_json::to_value(reports::quality(ctx, chrono::Utc::now()).unwrap()).unwrap();
    strip(&mut quality, Quality::WithoutTheRun);
    out.push(quality.to_string());
    out.join("\n")
}

/// Every response is computed from one ingest run's data, whatever the timing
/// of concurrent loads: while two different data sets are loaded alternately
/// (`rounds` times each), reads of everything the reports need run back to
/// back (so that loads commit in the middle of many of them), and two
/// servers answer continuously; every read and every response equals one of
/// the two reference answers, read from `t` itself after loading each set.
/// Then two loads started together: the ingest lock serializes them (their
/// runs' records do not overlap in time) and both commit.
pub async fn never_mixed(t: &TestDb, rounds: usize) {
    let a = generated(3_000, 31);
    let b = generated(2_400, 32);
    let mut options_b = IngestOptions::replace(b.path());
    options_b.guard.max_reject_pct = "100".parse().unwrap();
    let mut options_a = options_b.clone();
    options_a.input = a.path().to_owned();
    let mut references = Vec::new();
    let mut fingerprints = Vec::new();
    for options in [&options_b, &options_a] {
        t.committed(options).await.unwrap();
        let app = TestApp::spawn(&t.db).await;
        references.push(every_response(&app, Quality::WithoutTheRun).await);
        let (_, ctx) = backend::reports::ReportContext::load(&t.db).await.unwrap();
        fingerprints.push(fingerprint(&ctx));
    }
    assert_ne!(fingerprints[0], fingerprints[1], "the two data sets must differ");
    let paths: Vec<String> = references[0].iter().map(|(p, _)| p.clone()).collect();
    for (p, q) in references[0].iter().zip(&references[1]) {
        assert_eq!(p.0, q.0, "both data sets must offer the same requests");
    }
    // Two servers that look for a newer run on every request.
    let servers = [
        TestApp::spawn_with(&t.db, Duration::ZERO).await,
        TestApp::spawn_with(&t.db, Duration::ZERO).await,
    ];
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for (i, server) in servers.into_iter().enumerate() {
        let (stop, paths, refs) = (stop.clone(), paths.clone(), references.clone());
        clients.push(tokio::spawn(async move {
            let mut checked = 0u64;
            let mut k = i;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let path = &paths[k % paths.len()];
                k += 1;
                let res = server.get(path).await;
                assert!(res.status().is_success(), "GET {path}: {}", res.status());
                let mut body = res.text().await.unwrap();
                if path == "/quality" {
                    let mut v: Value = serde_json::from_str(&body).unwrap();
                    strip(&mut v, Quality::WithoutTheRun);
                    body = v.to_string();
                }
                let idx = paths.iter().position(|p| p == path).unwrap();
                assert!(
                    body == refs[0][idx].1 || body == refs[1][idx].1,
                    "GET {path} mixed two runs: {body}\n{}",
                    differences(&body, &refs[0][idx].1, &refs[1][idx].1)
                );
                checked += 1;
            }
            checked
        }));
    }
    // Reads of the whole report context, back to back.
    let reader = {
        let (stop, db) = (stop.clone(), t.db.clone());
        tokio::spawn(async move {
            let mut reads = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (_, ctx) = backend::reports::ReportContext::load(&db).await.unwrap();
                let seen = fingerprint(&ctx);
                assert!(
                    seen == fingerprints[0] || seen == fingerprints[1],
                    "a read mixed two runs: {seen}"
                );
                reads += 1;
            }
            reads
        })
    };
    for round in 0..rounds {
        for options in [&options_b, &options_a] {
            t.committed(options)
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for c in clients {
        total += c.await.unwrap();
    }
    assert!(total > 200, "only {total} responses checked");
    let reads = reader.await.unwrap();
    assert!(reads > 100, "only {reads} reads checked");

    let (first, second) = tokio::join!(t.committed(&options_a), t.committed(&options_b));
    first.unwrap();
    second.unwrap();
    let overlapping = "SELECT COUNT(*) FROM etl_run r, etl_run s \
                       WHERE r.id = (SELECT MAX(id) FROM etl_run) - 1 AND s.id = r.id + 1 \
                       AND (r.finished_at IS NULL OR s.started_at < r.finished_at)";
    assert_eq!(t.scalar_i64(overlapping).await, 0, "two loads ran at once");
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'succeeded'")
            .await,
        2 * rounds as i64 + 4
    );
}

/// Which top-level fields of the JSON `body` differ from each reference
/// (the whole bodies when one is not a JSON object): what a failure shows.
fn differences(body: &str, a: &str, b: &str) -> String {
    let fields = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let Some(seen) = fields(body) else {
        return format!("reference 1: {a}\nreference 2: {b}");
    };
    let mut out = String::new();
    for (n, reference) in [a, b].into_iter().enumerate() {
        let Some(reference) = fields(reference) else {
            out.push_str(&format!("reference {}: {reference}\n", n + 1));
            continue;
        };
        for (key, value) in &reference {
            if seen.get(key) != Some(value) {
                out.push_str(&format!("reference {} has {key}: {value}\n", n + 1));
            }
        }
    }
    out
}

async fn responses_never_mix_two_runs(engine: Engine) {
    never_mixed(&TestDb::new(engine).await, 10).await;
}
both!(consistent_reads, responses_never_mix_two_runs);

/// A database that was never loaded: reports and /quality say `no_data`
/// (404), readiness is true (the database answers), HEAD answers like GET.
async fn never_loaded_database(engine: Engine) {
    use migration::MigratorTrait;
    let t = TestDb::new(engine).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    for path in [
        "/reports/monthly-transactions",
        "/reports/revenue-growth",
        "/reports/top-products",
        "/reports/top-users",
        "/reports/meta",
        "/quality",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status().as_u16(), 404, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "no_data", "{path}");
        let head = app.client.head(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(head.status().as_u16(), 404, "HEAD {path}");
    }
    assert_eq!(app.get("/health/ready").await.status().as_u16(), 200);
    assert_eq!(app.json("/ingests").await["total"], 0);
}
both!(never_loaded, never_loaded_database);

/// A refresh of the report cache cancelled by a conflict (what a hot standby
/// raises when a read holds up its replay: SQLSTATE 40001, made here by a
/// view over the run history that raises it) is answered from the previous
/// run; any other failure is still an error, and so is a conflict with
/// nothing cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_refresh_answers_from_the_previous_run() {
    use sea_orm::ConnectionTrait;
    if crate::helpers::postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    let recheck = Duration::from_millis(50);
    let app = TestApp::spawn_with(&t.db, recheck).await;
    let before = app.get("/reports/meta").await;
    assert_eq!(before.status().as_u16(), 200);
    let before = before.text().await.unwrap();
    let raising = |code: &str| {
        format!(
            "CREATE OR REPLACE FUNCTION refused() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN \
             RAISE EXCEPTION 'canceling statement due to conflict with recovery' USING ERRCODE = '{code}'; END $$"
        )
    };
    for sql in [
        raising("40001"),
        "ALTER TABLE etl_run RENAME TO etl_run_kept".to_owned(),
        "CREATE VIEW etl_run AS SELECT * FROM etl_run_kept WHERE refused()".to_owned(),
    ] {
        t.db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    for _ in 0..3 {
        tokio::time::sleep(recheck * 2).await;
        let res = app.get("/reports/meta").await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.text().await.unwrap(), before);
    }
    // Nothing cached: the conflict is the answer.
    let fresh = TestApp::spawn_with(&t.db, recheck).await;
    assert_eq!(fresh.get("/reports/meta").await.status().as_u16(), 500);
    // Another failure than a conflict is not hidden behind the cache.
    t.db.execute_unprepared(&raising("XX000")).await.unwrap();
    tokio::time::sleep(recheck * 2).await;
    assert_eq!(app.get("/reports/meta").await.status().as_u16(), 500);
    t.db.execute_unprepared("DROP VIEW etl_run; DROP FUNCTION refused(); ALTER TABLE etl_run_kept RENAME TO etl_run")
        .await
        .unwrap();
    tokio::time::sleep(recheck * 2).await;
    let res = app.get("/reports/meta").await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.text().await.unwrap(), before);
}

/// Two ingests at once into one SQLite file: the second waits for the first
/// (and says so), like PostgreSQL's; both succeed.
#[test]
fn sqlite_ingests_wait_for_each_other() {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", db.path().join("t.db").display());
    let big = generated(150_000, 41);
    let small = generated(2_000, 42);
    let run = |input: &std::path::Path, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(["ingest", "--input"])
            .arg(input)
            .args(extra)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Migrations first, so that the two runs meet in the load itself.
    assert!(run(small.path(), &[]).wait().unwrap().success());
    let first = run(big.path(), &[]);
    std::thread::sleep(Duration::from_millis(400));
    let second = run(small.path(), &["--mode", "append", "--force"]);
    let (a, b) = (first.wait_with_output().unwrap(), second.wait_with_output().unwrap());
    let (la, lb) = (String::from_utf8_lossy(&a.stderr), String::from_utf8_lossy(&b.stderr));
    assert!(a.status.success(), "{la}");
    assert!(b.status.success(), "{lb}");
    assert!(lb.contains("waiting for it to finish"), "the second did not wait: {lb}");
    assert!(!lb.contains("database is locked"), "{lb}");
}

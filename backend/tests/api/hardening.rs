//! Hostile inputs and requests: files that are not exports, reads during
//! loads, a database never loaded, HEAD requests, formulas in CSV cells,
//! concurrent ingests into SQLite.

use std::time::{Duration, Instant};

use backend::etl::IngestOptions;
use serde_json::Value;

use crate::both;
use crate::helpers::{fixture, realistic_input, Engine, TestApp, TestDb, TX_HEADER};
use crate::recurring::{every_response, strip, Quality};

fn generated(transactions: u64, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    backend::generate::generate(
        dir.path(),
        backend::generate::GenerateOptions {
            transactions,
            seed,
            ..Default::default()
        },
    )
    .unwrap();
    dir
}

/// A folder with the realistic products and users, and `transactions` given.
fn with_transactions(make: impl FnOnce(&std::path::Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["products.csv", "users.csv"] {
        std::fs::copy(realistic_input().join(file), dir.path().join(file)).unwrap();
    }
    make(&dir.path().join("transactions.csv"));
    dir
}

/// Files that are not exports fail at once, with a short message naming the
/// file, and the run is recorded as failed with nothing changed.
async fn not_an_export(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await;
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let cases: Vec<(tempfile::TempDir, &str)> = vec![
        (with_transactions(|p| std::fs::create_dir(p).unwrap()), "a directory"),
        (
            with_transactions(|p| {
                let status = std::process::Command::new("mkfifo").arg(p).status().unwrap();
                assert!(status.success());
            }),
            "not a regular file",
        ),
        (
            with_transactions(|p| std::os::unix::fs::symlink(secret.path().join("passwd"), p).unwrap()),
            "outside the input folder",
        ),
        (
            with_transactions(|p| std::os::unix::fs::symlink("/dev/zero", p).unwrap()),
            "outside the input folder",
        ),
        (
            // 2 GB of zeros without a newline (sparse: instant to make).
            with_transactions(|p| std::fs::File::create(p).unwrap().set_len(2 << 30).unwrap()),
            "longer than 65536 bytes",
        ),
    ];
    for (dir, expected) in &cases {
        let started = Instant::now();
        let err = t
            .run(&IngestOptions::replace(dir.path()))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{expected:?} not in {err:?}");
        assert!(err.contains("transactions.csv"), "{err}");
        assert!(
            !err.contains("root:x:0"),
            "another file's content in the message: {err}"
        );
        // At most 200 characters of input quoted (escaped, NULs take two).
        assert!(err.len() < 800, "{} bytes: {err}", err.len());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{expected}: {:?}",
            started.elapsed()
        );
    }
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, before);
    let failed = t
        .rows("SELECT error FROM etl_run WHERE status = 'failed' ORDER BY id")
        .await;
    assert_eq!(failed.len(), cases.len());
    // A link to a file inside the input folder is an ordinary file.
    let linked = with_transactions(|p| {
        let real = p.with_file_name("transactions-2024.csv");
        std::fs::copy(realistic_input().join("transactions.csv"), &real).unwrap();
        std::os::unix::fs::symlink(&real, p).unwrap();
    });
    t.ingest(linked.path()).await.unwrap();
}
both!(not_an_export_fails_fast, not_an_export);

/// Peak memory is bounded on any input: a 512 MB line without a newline
/// (after a valid header) is rejected without being held, by a real process.
#[test]
fn a_huge_line_is_not_held_in_memory() {
    let db = tempfile::tempdir().unwrap();
    let dir = with_transactions(|p| {
        use std::io::Write;
        let mut f = std::fs::File::create(p).unwrap();
        writeln!(f, "{TX_HEADER}\r").unwrap();
        writeln!(f, "1/1/24 7:00\tt1\tcus_a\t\t1.00\tusd\r").unwrap();
        // The rest: 512 MB of zeros (a hole), no newline — read twice (both
        // passes) in a second or two; what matters is that it is never held.
        let at = f.metadata().unwrap().len();
        f.set_len(at + (512 << 20)).unwrap();
    });
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["ingest", "--max-reject-pct", "100", "--input"])
        .arg(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", db.path().join("t.db").display()),
        )
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("line_too_long"), "{stdout}");
    // ru_maxrss of the waited-for child, in KiB (Linux).
    #[allow(unsafe_code)]
    let peak_kib = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage.ru_maxrss
    };
    assert!(peak_kib < 200 * 1024, "peak RSS {} MB", peak_kib / 1024);
}

/// Every figure the reports serve, computed from one read of the data: the
/// top customers and months of each currency, the products, the checks.
fn fingerprint(ctx: &backend::reports::ReportContext) -> String {
    use backend::reports::{self, TopProductsParams, TopUsersParams, WindowParams};
    let mut out = Vec::new();
    for (currency, _, _) in &ctx.currencies {
        let window = WindowParams {
            months: Some("36".into()),
            currency: Some(currency.clone()),
            ..Default::default()
        };
        let users = TopUsersParams {
            limit: Some("100".into()),
            currency: Some(currency.clone()),
            ..Default::default()
        };
        let products = TopProductsParams {
            limit: Some("100".into()),
            currency: Some(currency.clone()),
            ..Default::default()
        };
        out.push(serde_json::to_string(&reports::monthly_transactions(ctx, &window).unwrap()).unwrap());
        out.push(serde_json::to_string(&reports::top_users(ctx, &users).unwrap()).unwrap());
        out.push(serde_json::to_string(&reports::top_products(ctx, &products).unwrap()).unwrap());
    }
    let mut quality = serde_json::to_value(reports::quality(ctx).unwrap()).unwrap();
    strip(&mut quality, Quality::WithoutTheRun);
    out.push(quality.to_string());
    out.join("\n")
}

/// Every response is computed from one ingest run's data, whatever the timing
/// of concurrent loads: while two different data sets are loaded alternately,
/// reads of everything the reports need run back to back (so that loads
/// commit in the middle of many of them), and two servers answer
/// continuously; every read and every response equals one of the two
/// reference answers.
async fn responses_never_mix_two_runs(engine: Engine) {
    let a = generated(3_000, 31);
    let b = generated(2_400, 32);
    let mut references = Vec::new();
    for input in [a.path(), b.path()] {
        let r = TestDb::new(engine).await;
        r.ingest(input).await.unwrap();
        let app = TestApp::spawn(&r.db).await;
        references.push(every_response(&app, Quality::WithoutTheRun).await);
    }
    let paths: Vec<String> = references[0].iter().map(|(p, _)| p.clone()).collect();
    for (p, q) in references[0].iter().zip(&references[1]) {
        assert_eq!(p.0, q.0, "both data sets must offer the same requests");
    }
    let t = TestDb::new(engine).await;
    t.ingest(a.path()).await.unwrap();
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
                    "GET {path} mixed two runs: {body}"
                );
                checked += 1;
            }
            checked
        }));
    }
    // Reads of the whole report context, back to back.
    let fingerprints = {
        let mut refs = Vec::new();
        for input in [a.path(), b.path()] {
            let r = TestDb::new(engine).await;
            r.ingest(input).await.unwrap();
            refs.push(fingerprint(
                &backend::reports::ReportContext::load(&r.db).await.unwrap().1,
            ));
        }
        refs
    };
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
    let mut options_b = IngestOptions::replace(b.path());
    options_b.guard.max_reject_pct = "100".parse().unwrap();
    let mut options_a = options_b.clone();
    options_a.input = a.path().to_owned();
    for round in 0..10 {
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

/// HEAD answers like GET on every API path, never from the dashboard's page;
/// another method is a JSON 405.
async fn head_and_methods(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    // A server with a dashboard, whose fallback page must not answer API paths.
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<html>dashboard</html>").unwrap();
    let mut settings = backend::startup::ServeSettings::new("127.0.0.1:0");
    settings.static_dir = Some(dist.path().to_owned());
    settings.workers = Some(1);
    let server = backend::startup::Application::build(&settings, t.db.clone())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    let client = reqwest::Client::new();
    for path in [
        "/reports/meta",
        "/reports/top-users?format=csv",
        "/quality",
        "/ingests",
        "/health/ready",
        "/openapi.json",
    ] {
        let get = client.get(format!("{base}{path}")).send().await.unwrap();
        let head = client.head(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(
            head.headers().get("content-type"),
            get.headers().get("content-type"),
            "HEAD {path}"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has a body");
    }
    for path in ["/reports/nothing", "/quality/x", "/ingests/1/nothing", "/health/x"] {
        for head in [false, true] {
            let req = if head {
                client.head(format!("{base}{path}"))
            } else {
                client.get(format!("{base}{path}"))
            };
            let res = req.send().await.unwrap();
            assert_eq!(res.status().as_u16(), 404, "{path} head={head}");
            assert!(
                res.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/problem+json"),
                "{path} head={head}: the dashboard answered"
            );
        }
    }
    let post = client.post(format!("{base}/quality")).send().await.unwrap();
    assert_eq!(post.status().as_u16(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    assert_eq!(post.json::<Value>().await.unwrap()["error"], "method_not_allowed");
    // Paths that take more than reads say so.
    for (path, allow) in [("/ingests", "GET, HEAD, POST"), ("/session", "GET, HEAD, POST, DELETE")] {
        let put = client.put(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(put.status().as_u16(), 405, "PUT {path}");
        assert_eq!(put.headers()["allow"], allow, "PUT {path}");
    }
    // The dashboard still answers its own routes.
    let page = client.get(format!("{base}/runs/3")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("dashboard"));
}
both!(head_requests, head_and_methods);

/// HEAD /health/ready tells the truth when the database is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_ready_when_the_database_is_down() {
    let t = TestDb::new(Engine::Sqlite).await;
    let app = TestApp::spawn(&t.db).await;
    t.db.clone().close().await.unwrap();
    let head = app
        .client
        .head(format!("{}/health/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 503);
}

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

/// Date bounds that would leave four-digit years (or overflow the date
/// arithmetic) are refused on the command line, before anything is read.
#[test]
fn date_bounds_outside_four_digit_years_are_refused() {
    for (flag, value, why) in [
        ("--max-days-ahead", "4294967295", "36500"),
        ("--max-days-ahead", "36501", "36500"),
        ("--earliest-date", "0000-12-31", "0001 to 9999"),
        ("--earliest-date", "+10000-01-01", "0001 to 9999"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(["ingest", flag, value, "--input", "/nonexistent"])
            .env("DATABASE_URL", "sqlite::memory:")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(why),
            "{flag} {value}: {stderr}"
        );
    }
}

/// CSV exports neutralise spreadsheet formulas, and keep numbers as they are.
async fn csv_formulas_are_neutralised(engine: Engine) {
    let t = TestDb::new(engine).await;
    let dir = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t10.00\tusd",
            "1/2/24 7:00\tt2\tc2\t\t-3.00\tusd",
        ],
        &[
            "c1\t=HYPERLINK(\"http://evil.test\",\"click\")\tann@x.test",
            "c2\t+cmd|' /C calc'!A0\tb@x.test",
        ],
    );
    t.ingest(dir.path()).await.unwrap();
    let app = TestApp::spawn(&t.db).await;
    let csv = app.get("/reports/top-users?format=csv").await.text().await.unwrap();
    assert!(csv.contains("'=HYPERLINK("), "{csv}");
    assert!(csv.contains("'+cmd"), "{csv}");
    assert!(!csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"), "{csv}");
    assert!(
        csv.contains(",-3.00,") || csv.contains(",10.00,"),
        "numbers stay numbers: {csv}"
    );
}
both!(csv_injection, csv_formulas_are_neutralised);

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

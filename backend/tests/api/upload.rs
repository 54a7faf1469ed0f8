//! Uploading exports through the API (`POST /ingests`): the same pipeline as
//! the CLI, one run at a time, bounded in size, the files removed afterwards.

use std::path::Path;
use std::time::Duration;

use backend::auth::Role;
use backend::etl::IngestOptions;
use backend::startup::ServeSettings;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

use crate::access::token;
use crate::both;
use crate::helpers::{fixture, realistic_input, Engine, TestApp, TestDb, TX_HEADER, USERS_HEADER};

const REPORTS: [&str; 5] = [
    "/reports/meta",
    "/reports/monthly-transactions",
    "/reports/revenue-growth",
    "/reports/top-products?limit=50",
    "/reports/top-users?limit=50",
];

/// A server whose uploads go to `dir`, limited to `max_bytes`.
async fn server(t: &TestDb, dir: &Path, max_bytes: u64) -> TestApp {
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.cache_recheck = Duration::from_millis(50);
    settings.upload.dir = dir.to_owned();
    settings.upload.max_bytes = max_bytes;
    TestApp::spawn_settings(&t.db, settings).await
}

/// The form of the files of `dir` named in `files`, and `fields`.
fn form(dir: &Path, files: &[&str], fields: &[(&str, &str)]) -> Form {
    let mut form = Form::new();
    for name in files {
        let bytes = std::fs::read(dir.join(format!("{name}.csv"))).unwrap();
        form = form.part(name.to_string(), Part::bytes(bytes).file_name(format!("{name}.csv")));
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

impl TestApp {
    async fn upload(&self, token: &str, form: Form) -> reqwest::Response {
        self.client
            .post(format!("{}/ingests", self.address))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Polls run `id` until it is no longer running.
    async fn finished(&self, token: &str, id: i64) -> Value {
        for _ in 0..1200 {
            let run: Value = self
                .get_as(&format!("/ingests/{id}"), token)
                .await
                .json()
                .await
                .unwrap();
            if run["status"] != "running" {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("run {id} still running after 60 s");
    }
}

/// Waits until `dir` is empty (the upload's folder removed after its run).
async fn emptied(dir: &Path) {
    // The server's own folder (`revenue-uploads-*`, with its lock file) stays
    // while it runs; nothing else may.
    let left = || -> Vec<std::path::PathBuf> {
        let mut left = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()) {
            let area = e.file_name().to_str().unwrap().starts_with("revenue-uploads-");
            if !area {
                left.push(e.path());
                continue;
            }
            for inner in std::fs::read_dir(e.path()).unwrap().map(|e| e.unwrap()) {
                if inner.file_name() != ".lock" {
                    left.push(inner.path());
                }
            }
        }
        left
    };
    for _ in 0..100 {
        if left().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("uploaded files left behind: {:?}", left());
}

/// A server starting removes the upload folders of servers that are gone
/// (their lock is free: killed mid-upload), never those of a running one.
#[tokio::test]
async fn uploads_of_a_dead_server_are_swept() {
    use std::os::fd::AsRawFd;
    let t = TestDb::new(Engine::Sqlite).await;
    let uploads = tempfile::tempdir().unwrap();
    let dead = uploads.path().join("revenue-uploads-dead");
    std::fs::create_dir_all(dead.join("upload-x")).unwrap();
    std::fs::write(dead.join(".lock"), "").unwrap();
    std::fs::write(dead.join("upload-x/transactions.csv"), "half an upload").unwrap();
    let alive = uploads.path().join("revenue-uploads-alive");
    std::fs::create_dir_all(alive.join("upload-y")).unwrap();
    let lock = std::fs::File::create(alive.join(".lock")).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: flock on a file descriptor `lock` owns for the test's duration.
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
    assert!(locked);
    let other = uploads.path().join("not-ours");
    std::fs::create_dir_all(&other).unwrap();

    let _app = server(&t, uploads.path(), 1 << 20).await;
    assert!(!dead.exists(), "the dead server's uploads are still there");
    assert!(
        alive.join("upload-y").exists(),
        "a running server's uploads were removed"
    );
    assert!(other.exists(), "a folder that is not ours was removed");
    let own: Vec<_> = std::fs::read_dir(uploads.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("revenue-uploads-") && n != "revenue-uploads-alive")
        .collect();
    assert_eq!(own.len(), 1, "{own:?}");
    drop(lock);
}

/// The real export uploaded gives the same run and the same reports as the CLI.
async fn upload_equals_the_cli(engine: Engine) {
    upload_equals_the_cli_on(&TestDb::new(engine).await, &TestDb::new(engine).await).await;
}
both!(same_as_cli, upload_equals_the_cli);

/// The real export uploaded to `t` by an admin token gives the same run and
/// the same reports as the CLI's replace into `cli` (two empty databases,
/// of any engines).
pub async fn upload_equals_the_cli_on(cli: &TestDb, t: &TestDb) {
    let input = realistic_input();
    let cli_run = cli.committed(&IngestOptions::replace(&input)).await.unwrap();
    let admin = token(t, "uploader", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = server(t, uploads.path(), 1 << 30).await;
    let res = app
        .upload(&admin, form(&input, &["products", "transactions", "users"], &[]))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let accepted: Value = res.json().await.unwrap();
    let id = accepted["run_id"].as_i64().unwrap();
    assert_eq!(location, format!("/ingests/{id}"));
    assert_eq!(accepted["href"], location);
    assert_eq!(accepted["status"], "running");
    let run = app.finished(&admin, id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(run["requested_by"], "token:uploader");
    assert!(run["progress"].is_null());
    // The same bytes (SHA-256) and the same accounting, file by file.
    let files = run["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for (served, f) in files.iter().zip(&cli_run.files) {
        assert_eq!(served["file"], f.file);
        assert_eq!(served["sha256"], f.sha256);
        assert_eq!(served["read"], f.counts.read);
        assert_eq!(served["loaded"], f.counts.loaded);
        assert_eq!(served["duplicates"], f.counts.duplicates);
        assert_eq!(served["rejected"], f.counts.rejected);
    }
    let cli_app = TestApp::spawn(&cli.db).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    for path in REPORTS {
        let uploaded: Value = app.get_as(path, &admin).await.json().await.unwrap();
        assert_eq!(uploaded, cli_app.json(path).await, "{path}");
    }
    let cli_history: Value = cli_app.json("/ingests").await;
    assert_eq!(cli_history["runs"][0]["requested_by"], "cli");
    emptied(uploads.path()).await;
}

/// 413 as soon as the limit is passed — by the declared length, or while
/// streaming a body of unknown length — with nothing recorded or left behind.
async fn too_large(engine: Engine) {
    let t = TestDb::new(engine).await;
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = server(&t, uploads.path(), 64 << 10).await;
    let big = format!(
        "{TX_HEADER}\r\n{}",
        "1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd\r\n".repeat(3000)
    );
    assert!(big.len() > 64 << 10);
    let declared = Form::new().part("transactions", Part::text(big.clone()).file_name("t.csv"));
    let res = app.upload(&admin, declared).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");
    // Streamed (chunked, no Content-Length): counted while it arrives.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big.as_bytes().chunks(4096).map(|c| Ok(c.to_vec())).collect();
    let streamed = Part::stream(reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))).file_name("t.csv");
    let res = app
        .upload(
            &admin,
            Form::new().text("mode", "append").part("transactions", streamed),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM etl_run").await, 0);
    emptied(uploads.path()).await;
    // Just under the limit goes through.
    let dir = fixture(&[], &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd"], &[]);
    let res = app
        .upload(&admin, form(dir.path(), &["transactions"], &[("mode", "append")]))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}
both!(payload_too_large, too_large);

/// A missing, unknown or repeated part, a bad value, or no multipart body: 400,
/// nothing recorded, nothing left behind.
async fn bad_forms(engine: Engine) {
    let t = TestDb::new(engine).await;
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = server(&t, uploads.path(), 1 << 30).await;
    let input = realistic_input();
    let all = ["products", "transactions", "users"];
    let cases: Vec<(Form, &str)> = vec![
        (form(&input, &["products", "users"], &[]), "missing transactions"),
        (
            form(&input, &[], &[("mode", "replace")]),
            "missing products, transactions, users",
        ),
        (form(&input, &[], &[("mode", "append")]), "at least one"),
        (
            form(&input, &all, &[]).part("orders", Part::text("x").file_name("orders.csv")),
            "unknown part `orders`",
        ),
        (
            form(&input, &all, &[]).part("users", Part::text("x").file_name("users.csv")),
            "`users` is given twice",
        ),
        (
            form(&input, &["products", "transactions"], &[]).part("users", Part::text("0.0")),
            "the part `users` must be a file",
        ),
        (
            form(&input, &all, &[("mode", "merge")]),
            "`mode` must be replace or append",
        ),
        (
            form(&input, &all, &[("dry_run", "maybe")]),
            "`dry_run` must be true or false",
        ),
        (
            form(&input, &all, &[("mode", "replace"), ("mode", "append")]),
            "given twice",
        ),
    ];
    for (form, expected) in cases {
        let res = app.upload(&admin, form).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{expected}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains(expected),
            "{expected}: {body}"
        );
    }
    let not_multipart = app
        .client
        .post(format!("{}/ingests", app.address))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"products": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM etl_run").await, 0);
    emptied(uploads.path()).await;
}
both!(bad_requests, bad_forms);

/// One ingest at a time: an upload while another ingest (of any process)
/// holds the lock answers 409 at once.
async fn one_at_a_time(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = server(&t, uploads.path(), 1 << 30).await;
    let lock = backend::etl::IngestLock::try_acquire(&t.db).await.unwrap().unwrap();
    let users = fixture(&[], &[], &["c1\tAnn\tann@x.test"]);
    let started = std::time::Instant::now();
    let res = app
        .upload(&admin, form(users.path(), &["users"], &[("mode", "append")]))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(started.elapsed() < Duration::from_secs(5));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "conflict");
    assert!(body["message"].as_str().unwrap().contains("another ingest is running"));
    lock.release().await;
    let res = app
        .upload(&admin, form(users.path(), &["users"], &[("mode", "append")]))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    // While the upload's run holds the lock, the CLI waits for it; after, it may run.
    let run = app.finished(&admin, id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    // The run is recorded as finished a moment before its lock is released.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while backend::etl::IngestLock::try_acquire(&t.db).await.unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "the upload's run kept the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    emptied(uploads.path()).await;
}
both!(conflict, one_at_a_time);

/// A dry run changes nothing; an append takes any of the files; a run shows
/// its progress while it runs.
async fn dry_runs_appends_and_progress(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = server(&t, uploads.path(), 1 << 30).await;
    let mut before = Vec::new();
    for path in REPORTS {
        before.push(app.get_as(path, &admin).await.json::<Value>().await.unwrap());
    }
    let tx_before = t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await;
    // A dry run of other, smaller data (forced past the keep-50% guard rail).
    let other = tempfile::tempdir().unwrap();
    backend::generate::generate(
        other.path(),
        backend::generate::GenerateOptions {
            transactions: 2000,
            seed: 9,
            ..Default::default()
        },
    )
    .unwrap();
    let res = app
        .upload(
            &admin,
            form(
                other.path(),
                &["products", "transactions", "users"],
                &[("dry_run", "true"), ("force", "on")],
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = app.finished(&admin, id).await;
    assert_eq!(run["status"], "dry_run", "{run:#}");
    assert_eq!(run["forced"], true);
    assert_eq!(run["after"]["transactions"], 2000);
    tokio::time::sleep(Duration::from_millis(150)).await;
    for (path, was) in REPORTS.iter().zip(&before) {
        let now: Value = app.get_as(path, &admin).await.json().await.unwrap();
        assert_eq!(&now, was, "{path} changed by a dry run");
    }
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, tx_before);

    // An append of transactions.csv alone: the run lists that file only.
    let more = fixture(&[], &["1/3/24 7:00\tnew-1\tc-new\t\t7.00\tusd"], &[]);
    let res = app
        .upload(&admin, form(more.path(), &["transactions"], &[("mode", "append")]))
        .await;
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = app.finished(&admin, id).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let files = run["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0]["file"], "transactions.csv");
    assert_eq!(files[0]["loaded"], 1);
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        tx_before + 1
    );

    // A larger upload shows its phase and rows while it runs.
    let big = tempfile::tempdir().unwrap();
    backend::generate::generate(
        big.path(),
        backend::generate::GenerateOptions {
            transactions: 150_000,
            seed: 3,
            ..Default::default()
        },
    )
    .unwrap();
    let res = app
        .upload(&admin, form(big.path(), &["products", "transactions", "users"], &[]))
        .await;
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let mut seen = None;
    loop {
        let run: Value = app
            .get_as(&format!("/ingests/{id}"), &admin)
            .await
            .json()
            .await
            .unwrap();
        if run["status"] != "running" {
            assert_eq!(run["status"], "succeeded", "{run:#}");
            assert!(run["progress"].is_null());
            break;
        }
        if let Some(p) = run["progress"].as_object() {
            assert!(!p["phase"].as_str().unwrap().is_empty());
            seen.get_or_insert(p.clone());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = seen.expect("no progress was served while the run ran");
    assert!(seen["elapsed_ms"].as_u64().is_some());
    let listed: Value = app.get_as("/ingests?limit=1", &admin).await.json().await.unwrap();
    assert_eq!(listed["runs"][0]["id"], id);
    emptied(uploads.path()).await;
}
both!(dry_run_append_progress, dry_runs_appends_and_progress);

/// The CLI's append takes a folder holding some of the files; with none it
/// says so.
async fn append_some_files(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let users = tempfile::tempdir().unwrap();
    std::fs::write(
        users.path().join("users.csv"),
        format!("{USERS_HEADER}\r\nsomeone-new\tNew Person\tnew@x.test\r\n"),
    )
    .unwrap();
    let customers = t.scalar_i64("SELECT COUNT(*) FROM dim_user").await;
    let summary = t.append(users.path()).await.unwrap();
    assert_eq!(summary.files.len(), 1);
    assert_eq!(summary.files[0].file, "users.csv");
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM dim_user").await, customers + 1);
    // The same file again: skipped as ingested before.
    let again = t.run(&IngestOptions::append(users.path())).await.unwrap();
    assert_eq!(again.status, backend::etl::RunStatus::Skipped);
    assert!(again.message.unwrap().contains("the file was ingested before"));
    let empty = tempfile::tempdir().unwrap();
    let err = t.run(&IngestOptions::append(empty.path())).await.unwrap_err();
    assert!(err.to_string().contains("needs at least one of them"), "{err}");
    // A replace still needs all three.
    let err = t.run(&IngestOptions::replace(users.path())).await.unwrap_err();
    assert!(err.to_string().contains("products.csv"), "{err}");
}
both!(append_subset, append_some_files);

/// The server that ran an upload serves its data from the next request,
/// however long its report cache would otherwise wait to look again.
async fn uploader_sees_its_data(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.cache_recheck = Duration::from_secs(3600);
    settings.upload.dir = uploads.path().to_owned();
    let app = TestApp::spawn_settings(&t.db, settings).await;
    let before: Value = app.get_as("/reports/meta", &admin).await.json().await.unwrap();
    let later = fixture(&[], &["12/30/24 10:00\ttxn_later_1\tcus_later_1\t\t12.00\tusd"], &[]);
    let res = app
        .upload(&admin, form(later.path(), &["transactions"], &[("mode", "append")]))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    assert_eq!(app.finished(&admin, id).await["status"], "succeeded");
    // The run is recorded as finished a moment before the cache is told.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let after: Value = app.get_as("/reports/meta", &admin).await.json().await.unwrap();
        if after["latest_month"] == "2024-12" {
            break;
        }
        assert_eq!(before["latest_month"], after["latest_month"]);
        assert!(std::time::Instant::now() < deadline, "the uploader serves the old data");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
both!(uploader_sees_its_data, uploader_sees_its_data);

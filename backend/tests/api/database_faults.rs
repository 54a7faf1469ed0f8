//! A database that is not what the server took it for: a SQLite file deleted
//! or replaced under a running server, a read-only database, and the same
//! database reached by another name (the ingest lock still holds).

use std::path::Path;
use std::time::{Duration, Instant};

use backend::auth::Role;
use backend::configuration::DatabaseSettings;
use backend::etl::{self, IngestOptions};
use backend::startup::{Application, ServeSettings};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::access::token;
use crate::both;
use crate::helpers::generated;
use crate::helpers::{postgres_admin_url, Engine, TestApp, TestDb};
use crate::run_records::upload_form;

/// Runs `sql` on the PostgreSQL server as its administrator.
async fn pg_admin(sql: &str) {
    use sea_orm::ConnectionTrait;
    let admin = sea_orm::Database::connect(postgres_admin_url().unwrap()).await.unwrap();
    admin.execute_unprepared(sql).await.unwrap();
    admin.close().await.unwrap();
}

/// The name of a test's PostgreSQL database.
async fn pg_name(t: &TestDb) -> String {
    t.rows("SELECT current_database() AS name").await[0]
        .try_get("", "name")
        .unwrap()
}

/// Polls `path` (as `token`) until it answers `status`; the body.
async fn until(app: &TestApp, token: &str, path: &str, status: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = app.get_as(path, token).await;
        if res.status().as_u16() == status {
            return res.json().await.unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {} instead of {status}",
            res.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A server on `db` (not migrated by the test: as `serve` starts it).
async fn serve(db: sea_orm::DatabaseConnection, uploads: &Path) -> Result<TestApp, backend::startup::StartError> {
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.upload.dir = uploads.to_owned();
    // Refused records wait in this test's folder, not in the shared default one.
    settings.upload.defaults.recording.pending_dir = Some(uploads.join("pending-runs"));
    let app = Application::build(&settings, db).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(TestApp {
        address,
        client: reqwest::Client::new(),
    })
}

/// The SQLite file deleted (moved away) under a running server: readiness,
/// reads and uploads answer 503 `database_file_changed` within seconds (not
/// 200 from the unlinked file), and no empty database is created at the
/// path; the same file moved back serves again; another file moved in its
/// place is refused the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_deleted_or_replaced_under_the_server() {
    let t = TestDb::new(Engine::Sqlite).await;
    let input = generated(500, 21);
    t.ingest(input.path()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    // Connected as `serve` connects: to a file that exists.
    let db = backend::db::connect_lazy(&t.settings).await.unwrap();
    let app = serve(db, uploads.path()).await.unwrap();
    let ready = until(&app, &admin, "/health/ready", 200).await;
    assert_eq!(ready["writable"], true, "{ready}");
    let meta = until(&app, &admin, "/reports/meta", 200).await;

    let path = t.dir.path().join("test.db");
    let aside = t.dir.path().join("aside.db");
    std::fs::rename(&path, &aside).unwrap();
    let body = until(&app, &admin, "/health/ready", 503).await;
    assert_eq!(body["error"], "database_file_changed", "{body}");
    assert!(body["message"].as_str().unwrap().contains("restart"), "{body}");
    assert!(!body.to_string().contains(&*t.dir.path().to_string_lossy()), "{body}");
    let body = until(&app, &admin, "/reports/meta", 503).await;
    assert_eq!(body["error"], "database_file_changed", "{body}");
    let res = app.post_upload(&admin, upload_form(input.path(), &[])).await;
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "database_file_changed");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!path.exists(), "the server created a new database where its file was");

    // The same file back: served again.
    std::fs::rename(&aside, &path).unwrap();
    until(&app, &admin, "/health/ready", 200).await;
    assert_eq!(until(&app, &admin, "/reports/meta", 200).await, meta);

    // Another file in its place (a copy: another inode).
    std::fs::copy(&path, &aside).unwrap();
    std::fs::rename(&aside, &path).unwrap();
    let body = until(&app, &admin, "/reports/meta", 503).await;
    assert_eq!(body["error"], "database_file_changed", "{body}");
    assert!(body["message"].as_str().unwrap().contains("replaced"), "{body}");
}

/// A run whose SQLite file is deleted while it loads fails, saying so,
/// instead of committing into the unlinked file and reporting success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_run_into_a_deleted_file_fails() {
    let t = TestDb::new(Engine::Sqlite).await;
    let small = generated(500, 22);
    t.ingest(small.path()).await.unwrap();
    let big = generated(150_000, 23);
    // Connected as the CLI connects: to a file that exists.
    let db = backend::db::connect(&t.settings).await.unwrap();
    let mut options = IngestOptions::replace(big.path());
    // A refused record waits in this test's folder, not in the shared default one.
    let pending = tempfile::tempdir().unwrap();
    options.recording.pending_dir = Some(pending.path().to_owned());
    // The run's future is not `Send`: on a thread of its own, as uploads run.
    let run = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(etl::ingest(&db, &options))
    });
    // Deleted once the run is loading: recorded `running`, and holding the
    // write lock (its load transaction is open).
    let mut probe = {
        use sqlx::Connection;
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", t.dir.path().join("test.db").display()))
            .await
            .unwrap()
    };
    sqlx::raw_sql("PRAGMA busy_timeout = 0")
        .execute(&mut probe)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let running = t
            .scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'running'")
            .await
            > 0;
        if running {
            match sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut probe).await {
                Ok(_) => {
                    sqlx::raw_sql("ROLLBACK").execute(&mut probe).await.unwrap();
                }
                Err(_) => break,
            }
        }
        assert!(!run.is_finished(), "the run ended before it loaded anything");
        assert!(Instant::now() < deadline, "the run did not start loading");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    std::fs::remove_file(t.dir.path().join("test.db")).unwrap();
    let result = tokio::task::spawn_blocking(move || run.join().unwrap()).await.unwrap();
    match result {
        Ok(summary) => panic!("the run reported {:?} into a deleted file", summary.status),
        Err(e) => assert!(e.to_string().contains("deleted, moved or replaced"), "{e}"),
    }
}

/// The same database as `t`, read-only: `?mode=ro` (SQLite; with
/// `rollback_journal`, a copy of the file in that journal mode), or
/// `default_transaction_read_only` (PostgreSQL).
async fn read_only_settings(t: &TestDb, rollback_journal: bool) -> DatabaseSettings {
    use sea_orm::ConnectionTrait;
    use sqlx::Connection;
    match t.engine {
        Engine::Sqlite => {
            let mut file = t.dir.path().join("test.db");
            if rollback_journal {
                t.db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await
                    .unwrap();
                let copy = t.dir.path().join("rollback-journal.db");
                std::fs::copy(&file, &copy).unwrap();
                let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", copy.display()))
                    .await
                    .unwrap();
                sqlx::raw_sql("PRAGMA journal_mode = DELETE")
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                file = copy;
            }
            let url = format!("sqlite://{}?mode=ro", file.display());
            DatabaseSettings::from_url(SecretString::from(url)).unwrap()
        }
        Engine::Postgres => {
            let name = pg_name(t).await;
            pg_admin(&format!("ALTER DATABASE {name} SET default_transaction_read_only = on")).await;
            t.settings.clone()
        }
    }
}

/// A read-only database is served for reads: the server starts, readiness is
/// 200 saying writes are unavailable, the reports are the same, an upload is
/// refused with 503 `database_read_only` (nothing recorded, nothing left
/// behind), and the CLI says it is read-only. On SQLite also a file in the
/// rollback-journal mode (which `serve` switches to WAL, a write).
async fn read_only_served_for_reads(engine: Engine) {
    let t = TestDb::new(engine).await;
    let input = generated(500, 24);
    t.ingest(input.path()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    // Served once writable (as it was before it was made read-only).
    let writable = serve(t.db.clone(), uploads.path()).await.unwrap();
    let meta = until(&writable, &admin, "/reports/meta", 200).await;
    let runs = t.scalar_i64("SELECT COUNT(*) FROM etl_run").await;
    let mut variants = vec![false];
    if engine == Engine::Sqlite {
        variants.push(true);
    }
    for rollback_journal in variants {
        let settings = read_only_settings(&t, rollback_journal).await;
        let db = backend::db::connect_lazy(&settings).await.unwrap();
        let app = match serve(db.clone(), uploads.path()).await {
            Ok(app) => app,
            Err(e) => panic!("a read-only database was not served (rollback journal: {rollback_journal}): {e}"),
        };
        let ready = until(&app, &admin, "/health/ready", 200).await;
        assert_eq!(ready["status"], "ready");
        assert_eq!(ready["writable"], false, "{ready}");
        assert!(ready["message"].as_str().unwrap().contains("read-only"), "{ready}");
        assert_eq!(until(&app, &admin, "/reports/meta", 200).await, meta);
        let res = app.post_upload(&admin, upload_form(input.path(), &[])).await;
        assert_eq!(res.status().as_u16(), 503);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "database_read_only", "{body}");
        assert!(body["message"].as_str().unwrap().contains("read-only"), "{body}");
        let mut options = IngestOptions::replace(input.path());
        options.recording.pending_dir = None;
        let err = etl::ingest(&db, &options).await.unwrap_err();
        assert!(err.to_string().contains("read-only"), "{err}");
    }
    if engine == Engine::Postgres {
        let name = pg_name(&t).await;
        pg_admin(&format!("ALTER DATABASE {name} RESET default_transaction_read_only")).await;
    }
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM etl_run").await, runs);
    let left: Vec<_> = walk(uploads.path())
        .into_iter()
        .filter(|p| !p.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
both!(read_only, read_only_served_for_reads);

/// The files under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap()) {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

/// A SQLite file the process may not write (mode 0444) is served read-only
/// too. Root writes any file: skipped there, with a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_without_write_permission() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0) == 0 {
        crate::helpers::skip("running as root, who may write a 0444 file");
        return;
    }
    let t = TestDb::new(Engine::Sqlite).await;
    let input = generated(500, 25);
    t.ingest(input.path()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    serve(t.db.clone(), uploads.path()).await.unwrap();
    t.db.clone().close().await.unwrap();
    let path = t.dir.path().join("test.db");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let db = backend::db::connect_lazy(&t.settings).await.unwrap();
    let app = serve(db, uploads.path()).await.unwrap();
    let ready = until(&app, &admin, "/health/ready", 200).await;
    assert_eq!(ready["writable"], false, "{ready}");
    let res = app.post_upload(&admin, upload_form(input.path(), &[])).await;
    assert_eq!(res.status().as_u16(), 503);
}

/// A CLI `--dry-run` holds the ingest lock as any run does: an upload while
/// it runs answers 409 on both engines — on SQLite also when the CLI reaches
/// the database through another name (a symbolic link to the file).
async fn dry_run_blocks_uploads(engine: Engine) {
    let t = TestDb::new(engine).await;
    let small = generated(500, 26);
    t.ingest(small.path()).await.unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = serve(t.db.clone(), uploads.path()).await.unwrap();
    let url = match engine {
        Engine::Sqlite => {
            let link = t.dir.path().join("link.db");
            std::os::unix::fs::symlink(t.dir.path().join("test.db"), &link).unwrap();
            DatabaseSettings::sqlite_file(&link)
                .unwrap()
                .url()
                .expose_secret()
                .to_owned()
        }
        Engine::Postgres => t.settings.url().expose_secret().to_owned(),
    };
    let big = generated(150_000, 27);
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["ingest", "--dry-run", "--force", "--input"])
        .arg(big.path())
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while t
        .scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'running'")
        .await
        == 0
    {
        assert!(Instant::now() < deadline, "the dry run did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let res = app
        .post_upload(&admin, upload_form(small.path(), &[("force", "true")]))
        .await;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "conflict");
    let done = tokio::task::spawn_blocking(move || cli.wait().unwrap()).await.unwrap();
    assert!(done.success());
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'dry_run'")
            .await,
        1
    );
}
both!(dry_run_lock, dry_run_blocks_uploads);

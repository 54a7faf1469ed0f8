//! A database that is not what the server took it for: a read-only database.

use std::path::Path;
use std::time::{Duration, Instant};

use backend::auth::Role;
use backend::configuration::DatabaseSettings;
use backend::etl::{self, IngestOptions};
use backend::startup::{Application, ServeSettings};
use secrecy::SecretString;
use serde_json::Value;

use crate::access::token;
use crate::both;
use crate::helpers::{postgres_admin_url, Engine, TestApp, TestDb};
use crate::run_records::{generated, upload_form};

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
    let app = Application::build(&settings, db).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(TestApp {
        address,
        client: reqwest::Client::new(),
    })
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
        let err = etl::ingest(&db, &IngestOptions::replace(input.path()))
            .await
            .unwrap_err();
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
        eprintln!("running as root, who may write a 0444 file: skipping");
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

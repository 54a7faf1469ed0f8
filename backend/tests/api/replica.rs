//! A server reading the reports from a streaming-replication standby: two
//! PostgreSQL clusters made on this machine (a primary, and a hot standby of
//! it by `pg_basebackup -R`), ingests on the primary, the server on the
//! standby switching to each new run.
//!
//! Skipped, with a message, where the PostgreSQL server binaries are missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use backend::configuration::DatabaseSettings;
use backend::etl::IngestOptions;
use backend::startup::{Application, ServeSettings};
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::helpers::{fixture, realistic_input, TestApp};

/// The newest PostgreSQL server binaries of this machine.
fn server_binaries() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|bin| {
            ["initdb", "pg_ctl", "pg_basebackup", "postgres"]
                .iter()
                .all(|b| bin.join(b).is_file())
        })
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

/// A free port of 127.0.0.1.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One PostgreSQL cluster of the test (stopped when dropped).
struct Cluster {
    data: PathBuf,
    port: u16,
    bin: PathBuf,
    /// PostgreSQL refuses to run as root: as root, the clusters run as `postgres`.
    user: Option<String>,
}

impl Cluster {
    fn command(bin: &Path, user: &Option<String>, program: &str) -> Command {
        match user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(bin.join(program));
                c
            }
            None => Command::new(bin.join(program)),
        }
    }

    fn run(mut command: Command, what: &str) {
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{what}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn append(path: &Path, text: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    fn start(&self) {
        let mut c = Self::command(&self.bin, &self.user, "pg_ctl");
        c.arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(self.data.with_extension("log"))
            .args(["-w", "-t", "60", "start"]);
        Self::run(c, "pg_ctl start");
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut c = Self::command(&self.bin, &self.user, "pg_ctl");
        c.arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]);
        let _ = c.output();
    }
}

/// A primary and its hot standby, in `dir`.
fn primary_and_standby(bin: &Path, dir: &Path, user: Option<String>) -> (Cluster, Cluster) {
    let primary = Cluster {
        data: dir.join("primary"),
        port: free_port(),
        bin: bin.to_owned(),
        user: user.clone(),
    };
    let mut c = Cluster::command(bin, &user, "initdb");
    c.arg("-D")
        .arg(&primary.data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    Cluster::run(c, "initdb");
    Cluster::append(
        &primary.data.join("postgresql.conf"),
        &format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             fsync = off\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nshared_buffers = 64MB\n",
            primary.port,
            dir.display()
        ),
    );
    Cluster::append(
        &primary.data.join("pg_hba.conf"),
        "\nhost replication all 127.0.0.1/32 trust\n",
    );
    primary.start();
    let standby = Cluster {
        data: dir.join("standby"),
        port: free_port(),
        bin: bin.to_owned(),
        user: user.clone(),
    };
    let mut c = Cluster::command(bin, &user, "pg_basebackup");
    c.args([
        "-h",
        "127.0.0.1",
        "-p",
        &primary.port.to_string(),
        "-U",
        "postgres",
        "-D",
    ])
    .arg(&standby.data)
    .args(["-R", "-X", "stream", "-c", "fast"]);
    Cluster::run(c, "pg_basebackup");
    Cluster::append(
        &standby.data.join("postgresql.conf"),
        &format!("\nport = {}\n", standby.port),
    );
    standby.start();
    (primary, standby)
}

/// Polls the server until `check` holds for `path`'s JSON (at most 30 s).
async fn until(app: &TestApp, path: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = app.get(path).await;
        if res.status().is_success() {
            let v: Value = res.json().await.unwrap();
            if check(&v) {
                return v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the standby's server never showed it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_a_standby_follows_the_primary() {
    let Some(bin) = server_binaries() else {
        crate::helpers::skip("no PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) under /usr/lib/postgresql");
        return;
    };
    #[allow(unsafe_code)]
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let dir = tempfile::tempdir().unwrap();
    let user = if root {
        let id = Command::new("id").args(["-u", "postgres"]).output().unwrap();
        let Some(uid) = String::from_utf8_lossy(&id.stdout).trim().parse::<u32>().ok() else {
            crate::helpers::skip("running as root and there is no `postgres` user to run the clusters as");
            return;
        };
        std::os::unix::fs::chown(dir.path(), Some(uid), None).unwrap();
        Some("postgres".to_owned())
    } else {
        None
    };
    let (primary, standby) = primary_and_standby(&bin, dir.path(), user);

    let admin = sea_orm::Database::connect(primary.url("postgres")).await.unwrap();
    admin.execute_unprepared("CREATE DATABASE revenue").await.unwrap();
    admin.close().await.unwrap();
    let settings = DatabaseSettings::from_url(primary.url("revenue").into()).unwrap();
    let db = backend::db::connect(&settings).await.unwrap();
    let mut options = IngestOptions::replace(realistic_input());
    options.guard.max_reject_pct = "100".parse().unwrap();
    backend::etl::ingest(&db, &options).await.unwrap();

    // The standby has the database once it has replayed its creation.
    let deadline = Instant::now() + Duration::from_secs(30);
    let replica = loop {
        let settings = DatabaseSettings::from_url(standby.url("revenue").into()).unwrap();
        match backend::db::connect(&settings).await {
            Ok(r) => break r,
            Err(e) => {
                assert!(Instant::now() < deadline, "the standby never had the database: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let in_recovery = replica
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT pg_is_in_recovery() AS r",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(in_recovery.try_get::<bool>("", "r").unwrap(), "not a standby");

    let reads = backend::db::connect_lazy(&DatabaseSettings::from_url(standby.url("revenue").into()).unwrap())
        .await
        .unwrap();
    let mut serve = ServeSettings::new("127.0.0.1:0");
    serve.workers = Some(1);
    serve.cache_recheck = Duration::from_millis(100);
    let server = Application::build_with_reads(&serve, db.clone(), Some(reads))
        .await
        .unwrap();
    let app = TestApp {
        address: format!("http://127.0.0.1:{}", server.port()),
        client: reqwest::Client::new(),
    };
    tokio::spawn(server.run_until_stopped());

    let first = until(&app, "/reports/meta", "the first run", |m| {
        m["latest_month"].is_string()
    })
    .await;
    // The server's reads are on the standby.
    let readers = replica
        .query_one(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'revenue' AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(readers >= 1, "the server holds no connection to the standby");

    // An append on the primary: the standby's server switches to it.
    let later = fixture(
        &[],
        &["12/30/24 10:00\ttxn_replica_1\tcus_replica_1\t\t12.00\tusd"],
        &[],
    );
    std::fs::remove_file(later.path().join("products.csv")).unwrap();
    std::fs::remove_file(later.path().join("users.csv")).unwrap();
    let mut append = IngestOptions::replace(later.path());
    append.mode = backend::etl::Mode::Append;
    backend::etl::ingest(&db, &append).await.unwrap();
    until(&app, "/reports/meta", "the append", |m| m["latest_month"] == "2024-12").await;
    let runs = until(&app, "/ingests", "the append's run", |r| r["total"] == 2).await;
    assert_eq!(runs["runs"][0]["mode"], "append");

    // A replace (its table swap replayed on the standby): switched again.
    backend::etl::ingest(&db, &options).await.unwrap();
    until(&app, "/reports/meta", "the replace", |m| {
        m["latest_month"] == first["latest_month"]
    })
    .await;
    until(&app, "/ingests", "the replace's run", |r| r["total"] == 3).await;
    db.close().await.unwrap();
    replica.close().await.unwrap();
}

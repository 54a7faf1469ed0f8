//! Test databases, fixtures and a running app on a random port.

use std::path::{Path, PathBuf};

use backend::configuration::DatabaseSettings;
use backend::etl::{self, IngestOptions, RunSummary};
use backend::startup::{Application, ServeSettings};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use secrecy::SecretString;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs a test body once per engine: `both!(name, body_fn)`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::helpers::Engine::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::helpers::postgres_admin_url().is_some() {
                    super::$body($crate::helpers::Engine::Postgres).await;
                }
            }
        }
    };
}

/// `TEST_DATABASE_URL`. Missing, it is a failure — unless `SKIP_POSTGRES=1`
/// asks for the PostgreSQL variants to be skipped (never under `CI=true`),
/// and then each skip is counted (see [`skip`]).
pub fn postgres_admin_url() -> Option<String> {
    if let Some(url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        return Some(url);
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let skip_asked = std::env::var("SKIP_POSTGRES").is_ok_and(|v| v == "1");
    if ci || !skip_asked {
        panic!(
            "TEST_DATABASE_URL is not set: the PostgreSQL variant cannot run. Set it to a PostgreSQL \
             admin URL (scripts/test.sh finds one at 127.0.0.1:5432), or set SKIP_POSTGRES=1 to skip \
             the PostgreSQL variants (counted; never under CI=true)"
        );
    }
    skip("TEST_DATABASE_URL not set (SKIP_POSTGRES=1)");
    None
}

/// Records that the calling test did not run its checks, and why: printed,
/// and appended to `$TEST_SKIP_LOG` when set, so that `scripts/test.sh`
/// counts the skips at the end of the run (and CI refuses those it does not
/// expect). A test that returns early without calling this must not exist.
pub fn skip(reason: &str) {
    let test = std::thread::current().name().unwrap_or("unknown test").to_owned();
    eprintln!("SKIPPED {test}: {reason}");
    if let Some(log) = std::env::var_os("TEST_SKIP_LOG").filter(|v| !v.is_empty()) {
        use std::io::Write;
        let line = format!("{test}\t{reason}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = written {
            panic!("cannot record the skip in {}: {e}", log.to_string_lossy());
        }
    }
}

/// A fresh, empty database, dropped again when the test ends (PostgreSQL) or
/// deleted with its temporary folder (SQLite).
pub struct TestDb {
    pub db: DatabaseConnection,
    pub settings: DatabaseSettings,
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let Some(admin) = postgres_admin_url() else { return };
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = sea_orm::Database::connect(&admin).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

impl TestDb {
    /// A PostgreSQL database the test did not create (a Citus coordinator
    /// it started): connected, never dropped.
    pub async fn at(settings: DatabaseSettings) -> Self {
        let db = backend::db::connect(&settings).await.unwrap();
        Self {
            db,
            settings,
            engine: Engine::Postgres,
            dir: tempfile::tempdir().unwrap(),
            pg_name: None,
        }
    }

    pub async fn new(engine: Engine) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut pg_name = None;
        let settings = match engine {
            Engine::Sqlite => DatabaseSettings::sqlite_file(&dir.path().join("test.db")).unwrap(),
            Engine::Postgres => {
                let admin_url = postgres_admin_url().expect("PostgreSQL not configured");
                let name = format!("revenue_test_{:016x}", fastrand::u64(..));
                let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
                pg_name = Some(name.clone());
                let mut url = url::Url::parse(&admin_url).unwrap();
                url.set_path(&format!("/{name}"));
                DatabaseSettings::from_url(SecretString::from(url.to_string())).unwrap()
            }
        };
        let db = backend::db::connect(&settings).await.unwrap();
        Self {
            db,
            settings,
            engine,
            dir,
            pg_name,
        }
    }

    /// A replace of `input` that must commit: the guard rail on rejected rows
    /// is off (the cleaning fixtures reject many rows on purpose); a run that
    /// does not commit panics, a run that fails returns its error.
    pub async fn ingest(&self, input: &Path) -> Result<RunSummary, etl::EtlError> {
        let mut options = IngestOptions::replace(input);
        options.guard.max_reject_pct = "100".parse().unwrap();
        self.committed(&options).await
    }

    /// An append of `input` that must commit (guard rails as in [`Self::ingest`]).
    pub async fn append(&self, input: &Path) -> Result<RunSummary, etl::EtlError> {
        let mut options = IngestOptions::append(input);
        options.guard.max_reject_pct = "100".parse().unwrap();
        self.committed(&options).await
    }

    /// A run with `options` that must commit.
    pub async fn committed(&self, options: &IngestOptions) -> Result<RunSummary, etl::EtlError> {
        let summary = self.run(options).await?;
        assert_eq!(
            summary.status,
            etl::RunStatus::Succeeded,
            "the run did not commit:\n{}",
            summary.render()
        );
        Ok(summary)
    }

    /// A real `backend ingest --mode <mode>` process on this database, its
    /// output discarded (the tests that kill one mid-load).
    pub fn spawn_ingest(&self, mode: &str, input: &Path) -> std::process::Child {
        use secrecy::ExposeSecret;
        std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
            .args(["ingest", "--mode", mode, "--input"])
            .arg(input)
            .env("DATABASE_URL", self.settings.url().expose_secret())
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Any run, whatever it ends with.
    pub async fn run(&self, options: &IngestOptions) -> Result<RunSummary, etl::EtlError> {
        let mut options = options.clone();
        keep_no_records(&mut options.recording);
        etl::ingest(&self.db, &options).await
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let backend = self.db.get_database_backend();
        let row = self
            .db
            .query_one(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    pub async fn rows(&self, sql: &str) -> Vec<sea_orm::QueryResult> {
        let backend: DbBackend = self.db.get_database_backend();
        self.db
            .query_all(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap()
    }
}

/// Migrates `db` down to the schema of migration `step` (as the files number
/// them: `m…_000006_…` is 6), undoing every later one, however many there are.
pub async fn migrate_down_to(db: &sea_orm::DatabaseConnection, step: usize) -> Result<(), sea_orm::DbErr> {
    use migration::MigratorTrait;
    let later = migration::Migrator::migrations().len() - step;
    migration::Migrator::down(db, Some(u32::try_from(later).expect("a few migrations"))).await
}

/// The user's real export, when this checkout sits beside it.
pub fn seed_input() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seed-input");
    dir.join("transactions.csv").is_file().then_some(dir)
}

/// The seed export if present, else the committed generated sample.
pub fn realistic_input() -> PathBuf {
    seed_input().unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../input"))
}

pub const PRODUCTS_HEADER: &str = "subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus";
pub const TX_HEADER: &str = "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency";
pub const USERS_HEADER: &str = "Customer ID\tCustomer Name\tCustomer Email";

/// Writes the three files (given as lines, joined with CRLF) into a new folder.
pub fn fixture(products: &[&str], transactions: &[&str], users: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, header: &str, lines: &[&str]| {
        let mut all = vec![header];
        all.extend_from_slice(lines);
        std::fs::write(dir.path().join(name), all.join("\r\n")).unwrap();
    };
    write("products.csv", PRODUCTS_HEADER, products);
    write("transactions.csv", TX_HEADER, transactions);
    write("users.csv", USERS_HEADER, users);
    dir
}

/// Generated exports of `transactions` rows, in a new folder.
pub fn generated(transactions: u64, seed: u64) -> tempfile::TempDir {
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

/// Production's folder for the failure records a database refuses,
/// `data/pending-runs` under the working directory, is shared by every test
/// (and a test's database is dropped while an upload may still run): unless
/// a test names a folder of its own, its refused records are only logged.
pub fn keep_no_records(recording: &mut etl::FailureRecording) {
    if recording.pending_dir.as_deref() == Some(Path::new(etl::record::DEFAULT_PENDING_DIR)) {
        recording.pending_dir = None;
    }
}

/// The app on a random port of 127.0.0.1.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
}

impl TestApp {
    pub async fn spawn(db: &DatabaseConnection) -> Self {
        Self::spawn_with(db, backend::reports::RECHECK).await
    }

    /// The app, asking for a newer run at most once per `recheck`.
    pub async fn spawn_with(db: &DatabaseConnection, recheck: std::time::Duration) -> Self {
        let mut settings = ServeSettings::new("127.0.0.1:0");
        settings.workers = Some(1);
        settings.cache_recheck = recheck;
        Self::spawn_settings(db, settings).await
    }

    /// The app with `settings` (bound to 127.0.0.1:0 whatever they say), on
    /// the database migrated (as `serve` does).
    pub async fn spawn_settings(db: &DatabaseConnection, mut settings: ServeSettings) -> Self {
        use migration::MigratorTrait;
        migration::Migrator::up(db, None).await.unwrap();
        settings.bind = "127.0.0.1:0".to_owned();
        keep_no_records(&mut settings.upload.defaults.recording);
        let app = Application::build(&settings, db.clone()).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        Self {
            address,
            client: reqwest::Client::new(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.address)).send().await.unwrap()
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(status.is_success(), "GET {path}: {status} {body}");
        serde_json::from_str(&body).unwrap()
    }
}

/// Independent reading of the raw transactions file for cross-checks: one tuple
/// per data row (month `YYYY-MM`, customer, subscription, cents, currency).
pub fn raw_transactions(dir: &Path) -> Vec<(String, String, String, i64, String)> {
    let text = std::fs::read_to_string(dir.join("transactions.csv")).unwrap();
    text.split('\n')
        .skip(1)
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let date: Vec<&str> = f[0].split([' ', '/']).collect();
            let month = format!("20{}-{:02}", date[2], date[0].parse::<u32>().unwrap());
            (month, f[2].to_owned(), f[3].to_owned(), cents(f[4]), f[5].to_owned())
        })
        .collect()
}

/// "12.5" → 1250, "-3" → -300 (string arithmetic, no floats).
pub fn cents(s: &str) -> i64 {
    let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let f = format!("{f:0<2}");
    let v = i.parse::<i64>().unwrap() * 100 + f[..2].parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

/// "12.50" from cents.
pub fn money(c: i64) -> String {
    format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.abs() / 100, c.abs() % 100)
}

//! Every run ends recorded: a run that fails — by a bug, or because its
//! database went away — ends `failed` with its error in `/ingests/{id}`, as
//! soon as the database takes writes again (the server tries in the
//! background; the CLI for a while, then keeps the record in a file that the
//! next start applies), and a run left `running` by a kill says why once the
//! next ingest marks it abandoned.

use std::path::Path;
use std::time::{Duration, Instant};

use backend::auth::Role;
use backend::etl::{self, FailedRun, IngestLock, IngestOptions, StartedRun};
use backend::startup::ServeSettings;
use reqwest::multipart::{Form, Part};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::access::token;
use crate::both;
use crate::helpers::{generated, postgres_admin_url, Engine, TestApp, TestDb};

/// The three files of `dir` as an upload form.
pub fn upload_form(dir: &Path, fields: &[(&str, &str)]) -> Form {
    let mut form = Form::new();
    for name in ["products", "transactions", "users"] {
        let bytes = std::fs::read(dir.join(format!("{name}.csv"))).unwrap();
        form = form.part(name, Part::bytes(bytes).file_name(format!("{name}.csv")));
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form
}

impl TestApp {
    pub async fn post_upload(&self, token: &str, form: Form) -> reqwest::Response {
        self.client
            .post(format!("{}/ingests", self.address))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Polls run `id` (as `token`) until it is no longer running; answers
    /// other than 200 (a server waiting for its database) are waited out.
    pub async fn run_ended(&self, token: &str, id: i64, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let res = self.get_as(&format!("/ingests/{id}"), token).await;
            if res.status().as_u16() == 200 {
                let run: Value = res.json().await.unwrap();
                if run["status"] != "running" {
                    return run;
                }
            }
            assert!(Instant::now() < deadline, "run {id} still running after {within:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A server for uploads whose failures are kept in `pending` while the
/// database refuses them.
async fn upload_server(t: &TestDb, uploads: &Path, pending: &Path, options: IngestOptions) -> TestApp {
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.upload.dir = uploads.to_owned();
    settings.upload.defaults = options;
    settings.upload.defaults.recording.pending_dir = Some(pending.to_owned());
    TestApp::spawn_settings(&t.db, settings).await
}

/// `(status, error)` of run `id`.
async fn status_and_error(t: &TestDb, id: i64) -> (String, Option<String>) {
    let row = &t
        .rows(&format!("SELECT status, error FROM etl_run WHERE id = {id}"))
        .await[0];
    (row.try_get("", "status").unwrap(), row.try_get("", "error").unwrap())
}

/// The kept failures in `dir`.
fn kept(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("run-"))
        .collect();
    names.sort();
    names
}

/// A run that panics (a bug) ends `failed` with the panic's message, through
/// the CLI's path and an upload's, and the ingest lock is free again.
async fn panicking_runs_end_recorded(engine: Engine) {
    let t = TestDb::new(engine).await;
    let input = generated(3000, 5);
    let panicking = IngestOptions {
        panic_after_rows: Some(1),
        ..IngestOptions::replace(input.path())
    };
    let err = t.run(&panicking).await.unwrap_err();
    assert!(err.to_string().contains("forced panic"), "{err}");
    let id = t.scalar_i64("SELECT MAX(id) FROM etl_run").await;
    let (status, error) = status_and_error(&t, id).await;
    assert_eq!(status, "failed");
    assert!(error.unwrap().contains("forced panic"));

    // The same through an upload: its run's thread panics.
    let admin = token(&t, "admin", Role::Admin).await;
    let (uploads, pending) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let app = upload_server(&t, uploads.path(), pending.path(), panicking.clone()).await;
    let res = app.post_upload(&admin, upload_form(input.path(), &[])).await;
    assert_eq!(res.status().as_u16(), 202);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = app.run_ended(&admin, id, Duration::from_secs(30)).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    assert!(run["error"].as_str().unwrap().contains("forced panic"), "{run:#}");
    // The lock is free: the CLI's next run goes through.
    t.ingest(input.path()).await.unwrap();
}
both!(panicking_runs, panicking_runs_end_recorded);

/// A run stuck `running` (its process gone), and the record of its failure as
/// a CLI that could not reach its database keeps it.
async fn stuck_run(t: &TestDb, input: &Path, error: &str) -> (i64, FailedRun) {
    let lock = IngestLock::acquire(&t.db).await.unwrap();
    let started = StartedRun::record(&t.db, &IngestOptions::replace(input), lock)
        .await
        .unwrap();
    let failed = started.failure(error.to_owned());
    // Dropped without running: the row stays `running`, the lock is released.
    (started.id(), failed)
}

/// The failures kept in the pending folder are recorded by the next ingest
/// and by a server's start, each on its own run only: another database's
/// record stays for it, and a run that ended otherwise keeps its record. A
/// run left `running` with nothing kept is marked abandoned, saying why.
async fn kept_failures_recorded_on_next_start(engine: Engine) {
    let t = TestDb::new(engine).await;
    let input = generated(500, 6);
    let first = t.ingest(input.path()).await.unwrap();
    let pending = tempfile::tempdir().unwrap();

    let (stuck, failed) = stuck_run(&t, input.path(), "database error while loading: connection refused").await;
    let kept_file = failed.keep(pending.path()).unwrap();
    assert!(kept_file.is_file());
    // The record of a run that did commit (its connection was cut after the
    // commit landed): left as it is.
    let started: chrono::NaiveDateTime = t
        .rows(&format!("SELECT started_at FROM etl_run WHERE id = {}", first.run_id))
        .await[0]
        .try_get("", "started_at")
        .unwrap();
    FailedRun::now(first.run_id, started, "too late".to_owned())
        .keep(pending.path())
        .unwrap();
    // Another database's run of the same id as the stuck one: not this one.
    let foreign = FailedRun::now(stuck, started - chrono::Duration::days(3), "elsewhere".to_owned());
    foreign.keep(pending.path()).unwrap();
    assert_eq!(kept(pending.path()).len(), 3);

    let mut options = IngestOptions::replace(input.path());
    options.guard.max_reject_pct = "100".parse().unwrap();
    options.recording.pending_dir = Some(pending.path().to_owned());
    t.committed(&options).await.unwrap();
    let (status, error) = status_and_error(&t, stuck).await;
    assert_eq!(status, "failed");
    assert_eq!(
        error.as_deref(),
        Some("database error while loading: connection refused")
    );
    let (status, error) = status_and_error(&t, first.run_id).await;
    assert_eq!((status.as_str(), error), ("succeeded", None));
    assert_eq!(kept(pending.path()).len(), 1, "{:?}", kept(pending.path()));
    assert!(!kept_file.exists());

    // Nothing kept: abandoned, and it says why.
    let (abandoned, _) = stuck_run(&t, input.path(), "").await;
    t.committed(&options).await.unwrap();
    let (status, error) = status_and_error(&t, abandoned).await;
    assert_eq!(status, "abandoned");
    assert_eq!(error.as_deref(), Some(etl::ABANDONED));

    // A server records what it finds kept when it starts.
    let (stuck, failed) = stuck_run(&t, input.path(), "the database went away").await;
    failed.keep(pending.path()).unwrap();
    let admin = token(&t, "admin", Role::Admin).await;
    let uploads = tempfile::tempdir().unwrap();
    let app = upload_server(&t, uploads.path(), pending.path(), IngestOptions::replace("")).await;
    let run: Value = app
        .get_as(&format!("/ingests/{stuck}"), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(run["error"], "the database went away");
    assert_eq!(kept(pending.path()).len(), 1);
}
both!(kept_failures, kept_failures_recorded_on_next_start);

/// A TCP proxy to the test's PostgreSQL that the test cuts: every
/// connection through it dropped at once and new ones refused, until it is
/// restored — the database gone, from its clients' side, in one step.
pub struct Proxy {
    port: u16,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cuts: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    pub async fn start() -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        let target = url::Url::parse(&postgres_admin_url().unwrap()).unwrap();
        let target = format!(
            "{}:{}",
            target.host_str().unwrap(),
            target.port_or_known_default().unwrap()
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let open = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (cuts, _) = tokio::sync::watch::channel(0u64);
        let (is_open, cut) = (open.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                // Subscribed before the flag is read: a cut between the two
                // is seen by one or the other.
                let mut cut = cut.subscribe();
                if !is_open.load(SeqCst) {
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Self { port, open, cuts }
    }

    /// The settings of `t`'s database, through this proxy.
    pub fn settings(&self, t: &TestDb) -> backend::configuration::DatabaseSettings {
        let mut url = url::Url::parse(t.settings.url().expose_secret()).unwrap();
        url.set_port(Some(self.port)).unwrap();
        backend::configuration::DatabaseSettings::from_url(url.to_string().into()).unwrap()
    }

    pub fn cut(&self) {
        self.open.store(false, std::sync::atomic::Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// PostgreSQL gone (connections cut and refused) in the middle of an uploaded run: the run
/// ends `failed` with its error within seconds of the database coming back
/// (the server tries again in the background), the failure kept in a file
/// meanwhile and that file removed once recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_cut_from_postgres_ends_failed() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    let admin = token(&t, "admin", Role::Admin).await;
    let big = generated(200_000, 11);
    let (uploads, pending) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let proxy = Proxy::start().await;
    let mut settings = ServeSettings::new("127.0.0.1:0");
    settings.workers = Some(1);
    settings.upload.dir = uploads.path().to_owned();
    settings.upload.defaults.recording.pending_dir = Some(pending.path().to_owned());
    let proxied = backend::db::connect_lazy(&proxy.settings(&t)).await.unwrap();
    let app = {
        let app = backend::startup::Application::build(&settings, proxied).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: reqwest::Client::new(),
        }
    };
    let res = app.post_upload(&admin, upload_form(big.path(), &[])).await;
    assert_eq!(res.status().as_u16(), 202);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    proxy.cut();
    // The run fails, cannot record that, and keeps it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while kept(pending.path()).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the failure was not kept while the database refused it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(status_and_error(&t, id).await.0, "running");
    proxy.restore();
    let back = Instant::now();
    let run = app.run_ended(&admin, id, Duration::from_secs(30)).await;
    assert_eq!(run["status"], "failed", "{run:#}");
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("database"), "{error}");
    assert!(
        back.elapsed() < Duration::from_secs(15),
        "recorded {:?} after the database came back",
        back.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while !kept(pending.path()).is_empty() {
        assert!(Instant::now() < deadline, "the recorded failure's file is still there");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The lock is free again: the next upload is accepted and loads.
    let small = generated(300, 12);
    let res = app
        .post_upload(&admin, upload_form(small.path(), &[("force", "true")]))
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let id = res.json::<Value>().await.unwrap()["run_id"].as_i64().unwrap();
    let run = app.run_ended(&admin, id, Duration::from_secs(30)).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
}

/// A real `backend ingest` of `input` on `t`, with its failures kept in
/// `pending` and `wait_secs` of trying; stderr captured.
fn spawn_cli(
    settings: &backend::configuration::DatabaseSettings,
    input: &Path,
    pending: &Path,
    wait_secs: u64,
) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(["ingest", "--force", "--input"])
        .arg(input)
        .env("DATABASE_URL", settings.url().expose_secret())
        .env("PENDING_RUNS_DIR", pending)
        .env("RUN_RECORD_WAIT_SECS", wait_secs.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until a run newer than `after` is recorded `running`; its id.
async fn running_after(t: &TestDb, after: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let id = t
            .scalar_i64(&format!(
                "SELECT COALESCE(MAX(id), 0) FROM etl_run WHERE id > {after} AND status = 'running'"
            ))
            .await;
        if id > 0 {
            return id;
        }
        assert!(Instant::now() < deadline, "no run started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for `child` to end (at most 120 s); its exit status and stderr.
fn ended(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (status, err);
        }
        assert!(Instant::now() < deadline, "the CLI did not end");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A CLI run cut from PostgreSQL: when the database is back within the
/// CLI's wait, the CLI records its failure itself; when it is not, the CLI
/// keeps it in a file and exits 1, and the next ingest records it (not
/// `abandoned` without a word).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_cut_from_postgres_ends_failed() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    let small = generated(500, 13);
    t.ingest(small.path()).await.unwrap();
    let big = generated(200_000, 14);
    let pending = tempfile::tempdir().unwrap();
    let proxy = Proxy::start().await;
    let proxied = proxy.settings(&t);

    // Back in time: recorded by the CLI.
    let child = spawn_cli(&proxied, big.path(), pending.path(), 60);
    let id = running_after(&t, 0).await;
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(status_and_error(&t, id).await.0, "running");
    proxy.restore();
    let (status, stderr) = tokio::task::spawn_blocking(move || ended(child)).await.unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    let (state, error) = status_and_error(&t, id).await;
    assert_eq!(state, "failed", "{stderr}");
    assert!(error.unwrap().contains("database"));
    assert!(kept(pending.path()).is_empty());

    // Not back in time: kept, then recorded by the next ingest.
    let child = spawn_cli(&proxied, big.path(), pending.path(), 1);
    let id = running_after(&t, id).await;
    proxy.cut();
    let (status, stderr) = tokio::task::spawn_blocking(move || ended(child)).await.unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert_eq!(kept(pending.path()).len(), 1, "{stderr}");
    assert!(stderr.contains("kept the failure in a file"), "{stderr}");
    proxy.restore();
    assert_eq!(status_and_error(&t, id).await.0, "running");
    let next = spawn_cli(&t.settings, small.path(), pending.path(), 1);
    let (status, stderr) = tokio::task::spawn_blocking(move || ended(next)).await.unwrap();
    assert!(status.success(), "{stderr}");
    let (state, error) = status_and_error(&t, id).await;
    assert_eq!(state, "failed");
    let error = error.unwrap();
    assert!(error.contains("database") && error != etl::ABANDONED, "{error}");
    assert!(kept(pending.path()).is_empty());
}

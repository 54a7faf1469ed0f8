//! The backend on a Citus coordinator (a local cluster from
//! `scripts/citus.sh`): reached with the URL psql takes, though the
//! coordinator's TLS certificate is a self-signed X.509 v1 one.
//!
//! Each test starts its own cluster (a folder of its own, free ports;
//! stopped and removed when the test ends). Without an installed Citus
//! (`scripts/citus.sh build`) the tests skip and are counted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use migration::MigratorTrait;
use secrecy::SecretString;
use store::settings::DatabaseSettings;

use crate::fact_table::every_report;
use crate::helpers::{fixture, postgres_admin_url, skip, Engine, TestDb};

const CITUS_SO: &str = "/usr/lib/postgresql/15/lib/citus.so";
/// In the URLs the tests pass; trust authentication never asks for it.
const PASSWORD: &str = "pw-never-shown";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/citus.sh")
}

/// A coordinator and two workers, stopped and removed on drop.
pub struct Cluster {
    dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    /// A new cluster, or `None` (the skip recorded) where Citus is not installed.
    pub fn up() -> Option<Cluster> {
        if !Path::new(CITUS_SO).is_file() {
            skip("Citus is not installed (scripts/citus.sh build)");
            return None;
        }
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = PathBuf::from(format!("/tmp/citus-test-{}-{nanos}", std::process::id()));
        let mut cluster = Cluster { dir, port: 0 };
        let out = Command::new(script())
            .arg("up")
            .env("CITUS_DIR", &cluster.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "citus.sh up failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // postgres://postgres@127.0.0.1:PORT/postgres
        let stdout = String::from_utf8_lossy(&out.stdout);
        let port = stdout.trim().rsplit(':').next().unwrap().split('/').next().unwrap();
        cluster.port = port.parse().unwrap();
        Some(cluster)
    }

    /// The URL a user would give psql (default `sslmode=prefer`), with a password.
    pub fn url(&self) -> String {
        format!("postgres://postgres:{PASSWORD}@localhost:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let out = Command::new(script()).arg("down").env("CITUS_DIR", &self.dir).output();
        if !out.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!("citus.sh down failed for {}: {out:?}", self.dir.display());
        }
    }
}

fn backend(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_backend"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn ingest_and_history_reach_a_coordinator_with_the_url_psql_takes() {
    let Some(cluster) = Cluster::up() else { return };
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../input");
    let input = input.to_str().unwrap();
    let ingest = backend(&cluster.url(), &["ingest", "--input", input]);
    assert!(ingest.status.success(), "{}", text(&ingest));
    let history = backend(&format!("{}?sslmode=require", cluster.url()), &["history"]);
    assert!(history.status.success(), "{}", text(&history));
    let stdout = String::from_utf8_lossy(&history.stdout);
    assert!(stdout.contains("replace  succeeded"), "{}", text(&history));

    // verify-full: Citus' certificate is self-signed, for another name.
    let out = backend(&format!("{}?sslmode=verify-full", cluster.url()), &["history"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let host = format!("@localhost:{}/postgres", cluster.port);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("error: cannot connect to postgres://postgres:***{host}")),
        "{all}"
    );
    assert!(
        stderr.contains("certificate failed verification: self-signed certificate"),
        "{all}"
    );
    assert!(!all.contains("panicked") && !all.contains(PASSWORD), "{all}");
}

/// The generated `input/` loaded by a replace on Citus (after the migrations
/// distributed the customer tables) gives every report that single
/// PostgreSQL gives; the rows are on both workers; an append goes on, and a
/// transaction id re-sent under another customer stays a
/// `conflicts_with_loaded` rejection, though the key on Citus is
/// `(customer_id, transaction_id)`.
#[tokio::test]
async fn a_replace_on_citus_gives_every_report_of_single_postgres() {
    if postgres_admin_url().is_none() {
        skip("no PostgreSQL to compare with (TEST_DATABASE_URL)");
        return;
    }
    let Some(cluster) = Cluster::up() else { return };
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../input");

    let single = TestDb::new(Engine::Postgres).await;
    migration::Migrator::up(&single.db, None).await.unwrap();
    single.ingest(&input).await.unwrap();

    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let citus = TestDb::at(settings).await;
    migration::Migrator::up(&citus.db, None).await.unwrap();
    let mode = migration::mode(&citus.db).await.unwrap();
    assert!(
        mode.contains("distributed by customer_id: agg_customer_spending, dim_user, fct_transaction;"),
        "{mode}"
    );
    citus.ingest(&input).await.unwrap();
    assert_eq!(migration::mode(&single.db).await.unwrap(), "PostgreSQL, single node");
    // The report cache reads only tables local to the coordinator (Citus has
    // no snapshot across nodes): the top customers' ranking is one, and the
    // run filled it.
    let distributed = "SELECT COUNT(*) FROM pg_dist_partition WHERE logicalrelid = 'agg_top_customer'::regclass";
    assert_eq!(citus.scalar_i64(distributed).await, 0);
    assert!(citus.scalar_i64("SELECT COUNT(*) FROM agg_top_customer").await > 0);
    // So is the subscription feed, which the subscription figures read instead of the facts.
    let distributed = "SELECT COUNT(*) FROM pg_dist_partition WHERE logicalrelid = 'etl_saas_feed'::regclass";
    assert_eq!(citus.scalar_i64(distributed).await, 0);
    assert!(citus.scalar_i64("SELECT COUNT(*) FROM etl_saas_feed").await > 0);

    // The facts are in the shards of both workers, as the workers count them.
    let per_worker = citus
        .rows(
            "SELECT nodeport, SUM(result::bigint)::bigint AS n FROM run_command_on_placements(\
             'fct_transaction__data', 'SELECT COUNT(*) FROM %s') GROUP BY nodeport ORDER BY nodeport",
        )
        .await;
    let counts: Vec<i64> = per_worker.iter().map(|r| r.try_get("", "n").unwrap()).collect();
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(counts.iter().all(|n| *n > 0), "{counts:?}");
    assert_eq!(counts.iter().sum::<i64>(), 5000);

    assert_same_reports(&citus, &single).await;

    // The first transaction of input/, re-sent under another customer.
    let transactions = std::fs::read_to_string(input.join("transactions.csv")).unwrap();
    let first = transactions.lines().nth(1).unwrap().trim_end_matches('\r');
    let fields: Vec<&str> = first.split('\t').collect();
    let resent = format!("{}\t{}\tcus_someone_else\t\t1.00\tusd", fields[0], fields[1]);
    let new = "2/1/24 7:00\ttxn_citus_new\tcus_someone_else\t\t2.00\tusd";
    let files = fixture(
        &["s_citus\tBase\tAlpha\tmonth\t100\tactive"],
        &[&resent, new],
        &["cus_someone_else\tAnn\tann@x.test"],
    );
    for t in [&single, &citus] {
        let s = t.append(files.path()).await.unwrap();
        let reasons: Vec<(&str, u64)> = s.reasons.iter().map(|r| (r.reason, r.rows)).collect();
        assert_eq!(reasons, [("conflicts_with_loaded", 1)]);
        let sql = format!(
            "SELECT COUNT(*) FROM fct_transaction WHERE transaction_id = '{}'",
            fields[1]
        );
        assert_eq!(t.scalar_i64(&sql).await, 1, "the loaded row stays, alone");
        assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 5001);
    }
    assert_same_reports(&citus, &single).await;
}

/// `"finished_at":"…"` values (when each database recorded its run) masked.
fn without_run_times(body: &str) -> String {
    const KEY: &str = "\"finished_at\":\"";
    let mut out = String::new();
    let mut rest = body;
    while let Some(at) = rest.find(KEY) {
        out.push_str(&rest[..at + KEY.len()]);
        rest = &rest[at + KEY.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        out.push('*');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every report and /quality answer equal on both databases, one path at a time.
async fn assert_same_reports(citus: &TestDb, single: &TestDb) {
    let (on_citus, on_single) = (every_report(citus).await, every_report(single).await);
    assert_eq!(on_citus.len(), on_single.len());
    for ((path, a), (_, b)) in on_citus.iter().zip(&on_single) {
        assert!(a.contains("finished_at") == b.contains("finished_at"), "{path}");
        assert_eq!(
            without_run_times(a),
            without_run_times(b),
            "{path}: Citus, then single PostgreSQL"
        );
    }
}

/// What the data holds, in figures a partial run would change.
async fn figures(t: &TestDb) -> (i64, i64, i64, i64) {
    (
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        t.scalar_i64("SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly")
            .await,
        t.scalar_i64("SELECT COUNT(*) FROM dim_user").await,
        t.scalar_i64("SELECT CAST(SUM(total_spending_cents) AS BIGINT) FROM agg_customer_spending")
            .await,
    )
}

/// Starts `backend ingest --mode <mode>` and kills it (SIGKILL) once the
/// coordinator shows its COPY into `table_prefix…`.
async fn kill_while_copying(t: &TestDb, mode: &str, input: &Path, table_prefix: &str) {
    let mut child = t.spawn_ingest(mode, input);
    let start = std::time::Instant::now();
    let copying = format!(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY {table_prefix}%'"
    );
    while t.scalar_i64(&copying).await == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the {mode} ended before it could be killed"
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(180),
            "the {mode} never started its COPY"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    assert!(!child.wait().unwrap().success());
}

/// The guarantees of a load, on Citus too: a replace or an append killed
/// (SIGKILL) while it writes leaves the previous data on every node, and
/// the GRANTs users gave on the distributed tables survive a replace.
#[tokio::test]
async fn killed_loads_and_grants_on_citus() {
    let Some(cluster) = Cluster::up() else { return };
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let t = TestDb::at(settings).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    t.ingest(crate::helpers::generated(2_000, 31).path()).await.unwrap();
    let reader = format!("bi_reader_{:08x}", fastrand::u32(..));
    for sql in [
        format!("CREATE ROLE {reader} NOLOGIN"),
        format!("GRANT SELECT ON fct_transaction, dim_user, agg_customer_spending TO {reader}"),
    ] {
        t.rows(&sql).await;
    }
    let before = figures(&t).await;

    let big = crate::helpers::generated(300_000, 32);
    kill_while_copying(&t, "replace", big.path(), "fct_transaction__load").await;
    assert_eq!(figures(&t).await, before, "a killed replace changed the data");
    kill_while_copying(&t, "append", big.path(), "fct_transaction__stage").await;
    assert_eq!(figures(&t).await, before, "a killed append changed the data");

    // A replace then goes through, and the readers keep their grants.
    let next = crate::helpers::generated(3_000, 33);
    t.ingest(next.path()).await.unwrap();
    assert_eq!(figures(&t).await.0, 3_000);
    for table in ["fct_transaction", "dim_user", "agg_customer_spending"] {
        let granted =
            format!("SELECT CAST(CAST(has_table_privilege('{reader}', '{table}', 'SELECT') AS INT) AS BIGINT)");
        assert_eq!(t.scalar_i64(&granted).await, 1, "{reader} lost SELECT on {table}");
    }
}

/// On Citus too, no response mixes two runs: two servers answer and the
/// report cache is read back to back while 40 loads of two data sets
/// alternate; two loads started together are serialized by the ingest lock
/// (an advisory lock on the coordinator) and both commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_response_mixes_two_runs_on_citus() {
    let Some(cluster) = Cluster::up() else { return };
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let t = TestDb::at(settings).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    crate::consistent_reads::never_mixed(&t, 20).await;
}

/// The documented move of a single-node database onto Citus
/// (`scripts/move-to-citus.sh`): loaded on PostgreSQL, replace then append,
/// moved, every report and `/quality` equal; the moved database then takes
/// an append as the source would. A coordinator that holds data already is
/// refused, and left as it was.
#[tokio::test]
async fn a_single_node_database_moves_onto_citus() {
    if postgres_admin_url().is_none() {
        skip("no PostgreSQL to move from (TEST_DATABASE_URL)");
        return;
    }
    let Some(cluster) = Cluster::up() else { return };
    let single = TestDb::new(Engine::Postgres).await;
    single
        .ingest(crate::helpers::generated(3_000, 41).path())
        .await
        .unwrap();
    single.append(crate::helpers::generated(500, 42).path()).await.unwrap();
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let citus = TestDb::at(settings).await;

    let moved = move_to_citus(&single, &cluster);
    assert!(moved.status.success(), "{}", text(&moved));
    assert!(text(&moved).contains("the same row counts"), "{}", text(&moved));
    assert_same_reports(&citus, &single).await;
    let shards = "SELECT COUNT(*) FROM pg_dist_shard WHERE logicalrelid = 'fct_transaction__data'::regclass";
    assert!(citus.scalar_i64(shards).await > 0, "the facts were not distributed");

    let next = crate::helpers::generated(400, 43);
    for t in [&single, &citus] {
        t.append(next.path()).await.unwrap();
    }
    assert_same_reports(&citus, &single).await;

    let again = move_to_citus(&single, &cluster);
    assert!(!again.status.success());
    assert!(text(&again).contains("holds data already"), "{}", text(&again));
    assert_same_reports(&citus, &single).await;
}

/// `scripts/move-to-citus.sh` from `single` to the cluster, with the
/// migration binary the tests were built with.
fn move_to_citus(single: &TestDb, cluster: &Cluster) -> Output {
    use secrecy::ExposeSecret;
    let exe = std::env::current_exe().unwrap();
    let built = exe.parent().and_then(Path::parent).map(|d| d.join("migration"));
    let migration = match built.filter(|p| p.is_file()) {
        Some(p) => p.display().to_string(),
        None => "cargo run -q --locked -p migration --".to_owned(),
    };
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/move-to-citus.sh"))
        .arg(single.settings.url().expose_secret())
        .arg(cluster.url())
        .env("MIGRATION", migration)
        .output()
        .unwrap()
}

/// The user's real export on Citus answers every report, the subscription
/// figures, the drill-downs (a month, the customer search, a customer page)
/// and `/quality` exactly as single PostgreSQL and SQLite do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_export_on_citus_gives_every_answer_of_the_other_engines() {
    let Some(input) = crate::helpers::seed_input() else {
        skip("the real export (../shared/seed-input) is absent");
        return;
    };
    if postgres_admin_url().is_none() {
        skip("no PostgreSQL to compare with (TEST_DATABASE_URL)");
        return;
    }
    let Some(cluster) = Cluster::up() else { return };
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let citus = TestDb::at(settings).await;
    let single = TestDb::new(Engine::Postgres).await;
    let lite = TestDb::new(Engine::Sqlite).await;
    for t in [&citus, &single, &lite] {
        t.ingest(&input).await.unwrap();
    }
    let paths = every_path(&single).await;
    let answers = [
        answers(&citus, &paths).await,
        answers(&single, &paths).await,
        answers(&lite, &paths).await,
    ];
    for (i, path) in paths.iter().enumerate() {
        assert_eq!(answers[0][i], answers[1][i], "{path}: Citus, then single PostgreSQL");
        assert_eq!(answers[2][i], answers[1][i], "{path}: SQLite, then single PostgreSQL");
    }
}

/// The reports' paths, with a month and a customer of the data in `t`.
async fn every_path(t: &TestDb) -> Vec<String> {
    let app = crate::helpers::TestApp::spawn(&t.db).await;
    let meta = app.json("/reports/meta").await;
    let month = meta["latest_month"].as_str().unwrap().to_owned();
    let top = app.json("/reports/top-users?limit=1").await;
    let customer = top["users"][0]["customer_id"].as_str().unwrap().to_owned();
    let mut paths: Vec<String> = crate::fact_table::EVERY_REPORT
        .into_iter()
        .chain([
            "/reports/saas/mrr?currency=usd",
            "/reports/saas/mrr?currency=eur&grace_days=0",
            "/reports/saas/cohorts?currency=usd",
            "/customers?limit=100",
        ])
        .map(str::to_owned)
        .collect();
    // The last month the subscription figures report (a closed one).
    let mrr = app.json("/reports/saas/mrr?currency=usd").await;
    let closed = mrr["months"].as_array().unwrap().last().unwrap()["month"]
        .as_str()
        .unwrap()
        .to_owned();
    for kind in ["new", "expansion", "contraction", "churn", "reactivation"] {
        paths.push(format!(
            "/reports/saas/movements?currency=usd&month={closed}&kind={kind}"
        ));
    }
    paths.push(format!("/reports/month/{month}?currency=usd"));
    paths.push(format!("/customers?q={}", &customer[..customer.len().min(6)]));
    paths.push(format!("/customers/{customer}"));
    paths
}

/// Each path's body from a new server on `t` (run times masked).
async fn answers(t: &TestDb, paths: &[String]) -> Vec<String> {
    let app = crate::helpers::TestApp::spawn(&t.db).await;
    let mut out = Vec::new();
    for path in paths {
        let res = app.get(path).await;
        assert_eq!(res.status().as_u16(), 200, "{path}");
        out.push(without_run_times(&res.text().await.unwrap()));
    }
    out
}

/// The guard rails on Citus: what single PostgreSQL and SQLite refuse
/// (header-only files, every row rejected, a replace keeping too little) is
/// refused with the data left on every node, in both modes.
#[tokio::test]
async fn guard_rails_on_citus() {
    let Some(cluster) = Cluster::up() else { return };
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let t = TestDb::at(settings).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    crate::guard_rails::refuses_broken_exports(&t).await;
}

/// Tokens on Citus: created, used, listed and revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_on_citus() {
    let Some(cluster) = Cluster::up() else { return };
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let t = TestDb::at(settings).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    crate::access::token_lifecycle_on(&t).await;
}

/// An upload on Citus: the real export uploaded by an admin token gives the
/// run and the reports of the CLI's replace into single PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_on_citus() {
    if postgres_admin_url().is_none() {
        skip("no PostgreSQL to compare with (TEST_DATABASE_URL)");
        return;
    }
    let Some(cluster) = Cluster::up() else { return };
    let settings = DatabaseSettings::from_url(SecretString::from(cluster.url())).unwrap();
    let t = TestDb::at(settings).await;
    migration::Migrator::up(&t.db, None).await.unwrap();
    crate::upload::upload_equals_the_cli_on(&TestDb::new(Engine::Postgres).await, &t).await;
}

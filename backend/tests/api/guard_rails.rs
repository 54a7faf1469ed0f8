//! Guard rails, dry runs and the run history: a run that looks like a broken
//! export is refused before anything is committed, and every run is recorded.

use backend::etl::{IngestOptions, Mode, RunStatus};

use crate::both;
use crate::helpers::{fixture, realistic_input, Engine, TestDb, TX_HEADER, USERS_HEADER};

/// What a reader sees: counts and sums of every table a run writes.
async fn snapshot(t: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM fct_transaction",
        "SELECT COALESCE(CAST(SUM(total_cents) AS BIGINT), 0) FROM fct_transaction",
        "SELECT COUNT(*) FROM dim_user",
        "SELECT COUNT(*) FROM dim_product",
        "SELECT COUNT(*) FROM agg_monthly",
        "SELECT COALESCE(CAST(SUM(revenue_cents) AS BIGINT), 0) FROM agg_monthly",
        "SELECT COUNT(*) FROM agg_product_month",
        "SELECT COUNT(*) FROM agg_customer_spending",
    ] {
        out.push(t.scalar_i64(sql).await);
    }
    out
}

fn with_file(name: &str, content: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["products.csv", "transactions.csv", "users.csv"] {
        std::fs::copy(realistic_input().join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(dir.path().join(name), content).unwrap();
    dir
}

/// Asserts a run was refused for `rule`, changed nothing, and is in the history.
async fn assert_refused(t: &TestDb, options: &IngestOptions, rule: &str, before: &[i64]) -> i64 {
    let s = t.run(options).await.unwrap();
    assert_eq!(s.status, RunStatus::Refused, "{}", s.render());
    let text = s
        .refusals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    assert!(text.contains(rule), "{text}");
    assert_eq!(snapshot(t).await, before, "a refused run changed the data");
    let recorded = t
        .rows(&format!("SELECT status, error FROM etl_run WHERE id = {}", s.run_id))
        .await;
    assert_eq!(recorded[0].try_get::<String>("", "status").unwrap(), "refused");
    let error: String = recorded[0].try_get("", "error").unwrap();
    assert!(error.contains(rule), "{error}");
    s.run_id
}

async fn guard_rails_refuse_broken_exports(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(&t).await;
    assert!(before[0] > 1000);
    for mode in [Mode::Replace, Mode::Append] {
        let options = |dir: &tempfile::TempDir| IngestOptions {
            mode,
            ..IngestOptions::replace(dir.path())
        };
        // A transactions file with only its header line.
        let header_only = with_file("transactions.csv", &format!("{TX_HEADER}\r\n"));
        assert_refused(
            &t,
            &options(&header_only),
            "transactions.csv: the file has no data rows",
            &before,
        )
        .await;
        // Every date malformed: 100% of the rows rejected.
        let bad_dates = with_file(
            "transactions.csv",
            &format!(
                "{TX_HEADER}\r\n{}",
                (0..40)
                    .map(|i| format!("31/31/24 7:00\tbad{i}\tc{i}\t\t1.00\tusd"))
                    .collect::<Vec<_>>()
                    .join("\r\n")
            ),
        );
        let id = assert_refused(
            &t,
            &options(&bad_dates),
            "transactions.csv: 40 of 40 rows rejected (100.00%), more than --max-reject-pct 5%",
            &before,
        )
        .await;
        // The refused run's rejected rows are kept, to see why.
        assert_eq!(
            t.scalar_i64(&format!(
                "SELECT COUNT(*) FROM etl_rejected_row WHERE run_id = {id} AND reason_code = 'invalid_date'"
            ))
            .await,
            40
        );
        // Users file header-only too.
        let no_users = with_file("users.csv", &format!("{USERS_HEADER}\r\n"));
        assert_refused(&t, &options(&no_users), "users.csv: the file has no data rows", &before).await;
    }
    // A replace that would keep less than half of the transactions loaded now.
    let small = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    let replace = IngestOptions::replace(small.path());
    assert_refused(&t, &replace, "less than --min-keep-pct 50%", &before).await;
    // The same with a lower limit passes the rule (and loads).
    let mut lower = IngestOptions::replace(small.path());
    lower.guard.min_keep_pct = "0".parse().unwrap();
    let s = t.run(&lower).await.unwrap();
    assert_eq!(s.status, RunStatus::Succeeded, "{}", s.render());
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 1);
    // Runs are listed with their status.
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'refused'")
            .await,
        7
    );
}
both!(guard_rails, guard_rails_refuse_broken_exports);

/// `--force` loads what a guard rail refuses, and says so.
async fn force_overrides_the_guard_rails(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let dir = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd", "soon\tt2\tc1\ts1\t1.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    let mut options = IngestOptions::replace(dir.path());
    options.force = true;
    let s = t.run(&options).await.unwrap();
    assert_eq!(s.status, RunStatus::Succeeded, "{}", s.render());
    assert_eq!(
        s.refusals.len(),
        2,
        "50% rejected and less than half kept: {:?}",
        s.refusals
    );
    assert!(
        s.render().contains("guard rails overridden by --force"),
        "{}",
        s.render()
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 1);
    let options_json: String = t
        .rows(&format!("SELECT options_json FROM etl_run WHERE id = {}", s.run_id))
        .await[0]
        .try_get("", "options_json")
        .unwrap();
    assert!(options_json.contains("\"force\":true"), "{options_json}");
}
both!(force, force_overrides_the_guard_rails);

/// `--dry-run` runs everything, reports what would change, commits nothing.
async fn dry_run_changes_nothing(engine: Engine) {
    let t = TestDb::new(engine).await;
    let first = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd",
            "1/2/24 7:00\tt2\tc2\ts1\t2.00\tusd",
        ],
        &["c1\tAnn\tann@x.test", "c2\tBob\tbob@x.test"],
    );
    t.ingest(first.path()).await.unwrap();
    let before = snapshot(&t).await;
    let second = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["2/1/24 7:00\tt3\tc3\ts1\t5.00\tusd", "2/1/24 8:00\tt4\tc1\t\t7.00\teur"],
        &["c3\tCid\tcid@x.test"],
    );
    for mode in [Mode::Append, Mode::Replace] {
        let mut options = IngestOptions {
            mode,
            ..IngestOptions::replace(second.path())
        };
        options.dry_run = true;
        options.guard.min_keep_pct = "0".parse().unwrap();
        let s = t.run(&options).await.unwrap();
        assert_eq!(s.status, RunStatus::DryRun, "{}", s.render());
        assert_eq!(snapshot(&t).await, before, "a dry run changed the data");
        assert_eq!(s.before.transactions, 2);
        // What a real run would leave: 4 transactions after an append, 2 after a replace.
        let expected = if mode == Mode::Append { 4 } else { 2 };
        assert_eq!(s.after.transactions, expected, "{}", s.render());
        assert_eq!(s.after.revenue["eur"].to_string(), "7.00");
        assert!(s.render().contains("changes a real run would make"), "{}", s.render());
    }
    // The PostgreSQL replace's own fact-table load was removed as well.
    if engine == Engine::Postgres {
        assert_eq!(
            t.scalar_i64("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE '%\\_\\_load'")
                .await,
            0
        );
    }
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'dry_run'")
            .await,
        2
    );
    // A real run afterwards behaves as if the dry runs never happened.
    let s = t.append(second.path()).await.unwrap();
    assert_eq!(s.files[1].counts.loaded, 2);
}
both!(dry_run, dry_run_changes_nothing);

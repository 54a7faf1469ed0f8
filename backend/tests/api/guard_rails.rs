//! Guard rails, dry runs and the run history: a run that looks like a broken
//! export is refused before anything is committed, and every run is recorded.

use backend::etl::{IngestOptions, Mode, RunStatus, RunSummary};

use crate::both;
use crate::helpers::{
    fixture, money, raw_transactions, realistic_input, Engine, TestDb, PRODUCTS_HEADER, TX_HEADER, USERS_HEADER,
};

/// What a reader sees: counts and sums of every table a run writes.
async fn snapshot(t: &TestDb) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM fct_transaction",
        "SELECT COALESCE(CAST(SUM(total_cents) AS BIGINT), 0) FROM fct_transaction",
        "SELECT COUNT(*) FROM dim_user",
        "SELECT COUNT(*) FROM dim_user WHERE customer_name <> ''",
        "SELECT COUNT(*) FROM dim_user WHERE customer_email <> ''",
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
    assert_refused_for(t, options, &[rule], before).await.run_id
}

/// Asserts a run was refused for each of `rules` (each the start of one
/// refusal's message), changed nothing, and is in the history with them.
async fn assert_refused_for(t: &TestDb, options: &IngestOptions, rules: &[&str], before: &[i64]) -> RunSummary {
    let s = t.run(options).await.unwrap();
    assert_eq!(s.status, RunStatus::Refused, "{}", s.render());
    let text = s
        .refusals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    for rule in rules {
        assert!(text.contains(rule), "{rule}\nnot in: {text}");
    }
    assert_eq!(snapshot(t).await, before, "a refused run changed the data");
    let recorded = t
        .rows(&format!("SELECT status, error FROM etl_run WHERE id = {}", s.run_id))
        .await;
    assert_eq!(recorded[0].try_get::<String>("", "status").unwrap(), "refused");
    let error: String = recorded[0].try_get("", "error").unwrap();
    for rule in rules {
        assert!(error.contains(rule), "{error}");
    }
    s
}

/// The message of `s`'s refusal starting with `start`, which must name the
/// setting that lets the run through.
fn refusal(s: &RunSummary, start: &str) -> String {
    let text = s
        .refusals
        .iter()
        .map(ToString::to_string)
        .find(|r| r.starts_with(start))
        .unwrap_or_else(|| panic!("no refusal {start:?} in {:?}", s.refusals));
    assert!(
        text.ends_with(", less than --min-keep-pct 50%; --force loads it anyway")
            || text.ends_with(", more than --max-reject-pct 5%; --force loads it anyway"),
        "{text}"
    );
    text
}

/// `options` with `--force`, which must commit.
async fn forced(t: &TestDb, options: &IngestOptions) -> RunSummary {
    let mut options = options.clone();
    options.force = true;
    let s = t.run(&options).await.unwrap();
    assert_eq!(s.status, RunStatus::Succeeded, "{}", s.render());
    assert!(
        s.render().contains("guard rails overridden by --force"),
        "{}",
        s.render()
    );
    s
}

/// The data lines of `file` of the realistic input (CRLF or LF endings).
fn data_lines(file: &str) -> Vec<String> {
    std::fs::read_to_string(realistic_input().join(file))
        .unwrap()
        .split('\n')
        .skip(1)
        .map(|l| l.trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// On `t` (any engine, Citus included): header-only files, every row
/// rejected and a replace keeping too little are refused, in both modes,
/// with the data left as it was; a lower limit lets the replace through.
pub async fn refuses_broken_exports(t: &TestDb) {
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(t).await;
    assert!(before[0] > 1000);
    for mode in [Mode::Replace, Mode::Append] {
        let options = |dir: &tempfile::TempDir| IngestOptions {
            mode,
            ..IngestOptions::replace(dir.path())
        };
        // A transactions file with only its header line.
        let header_only = with_file("transactions.csv", &format!("{TX_HEADER}\r\n"));
        assert_refused(
            t,
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
            t,
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
        assert_refused(t, &options(&no_users), "users.csv: the file has no data rows", &before).await;
    }
    // A replace that would keep less than half of the transactions loaded now.
    let small = fixture(
        &["s1\tBase\tAlpha\tmonth\t100\tactive"],
        &["1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd"],
        &["c1\tAnn\tann@x.test"],
    );
    let replace = IngestOptions::replace(small.path());
    assert_refused(t, &replace, "less than --min-keep-pct 50%", &before).await;
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
async fn guard_rails_refuse_broken_exports(engine: Engine) {
    refuses_broken_exports(&TestDb::new(engine).await).await;
}
both!(guard_rails, guard_rails_refuse_broken_exports);

/// Rejected rows past those a run keeps in memory (100,000) go to a
/// temporary file and come back whole when stored: a transactions.csv of
/// 100,100 unreadable dates is refused with every one of its rows kept,
/// the last ones (from the file) included, and the reasons counted in full.
async fn rejects_past_memory_are_all_kept(engine: Engine) {
    let t = TestDb::new(engine).await;
    let rows = 100_100;
    let line = |i: usize| format!("31/31/24 7:00\tbad{i}\tc{i}\t\t1.00\tusd");
    let dir = with_file(
        "transactions.csv",
        &format!(
            "{TX_HEADER}\r\n{}",
            (0..rows).map(line).collect::<Vec<_>>().join("\r\n")
        ),
    );
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(&t).await;
    let s = assert_refused_for(
        &t,
        &IngestOptions::replace(dir.path()),
        &["transactions.csv: 100100 of 100100 rows rejected (100.00%)"],
        &before,
    )
    .await;
    let id = s.run_id;
    let of_run = format!("FROM etl_rejected_row WHERE run_id = {id} AND file = 'transactions.csv'");
    assert_eq!(
        t.scalar_i64(&format!("SELECT COUNT(*) {of_run} AND reason_code = 'invalid_date'"))
            .await,
        rows as i64
    );
    // Line numbers 2..=100,101, each once: none lost, none doubled.
    assert_eq!(
        t.scalar_i64(&format!(
            "SELECT COUNT(DISTINCT line_number) {of_run} AND line_number BETWEEN 2 AND 100101"
        ))
        .await,
        rows as i64
    );
    let last = t
        .rows(&format!("SELECT raw_line, reason {of_run} AND line_number = 100101"))
        .await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].try_get_by_index::<String>(0).unwrap(), line(rows - 1));
    let reason = last[0].try_get_by_index::<String>(1).unwrap();
    assert!(reason.contains("31/31/24"), "{reason}");
}
both!(rejects_past_memory, rejects_past_memory_are_all_kept);

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
    // 50% rejected, and less than half kept of every figure and currency.
    let rules: Vec<String> = s
        .refusals
        .iter()
        .map(|r| serde_json::to_value(r).unwrap()["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        rules.iter().filter(|r| *r == "too_many_rejects").count(),
        1,
        "{rules:?}"
    );
    assert_eq!(rules.iter().filter(|r| *r == "too_few_kept").count(), 4, "{rules:?}");
    assert!(rules.iter().any(|r| r == "revenue_not_kept"), "{rules:?}");
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
        assert_eq!(
            s.after.revenue[&api_types::Currency::from_code("eur").unwrap()].to_string(),
            "7.00"
        );
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

/// A replace with a one-row users.csv would keep one customer's name and
/// e-mail: refused, unless forced.
async fn a_replace_keeps_names_and_emails(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(&t).await;
    let (names, emails) = (before[3], before[4]);
    assert!(names > 100 && emails > 100, "{before:?}");
    let tiny = with_file(
        "users.csv",
        &format!("{USERS_HEADER}\r\ncus_tiny\tTiny\ttiny@x.test\r\n"),
    );
    let options = IngestOptions::replace(tiny.path());
    let name_rule = format!("users.csv: a replace would leave 1 of the {names} customers with a name loaded now");
    let email_rule = format!("users.csv: a replace would leave 1 of the {emails} customers with an e-mail loaded now");
    let s = assert_refused_for(&t, &options, &[&name_rule, &email_rule], &before).await;
    refusal(&s, &name_rule);
    refusal(&s, &email_rule);
    assert_eq!(s.refusals.len(), 2, "only users.csv shrank: {:?}", s.refusals);
    // The same, forced: loaded, as asked.
    forced(&t, &options).await;
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM dim_user WHERE customer_name <> ''")
            .await,
        1
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, before[0]);
}
both!(tiny_users, a_replace_keeps_names_and_emails);

/// A replace with a one-row products.csv would keep one product.
async fn a_replace_keeps_products(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(&t).await;
    let products = before[5];
    assert!(products > 10, "{before:?}");
    let tiny = with_file(
        "products.csv",
        &format!("{PRODUCTS_HEADER}\r\nsub_tiny\tBase\tTiny\tmonth\t100\tactive\r\n"),
    );
    let options = IngestOptions::replace(tiny.path());
    let rule = format!("products.csv: a replace would leave 1 of the {products} products loaded now");
    let s = assert_refused_for(&t, &options, &[&rule], &before).await;
    refusal(&s, &rule);
    assert_eq!(s.refusals.len(), 1, "{:?}", s.refusals);
    // Data loaded by an older version, which recorded no state: the
    // dimensions are counted from the tables.
    use sea_orm::ConnectionTrait;
    t.db.execute_unprepared("UPDATE etl_run SET state_json = NULL")
        .await
        .unwrap();
    assert_refused_for(&t, &options, &[&rule], &before).await;
    forced(&t, &options).await;
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM dim_product").await, 1);
}
both!(tiny_products, a_replace_keeps_products);

/// A replace that keeps every transaction but most of one currency's revenue
/// (every EUR amount made 0.01), or drops the currency: refused per currency.
async fn a_replace_keeps_each_currencys_revenue(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(&t).await;
    // Independently of the ETL: the EUR rows of the raw file and the EUR revenue stored.
    let eur_rows = raw_transactions(&realistic_input())
        .iter()
        .filter(|r| r.4 == "eur")
        .count() as i64;
    let eur_revenue = t
        .scalar_i64("SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly WHERE currency = 'eur'")
        .await;
    assert!(
        eur_rows > 0 && eur_revenue > 2 * eur_rows,
        "{eur_rows} rows, {eur_revenue}"
    );
    let rewrite = |keep_eur: bool| {
        let lines: Vec<String> = data_lines("transactions.csv")
            .into_iter()
            .filter_map(|line| {
                let mut f: Vec<&str> = line.split('\t').collect();
                if f[5] != "eur" {
                    return Some(line);
                }
                keep_eur.then(|| {
                    f[4] = "0.01";
                    f.join("\t")
                })
            })
            .collect();
        with_file(
            "transactions.csv",
            &format!("{TX_HEADER}\r\n{}\r\n", lines.join("\r\n")),
        )
    };
    let cheap = rewrite(true);
    let options = IngestOptions::replace(cheap.path());
    let rule = format!(
        "transactions.csv: a replace would leave {} of the {} eur revenue loaded now (",
        money(eur_rows),
        money(eur_revenue)
    );
    let s = assert_refused_for(&t, &options, &[&rule], &before).await;
    assert!(refusal(&s, &rule).contains("% kept)"), "{:?}", s.refusals);
    assert_eq!(s.refusals.len(), 1, "every transaction is kept: {:?}", s.refusals);
    assert_eq!(s.after.transactions, before[0]);
    // The currency gone altogether: the extreme case, named as such.
    let gone = rewrite(false);
    let rule = format!(
        "transactions.csv: a replace would leave 0.00 of the {} eur revenue loaded now (no eur transaction left)",
        money(eur_revenue)
    );
    let s = assert_refused_for(&t, &IngestOptions::replace(gone.path()), &[&rule], &before).await;
    refusal(&s, &rule);
    assert!(
        s.render().contains(&format!("{} → 0.00", money(eur_revenue))),
        "{}",
        s.render()
    );
    forced(&t, &options).await;
    assert_eq!(
        t.scalar_i64("SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly WHERE currency = 'eur'")
            .await,
        eur_rows
    );
}
both!(revenue, a_replace_keeps_each_currencys_revenue);

/// Files made of repeated rows are judged on their distinct rows: a
/// products.csv of copies of one row is one product; an append of 4,000
/// copies of one transaction and 100 bad rows rejects 100 of 101 rows.
async fn repeated_rows_count_once(engine: Engine) {
    let t = TestDb::new(engine).await;
    t.ingest(&realistic_input()).await.unwrap();
    let before = snapshot(&t).await;
    let products = data_lines("products.csv");
    let n = products.len();
    let copies = with_file(
        "products.csv",
        &format!(
            "{PRODUCTS_HEADER}\r\n{}\r\n",
            vec![products[0].as_str(); n].join("\r\n")
        ),
    );
    let options = IngestOptions::replace(copies.path());
    let rule = format!(
        "products.csv: a replace would leave 1 of the {} products loaded now",
        before[5]
    );
    let s = assert_refused_for(&t, &options, &[&rule], &before).await;
    refusal(&s, &rule);
    // Counted and reported: in the summary, and per file with the run.
    let text = s.render();
    assert!(text.contains("repeated rows"), "{text}");
    assert!(
        text.contains(&format!("{} of {} rows", grouped(n - 1), grouped(n))),
        "{text}"
    );
    let stored = t
        .scalar_i64(&format!(
            "SELECT rows_duplicate FROM etl_run_file WHERE run_id = {} AND file = 'products.csv'",
            s.run_id
        ))
        .await;
    assert_eq!(stored, n as i64 - 1);

    // An append: 4,000 copies of one new transaction, 100 rows with bad dates.
    let mut lines = vec!["1/2/24 7:00\ttxn_copied\tcus_copied\t\t1.00\tusd"; 4_000];
    let bad: Vec<String> = (0..100)
        .map(|i| format!("31/31/24 7:00\tbad{i}\tcus_copied\t\t1.00\tusd"))
        .collect();
    lines.extend(bad.iter().map(String::as_str));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("transactions.csv"),
        format!("{TX_HEADER}\r\n{}\r\n", lines.join("\r\n")),
    )
    .unwrap();
    let append = IngestOptions::append(dir.path());
    let rule = "transactions.csv: 100 of 101 rows rejected (99.01%) once the 3999 rows repeating an earlier row \
                are set aside (4100 read), more than --max-reject-pct 5%; --force loads it anyway";
    assert_refused_for(&t, &append, &[rule], &before).await;
    let s = forced(&t, &append).await;
    assert_eq!(s.files[0].counts.loaded, 1, "{}", s.render());
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await,
        before[0] + 1
    );
}
both!(repeated_rows, repeated_rows_count_once);

/// `12345` → `12,345`, as the summary prints counts.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

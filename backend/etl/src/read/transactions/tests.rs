//! Pass 2 on small files: batches, appends, replaces.

use super::*;
use domain::Month;

/// Stored data held in memory.
struct Fake {
    facts: Vec<FactRow>,
    products: Vec<ProductRow>,
    asked: Vec<usize>,
}

impl StoredLookup for Fake {
    fn transactions(&mut self, ids: &[&str]) -> Result<HashMap<String, FactRow>, EtlError> {
        self.asked.push(ids.len());
        Ok(self
            .facts
            .iter()
            .filter(|f| ids.contains(&f.transaction_id.as_str()))
            .map(|f| (f.transaction_id.clone(), f.clone()))
            .collect())
    }
    fn products(&mut self, subscriptions: &[String]) -> Result<Vec<ProductRow>, EtlError> {
        Ok(self
            .products
            .iter()
            .filter(|p| subscriptions.iter().any(|s| **s == *p.subscription_id))
            .cloned()
            .collect())
    }
}

fn run(lines: &[&str], stored: Option<&mut dyn StoredLookup>) -> (Transactions, Vec<FactRow>) {
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    run_bytes(&lines, stored)
}

fn run_bytes(lines: &[&[u8]], stored: Option<&mut dyn StoredLookup>) -> (Transactions, Vec<FactRow>) {
    let dir = tempfile::tempdir().unwrap();
    let mut text = b"Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency".to_vec();
    for l in lines {
        text.extend_from_slice(b"\r\n");
        text.extend_from_slice(l);
    }
    std::fs::write(dir.path().join(FILE), text).unwrap();
    let progress = Progress::for_stderr(std::time::Duration::from_millis(crate::progress::DEFAULT_INTERVAL_MS));
    let scan = scan(dir.path(), Limits::default(), &progress).unwrap();
    let (sender, mut receiver) = mpsc::channel(64);
    let options = Pass2Options {
        run_id: 1,
        stored,
        progress: &progress,
        dates: DateBounds::new(
            chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            1,
            chrono::Utc::now().naive_utc(),
        ),
    };
    let tx = load(dir.path(), &scan, Catalog::for_append(&[]).unwrap(), options, sender).unwrap();
    let mut rows = Vec::new();
    while let Ok(batch) = receiver.try_recv() {
        rows.extend(batch.iter().map(|f| f.to_owned_row()));
    }
    (tx, rows)
}

/// Rows in random time order over 24 months, more than one batch holds
/// (64 rows under test): every batch is bounded, and every row is sent
/// once, whatever its month.
#[test]
fn batches_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency");
    let mut rng = fastrand::Rng::with_seed(5);
    let mut per_month: HashMap<Month, u64> = HashMap::default();
    for i in 0..3000 {
        let (year, month) = (2022 + rng.i32(0..2), rng.u32(1..=12));
        *per_month.entry(Month::new(year, month).unwrap()).or_default() += 1;
        text.push_str(&format!(
            "\r\n{month}/{}/{year} 7:00\tt{i}\tc1\t\t1.00\tusd",
            rng.u32(1..=28)
        ));
    }
    std::fs::write(dir.path().join(FILE), text).unwrap();
    let progress = Progress::for_stderr(std::time::Duration::from_millis(crate::progress::DEFAULT_INTERVAL_MS));
    let scan = scan(dir.path(), Limits::default(), &progress).unwrap();
    let (sender, mut receiver) = mpsc::channel(100_000);
    let options = Pass2Options {
        run_id: 1,
        stored: None,
        progress: &progress,
        dates: DateBounds::new(
            chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
            1,
            chrono::Utc::now().naive_utc(),
        ),
    };
    load(dir.path(), &scan, Catalog::for_append(&[]).unwrap(), options, sender).unwrap();
    let (mut sent, mut batches) = (0, 0);
    while let Ok(batch) = receiver.try_recv() {
        assert!(batch.len() <= BATCH);
        sent += batch.len() as u64;
        batches += 1;
    }
    assert_eq!(sent, per_month.values().sum::<u64>());
    assert!(batches > 1, "{batches} batches");
}

fn fact(id: &str, date: &str, cents: i64) -> FactRow {
    FactRow {
        transaction_id: id.into(),
        date_utc: chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M").unwrap(),
        customer_id: "c1".into(),
        subscription_id: Some("s1".into()),
        total_cents: cents,
        currency: "usd",
    }
}

#[test]
fn an_append_sorts_rows_into_new_already_loaded_and_conflicting() {
    let mut stored = Fake {
        facts: vec![
            fact("t1", "2024-01-01 07:00", 1000),
            fact("t2", "2024-01-02 07:00", 500),
        ],
        products: vec![ProductRow {
            subscription_id: "s1".into(),
            plan: "Base".into(),
            product: "Alpha".into(),
            interval: "month".into(),
            amount_cents: 100,
            status: "active".into(),
        }],
        asked: Vec::new(),
    };
    let (tx, rows) = run(
        &[
            "2024-01-01T07:00:00Z\tt1\tc1\ts1\t10\tusd",
            "1/2/24 7:00\tt2\tc1\ts1\t5.01\tusd",
            "1/3/24 7:00\tt3\tc1\ts1\t2.00\tusd",
            "1/3/24 7:00\tt3\tc1\ts1\t2.00\tusd",
            "1/4/24 7:00\tt4\tc1\ts9\t1.00\tusd",
        ],
        Some(&mut stored),
    );
    let c = tx.counts;
    assert_eq!(
        (c.read, c.loaded, c.already_loaded, c.duplicates, c.rejected),
        (5, 2, 1, 1, 1)
    );
    let rejects = tx.rejects.all();
    assert_eq!(rejects[0].reason_code, "conflicts_with_loaded");
    assert_eq!(rejects[0].line_number, 3);
    let ids: Vec<&str> = rows.iter().map(|r| r.transaction_id.as_str()).collect();
    assert_eq!(ids, ["t4", "t3"], "new rows only (held repeats come last)");
    // t3's subscription came from the stored catalog; t4's is unknown.
    assert_eq!(
        tx.aggregates.product_month.cells.values().map(|v| v.0).sum::<i64>(),
        200
    );
    let month = tx.aggregates.monthly.cells.values().next().unwrap();
    assert_eq!((month.unknown_sub_transactions, month.unknown_sub_cents), (1, 100));
    assert_eq!(stored.asked, [4], "one lookup for the batch (the repeat once)");
}

#[test]
fn a_replace_looks_nothing_up() {
    let (tx, rows) = run(&["1/1/24 7:00\tt1\tc1\t\t1.00\tusd", "junk\tt2\tc1\t\t1.00\tusd"], None);
    assert_eq!((tx.counts.loaded, tx.counts.rejected), (1, 1));
    assert_eq!(tx.rejects.all()[0].reason_code, "invalid_date");
    assert_eq!(rows.len(), 1);
}

/// Rows of repeated ids are held as positions and read again at the end:
/// identical ones keep their first row (sent last, in first-seen order)
/// and count the rest as duplicates; differing ones are all rejected with
/// their raw lines and the lines of their id.
#[test]
fn repeated_ids_are_read_again_at_the_end() {
    let (tx, rows) = run(
        &[
            "1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd",
            "1/2/24 7:00\tt2\tc2\ts2\t2.00\tusd",
            "1/3/24 7:00\tt3\tc3\t\t3.00\tusd",
            " 1/1/24 7:00 \tt1\tc1\ts1\t1.00\tusd",
            "1/2/24 7:00\tt2\tc2\ts2\t2.50\tusd",
            "junk\tt4\tc4\t\t4.00\tusd",
            "1/1/24 7:00\tt1\tc1\ts1\t1.00\tusd",
            "junk\tt4\tc4\t\t4.00\tusd",
        ],
        None,
    );
    let c = tx.counts;
    assert_eq!((c.read, c.loaded, c.duplicates, c.rejected), (8, 2, 3, 3));
    let ids: Vec<&str> = rows.iter().map(|r| r.transaction_id.as_str()).collect();
    assert_eq!(ids, ["t3", "t1"]);
    assert_eq!(rows[1].total_cents, 100);
    assert_eq!(rows[1].subscription_id.as_deref(), Some("s1"));
    let all = tx.rejects.all();
    let rejects: Vec<(i64, &str, &str)> = all
        .iter()
        .map(|r| (r.line_number, r.reason_code, r.raw_line.as_str()))
        .collect();
    assert_eq!(
        rejects,
        [
            (3, "conflicting_duplicate", "1/2/24 7:00\tt2\tc2\ts2\t2.00\tusd"),
            (6, "conflicting_duplicate", "1/2/24 7:00\tt2\tc2\ts2\t2.50\tusd"),
            (7, "invalid_date", "junk\tt4\tc4\t\t4.00\tusd"),
        ]
    );
    assert_eq!(
        all[0].reason,
        "Transaction ID \"t2\" appears on 2 rows with different content (lines 3, 6)"
    );
}

/// One id on many differing rows: each reject lists a bounded number of
/// its lines, not all of them.
#[test]
fn a_conflict_lists_a_bounded_number_of_lines() {
    let lines: Vec<String> = (0..30).map(|i| format!("1/1/24 7:00\tt1\tc1\t\t{i}.00\tusd")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (tx, rows) = run(&lines, None);
    assert!(rows.is_empty());
    let rejects = tx.rejects.all();
    assert_eq!(rejects.len(), 30);
    let listed: Vec<String> = (2..22).map(|l| l.to_string()).collect();
    let want = format!(
        "Transaction ID \"t1\" appears on 30 rows with different content (lines {} and 10 more)",
        listed.join(", ")
    );
    assert!(rejects.iter().all(|r| r.reason == want), "{}", rejects[0].reason);
}

/// A held row that is not what it was when it is read again aborts the
/// run: the file changed under it.
#[test]
fn a_held_row_changed_before_it_is_read_again_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(FILE);
    let header = "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency";
    std::fs::write(
        &path,
        format!("{header}\n1/1/24 7:00\tt1\tc1\t\t1.00\tusd\n1/1/24 7:00\tt1\tc1\t\t1.00\tusd\n"),
    )
    .unwrap();
    let limits = Limits::default();
    let mut source = Source::open(&path, COLUMNS, None, limits).unwrap();
    let mut repeats = Repeats::default();
    for_each_row(&mut source, |row| repeats.hold(b"t1", &row)).unwrap();
    // The same length, another amount.
    std::fs::write(
        &path,
        format!("{header}\n1/1/24 7:00\tt1\tc1\t\t9.00\tusd\n1/1/24 7:00\tt1\tc1\t\t1.00\tusd\n"),
    )
    .unwrap();
    let (sender, _receiver) = mpsc::channel(4);
    let mut pass = Pass2 {
        run_id: 1,
        out: Transactions::empty(Catalog::for_append(&[]).unwrap()),
        stored: None,
        pending: Vec::new(),
        batch: FactBatch::with_capacity(BATCH),
        observed: Vec::new(),
        sender,
    };
    let dates = DateBounds::new(
        chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
        1,
        chrono::Utc::now().naive_utc(),
    );
    let err = repeats
        .settle(&mut pass, &source, &source.positions.clone(), &dates)
        .unwrap_err();
    assert!(matches!(err, EtlError::LineChanged { line: 2, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("transactions.csv changed while it was read (line 2"),
        "{err}"
    );
}

/// The ids sent, (loaded, duplicates, rejected), and each reject's (line, reason).
type Outcome = (Vec<String>, (u64, u64, u64), Vec<(i64, &'static str)>);

fn outcome(tx: &Transactions, rows: &[FactRow]) -> Outcome {
    let c = &tx.counts;
    let ids = rows.iter().map(|r| r.transaction_id.clone()).collect();
    let rejects = tx
        .rejects
        .all()
        .iter()
        .map(|r| (r.line_number, r.reason_code))
        .collect();
    (ids, (c.loaded, c.duplicates, c.rejected), rejects)
}

/// An id is the same id however white space around it is written: the
/// scan for repeats trims as the parser does (a no-break space once made
/// two rows of `t9`, both loaded).
#[test]
fn ids_that_read_the_same_are_one_id() {
    let (tx, rows) = run(
        &[
            "1/1/24 7:00\tt9\tc1\t\t1.00\tusd",
            "1/1/24 7:00\tt9\u{a0}\tc1\t\t1.00\tusd",
        ],
        None,
    );
    assert_eq!(outcome(&tx, &rows), (vec!["t9".to_owned()], (1, 1, 0), vec![]));
}

/// A line that cannot be split is never the same as a valid row of its id
/// (its fields up to the fault once hashed like the valid row's, which was
/// then dropped as its duplicate), and no byte inside a field passes for a
/// field boundary: such rows conflict, and both are rejected, in either order.
#[test]
fn a_broken_row_is_never_a_duplicate_of_a_valid_one() {
    let valid = "1/1/24 7:00\tt1\tc1\t\t1.00\tusd";
    for broken in [
        "1/1/24 7:00\tt1\tc1\t\t1.00\t\"usd\"x",
        "1/1/24 7:00\tt1\tc1\t\u{1f}1.00\tusd",
    ] {
        for lines in [[broken, valid], [valid, broken]] {
            let (tx, rows) = run(&lines, None);
            let conflict = "conflicting_duplicate";
            assert_eq!(
                outcome(&tx, &rows),
                (vec![], (0, 0, 2), vec![(2, conflict), (3, conflict)]),
                "{lines:?}"
            );
        }
    }
}

/// Ids that are not UTF-8 are grouped on their bytes, apart from the
/// valid id that the same bytes would print as (U+FFFD).
#[test]
fn invalid_ids_are_not_merged_with_valid_ones() {
    let valid: &[u8] = "1/1/24 7:00\tt\u{FFFD}\tc1\t\t1.00\tusd".as_bytes();
    let invalid: &[u8] = b"1/1/24 7:00\tt\xFF\tc1\t\t1.00\tusd";
    let (tx, rows) = run_bytes(&[valid, invalid, valid, invalid], None);
    assert_eq!(
        outcome(&tx, &rows),
        (vec!["t\u{FFFD}".to_owned()], (1, 2, 1), vec![(3, "invalid_utf8")])
    );
}

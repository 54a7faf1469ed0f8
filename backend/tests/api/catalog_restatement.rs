//! An append whose products.csv changes the catalogue restates the
//! transactions loaded before: a replace of January–May followed by an
//! append of June–October leaves exactly the data of one replace of the
//! whole, even when the first part's catalogue lacked subscriptions its
//! transactions reference, or priced or named plans otherwise.

use std::path::Path;

use serde_json::Value;

use crate::both;
use crate::helpers::{fixture, generated, Engine, TestApp, TestDb, PRODUCTS_HEADER};
use crate::recurring::{every_response, split_by_month, Quality};

/// products.csv's data lines.
fn product_lines(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("products.csv"))
        .unwrap()
        .split('\n')
        .skip(1)
        .map(|l| l.trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

fn write_products(dir: &Path, lines: &[String]) {
    let mut all = vec![PRODUCTS_HEADER.to_owned()];
    all.extend_from_slice(lines);
    std::fs::write(dir.join("products.csv"), all.join("\r\n")).unwrap();
}

/// Generated exports split by month (January–May, June–October), the first
/// part's products.csv made by `first` from the full one. The second part
/// has the full catalogue, and the whole has both files' rows, the first
/// part's first: the later row of a (subscription, plan) wins, as an
/// append's does over the stored one.
fn parts(seed: u64, first: impl Fn(Vec<String>) -> Vec<String>) -> [tempfile::TempDir; 3] {
    let input = generated(6_000, seed);
    let parts = split_by_month(input.path(), |m| m <= 5);
    let full = product_lines(input.path());
    let early = first(full.clone());
    write_products(parts[0].path(), &early);
    write_products(parts[2].path(), &[early, full].concat());
    parts
}

/// Every row of the tables built from the transactions, and of the
/// dimensions, as text (the same SQL on both engines), table by table.
async fn tables(t: &TestDb) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for sql in [
        "SELECT currency || '|' || month || '|' || CAST(transactions AS TEXT) || '|' || CAST(active_customers AS TEXT) \
         || '|' || CAST(revenue_cents AS TEXT) || '|' || CAST(zero_amount_transactions AS TEXT) \
         || '|' || CAST(null_subscription_transactions AS TEXT) || '|' || CAST(null_subscription_revenue_cents AS TEXT) \
         || '|' || CAST(unknown_subscription_transactions AS TEXT) || '|' || CAST(unknown_subscription_revenue_cents AS TEXT) \
         || '|' || CAST(refund_transactions AS TEXT) || '|' || CAST(refund_cents AS TEXT) FROM agg_monthly ORDER BY 1",
        "SELECT currency || '|' || month || '|' || product || '|' || CAST(total_sales_cents AS TEXT) || '|' \
         || CAST(transactions AS TEXT) FROM agg_product_month ORDER BY 1",
        "SELECT customer_id || '|' || customer_name || '|' || customer_email || '|' || COALESCE(currency, '-') || '|' \
         || CAST(total_spending_cents AS TEXT) || '|' || CAST(transactions AS TEXT) || '|' \
         || CAST(in_users_file AS TEXT) || '|' || CAST(conflicting_name AS TEXT) || '|' || CAST(conflicting_email AS TEXT) \
         || '|' || CAST(null_subscription AS TEXT) || '|' || CAST(unknown_subscription AS TEXT) FROM dim_user ORDER BY 1",
        "SELECT currency || '|' || customer_id || '|' || CAST(total_spending_cents AS TEXT) || '|' \
         || CAST(transactions AS TEXT) FROM agg_customer_spending ORDER BY 1",
        "SELECT subscription_id || '|' || plan || '|' || product || '|' || CAST(amount_cents AS TEXT) || '|' || status \
         FROM dim_product ORDER BY 1",
        "SELECT COUNT(*) || '|' || CAST(SUM(total_cents) AS TEXT) FROM fct_transaction",
    ] {
        let rows = t.rows(sql).await;
        out.push(rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect());
    }
    out
}

/// What an append did, beside its equality with a replace.
struct Appended {
    summary: backend::etl::RunSummary,
    quality: Value,
    /// Customers flagged with a transaction on an unknown subscription,
    /// before the append and after it.
    unknown_customers: [Vec<String>; 2],
}

async fn unknown_customers(t: &TestDb) -> Vec<String> {
    let rows = t
        .rows("SELECT customer_id FROM dim_user WHERE unknown_subscription ORDER BY customer_id")
        .await;
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

/// Replace of part 1 then append of part 2, against a replace of the whole:
/// the same tables, reports, `/quality` and data score.
async fn append_equals_replace(engine: Engine, [first, second, all]: &[tempfile::TempDir; 3]) -> Appended {
    let appended = TestDb::new(engine).await;
    appended.ingest(first.path()).await.unwrap();
    let unknown_before = unknown_customers(&appended).await;
    let summary = appended.append(second.path()).await.unwrap();
    let replaced = TestDb::new(engine).await;
    replaced.ingest(all.path()).await.unwrap();
    for (a, b) in tables(&appended).await.iter().zip(&tables(&replaced).await) {
        let first = a.iter().zip(b).find(|(x, y)| x != y);
        assert!(
            a.len() == b.len() && first.is_none(),
            "append vs replace: {} rows vs {}, first difference {first:?}",
            a.len(),
            b.len()
        );
    }
    let (app_a, app_b) = (TestApp::spawn(&appended.db).await, TestApp::spawn(&replaced.db).await);
    let (ra, rb) = (
        every_response(&app_a, Quality::DataOnly).await,
        every_response(&app_b, Quality::DataOnly).await,
    );
    for ((path, x), (_, y)) in ra.iter().zip(&rb) {
        assert_eq!(x, y, "append vs replace: {path} differs");
    }
    let quality = app_a.json("/quality").await;
    let history = app_a.json("/quality/history").await;
    let runs = history["runs"].as_array().unwrap();
    assert_eq!(runs.last().unwrap()["data_score"], quality["data_score"], "{history}");
    Appended {
        summary,
        quality,
        unknown_customers: [unknown_before, unknown_customers(&appended).await],
    }
}

/// Whether a products.csv line's subscription is among every `n`th.
fn every(line: &str, n: usize) -> bool {
    let sub = line.split('\t').next().unwrap();
    sub.bytes().map(usize::from).sum::<usize>() % n == 0
}

/// (1) Part 1's catalogue lacks subscriptions its transactions reference;
/// part 2's has them: their transactions stop counting as on an unknown
/// subscription and their revenue goes to their products.
async fn a_subscription_learnt_later(engine: Engine) {
    let parts = parts(21, |lines| lines.into_iter().filter(|l| !every(l, 5)).collect());
    let Appended {
        summary,
        quality,
        unknown_customers: [before, after],
    } = append_equals_replace(engine, &parts).await;
    assert!(
        summary.restated.subscriptions > 0 && summary.restated.transactions > 0,
        "{:?}",
        summary.restated
    );
    // Customers whose only unknown subscriptions became known lose the flag
    // (the append's own transactions flag others).
    let cleared = before.iter().filter(|c| !after.contains(c)).count();
    assert!(cleared > 0, "{} flagged, none cleared", before.len());
    assert!(quality["data_score"].is_object(), "{quality}");
}
both!(subscription_learnt_later, a_subscription_learnt_later);

/// (2) Part 2 changes plans of subscriptions part 1 loaded: other amounts,
/// other products, an add-on plan part 1 did not list.
async fn plans_changed_later(engine: Engine) {
    let parts = parts(22, |lines| {
        lines
            .into_iter()
            .filter(|l| !(every(l, 7) && l.contains(" - Support")))
            .map(|l| {
                if !every(&l, 3) {
                    return l;
                }
                let mut cells: Vec<String> = l.split('\t').map(str::to_owned).collect();
                cells[2] = format!("{} (old)", cells[2]);
                let amount: f64 = cells[4].parse().unwrap();
                cells[4] = format!("{:.2}", amount * 3.0 + 1.0);
                cells.join("\t")
            })
            .collect()
    });
    let summary = append_equals_replace(engine, &parts).await.summary;
    assert!(
        summary.restated.subscriptions > 0 && summary.restated.transactions > 0,
        "{:?}",
        summary.restated
    );
}
both!(plan_changed_later, plans_changed_later);

/// (3) The same catalogue again: nothing is restated, and the run says so.
async fn same_catalogue_restates_nothing(engine: Engine) {
    let parts = parts(23, |lines| lines);
    let summary = append_equals_replace(engine, &parts).await.summary;
    assert_eq!(summary.files[0].counts.loaded, 0, "{:?}", summary.files[0]);
    assert_eq!(
        (summary.restated.subscriptions, summary.restated.transactions),
        (0, 0),
        "{:?}",
        summary.restated
    );
}
both!(same_catalogue, same_catalogue_restates_nothing);

/// An append of products.csv alone restates too: the customer whose only
/// unknown subscription it brings loses the flag, and the revenue goes to
/// the products, split by the new plans.
async fn a_products_file_alone_restates(engine: Engine) {
    let early = ["s1\tBase\tAlpha\tmonth\t100\tactive"];
    let later = [
        "s2\tPro\tBeta\tmonth\t300\tactive",
        "s2\tPro addon\tGamma\tmonth\t100\tactive",
    ];
    let tx = [
        "1/5/24 7:00\tt1\tc1\ts1\t10.00\tusd",
        "1/6/24 7:00\tt2\tc2\ts2\t10.01\tusd",
        "2/6/24 7:00\tt3\tc2\ts2\t10.01\tusd",
        "2/7/24 7:00\tt4\tc3\ts9\t4.00\tusd",
    ];
    let users = ["c1\tAnn\tann@x.test", "c2\tBob\tbob@x.test", "c3\tCid\tcid@x.test"];
    let first = fixture(&early, &tx, &users);
    let rest = tempfile::tempdir().unwrap();
    let later_lines: Vec<String> = later.iter().map(|l| (*l).to_owned()).collect();
    write_products(rest.path(), &later_lines);
    let all = fixture(&[&early[..], &later[..]].concat(), &tx, &users);
    let parts = [first, rest, all];
    let Appended {
        summary,
        quality,
        unknown_customers,
    } = append_equals_replace(engine, &parts).await;
    assert_eq!((summary.restated.subscriptions, summary.restated.transactions), (1, 2));
    assert!(
        summary
            .render()
            .contains("restated        2 loaded transactions of 1 subscriptions"),
        "{}",
        summary.render()
    );
    assert_eq!(
        unknown_customers,
        [vec!["c2".to_owned(), "c3".to_owned()], vec!["c3".to_owned()]],
        "c2 is cleared, c3 (s9) is not"
    );
    let unknown = &quality["subscriptions"]["unknown_subscription"];
    assert_eq!(
        (unknown["transactions"].as_i64(), unknown["customers"].as_i64()),
        (Some(1), Some(1)),
        "{quality}"
    );
    assert_eq!(quality["data_score"]["integrity"], "75.00", "{quality}");
    let t = TestDb::new(engine).await;
    t.ingest(parts[0].path()).await.unwrap();
    t.append(parts[1].path()).await.unwrap();
    // 10.01 split 3:1 per transaction: 7.51 and 2.50, twice.
    let beta = "SELECT CAST(SUM(total_sales_cents) AS BIGINT) FROM agg_product_month WHERE product = 'Beta'";
    let gamma = "SELECT CAST(SUM(total_sales_cents) AS BIGINT) FROM agg_product_month WHERE product = 'Gamma'";
    assert_eq!((t.scalar_i64(beta).await, t.scalar_i64(gamma).await), (1502, 500));
}
both!(products_file_alone, a_products_file_alone_restates);

//! The user's real export, loaded into both engines and checked against an
//! independent reading of the raw files.

use std::collections::BTreeMap;

use crate::both;
use crate::helpers::{raw_transactions, seed_input, Engine, TestDb};

async fn loads_the_real_export(engine: Engine) {
    let Some(input) = seed_input() else {
        crate::helpers::skip("../shared/seed-input not present");
        return;
    };
    let t = TestDb::new(engine).await;
    let summary = t.ingest(&input).await.unwrap();

    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM dim_product").await, 460);
    assert_eq!(
        t.scalar_i64("SELECT COUNT(DISTINCT subscription_id) FROM dim_product")
            .await,
        425
    );
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await, 12_870);
    assert_eq!(t.scalar_i64("SELECT COUNT(*) FROM dim_user").await, 1_686);
    assert_eq!(summary.customers, 1_686);
    assert_eq!(summary.subscriptions, 425);

    // The accounting identity, as stored.
    for f in &summary.files {
        assert_eq!(
            f.counts.read,
            f.counts.loaded + f.counts.duplicates + f.counts.rejected,
            "{}",
            f.file
        );
    }
    let stored = t
        .rows("SELECT file, rows_read, rows_loaded, rows_duplicate, rows_rejected FROM etl_run_file")
        .await;
    assert_eq!(stored.len(), 3);
    for r in stored {
        let n = |c: &str| r.try_get::<i64>("", c).unwrap();
        assert_eq!(
            n("rows_read"),
            n("rows_loaded") + n("rows_duplicate") + n("rows_rejected")
        );
    }
    assert_eq!(
        t.scalar_i64("SELECT rows_read FROM etl_run_file WHERE file = 'users.csv'")
            .await,
        12_870
    );

    // Money per currency, computed independently from the raw file.
    let raw = raw_transactions(&input);
    assert_eq!(raw.len(), 12_870);
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for (_, _, _, cents, currency) in &raw {
        *expected.entry(currency.clone()).or_default() += cents;
    }
    for (currency, cents) in &expected {
        let fact = t
            .scalar_i64(&format!(
                "SELECT CAST(SUM(total_cents) AS BIGINT) FROM fct_transaction WHERE currency = '{currency}'"
            ))
            .await;
        assert_eq!(fact, *cents, "fct_transaction total in {currency}");
        let agg = t
            .scalar_i64(&format!(
                "SELECT CAST(SUM(revenue_cents) AS BIGINT) FROM agg_monthly WHERE currency = '{currency}'"
            ))
            .await;
        assert_eq!(agg, *cents, "agg_monthly total in {currency}");
        let spending = t
            .scalar_i64(&format!(
                "SELECT CAST(SUM(total_spending_cents) AS BIGINT) FROM agg_customer_spending WHERE currency = '{currency}'"
            ))
            .await;
        assert_eq!(spending, *cents, "customer spending in {currency}");
    }
    assert!(expected.contains_key("eur") && expected.contains_key("usd"));
    // dim_user totals: no customer's total mixes currencies.
    assert_eq!(
        t.scalar_i64(
            "SELECT COUNT(*) FROM dim_user u JOIN agg_customer_spending s \
             ON s.customer_id = u.customer_id AND s.currency = u.currency \
             WHERE s.total_spending_cents <> u.total_spending_cents"
        )
        .await,
        0
    );
    // Product allocation adds up exactly to the revenue of known subscriptions.
    for currency in expected.keys() {
        let allocated = t
            .scalar_i64(&format!(
                "SELECT CAST(COALESCE(SUM(total_sales_cents), 0) AS BIGINT) FROM agg_product_month WHERE currency = '{currency}'"
            ))
            .await;
        let known = t
            .scalar_i64(&format!(
                "SELECT CAST(COALESCE(SUM(total_cents), 0) AS BIGINT) FROM fct_transaction f WHERE currency = '{currency}' \
                 AND EXISTS (SELECT 1 FROM dim_product p WHERE p.subscription_id = f.subscription_id)"
            ))
            .await;
        assert_eq!(allocated, known, "allocated revenue in {currency}");
    }
    // Empty subscription ids are NULL, not empty strings.
    let raw_null = raw.iter().filter(|r| r.2.is_empty()).count() as i64;
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE subscription_id IS NULL")
            .await,
        raw_null
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM fct_transaction WHERE subscription_id = ''")
            .await,
        0
    );
}
both!(real_export, loads_the_real_export);

async fn ingest_is_idempotent(engine: Engine) {
    let input = crate::helpers::realistic_input();
    let t = TestDb::new(engine).await;
    t.ingest(&input).await.unwrap();
    let first = dump(&t.db).await;
    t.ingest(&input).await.unwrap();
    let second = dump(&t.db).await;
    assert!(first.len() > 1000);
    assert!(first == second, "a second run on the same files changed the data");
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM etl_run WHERE status = 'succeeded'")
            .await,
        2
    );
}
both!(idempotent, ingest_is_idempotent);

/// Every row of the replaced tables, in key order, as typed models.
async fn dump(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use backend::entities::*;
    use sea_orm::{EntityTrait, QueryOrder};
    let mut out = Vec::new();
    macro_rules! all {
        ($m:ident, $($col:ident),+) => {
            for r in $m::Entity::find()$(.order_by_asc($m::Column::$col))+.all(db).await.unwrap() {
                out.push(format!("{r:?}"));
            }
        };
    }
    all!(fct_transaction, TransactionId);
    all!(dim_user, CustomerId);
    all!(dim_product, SubscriptionId, Plan);
    all!(agg_monthly, Currency, Month);
    all!(agg_product_month, Currency, Month, Product);
    all!(agg_customer_spending, Currency, CustomerId);
    out
}

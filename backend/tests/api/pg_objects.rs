//! PostgreSQL objects that users add to the tables — GRANTs, views, comments,
//! their own indexes — survive every load, replace or append.

use backend::etl::IngestOptions;
use sea_orm::ConnectionTrait;

use crate::helpers::{postgres_admin_url, realistic_input, Engine, TestDb};
use crate::recurring::split_by_month;

/// An index name of 63 bytes, PostgreSQL's longest.
const LONG: &str = "analyst_users_by_email_for_the_quarterly_churn_review_dashboard";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_views_and_comments_survive_loads() {
    if postgres_admin_url().is_none() {
        return;
    }
    let t = TestDb::new(Engine::Postgres).await;
    t.ingest(&realistic_input()).await.unwrap();
    // Roles are cluster-wide: a unique name, dropped at the end.
    let role = format!("bi_reader_{:08x}", fastrand::u32(..));
    for sql in [
        format!("CREATE ROLE {role} NOLOGIN"),
        format!("GRANT SELECT ON fct_transaction, dim_user, agg_monthly TO {role}"),
        "CREATE VIEW monthly_usd AS SELECT month, revenue_cents FROM agg_monthly WHERE currency = 'usd'".to_owned(),
        "CREATE VIEW big_spenders AS SELECT u.customer_id, SUM(f.total_cents) AS cents \
         FROM fct_transaction f JOIN dim_user u USING (customer_id) GROUP BY u.customer_id"
            .to_owned(),
        format!("GRANT SELECT ON monthly_usd, big_spenders TO {role}"),
        "COMMENT ON TABLE fct_transaction IS 'one row per billing transaction'".to_owned(),
        "COMMENT ON COLUMN dim_user.customer_name IS 'as in the last users file'".to_owned(),
        "CREATE INDEX analyst_tx_by_date ON fct_transaction (date_utc)".to_owned(),
        // Names the catalog must quote, on the fact table and a small one.
        r#"CREATE INDEX "Analyst Tx By Currency" ON fct_transaction (currency)"#.to_owned(),
        r#"CREATE INDEX "UsersByName" ON dim_user (customer_name)"#.to_owned(),
        // Names of PostgreSQL's full 63 bytes, given and made up by it: with
        // a suffix they would be cut back to themselves.
        format!("CREATE INDEX {LONG} ON dim_user (customer_email)"),
        "CREATE INDEX ON agg_customer_spending (customer_id, currency, total_spending_cents, transactions)".to_owned(),
    ] {
        t.db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let [first, second, _] = split_by_month(&realistic_input(), |m| m <= 6);
    // Replace twice, then append.
    t.ingest(&realistic_input()).await.unwrap();
    t.ingest(first.path()).await.unwrap();
    let mut append = IngestOptions::append(second.path());
    append.guard.max_reject_pct = "100".parse().unwrap();
    t.committed(&append).await.unwrap();

    let total = t.scalar_i64("SELECT COUNT(*) FROM fct_transaction").await;
    // The role still reads the tables and the views, which still answer.
    for sql in [
        "SELECT COUNT(*) FROM fct_transaction",
        "SELECT COUNT(*) FROM big_spenders",
        "SELECT COUNT(*) FROM monthly_usd",
    ] {
        let n = {
            use sea_orm::TransactionTrait;
            let tx = t.db.begin().await.unwrap();
            tx.execute_unprepared(&format!("SET LOCAL ROLE {role}")).await.unwrap();
            let row = tx
                .query_one(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    sql.to_owned(),
                ))
                .await
                .unwrap_or_else(|e| panic!("{sql} as {role}: {e}"))
                .unwrap();
            let n: i64 = row.try_get_by_index(0).unwrap();
            tx.rollback().await.unwrap();
            n
        };
        assert!(n > 0, "{sql} as {role}");
    }
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM big_spenders").await,
        t.scalar_i64("SELECT COUNT(DISTINCT customer_id) FROM fct_transaction")
            .await
    );
    assert!(total > 0);
    let comment: String = t
        .rows("SELECT obj_description('fct_transaction'::regclass, 'pg_class') AS c")
        .await[0]
        .try_get("", "c")
        .unwrap();
    assert_eq!(comment, "one row per billing transaction");
    let column: String = t.rows("SELECT col_description('dim_user'::regclass, 2) AS c").await[0]
        .try_get("", "c")
        .unwrap();
    assert_eq!(column, "as in the last users file");
    // The analyst's indexes are on the fact table's one partition, which the
    // replaces swapped and the append wrote into.
    let partitions = t
        .scalar_i64("SELECT COUNT(*) FROM pg_inherits WHERE inhparent = 'fct_transaction'::regclass")
        .await;
    assert_eq!(partitions, 1, "the data partition alone");
    assert_eq!(
        t.scalar_i64(
            "SELECT COUNT(*) FROM pg_inherits i JOIN pg_index x ON x.indrelid = i.inhrelid \
             WHERE i.inhparent = 'fct_transaction'::regclass \
             AND pg_get_indexdef(x.indexrelid) LIKE '%USING btree (date_utc)'"
        )
        .await,
        partitions
    );
    assert_eq!(
        t.scalar_i64(
            "SELECT COUNT(*) FROM pg_inherits i JOIN pg_index x ON x.indrelid = i.inhrelid \
             JOIN pg_class c ON c.oid = x.indexrelid \
             WHERE i.inhparent = 'fct_transaction'::regclass AND c.relname LIKE '%Analyst Tx By Currency%'"
        )
        .await,
        partitions
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM pg_indexes WHERE indexname IN ('Analyst Tx By Currency', 'UsersByName')")
            .await,
        2,
        "the parents' indexes keep their names"
    );
    assert_eq!(
        t.scalar_i64("SELECT COUNT(*) FROM pg_indexes WHERE indexname = 'UsersByName__data'")
            .await,
        1,
        "dim_user's data partition has the index under the usual suffix"
    );
    assert_eq!(LONG.len(), 63);
    for (table, columns) in [
        ("dim_user", "(customer_email)"),
        (
            "agg_customer_spending",
            "(customer_id, currency, total_spending_cents, transactions)",
        ),
    ] {
        assert_eq!(
            t.scalar_i64(&format!(
                "SELECT COUNT(*) FROM pg_indexes WHERE tablename IN ('{table}', '{table}__data') \
                 AND indexdef LIKE '%USING btree {columns}'"
            ))
            .await,
            2,
            "{table}: the index on the table and on its data partition"
        );
    }
    t.db.execute_unprepared(&format!(
        "DROP VIEW monthly_usd, big_spenders; REVOKE ALL ON fct_transaction, dim_user, agg_monthly FROM {role}; DROP ROLE {role}"
    ))
    .await
    .unwrap();
}

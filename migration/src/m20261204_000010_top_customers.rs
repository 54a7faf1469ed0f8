//! `agg_top_customer`: the best customers of each currency, ranked, with
//! their names, written by every run that changes the data in the same
//! transaction that records it.
//!
//! Why: the report cache read the top customers from `agg_customer_spending`
//! and their names from `dim_user`. On Citus both are distributed, and Citus
//! has no snapshot across nodes: a cache refresh just after a run committed
//! could read the run's record on the coordinator and a worker's shard as
//! it was before (its part of the two-phase commit not yet applied), and
//! serve figures of two runs. This table is local to the coordinator (it is
//! created after migration 9, which distributes only the tables it names),
//! so the cache reads nothing but coordinator-local tables. On PostgreSQL
//! and SQLite it costs one indexed read per currency at each run and saves
//! the cache the same.
//!
//! Existing data is ranked here once; every later run ranks again
//! ([`RANK_TOP_CUSTOMERS`]).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How many customers of each currency are kept: the most `/reports/top-users` serves.
pub const TOP_CUSTOMERS: u32 = 100;

/// The currencies to rank (every currency with a transaction).
pub const TOP_CUSTOMER_CURRENCIES: &str = "SELECT DISTINCT currency FROM agg_monthly ORDER BY currency";

/// Ranks one currency (`$1`) into the emptied table: its [`TOP_CUSTOMERS`]
/// best customers by total, ties by id, read through the (currency, total)
/// index. The same SQL on both engines and on Citus (the limit is pushed
/// to every shard, the join with the names runs on the few rows kept).
pub const RANK_TOP_CUSTOMERS: &str = "INSERT INTO agg_top_customer \
    (currency, rank, customer_id, customer_name, total_spending_cents, transactions) \
    SELECT t.currency, row_number() OVER (ORDER BY t.total_spending_cents DESC, t.customer_id), \
    t.customer_id, COALESCE(u.customer_name, ''), t.total_spending_cents, t.transactions \
    FROM (SELECT currency, customer_id, total_spending_cents, transactions FROM agg_customer_spending \
    WHERE currency = $1 ORDER BY total_spending_cents DESC, customer_id LIMIT 100) t \
    LEFT JOIN dim_user u ON u.customer_id = t.customer_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AggTopCustomer::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AggTopCustomer::Currency).text().not_null())
                    .col(ColumnDef::new(AggTopCustomer::Rank).big_integer().not_null())
                    .col(crate::id_text(manager, AggTopCustomer::CustomerId).not_null())
                    .col(ColumnDef::new(AggTopCustomer::CustomerName).text().not_null())
                    .col(
                        ColumnDef::new(AggTopCustomer::TotalSpendingCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AggTopCustomer::Transactions).big_integer().not_null())
                    .primary_key(Index::create().col(AggTopCustomer::Currency).col(AggTopCustomer::Rank))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let currencies = db
            .query_all(Statement::from_string(backend, TOP_CUSTOMER_CURRENCIES))
            .await?;
        for row in currencies {
            let currency: String = row.try_get_by_index(0)?;
            db.execute(Statement::from_sql_and_values(
                backend,
                RANK_TOP_CUSTOMERS,
                [currency.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AggTopCustomer::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AggTopCustomer {
    Table,
    Currency,
    Rank,
    CustomerId,
    CustomerName,
    TotalSpendingCents,
    Transactions,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rank_keeps_as_many_as_it_says() {
        assert!(RANK_TOP_CUSTOMERS.contains(&format!("LIMIT {TOP_CUSTOMERS})")));
    }
}

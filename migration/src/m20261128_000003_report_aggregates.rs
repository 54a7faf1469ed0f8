//! Report aggregates written by the ETL in the same transaction as the star
//! schema, so that every `/reports/*` request reads a few hundred rows instead of
//! scanning `fct_transaction`. They are derived data: the ETL rebuilds them on
//! every run from exactly the rows it loads.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AggMonthly::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AggMonthly::Currency).text().not_null())
                    // Calendar month of `date_utc`, `YYYY-MM`.
                    .col(ColumnDef::new(AggMonthly::Month).text().not_null())
                    .col(ColumnDef::new(AggMonthly::Transactions).big_integer().not_null())
                    .col(ColumnDef::new(AggMonthly::ActiveCustomers).big_integer().not_null())
                    .col(ColumnDef::new(AggMonthly::RevenueCents).big_integer().not_null())
                    .col(
                        ColumnDef::new(AggMonthly::ZeroAmountTransactions)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AggMonthly::NullSubscriptionTransactions)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AggMonthly::NullSubscriptionRevenueCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AggMonthly::UnknownSubscriptionTransactions)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AggMonthly::UnknownSubscriptionRevenueCents)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(Index::create().col(AggMonthly::Currency).col(AggMonthly::Month))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AggProductMonth::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AggProductMonth::Currency).text().not_null())
                    .col(ColumnDef::new(AggProductMonth::Month).text().not_null())
                    .col(ColumnDef::new(AggProductMonth::Product).text().not_null())
                    // Sum of the allocated shares (largest-remainder, exact to the cent).
                    .col(
                        ColumnDef::new(AggProductMonth::TotalSalesCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(AggProductMonth::Transactions).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(AggProductMonth::Currency)
                            .col(AggProductMonth::Month)
                            .col(AggProductMonth::Product),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AggCustomerSpending::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AggCustomerSpending::Currency).text().not_null())
                    .col(crate::id_text(manager, AggCustomerSpending::CustomerId).not_null())
                    .col(
                        ColumnDef::new(AggCustomerSpending::TotalSpendingCents)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AggCustomerSpending::Transactions)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(AggCustomerSpending::Currency)
                            .col(AggCustomerSpending::CustomerId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_agg_customer_spending_rank")
                    .table(AggCustomerSpending::Table)
                    .col(AggCustomerSpending::Currency)
                    .col(AggCustomerSpending::TotalSpendingCents)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AggCustomerSpending::Table.into_iden(),
            AggProductMonth::Table.into_iden(),
            AggMonthly::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AggMonthly {
    Table,
    Currency,
    Month,
    Transactions,
    ActiveCustomers,
    RevenueCents,
    ZeroAmountTransactions,
    NullSubscriptionTransactions,
    NullSubscriptionRevenueCents,
    UnknownSubscriptionTransactions,
    UnknownSubscriptionRevenueCents,
}

#[derive(DeriveIden)]
enum AggProductMonth {
    Table,
    Currency,
    Month,
    Product,
    TotalSalesCents,
    Transactions,
}

#[derive(DeriveIden)]
enum AggCustomerSpending {
    Table,
    Currency,
    CustomerId,
    TotalSpendingCents,
    Transactions,
}

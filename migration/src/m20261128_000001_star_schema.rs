//! The star schema: `dim_user`, `dim_product` and `fct_transaction`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DimUser::Table)
                    .if_not_exists()
                    .col(crate::id_text(manager, DimUser::CustomerId).not_null().primary_key())
                    .col(ColumnDef::new(DimUser::CustomerName).text().not_null().default(""))
                    .col(ColumnDef::new(DimUser::CustomerEmail).text().not_null().default(""))
                    // The currency the customer pays in most often; NULL for a customer
                    // listed in users.csv without any transaction.
                    .col(ColumnDef::new(DimUser::Currency).text().null())
                    // In `currency` only: other currencies are never added in.
                    .col(
                        ColumnDef::new(DimUser::TotalSpendingCents)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(DimUser::Transactions)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(DimUser::InUsersFile).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DimProduct::Table)
                    .if_not_exists()
                    .col(crate::id_text(manager, DimProduct::SubscriptionId).not_null())
                    .col(crate::id_text(manager, DimProduct::Plan).not_null())
                    .col(ColumnDef::new(DimProduct::Product).text().not_null())
                    .col(ColumnDef::new(DimProduct::Interval).text().not_null().default(""))
                    .col(ColumnDef::new(DimProduct::AmountCents).big_integer().not_null())
                    .col(ColumnDef::new(DimProduct::Status).text().not_null().default(""))
                    .primary_key(Index::create().col(DimProduct::SubscriptionId).col(DimProduct::Plan))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(FctTransaction::Table)
                    .if_not_exists()
                    .col(
                        crate::id_text(manager, FctTransaction::TransactionId)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FctTransaction::DateUtc).timestamp().not_null())
                    .col(crate::id_text(manager, FctTransaction::CustomerId).not_null())
                    .col(crate::id_text(manager, FctTransaction::SubscriptionId).null())
                    .col(ColumnDef::new(FctTransaction::TotalCents).big_integer().not_null())
                    .col(ColumnDef::new(FctTransaction::Currency).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_fct_transaction_customer")
                            .from(FctTransaction::Table, FctTransaction::CustomerId)
                            .to(DimUser::Table, DimUser::CustomerId),
                    )
                    .to_owned(),
            )
            .await?;

        // No secondary indexes on the fact table: the reports read the aggregate
        // tables the ingest writes (agg_*), and each index on the fact table would
        // add about 2 s per million rows to every load. Add your own for ad-hoc use.
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FctTransaction::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DimProduct::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DimUser::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum DimUser {
    Table,
    CustomerId,
    CustomerName,
    CustomerEmail,
    Currency,
    TotalSpendingCents,
    Transactions,
    InUsersFile,
}

#[derive(DeriveIden)]
enum DimProduct {
    Table,
    SubscriptionId,
    Plan,
    Product,
    Interval,
    AmountCents,
    Status,
}

#[derive(DeriveIden)]
enum FctTransaction {
    Table,
    TransactionId,
    DateUtc,
    CustomerId,
    SubscriptionId,
    TotalCents,
    Currency,
}

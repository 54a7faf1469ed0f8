//! `etl_appended_transaction`: the transactions the latest run that changed
//! the data appended, as the subscription figures read them.
//!
//! Why: the server keeps every transaction in memory for the subscription
//! figures of a run, and read them all again after any new run (about 13 s
//! at 5M on PostgreSQL). An append only adds transactions, so a server
//! holding the previous run's can read just the added ones from here and
//! merge them in. An append writes its rows in its own transaction (from
//! its staged transactions), replacing the previous run's; a replace
//! empties the table. It holds one append's rows at most.
//!
//! Local to the coordinator on Citus (created after migration 9, which
//! distributes only the tables it names), with no foreign key to the
//! distributed facts: the report cache reads only coordinator-local tables.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use EtlAppendedTransaction as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(T::RunId).big_integer().not_null())
                    .col(crate::id_text(manager, T::TransactionId).not_null())
                    .col(ColumnDef::new(T::DateUtc).timestamp().not_null())
                    .col(crate::id_text(manager, T::CustomerId).not_null())
                    .col(crate::id_text(manager, T::SubscriptionId).null())
                    .col(ColumnDef::new(T::TotalCents).big_integer().not_null())
                    .col(ColumnDef::new(T::Currency).text().not_null())
                    .primary_key(Index::create().col(T::RunId).col(T::TransactionId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(EtlAppendedTransaction::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum EtlAppendedTransaction {
    Table,
    RunId,
    TransactionId,
    DateUtc,
    CustomerId,
    SubscriptionId,
    TotalCents,
    Currency,
}

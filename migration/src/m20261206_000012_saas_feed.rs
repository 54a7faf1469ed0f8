//! `etl_saas_feed`: each run's loaded transactions in the compact form the
//! subscription figures read (format: `store::saas_feed`), in parts of
//! about a megabyte.
//!
//! Why: after a replace the server read every transaction back from the
//! fact table to compute the subscription figures (11 s after a 17 s
//! replace at 5M on PostgreSQL), most of it in the driver's rows and in
//! looking every id up again. The load has each transaction in hand and its
//! customers numbered already, so it writes them once, compactly, in its own
//! transaction, and the server reads large values instead.
//!
//! On PostgreSQL the values are stored uncompressed (`STORAGE EXTERNAL`):
//! they hold mostly ids and integers, and compressing megabytes per part
//! with pglz would cost the load more than it saves the read. Local to the
//! coordinator on Citus (created after migration 9, which distributes only
//! the tables it names).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use EtlSaasFeed as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(T::RunId).big_integer().not_null())
                    .col(ColumnDef::new(T::Part).integer().not_null())
                    .col(ColumnDef::new(T::Bytes).blob().not_null())
                    .primary_key(Index::create().col(T::RunId).col(T::Part))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE etl_saas_feed ALTER COLUMN bytes SET STORAGE EXTERNAL")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EtlSaasFeed::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EtlSaasFeed {
    Table,
    RunId,
    Part,
    Bytes,
}

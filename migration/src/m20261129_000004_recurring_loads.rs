//! Recurring loads: what an append needs to merge new exports into the data
//! already loaded, the run history's new fields, and (PostgreSQL) tables that
//! keep their identity across loads.
//!
//! - `dim_user` keeps the per-customer facts that `/quality` counts, so an
//!   append can update the counts from the customers it touches alone.
//! - `agg_customer_spending.active_months`: the months (bitmap) in which the
//!   customer paid in that currency; an append adds a month's active customer
//!   only when the month is new for that customer.
//! - `agg_monthly` gains the refund figures (until now computed in memory only).
//! - `etl_run`, `etl_run_file`, `etl_rejected_row`: mode, the cumulative state of
//!   the data, `already_loaded`, files skipped as already ingested, reason codes.
//! - PostgreSQL: each table a load replaces becomes a partitioned table with one
//!   `DEFAULT` partition, `<table>__data`. A replace swaps the partition, never
//!   the table, so GRANTs, views, comments and policies on the tables survive
//!   every load. (SQLite replaces rows inside one transaction: nothing to keep.)

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::names::{quote_ident as q, suffixed};
use crate::pg::{exec, keys, plain_indexes};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tables a load replaces, with the (arbitrary) list-partition key of their
/// single default partition; parents before children.
const PARTITIONED: &[(&str, &str)] = &[
    ("dim_user", "customer_id"),
    ("dim_product", "subscription_id"),
    ("agg_monthly", "currency"),
    ("agg_product_month", "currency"),
    ("agg_customer_spending", "currency"),
    ("fct_transaction", "transaction_id"),
];

/// Name of the single partition holding a table's rows.
pub const DATA_PARTITION_SUFFIX: &str = "__data";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Dim::ConflictingName,
            Dim::ConflictingEmail,
            Dim::NullSubscription,
            Dim::UnknownSubscription,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Dim::Table)
                        .add_column(ColumnDef::new(column).boolean().not_null().default(false))
                        .to_owned(),
                )
                .await?;
        }
        // NULL: loaded before this migration (an append refuses such data).
        manager
            .alter_table(
                Table::alter()
                    .table(Spending::Table)
                    .add_column(ColumnDef::new(Spending::ActiveMonths).binary().null())
                    .to_owned(),
            )
            .await?;
        for column in [Monthly::RefundTransactions, Monthly::RefundCents] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Monthly::Table)
                        .add_column(ColumnDef::new(column).big_integer().not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        // replace | append
        manager
            .alter_table(
                Table::alter()
                    .table(Run::Table)
                    .add_column(ColumnDef::new(Run::Mode).text().not_null().default("replace"))
                    .to_owned(),
            )
            .await?;
        // False for a run that committed its audit only (nothing new to load).
        manager
            .alter_table(
                Table::alter()
                    .table(Run::Table)
                    .add_column(ColumnDef::new(Run::DataChanged).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await?;
        for column in [Run::OptionsJson, Run::StateJson] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Run::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(RunFile::Table)
                    .add_column(
                        ColumnDef::new(RunFile::RowsAlreadyLoaded)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        // The run that ingested the same file (same SHA-256) when this one skipped it.
        manager
            .alter_table(
                Table::alter()
                    .table(RunFile::Table)
                    .add_column(ColumnDef::new(RunFile::SameAsRun).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Rejected::Table)
                    .add_column(
                        ColumnDef::new(Rejected::ReasonCode)
                            .text()
                            .not_null()
                            .default("invalid"),
                    )
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            partition_tables(manager).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            unpartition_tables(manager).await?;
        }
        let drops: [(DynIden, DynIden); 14] = [
            (Rejected::Table.into_iden(), Rejected::ReasonCode.into_iden()),
            (RunFile::Table.into_iden(), RunFile::SameAsRun.into_iden()),
            (RunFile::Table.into_iden(), RunFile::RowsAlreadyLoaded.into_iden()),
            (Run::Table.into_iden(), Run::StateJson.into_iden()),
            (Run::Table.into_iden(), Run::OptionsJson.into_iden()),
            (Run::Table.into_iden(), Run::DataChanged.into_iden()),
            (Run::Table.into_iden(), Run::Mode.into_iden()),
            (Monthly::Table.into_iden(), Monthly::RefundCents.into_iden()),
            (Monthly::Table.into_iden(), Monthly::RefundTransactions.into_iden()),
            (Spending::Table.into_iden(), Spending::ActiveMonths.into_iden()),
            (Dim::Table.into_iden(), Dim::UnknownSubscription.into_iden()),
            (Dim::Table.into_iden(), Dim::NullSubscription.into_iden()),
            (Dim::Table.into_iden(), Dim::ConflictingEmail.into_iden()),
            (Dim::Table.into_iden(), Dim::ConflictingName.into_iden()),
        ];
        for (table, column) in drops {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Each replaced table becomes `PARTITION BY LIST (key)` with its existing rows
/// as the `DEFAULT` partition `<table>__data` (no data is copied). Keys and
/// indexes keep their names on the parent; the partition's carry `__data`.
async fn partition_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    exec(
        manager,
        "ALTER TABLE fct_transaction DROP CONSTRAINT IF EXISTS fk_fct_transaction_customer",
    )
    .await?;
    for &(table, key) in PARTITIONED {
        let data = format!("{table}{DATA_PARTITION_SUFFIX}");
        let constraints = keys(manager, table).await?;
        let indexes = plain_indexes(manager, table).await?;
        exec(manager, &format!("ALTER TABLE {table} RENAME TO {data}")).await?;
        for (name, _) in &constraints {
            exec(
                manager,
                &format!(
                    "ALTER TABLE {data} RENAME CONSTRAINT {} TO {}",
                    q(name),
                    q(&suffixed(name, DATA_PARTITION_SUFFIX))
                ),
            )
            .await?;
        }
        for (name, _) in &indexes {
            exec(
                manager,
                &format!(
                    "ALTER INDEX {} RENAME TO {}",
                    q(name),
                    q(&suffixed(name, DATA_PARTITION_SUFFIX))
                ),
            )
            .await?;
        }
        exec(
            manager,
            &format!(
                "CREATE TABLE {table} (LIKE {data} INCLUDING DEFAULTS INCLUDING COMMENTS) PARTITION BY LIST ({key})"
            ),
        )
        .await?;
        for (name, def) in &constraints {
            exec(
                manager,
                &format!("ALTER TABLE {table} ADD CONSTRAINT {} {def}", q(name)),
            )
            .await?;
        }
        // Created after the attach: PostgreSQL then adopts the partition's
        // equivalent index instead of building another.
        exec(manager, &format!("ALTER TABLE {table} ATTACH PARTITION {data} DEFAULT")).await?;
        // The definitions were read before the rename: they name the parent.
        for (_, def) in &indexes {
            exec(manager, def).await?;
        }
    }
    exec(
        manager,
        "ALTER TABLE fct_transaction ADD CONSTRAINT fk_fct_transaction_customer \
         FOREIGN KEY (customer_id) REFERENCES dim_user (customer_id)",
    )
    .await
}

/// The reverse of [`partition_tables`]: each `<table>__data` becomes the table again.
async fn unpartition_tables(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    exec(
        manager,
        "ALTER TABLE fct_transaction DROP CONSTRAINT IF EXISTS fk_fct_transaction_customer",
    )
    .await?;
    for &(table, _) in PARTITIONED.iter().rev() {
        let data = format!("{table}{DATA_PARTITION_SUFFIX}");
        let constraints = keys(manager, table).await?;
        let indexes = plain_indexes(manager, table).await?;
        exec(manager, &format!("ALTER TABLE {table} DETACH PARTITION {data}")).await?;
        exec(manager, &format!("DROP TABLE {table}")).await?;
        exec(manager, &format!("ALTER TABLE {data} RENAME TO {table}")).await?;
        for (name, _) in &constraints {
            exec(
                manager,
                &format!(
                    "ALTER TABLE {table} RENAME CONSTRAINT {} TO {}",
                    q(&suffixed(name, DATA_PARTITION_SUFFIX)),
                    q(name)
                ),
            )
            .await?;
        }
        for (name, _) in &indexes {
            exec(
                manager,
                &format!(
                    "ALTER INDEX {} RENAME TO {}",
                    q(&suffixed(name, DATA_PARTITION_SUFFIX)),
                    q(name)
                ),
            )
            .await?;
        }
    }
    exec(
        manager,
        "ALTER TABLE fct_transaction ADD CONSTRAINT fk_fct_transaction_customer \
         FOREIGN KEY (customer_id) REFERENCES dim_user (customer_id)",
    )
    .await
}

#[derive(DeriveIden)]
enum Dim {
    #[sea_orm(iden = "dim_user")]
    Table,
    ConflictingName,
    ConflictingEmail,
    NullSubscription,
    UnknownSubscription,
}

#[derive(DeriveIden)]
enum Spending {
    #[sea_orm(iden = "agg_customer_spending")]
    Table,
    ActiveMonths,
}

#[derive(DeriveIden)]
enum Monthly {
    #[sea_orm(iden = "agg_monthly")]
    Table,
    RefundTransactions,
    RefundCents,
}

#[derive(DeriveIden)]
enum Run {
    #[sea_orm(iden = "etl_run")]
    Table,
    Mode,
    DataChanged,
    OptionsJson,
    StateJson,
}

#[derive(DeriveIden)]
enum RunFile {
    #[sea_orm(iden = "etl_run_file")]
    Table,
    RowsAlreadyLoaded,
    SameAsRun,
}

#[derive(DeriveIden)]
enum Rejected {
    #[sea_orm(iden = "etl_rejected_row")]
    Table,
    ReasonCode,
}

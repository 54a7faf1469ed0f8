//! ETL audit trail: one `etl_run` per ingest, its input files with checksums and
//! counts, and every rejected input row with its reason.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EtlRun::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(EtlRun::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EtlRun::StartedAt).timestamp().not_null())
                    .col(ColumnDef::new(EtlRun::FinishedAt).timestamp().null())
                    // running | succeeded | failed | abandoned
                    .col(ColumnDef::new(EtlRun::Status).text().not_null())
                    .col(ColumnDef::new(EtlRun::InputDir).text().not_null())
                    .col(ColumnDef::new(EtlRun::Error).text().null())
                    // The run summary (counts, conflicts, multi-currency customers) as JSON.
                    .col(ColumnDef::new(EtlRun::SummaryJson).text().null())
                    // Data-quality figures computed during the run, served by /quality.
                    .col(ColumnDef::new(EtlRun::QualityJson).text().null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EtlRunFile::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(EtlRunFile::RunId).big_integer().not_null())
                    .col(ColumnDef::new(EtlRunFile::File).text().not_null())
                    .col(ColumnDef::new(EtlRunFile::Sha256).text().not_null())
                    .col(ColumnDef::new(EtlRunFile::Bytes).big_integer().not_null())
                    .col(ColumnDef::new(EtlRunFile::RowsRead).big_integer().not_null())
                    .col(ColumnDef::new(EtlRunFile::RowsLoaded).big_integer().not_null())
                    .col(ColumnDef::new(EtlRunFile::RowsDuplicate).big_integer().not_null())
                    .col(ColumnDef::new(EtlRunFile::RowsRejected).big_integer().not_null())
                    .primary_key(Index::create().col(EtlRunFile::RunId).col(EtlRunFile::File))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_etl_run_file_run")
                            .from(EtlRunFile::Table, EtlRunFile::RunId)
                            .to(EtlRun::Table, EtlRun::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EtlRejectedRow::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(EtlRejectedRow::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EtlRejectedRow::RunId).big_integer().not_null())
                    .col(ColumnDef::new(EtlRejectedRow::File).text().not_null())
                    .col(ColumnDef::new(EtlRejectedRow::LineNumber).big_integer().not_null())
                    .col(ColumnDef::new(EtlRejectedRow::Reason).text().not_null())
                    .col(ColumnDef::new(EtlRejectedRow::RawLine).text().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_etl_rejected_row_run")
                            .from(EtlRejectedRow::Table, EtlRejectedRow::RunId)
                            .to(EtlRun::Table, EtlRun::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_etl_rejected_row_run_file")
                    .table(EtlRejectedRow::Table)
                    .col(EtlRejectedRow::RunId)
                    .col(EtlRejectedRow::File)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EtlRejectedRow::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EtlRunFile::Table).if_exists().to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(EtlRun::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum EtlRun {
    Table,
    Id,
    StartedAt,
    FinishedAt,
    Status,
    InputDir,
    Error,
    SummaryJson,
    QualityJson,
}

#[derive(DeriveIden)]
enum EtlRunFile {
    Table,
    RunId,
    File,
    Sha256,
    Bytes,
    RowsRead,
    RowsLoaded,
    RowsDuplicate,
    RowsRejected,
}

#[derive(DeriveIden)]
enum EtlRejectedRow {
    Table,
    Id,
    RunId,
    File,
    LineNumber,
    Reason,
    RawLine,
}

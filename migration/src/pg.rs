//! PostgreSQL catalog reads and raw statements the migrations that rebuild tables share.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

pub(crate) async fn exec(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(sql).await.map(|_| ())
}

/// The rows of a query selecting two text columns.
pub(crate) async fn pairs(manager: &SchemaManager<'_>, sql: &str) -> Result<Vec<(String, String)>, DbErr> {
    let rows = manager
        .get_connection()
        .query_all(Statement::from_string(DbBackend::Postgres, sql.to_owned()))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?)))
        .collect()
}

/// (name, definition) of a table's primary key and unique constraints.
pub(crate) async fn keys(manager: &SchemaManager<'_>, table: &str) -> Result<Vec<(String, String)>, DbErr> {
    pairs(
        manager,
        &format!(
            "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE conrelid = '{table}'::regclass AND contype IN ('p', 'u') ORDER BY conname"
        ),
    )
    .await
}

/// Plain (non-constraint) indexes of a table: (name, definition).
pub(crate) async fn plain_indexes(manager: &SchemaManager<'_>, table: &str) -> Result<Vec<(String, String)>, DbErr> {
    pairs(
        manager,
        &format!(
            "SELECT indexname::text, indexdef FROM pg_indexes i \
             WHERE schemaname = current_schema() AND tablename = '{table}' \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname \
                             AND c.conrelid = '{table}'::regclass) ORDER BY indexname"
        ),
    )
    .await
}

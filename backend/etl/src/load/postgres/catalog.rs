//! The keys and indexes of the star tables, read from the catalog and
//! built on the load tables from the parents' definitions.

use sqlx::PgConnection;

use super::connection::timed;
use super::LOAD;
use crate::error::EtlError;
use crate::tables::Table;
use migration::names::{quote_ident, suffixed};
use migration::DATA_PARTITION_SUFFIX as DATA;

/// The primary key and unique constraints of a table, as (name, definition).
pub(super) async fn key_constraints(conn: &mut PgConnection, table: &str) -> Result<Vec<(String, String)>, EtlError> {
    sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = to_regclass($1) AND contype IN ('p', 'u') ORDER BY conname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(EtlError::db("reading constraints"))
}

/// The indexes of a table that are not constraints (users' own included), as
/// (name, definition), e.g. `CREATE INDEX i ON ONLY public.t USING btree (c)`.
pub(super) async fn plain_indexes(conn: &mut PgConnection, table: &str) -> Result<Vec<(String, String)>, EtlError> {
    sqlx::query_as(
        "SELECT indexname::text, indexdef FROM pg_indexes i \
         WHERE schemaname = current_schema() AND tablename = $1 \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = to_regclass($1)) \
         ORDER BY indexname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(EtlError::db("reading indexes"))
}

/// Builds the table's keys and indexes on its load table, each named
/// `<name>__load` until the swap: attaching the partition then adopts them
/// instead of building them again.
pub(super) async fn build_keys(conn: &mut PgConnection, table: &Table) -> Result<(), EtlError> {
    for (sql, during) in key_statements(conn, table).await? {
        timed(conn, &sql, during).await?;
    }
    Ok(())
}

/// The statements [`build_keys`] runs, read from the parent's definitions
/// (a side load reads them before the swap locks the parent), each with
/// what it does.
pub(super) async fn key_statements(
    conn: &mut PgConnection,
    table: &Table,
) -> Result<Vec<(String, &'static str)>, EtlError> {
    let t = table.name;
    let target = format!("{t}{LOAD}");
    let name = |index: &str| suffixed(index, LOAD);
    let mut statements = Vec::new();
    for (key, def) in key_constraints(conn, t).await? {
        let sql = format!("ALTER TABLE {target} ADD CONSTRAINT {} {def}", quote_ident(&name(&key)));
        statements.push((sql, "building keys"));
    }
    for (index, def) in plain_indexes(conn, t).await? {
        // `CREATE [UNIQUE] INDEX name ON ONLY schema.t USING …` → the target.
        // The catalog quotes a name only where it must ("Mixed Case").
        let (head, rest) = [index.clone(), quote_ident(&index)]
            .iter()
            .find_map(|name| def.split_once(&format!(" INDEX {name} ON ")))
            .ok_or_else(|| EtlError::Internal(format!("unexpected index definition: {def}")))?;
        let rest = rest.strip_prefix("ONLY ").unwrap_or(rest);
        let (_, using) = rest
            .split_once(" USING ")
            .ok_or_else(|| EtlError::Internal(format!("unexpected index definition: {def}")))?;
        let sql = format!("{head} INDEX {} ON {target} USING {using}", quote_ident(&name(&index)));
        statements.push((sql, "building indexes"));
    }
    Ok(statements)
}

/// Index names of a partition: the parent's index names with the partition's suffix.
pub(super) async fn rename_indexes(conn: &mut PgConnection, table: &Table) -> Result<(), EtlError> {
    let t = table.name;
    let mut names: Vec<String> = key_constraints(conn, t).await?.into_iter().map(|(n, _)| n).collect();
    names.extend(plain_indexes(conn, t).await?.into_iter().map(|(n, _)| n));
    for name in names {
        let sql = format!(
            "ALTER INDEX IF EXISTS {} RENAME TO {}",
            quote_ident(&suffixed(&name, LOAD)),
            quote_ident(&suffixed(&name, DATA))
        );
        timed(conn, &sql, "renaming keys").await?;
    }
    Ok(())
}

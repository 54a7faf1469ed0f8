//! Star-schema migrations, written with SeaORM's schema builders so that one set
//! serves PostgreSQL and SQLite unchanged.
//!
//! Money is stored as `BIGINT` minor units of the row's currency (`*_cents`:
//! cents of usd, whole yen, thousandths of a Kuwaiti dinar; hundredths of every
//! currency before `m20261202_000007`): SQLite has no exact decimal type (a
//! `DECIMAL` column has REAL affinity), and integers are exact, compact and
//! fast to sum on both engines.

pub use sea_orm_migration::prelude::*;

// The migrations: every `m<date>_<n>_<name>.rs` in this folder (build.rs).
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
mod pg;

pub mod connect;

pub mod names;

pub use m20261129_000004_recurring_loads::DATA_PARTITION_SUFFIX;
pub use m20261202_000007_currency_minor_units::MINOR_UNITS;
pub use m20261203_000009_citus::{has_citus, mode};
pub use m20261204_000010_top_customers::{RANK_TOP_CUSTOMERS, TOP_CUSTOMERS, TOP_CUSTOMER_CURRENCIES};

/// A text column holding an identifier. On PostgreSQL it uses the "C" collation:
/// ids are opaque, byte order is the right order for them, and keys on them
/// build and compare several times faster than under a linguistic collation.
pub(crate) fn id_text<T: IntoIden>(manager: &SchemaManager, column: T) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.text();
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
        def.extra("COLLATE \"C\"");
    }
    def
}

/// Path of the embedded SQLite database used when `DATABASE_URL` is unset.
pub const DEFAULT_SQLITE_PATH: &str = "data/revenue.db";

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        every_migration()
    }
}

/// Makes `DATABASE_URL` usable by SeaORM's migration CLI: reads `DATABASE_URL_FILE`
/// when set, and falls back to the embedded SQLite file (creating `data/`).
pub fn resolve_database_url_env() -> Result<(), String> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        std::env::set_var("DATABASE_URL", with_create_mode(url.trim()));
        return Ok(());
    }
    if let Some(file) = std::env::var_os("DATABASE_URL_FILE") {
        let url = std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "cannot read DATABASE_URL_FILE {}: {e}",
                std::path::Path::new(&file).display()
            )
        })?;
        std::env::set_var("DATABASE_URL", with_create_mode(url.trim()));
        return Ok(());
    }
    let path = std::path::Path::new(DEFAULT_SQLITE_PATH);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::env::set_var("DATABASE_URL", format!("sqlite://{DEFAULT_SQLITE_PATH}?mode=rwc"));
    Ok(())
}

/// `url` with `mode=rwc` added when it is a SQLite file URL without a mode:
/// the file is created on first use (as the default database is) instead of
/// failing with "unable to open database file".
pub fn with_create_mode(url: &str) -> String {
    let Some(rest) = url.strip_prefix("sqlite:") else {
        return url.to_owned();
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let has_mode = query.split('&').any(|p| p.starts_with("mode="));
    if has_mode || path.contains(":memory:") || path.trim_start_matches('/').is_empty() {
        return url.to_owned();
    }
    match query {
        "" => format!("sqlite:{path}?mode=rwc"),
        q => format!("sqlite:{path}?{q}&mode=rwc"),
    }
}

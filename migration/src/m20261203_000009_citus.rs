//! Citus: on a coordinator with the `citus` extension, the tables that grow
//! with the customers are distributed by `customer_id` and co-located, as
//! SCALING.md lays out; on plain PostgreSQL and SQLite nothing changes.
//!
//! - `dim_user`, `fct_transaction` and `agg_customer_spending` are hash
//!   distributed by `customer_id` in one co-location group: the foreign key
//!   from the facts to the customers, and the joins on it, stay on one node.
//! - Everything else stays local to the coordinator. SCALING.md proposed
//!   reference tables for the products and the monthly aggregates, but those
//!   are partitioned (their swap is a partition swap, migration 4) and
//!   Citus makes only hash-distributed tables of partitioned ones. They are a
//!   few thousand rows, read whole by the report cache on the coordinator.
//!
//! Citus requires every key of a distributed table to hold the distribution
//! column: `fct_transaction`'s primary key becomes `(customer_id,
//! transaction_id)`, so the database no longer refuses one transaction id
//! under two customers. The load keeps that rule: a replace counts repeated
//! ids in its files, and an append looks every id up in the stored facts
//! (`conflicts_with_loaded`), through the index on `transaction_id` added
//! here on every shard.
//!
//! A replace needs no change: its load tables are plain tables, and Citus
//! distributes each one, co-located with its parent, when the swap attaches
//! it as the parent's partition.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::pg::exec;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Distributed by `customer_id`, parents first (the co-location group is
/// `dim_user`'s).
pub const DISTRIBUTED: [&str; 3] = ["dim_user", "fct_transaction", "agg_customer_spending"];

/// Whether the database is a Citus node: the extension is installed in it.
pub async fn has_citus<C: ConnectionTrait>(db: &C) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(false);
    }
    let sql = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')";
    let row = db.query_one(Statement::from_string(DbBackend::Postgres, sql)).await?;
    row.map_or(Ok(false), |r| r.try_get_by_index(0))
}

/// Whether `table` is a Citus distributed table.
async fn distributed<C: ConnectionTrait>(db: &C, table: &str) -> Result<bool, DbErr> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = '{table}'::regclass)");
    let row = db.query_one(Statement::from_string(DbBackend::Postgres, sql)).await?;
    row.map_or(Ok(false), |r| r.try_get_by_index(0))
}

/// What the migrations chose, for `migration status`: SQLite, single-node
/// PostgreSQL, or Citus with its distributed and local tables.
pub async fn mode<C: ConnectionTrait>(db: &C) -> Result<String, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => return Ok("SQLite".to_owned()),
        DbBackend::Postgres => {}
        other => return Ok(format!("{other:?}")),
    }
    if !has_citus(db).await? {
        return Ok("PostgreSQL, single node".to_owned());
    }
    let sql = "SELECT citus_version(), (SELECT COUNT(*) FROM pg_dist_node WHERE groupid <> 0), \
               COALESCE((SELECT string_agg(logicalrelid::text, ', ' ORDER BY logicalrelid::text) \
               FROM pg_dist_partition WHERE logicalrelid::text NOT LIKE '%\\_\\_%'), '')";
    let row = db.query_one(Statement::from_string(DbBackend::Postgres, sql)).await?;
    let Some(row) = row else {
        return Err(DbErr::Custom("citus_version() returned no row".to_owned()));
    };
    let version: String = row.try_get_by_index(0)?;
    let workers: i64 = row.try_get_by_index(1)?;
    let tables: String = row.try_get_by_index(2)?;
    let version = version.split(" on ").next().unwrap_or(&version).to_owned();
    let tables = if tables.is_empty() {
        "none yet (migrations pending)".to_owned()
    } else {
        tables
    };
    Ok(format!(
        "Citus ({version}, {workers} workers): distributed by customer_id: {tables}; \
         every other table local to the coordinator"
    ))
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if !has_citus(db).await? || distributed(db, "fct_transaction").await? {
            return Ok(());
        }
        // A distributed table may not reference a local one: the key goes
        // first, and comes back once both sides are distributed.
        exec(
            manager,
            "ALTER TABLE fct_transaction DROP CONSTRAINT fk_fct_transaction_customer",
        )
        .await?;
        exec(
            manager,
            "ALTER TABLE fct_transaction DROP CONSTRAINT fct_transaction_pkey",
        )
        .await?;
        exec(
            manager,
            "ALTER TABLE fct_transaction ADD CONSTRAINT fct_transaction_pkey PRIMARY KEY (customer_id, transaction_id)",
        )
        .await?;
        exec(
            manager,
            "CREATE INDEX idx_fct_transaction_id ON fct_transaction (transaction_id)",
        )
        .await?;
        exec(manager, "SELECT create_distributed_table('dim_user', 'customer_id')").await?;
        for table in &DISTRIBUTED[1..] {
            exec(
                manager,
                &format!("SELECT create_distributed_table('{table}', 'customer_id', colocate_with => 'dim_user')"),
            )
            .await?;
        }
        // The rows now live in the shards; the coordinator's copies are dead weight.
        for table in DISTRIBUTED {
            exec(
                manager,
                &format!("SELECT truncate_local_data_after_distributing_table('{table}__data')"),
            )
            .await?;
        }
        exec(
            manager,
            "ALTER TABLE fct_transaction ADD CONSTRAINT fk_fct_transaction_customer \
             FOREIGN KEY (customer_id) REFERENCES dim_user (customer_id)",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if !has_citus(db).await? || !distributed(db, "fct_transaction").await? {
            return Ok(());
        }
        exec(
            manager,
            "ALTER TABLE fct_transaction DROP CONSTRAINT fk_fct_transaction_customer",
        )
        .await?;
        for table in DISTRIBUTED.iter().rev() {
            exec(manager, &format!("SELECT undistribute_table('{table}')")).await?;
        }
        exec(manager, "DROP INDEX idx_fct_transaction_id").await?;
        exec(
            manager,
            "ALTER TABLE fct_transaction DROP CONSTRAINT fct_transaction_pkey",
        )
        .await?;
        exec(
            manager,
            "ALTER TABLE fct_transaction ADD CONSTRAINT fct_transaction_pkey PRIMARY KEY (transaction_id)",
        )
        .await?;
        exec(
            manager,
            "ALTER TABLE fct_transaction ADD CONSTRAINT fk_fct_transaction_customer \
             FOREIGN KEY (customer_id) REFERENCES dim_user (customer_id)",
        )
        .await
    }
}

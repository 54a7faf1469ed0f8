//! PostgreSQL: `fct_transaction` is one table again, its rows in one heap
//! under one primary key, `transaction_id`, ending the month partitions of
//! `m20261129_000006`.
//!
//! Why: a transaction id names one sale for the whole history, so a re-sent
//! id is refused (`conflicts_with_loaded`) whatever its date. With the table
//! split by month the database could not keep that rule (a partitioned
//! table's key must hold the partition key), every append looked each id up
//! across all the months, and the partitions were slower at every measured
//! size (BENCHMARKS.md, "Month partitions: an ended experiment").
//!
//! The shape chosen is the one every other table a load replaces already has
//! (migration 4): `fct_transaction` is `PARTITION BY LIST (transaction_id)`
//! with a single `DEFAULT` partition, `fct_transaction__data`, holding every
//! row; the primary key `(transaction_id)` and users' indexes are declared on
//! the parent and exist once, on that partition. It is one table in every
//! way that counts here — one heap, one key over the whole history that the
//! database enforces, no routing between partitions — and it keeps what a
//! replace guarantees today at no cost:
//!
//! - the replace loads `fct_transaction__load` (`COPY … FREEZE` into a fresh
//!   table, keys built after) while readers read the previous data, then, in
//!   the one transaction that swaps every star table, detaches and drops
//!   `fct_transaction__data` and attaches the load table in its place. The
//!   swap is atomic, a refused or failed run leaves the previous data, and
//!   readers wait only for the swap itself, as today;
//! - `fct_transaction` itself is never dropped or renamed, so GRANTs, its
//!   comment, views, policies and its owner survive every load.
//!
//! A plain, unpartitioned table would lose one of these: swapping it by
//! renaming drops the grants and breaks the views bound to it (or needs all
//! of them re-created by the load), and refilling it in place (`TRUNCATE` +
//! `COPY`) holds its exclusive lock, so every reader waits, for the whole
//! load instead of the swap.
//!
//! The rows are copied out of the month partitions (a partitioning cannot be
//! changed in place) by migration 6's own `down`: the owner, GRANTs, comment
//! and indexes users added are carried over; what cannot be carried
//! faithfully (views, row-level security and policies, triggers, constraints
//! users added, column grants, publications) makes it refuse, naming them.
//! `down` partitions the table by month again with migration 6's `up`.
//!
//! Tables a killed replace of the partitioned version left behind
//! (`fct_transaction__load_YYYY_MM`; no load makes them any more) are dropped.
//!
//! SQLite keeps its plain table: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20261129_000006_month_partitions::{to_month_partitions, to_one_partition, FACTS};
use crate::names::quote_ident;
use crate::pg::{exec, pairs};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        // Only the names the partitioned loads made: a user's
        // `fct_transaction__load_audit` stays.
        let leftovers = pairs(
            manager,
            &format!(
                "SELECT relname::text, '' FROM pg_class WHERE relnamespace = current_schema()::regnamespace \
                 AND relkind = 'r' AND relname ~ '^{FACTS}__load_[0-9]{{4}}_[0-9]{{2}}$' ORDER BY 1"
            ),
        )
        .await?;
        for (table, _) in leftovers {
            exec(manager, &format!("DROP TABLE {}", quote_ident(&table))).await?;
        }
        to_one_partition(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        to_month_partitions(manager).await
    }
}

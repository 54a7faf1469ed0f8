//! `etl_saas_feed`: each run's loaded transactions as the subscription
//! figures read them (format: [`crate::saas_feed`]), so that the server reads
//! a few large values instead of every row of the fact table.
//!
//! Written by every run that changes the data, in its load transaction
//! (a PostgreSQL replace: on its own connection, see `DROP_ORPHANS`); a
//! replace deletes every other run's, an append keeps them: the data of the
//! latest run is the feed of the last replace and of each append after it. It is derived from the
//! facts like the aggregates are: anything else that changes
//! `fct_transaction` must delete it (the server then reads the facts).

use sea_orm::entity::prelude::*;

/// Deletes every run's feed but run `$1`'s (a replace, in its load transaction).
pub const KEEP_ONLY_RUN: &str = "DELETE FROM etl_saas_feed WHERE run_id <> $1";
/// Deletes the feeds of runs that did not commit a change of the data, but
/// run `$1`'s (an append, in its load transaction). A PostgreSQL replace
/// writes its feed on a connection of its own, committed just before the
/// load: a run that fails after that leaves its feed, which no reader
/// takes.
pub const DROP_ORPHANS: &str = "DELETE FROM etl_saas_feed WHERE run_id <> $1 AND run_id NOT IN \
     (SELECT id FROM etl_run WHERE status = 'succeeded' AND data_changed)";
/// Writes part `$2` of run `$1`'s feed.
pub const INSERT_PART: &str = "INSERT INTO etl_saas_feed (run_id, part, bytes) VALUES ($1, $2, $3)";

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "etl_saas_feed")]
pub struct Model {
    /// The run whose loaded transactions the part holds.
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: i64,
    /// The part's place in the run's feed, from 0.
    #[sea_orm(primary_key, auto_increment = false)]
    pub part: i32,
    #[sea_orm(column_type = "Blob")]
    pub bytes: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! The swap of a replace: the load tables take the old partitions' place
//! in one transaction.

use sqlx::PgConnection;

use super::super::Step;
use super::catalog::{build_keys, rename_indexes};
use super::connection::{lock_exclusively, timed};
use super::side::SideLoad;
use super::LOAD;
use crate::error::EtlError;
use crate::tables::Table;
use migration::DATA_PARTITION_SUFFIX as DATA;
use store::entities::{FACTS, STAR};

/// Replaces each table's partition by its load table: keys, indexes and
/// statistics are built on the load tables first (the side loads' on their
/// own connections); then the old partitions are detached and dropped,
/// children first (a referenced partition can only be detached once nothing
/// references it), and the load tables attached, parents first (the facts'
/// foreign key is validated against the new customers while the spending's
/// keys are still being built), the spending last.
pub(super) async fn swap(conn: &mut PgConnection, facts: SideLoad, mut spending: SideLoad) -> Result<(), EtlError> {
    spending.complete().await?;
    let side = [facts.table().name, spending.table().name];
    let small: Vec<&Table> = STAR.iter().copied().filter(|t| !side.contains(&t.name)).collect();
    let step = Step::start("build the keys and indexes of the other tables");
    for table in &small {
        build_keys(conn, table).await?;
    }
    step.done(None);
    // Fresh tables have no statistics, and the planner needs them for analysts'
    // queries. (The fact table is left to autovacuum: no report reads it.)
    let analyze = small
        .iter()
        .map(|t| format!("{}{LOAD}", t.name))
        .collect::<Vec<_>>()
        .join(", ");
    let step = Step::start("analyze the new tables");
    timed(conn, &format!("ANALYZE {analyze}"), "analyzing the new tables").await?;
    step.done(None);
    let step = Step::start(format!("wait for the keys of {}", facts.table().name));
    facts.finish().await?;
    step.done(None);
    let step = Step::start("wait for the sessions reading the tables");
    // Children first: the order of the report cache's shared locks
    // (`ReportContext::load`), else the two could deadlock.
    let star: Vec<&str> = STAR.iter().rev().map(|t| t.name).collect();
    lock_exclusively(conn, &star).await?;
    step.done(None);
    let step = Step::start("detach and drop the previous data");
    for table in STAR.iter().rev() {
        let t = table.name;
        timed(
            conn,
            &format!("ALTER TABLE {t} DETACH PARTITION {t}{DATA}"),
            "detaching the previous data",
        )
        .await?;
        timed(conn, &format!("DROP TABLE {t}{DATA}"), "dropping the previous data").await?;
    }
    step.done(None);
    for table in STAR.iter().filter(|t| t.name != side[1]) {
        attach(conn, table).await?;
    }
    let step = Step::start(format!("wait for the keys of {}", side[1]));
    let table = spending.table();
    spending.finish().await?;
    step.done(None);
    attach(conn, table).await
}

/// Attaches `table`'s load table as its partition, under the partition's
/// name, its indexes renamed.
async fn attach(conn: &mut PgConnection, table: &Table) -> Result<(), EtlError> {
    let t = table.name;
    let step = Step::start(match table.name == FACTS.name {
        true => format!("attach the new {t} (validates its foreign key)"),
        false => format!("attach the new {t}"),
    });
    timed(
        conn,
        &format!("ALTER TABLE {t}{LOAD} RENAME TO {t}{DATA}"),
        "renaming the load tables",
    )
    .await?;
    timed(
        conn,
        &format!("ALTER TABLE {t} ATTACH PARTITION {t}{DATA} DEFAULT"),
        "attaching the new data and validating foreign keys",
    )
    .await?;
    rename_indexes(conn, table).await?;
    step.done(None);
    Ok(())
}

//! Each table the ETL writes is described in three places that must agree:
//! the registry (the entity module's `TABLE`: name and key), the row type that writes it
//! (`etl::rows`: its columns, in the order both loaders send them) and the
//! SeaORM entity the reports read it through. This test fails when they
//! differ, so a column added to one and forgotten in another never ships.
//! Aggregates are checked through their registry (`etl::aggregates`), so a
//! new one needs no line here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use etl::aggregates::{Aggregate, Visitor};
use etl::rows::{CustomerSpendingRow, FactRow, ProductRow, RejectedRow, Row, RunFileRow, UserRow};
use sea_orm::{Iden, Iterable, PrimaryKeyToColumn};
use store::entities::{agg_customer_spending, dim_product, dim_user, etl_rejected_row, etl_run_file, fct_transaction};

/// Columns the database fills itself (never sent by a loader).
const GENERATED: &[&str] = &["id"];

fn check<R: Row, E: sea_orm::EntityTrait>() {
    let table = R::TABLE;
    assert_eq!(
        E::default().table_name(),
        table.name,
        "{}: entity and registry name differ",
        table.name
    );
    let entity: BTreeSet<String> = E::Column::iter().map(|c| c.to_string()).collect();
    let sent: BTreeSet<String> = R::COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    let unsent: BTreeSet<String> = entity.difference(&sent).cloned().collect();
    let unknown: Vec<&String> = sent.difference(&entity).collect();
    assert!(
        unknown.is_empty(),
        "{}: the row writes columns the entity lacks: {unknown:?}",
        table.name
    );
    assert!(
        unsent.iter().all(|c| GENERATED.contains(&c.as_str())),
        "{}: the entity has columns no loader writes: {unsent:?}",
        table.name
    );
    assert_eq!(R::COLUMNS.len(), sent.len(), "{}: a column is listed twice", table.name);
    let key: Vec<String> = E::PrimaryKey::iter().map(|k| k.into_column().to_string()).collect();
    let registry: Vec<String> = table.key.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(
        key, registry,
        "{}: the entity's primary key and the registry's key differ",
        table.name
    );
}

/// Checks each registered aggregate's row type against its entity.
struct CheckAggregates(Vec<&'static str>);

impl Visitor for CheckAggregates {
    fn visit<A: Aggregate>(&mut self) {
        check::<A::Row, A::Entity>();
        self.0.push(<A::Row as Row>::TABLE.name);
    }
}

#[test]
fn rows_registry_and_entities_agree() {
    check::<UserRow, dim_user::Entity>();
    check::<ProductRow, dim_product::Entity>();
    check::<FactRow, fct_transaction::Entity>();
    check::<CustomerSpendingRow, agg_customer_spending::Entity>();
    check::<RunFileRow, etl_run_file::Entity>();
    check::<RejectedRow, etl_rejected_row::Entity>();
    let mut aggregates = CheckAggregates(Vec::new());
    etl::aggregates::visit(&mut aggregates);
    assert_eq!(
        aggregates.0,
        etl::aggregates::TABLES.iter().map(|t| t.name).collect::<Vec<_>>()
    );
}

/// A star table is a dimension, the facts, or an aggregate: one that is none
/// of them (an aggregate whose module was written but not registered in
/// `etl::aggregates`) would be swapped and merged by the loaders yet never
/// built. And a registered aggregate must be a star table (listed under
/// `star:` in `store::entities`), or no run would replace or merge it.
#[test]
fn every_star_table_is_built_and_every_aggregate_is_a_star_table() {
    // Written by the read and reconcile phases (agg_customer_spending beside
    // each customer's dim_user row, merged with the stored spending: see
    // CONTRIBUTING.md for why it is no aggregate of the registry).
    let built_elsewhere = ["dim_user", "dim_product", "fct_transaction", "agg_customer_spending"];
    let registered: Vec<&str> = etl::aggregates::TABLES.iter().map(|t| t.name).collect();
    for table in store::entities::STAR {
        assert!(
            built_elsewhere.contains(&table.name) || registered.contains(&table.name),
            "{}: register its aggregate in etl::aggregates (registry!)",
            table.name
        );
    }
    for table in etl::aggregates::TABLES {
        assert!(
            store::entities::STAR.iter().any(|t| t.name == table.name),
            "{}: list its entity under `star:` in store::entities",
            table.name
        );
    }
}

//! Each table the ETL writes is described in three places that must agree:
//! the registry (`store::tables`: name and key), the row type that writes it
//! (`etl::rows`: its columns, in the order both loaders send them) and the
//! SeaORM entity the reports read it through. This test fails when they
//! differ, so a column added to one and forgotten in another never ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use etl::rows::{
    CustomerSpendingRow, FactRow, MonthlyRow, ProductMonthRow, ProductRow, RejectedRow, Row, RunFileRow, UserRow,
};
use sea_orm::{Iden, Iterable, PrimaryKeyToColumn};
use store::entities::{
    agg_customer_spending, agg_monthly, agg_product_month, dim_product, dim_user, etl_rejected_row, etl_run_file,
    fct_transaction,
};

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

#[test]
fn rows_registry_and_entities_agree() {
    check::<UserRow, dim_user::Entity>();
    check::<ProductRow, dim_product::Entity>();
    check::<FactRow, fct_transaction::Entity>();
    check::<MonthlyRow, agg_monthly::Entity>();
    check::<ProductMonthRow, agg_product_month::Entity>();
    check::<CustomerSpendingRow, agg_customer_spending::Entity>();
    check::<RunFileRow, etl_run_file::Entity>();
    check::<RejectedRow, etl_rejected_row::Entity>();
}

#[test]
fn every_star_table_is_checked_above() {
    let checked = [
        "dim_user",
        "dim_product",
        "fct_transaction",
        "agg_monthly",
        "agg_product_month",
        "agg_customer_spending",
    ];
    for table in store::tables::STAR {
        assert!(
            checked.contains(&table.name),
            "{}: add its row and entity to the test above",
            table.name
        );
    }
}

//! `dim_product`: one row per (subscription, plan).

use sea_orm::entity::prelude::*;

use crate::tables::{Append, Table};

/// How a run writes the table (see `entities::STAR`).
pub const TABLE: Table = Table {
    name: "dim_product",
    key: &["subscription_id", "plan"],
    append: Some(Append::Overwrite),
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dim_product")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub subscription_id: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub plan: String,
    #[sea_orm(column_type = "Text")]
    pub product: String,
    #[sea_orm(column_type = "Text")]
    pub interval: String,
    /// Thousandths of the plan's currency unit, whatever the currency (the
    /// file names none): a weight for splitting a transaction across plans.
    pub amount_cents: i64,
    #[sea_orm(column_type = "Text")]
    pub status: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `agg_product_month`: revenue allocated to each product, per currency and month.

use sea_orm::entity::prelude::*;

use crate::tables::{Append, Table};

/// How a run writes the table (see `entities::STAR`).
pub const TABLE: Table = Table {
    name: "agg_product_month",
    key: &["currency", "month", "product"],
    append: Some(Append::Add),
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agg_product_month")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub currency: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub month: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub product: String,
    pub total_sales_cents: i64,
    pub transactions: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `agg_customer_spending`: each customer's total per currency.

use sea_orm::entity::prelude::*;

use crate::tables::{Append, Table};

/// How a run writes the table (see `entities::STAR`).
pub const TABLE: Table = Table {
    name: "agg_customer_spending",
    key: &["currency", "customer_id"],
    append: Some(Append::Overwrite),
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agg_customer_spending")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub currency: String,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub customer_id: String,
    pub total_spending_cents: i64,
    pub transactions: i64,
    /// The months with a transaction (see `etl::months`); NULL if loaded by an older version.
    #[sea_orm(column_type = "VarBinary(StringLen::None)", nullable)]
    pub active_months: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

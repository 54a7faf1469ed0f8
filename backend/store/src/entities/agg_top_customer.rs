//! `agg_top_customer`: the best customers of each currency, ranked, with
//! their names; rewritten by every run that changes the data (see
//! `migration`'s `RANK_TOP_CUSTOMERS`), read by the report cache.

use sea_orm::entity::prelude::*;

/// How many customers of each currency are kept.
pub const KEPT: u32 = migration::TOP_CUSTOMERS;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agg_top_customer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub currency: String,
    /// 1 for the best; ties in total are ranked by customer id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub rank: i64,
    #[sea_orm(column_type = "Text")]
    pub customer_id: String,
    #[sea_orm(column_type = "Text")]
    pub customer_name: String,
    pub total_spending_cents: i64,
    pub transactions: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

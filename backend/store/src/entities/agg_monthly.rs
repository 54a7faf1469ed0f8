//! `agg_monthly`: per currency and month, the figures of the monthly reports.

use sea_orm::entity::prelude::*;

use crate::tables::{Append, Table};

/// How a run writes the table (see `entities::STAR`).
pub const TABLE: Table = Table {
    name: "agg_monthly",
    key: &["currency", "month"],
    append: Some(Append::Add),
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agg_monthly")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub currency: String,
    /// `YYYY-MM`.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub month: String,
    pub transactions: i64,
    pub active_customers: i64,
    pub revenue_cents: i64,
    pub zero_amount_transactions: i64,
    pub null_subscription_transactions: i64,
    pub null_subscription_revenue_cents: i64,
    pub unknown_subscription_transactions: i64,
    pub unknown_subscription_revenue_cents: i64,
    pub refund_transactions: i64,
    pub refund_cents: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! `dim_user`: one row per customer.

use sea_orm::entity::prelude::*;

use crate::tables::{Append, Table};

/// How a run writes the table (see `entities::STAR`).
pub const TABLE: Table = Table {
    name: "dim_user",
    key: &["customer_id"],
    append: Some(Append::Overwrite),
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dim_user")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub customer_id: String,
    #[sea_orm(column_type = "Text")]
    pub customer_name: String,
    /// Personal data: never served by the API.
    #[sea_orm(column_type = "Text")]
    pub customer_email: String,
    /// The currency the customer pays in most often; `None` without transactions.
    #[sea_orm(column_type = "Text", nullable)]
    pub currency: Option<String>,
    /// Total in `currency` only, in its minor units.
    pub total_spending_cents: i64,
    pub transactions: i64,
    pub in_users_file: bool,
    /// The customer's user rows disagree on a non-empty name / e-mail.
    pub conflicting_name: bool,
    pub conflicting_email: bool,
    /// The customer has a transaction without subscription id / with one unknown to the products.
    pub null_subscription: bool,
    pub unknown_subscription: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::fct_transaction::Entity")]
    Transactions,
}

impl Related<super::fct_transaction::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Transactions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

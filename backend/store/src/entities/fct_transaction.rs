//! `fct_transaction`: one row per loaded transaction.

use sea_orm::entity::prelude::*;

use crate::tables::{Append, Table};

/// How a run writes the table (see `entities::STAR`).
pub const TABLE: Table = Table {
    name: "fct_transaction",
    key: &["transaction_id"],
    append: Some(Append::Insert),
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fct_transaction")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub transaction_id: String,
    /// UTC.
    pub date_utc: DateTime,
    #[sea_orm(column_type = "Text")]
    pub customer_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub subscription_id: Option<String>,
    pub total_cents: i64,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::dim_user::Entity",
        from = "Column::CustomerId",
        to = "super::dim_user::Column::CustomerId"
    )]
    Customer,
}

impl Related<super::dim_user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Customer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

//! `etl_rejected_row`: an input row that was not loaded, and why.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "etl_rejected_row")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub run_id: i64,
    #[sea_orm(column_type = "Text")]
    pub file: String,
    pub line_number: i64,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    #[sea_orm(column_type = "Text")]
    pub raw_line: String,
    /// A stable code of the reason (`invalid_date`, `conflicts_with_loaded`, …).
    #[sea_orm(column_type = "Text")]
    pub reason_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

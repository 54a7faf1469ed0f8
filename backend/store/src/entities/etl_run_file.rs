//! `etl_run_file`: each input file of a run, with checksum and row accounting.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "etl_run_file")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: i64,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub file: String,
    #[sea_orm(column_type = "Text")]
    pub sha256: String,
    pub bytes: i64,
    pub rows_read: i64,
    pub rows_loaded: i64,
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
    pub rows_already_loaded: i64,
    /// Skipped: the run that ingested the same file (same SHA-256) before.
    pub same_as_run: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::etl_run::Entity",
        from = "Column::RunId",
        to = "super::etl_run::Column::Id"
    )]
    Run,
}

impl Related<super::etl_run::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Run.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

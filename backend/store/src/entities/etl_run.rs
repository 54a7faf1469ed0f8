//! `etl_run`: one row per ingest.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "etl_run")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub started_at: DateTime,
    pub finished_at: Option<DateTime>,
    /// running | succeeded | failed | refused | dry_run | skipped | abandoned
    #[sea_orm(column_type = "Text")]
    pub status: String,
    #[sea_orm(column_type = "Text")]
    pub input_dir: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub summary_json: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub quality_json: Option<String>,
    /// replace | append
    #[sea_orm(column_type = "Text")]
    pub mode: String,
    /// False for a run that found nothing new: the data is still the previous run's.
    pub data_changed: bool,
    /// The run's options (force, dry run, guard rails) as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub options_json: Option<String>,
    /// The loaded data's cumulative counts after the run (`etl::DataState`), as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub state_json: Option<String>,
    /// `cli`, or `token:<name>` / `anonymous` for a run uploaded through the API.
    #[sea_orm(column_type = "Text", nullable)]
    pub requested_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::etl_run_file::Entity")]
    Files,
}

impl Related<super::etl_run_file::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Files.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

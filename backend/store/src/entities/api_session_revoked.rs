//! `api_session_revoked`: sessions signed out before they expired.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_session_revoked")]
pub struct Model {
    /// The session's random id (hex), as carried in its cookie.
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub session_id: String,
    pub expires_at: DateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

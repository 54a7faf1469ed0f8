//! `api_token`: the API's bearer tokens (their SHA-256, never the token).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(column_type = "Text")]
    pub name: String,
    /// reader | admin
    #[sea_orm(column_type = "Text")]
    pub role: String,
    /// Lowercase hex SHA-256 of the token.
    #[sea_orm(column_type = "Text", unique)]
    pub token_hash: String,
    /// The token's last four characters.
    #[sea_orm(column_type = "Text")]
    pub hint: String,
    pub created_at: DateTime,
    pub last_used_at: Option<DateTime>,
    pub revoked_at: Option<DateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

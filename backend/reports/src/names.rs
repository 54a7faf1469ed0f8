//! Customers' names, for the lists of customers the reports return.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use store::entities::dim_user;

use super::ReportError;

/// The names of the customers `ids`, by id. Names only: e-mail addresses are
/// personal data and never leave the database.
pub(crate) async fn names_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, ReportError> {
    Ok(dim_user::Entity::find()
        .select_only()
        .column(dim_user::Column::CustomerId)
        .column(dim_user::Column::CustomerName)
        .filter(dim_user::Column::CustomerId.is_in(ids))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

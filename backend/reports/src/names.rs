//! Customers' names, for the lists of customers the reports return.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use store::entities::dim_user;

use super::ReportError;

/// Ids looked up per query: each is a bound parameter, and the drivers
/// refuse a statement with more than 65,535 (PostgreSQL) or 32,766
/// (SQLite), which a movement list's CSV of every customer exceeds.
const IDS_PER_QUERY: usize = 10_000;

/// The names of the customers `ids`, by id. Names only: e-mail addresses are
/// personal data and never leave the database.
pub(crate) async fn names_of<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, String>, ReportError> {
    let ids: Vec<String> = ids.into_iter().collect();
    let mut names = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(IDS_PER_QUERY) {
        let found = dim_user::Entity::find()
            .select_only()
            .column(dim_user::Column::CustomerId)
            .column(dim_user::Column::CustomerName)
            .filter(dim_user::Column::CustomerId.is_in(chunk.iter().cloned()))
            .into_tuple::<(String, String)>()
            .all(db)
            .await?;
        names.extend(found);
    }
    Ok(names)
}

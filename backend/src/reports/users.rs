//! Customers ranked by total spending in one currency.

use std::collections::HashMap;

use api_types::{Money, TopUsersReport, UserRow};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::params::{Limit, ReportContext};
use super::ReportError;
use crate::entities::{agg_customer_spending, dim_user};

/// Query parameters of `GET /reports/top-users`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopUsersParams {
    /// Number of customers, 1–100 (default 5).
    pub limit: Option<String>,
    /// ISO currency code (default: the currency with the most transactions).
    pub currency: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

pub async fn top_users(
    db: &DatabaseConnection,
    ctx: &ReportContext,
    params: &TopUsersParams,
) -> Result<TopUsersReport, ReportError> {
    let limit = Limit::parse(params.limit.as_deref(), 5, 100)?;
    let currency = ctx.currency(params.currency.as_deref())?;
    // Served by the (currency, total) index: reads only `limit` rows.
    let top = agg_customer_spending::Entity::find()
        .filter(agg_customer_spending::Column::Currency.eq(&currency))
        .order_by_desc(agg_customer_spending::Column::TotalSpendingCents)
        .order_by_asc(agg_customer_spending::Column::CustomerId)
        .limit(u64::from(limit))
        .all(db)
        .await?;
    // Names only: e-mail addresses are personal data and never leave the database.
    let names: HashMap<String, String> = dim_user::Entity::find()
        .select_only()
        .column(dim_user::Column::CustomerId)
        .column(dim_user::Column::CustomerName)
        .filter(dim_user::Column::CustomerId.is_in(top.iter().map(|t| t.customer_id.clone())))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let users = top
        .into_iter()
        .enumerate()
        .map(|(i, row)| UserRow {
            rank: i as u32 + 1,
            customer_name: names.get(&row.customer_id).cloned().unwrap_or_default(),
            customer_id: row.customer_id,
            total_spending: Money(row.total_spending_cents),
            transactions: row.transactions,
        })
        .collect();
    Ok(TopUsersReport { currency, users })
}

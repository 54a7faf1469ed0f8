//! Customers ranked by total spending in one currency.

use std::collections::HashMap;

use api_types::{Money, TopUsersReport, UserRow};

use domain::exponent_of;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::params::{Limit, ReportContext};
use super::ReportError;
use store::entities::{agg_customer_spending, dim_user};

/// Largest accepted `limit`; the cache keeps this many customers per currency.
pub const MAX_TOP_USERS: u32 = 100;

/// Query parameters of `GET /reports/top-users`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopUsersParams {
    /// Number of customers, 1–100 (default 5).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// ISO currency code (default: the currency with the most transactions).
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// The [`MAX_TOP_USERS`] best customers of one currency, best first; read once
/// per ingest by the report cache.
pub(super) async fn load_top_users<C: ConnectionTrait>(db: &C, currency: &str) -> Result<Vec<UserRow>, ReportError> {
    // Served by the (currency, total) index: reads only the rows it returns.
    let top = agg_customer_spending::Entity::find()
        .filter(agg_customer_spending::Column::Currency.eq(currency))
        .order_by_desc(agg_customer_spending::Column::TotalSpendingCents)
        .order_by_asc(agg_customer_spending::Column::CustomerId)
        .limit(u64::from(MAX_TOP_USERS))
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
    let exponent = exponent_of(currency);
    Ok(top
        .into_iter()
        .enumerate()
        .map(|(i, row)| UserRow {
            rank: i as u32 + 1,
            customer_name: names.get(&row.customer_id).cloned().unwrap_or_default(),
            customer_id: row.customer_id,
            total_spending: Money::new(row.total_spending_cents, exponent),
            transactions: row.transactions,
        })
        .collect())
}

pub fn top_users(ctx: &ReportContext, params: &TopUsersParams) -> Result<TopUsersReport, ReportError> {
    let limit = Limit::parse(params.limit.as_deref(), 5, MAX_TOP_USERS)?;
    let currency = ctx.currency(params.currency.as_deref())?;
    let users = ctx
        .top_users
        .get(&currency)
        .map(|all| all.iter().take(limit as usize).cloned().collect())
        .unwrap_or_default();
    Ok(TopUsersReport { currency, users })
}

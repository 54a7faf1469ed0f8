//! Customers ranked by total spending in one currency.

use api_types::TopUsersReport;

use super::params::Limit;
use super::snapshot::ReportContext;
pub use super::snapshot::MAX_TOP_USERS;
use super::ReportError;

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

//! Products ranked by the revenue allocated to them.

use std::collections::HashMap;

use api_types::{Money, Percent, ProductRow, TopProductsReport, Unattributed};

use domain::exponent_of;

use super::params::{parse_month, Limit};
use super::snapshot::ReportContext;
use super::ReportError;

/// Query parameters of `GET /reports/top-products`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopProductsParams {
    /// Number of products, 1–100 (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// First month included, `YYYY-MM` (default: the first month of the data);
    /// not after `to`.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub from: Option<String>,
    /// Last month included, `YYYY-MM` (default: the latest month of the data).
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub to: Option<String>,
    /// ISO currency code (default: the currency with the most transactions).
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

pub fn top_products(ctx: &ReportContext, params: &TopProductsParams) -> Result<TopProductsReport, ReportError> {
    let limit = Limit::parse(params.limit.as_deref(), 10, 100)?;
    let currency = ctx.currency(params.currency.as_deref())?;
    let from = parse_month(params.from.as_deref(), "from")?;
    let to = parse_month(params.to.as_deref(), "to")?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(ReportError::BadParameter {
                parameter: "from",
                message: format!("parameter `from` ({f}) must not be after `to` ({t})"),
            });
        }
    }
    let mut totals: HashMap<&str, (i64, i64)> = HashMap::new();
    for row in ctx.product_rows.iter().filter(|r| currency == r.currency.as_str()) {
        let month = domain::Month::parse(&row.month);
        if month.is_some_and(|m| from.is_some_and(|f| m < f) || to.is_some_and(|t| m > t)) {
            continue;
        }
        let e = totals.entry(row.product.as_str()).or_default();
        e.0 += row.total_sales_cents;
        e.1 += row.transactions;
    }
    let attributed: i64 = totals.values().map(|t| t.0).sum();
    let mut ranked: Vec<(&str, (i64, i64))> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then_with(|| a.0.cmp(b.0)));
    let (mut null_sub, mut unknown_sub, mut total) = (0, 0, 0);
    for (month, row) in ctx.of_currency(currency) {
        if from.is_some_and(|f| month < f) || to.is_some_and(|t| month > t) {
            continue;
        }
        null_sub += row.null_subscription_revenue_cents;
        unknown_sub += row.unknown_subscription_revenue_cents;
        total += row.revenue_cents;
    }
    let exponent = exponent_of(currency.as_str());
    let money = |minor| Money::new(minor, exponent);
    let products = ranked
        .into_iter()
        .take(limit as usize)
        .enumerate()
        .map(|(i, (product, (cents, n)))| ProductRow {
            rank: i as u32 + 1,
            product: product.to_owned(),
            total_sales: money(cents),
            transactions: n,
            share_pct: Percent::ratio(cents, attributed),
        })
        .collect();
    Ok(TopProductsReport {
        currency,
        from,
        to,
        attributed_revenue: money(attributed),
        unattributed: Unattributed {
            null_subscription: money(null_sub),
            unknown_subscription: money(unknown_sub),
        },
        total_revenue: money(total),
        products,
    })
}

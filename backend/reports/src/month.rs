//! One month of one currency (`/reports/month/{month}`): its figures, the
//! month before, its best customers and products.

use api_types::{Currency, Money, MonthChange, MonthFigures, MonthReport, Percent, UserRow};
use chrono::NaiveDate;
use domain::{exponent_of, Month};
use sea_orm::sea_query::{Expr, Order};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use store::entities::fct_transaction;

use super::params::{parse_month, Limit};
use super::products::{top_products, TopProductsParams};
use super::snapshot::ReportContext;
use super::ReportError;

/// Query parameters of `GET /reports/month/{month}`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    /// ISO currency code (default: the currency with the most transactions).
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// Customers and products listed, 1–100 each (default 10).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// `month` as a path segment: a 400 naming `month` unless `YYYY-MM`; a 404
/// outside the months the data cover (in any currency).
pub fn month_of_path(ctx: &ReportContext, raw: &str) -> Result<Month, ReportError> {
    let month = parse_month(Some(raw), "month")?.ok_or(ReportError::NoData)?;
    let (Some(first), Some(latest)) = (ctx.first_month, ctx.latest_month) else {
        return Err(ReportError::NoData);
    };
    if month < first || month > latest {
        return Err(ReportError::NotFound(format!(
            "no data for {month}: the data cover {first} to {latest}"
        )));
    }
    Ok(month)
}

/// `GET /reports/month/{month}`: the aggregates from the snapshot, the
/// month's best customers from the transactions (one grouped read of the
/// month).
pub async fn month_report(
    ctx: &ReportContext,
    db: &DatabaseConnection,
    raw_month: &str,
    params: &MonthParams,
) -> Result<MonthReport, ReportError> {
    let limit = Limit::parse(params.limit.as_deref(), 10, 100)?;
    let currency = ctx.currency(params.currency.as_deref())?;
    let month = month_of_path(ctx, raw_month)?;
    let products = top_products(
        ctx,
        &TopProductsParams {
            limit: Some(limit.to_string()),
            from: Some(month.to_string()),
            to: Some(month.to_string()),
            currency: Some(currency.to_string()),
            format: None,
        },
    )?;
    let current = figures(ctx, currency, month);
    let previous = ctx
        .first_month
        .filter(|first| *first <= month.plus(-1))
        .map(|_| figures(ctx, currency, month.plus(-1)));
    let change = previous.as_ref().map(|p| change(&current, p)).transpose()?;
    let top_customers = top_customers(db, currency, month, limit).await?;
    Ok(MonthReport {
        currency,
        current,
        previous,
        change,
        complete: ctx.complete(month),
        in_progress: super::monthly::in_progress(month, ctx.data_stop_month(), super::monthly::this_month()),
        top_customers,
        top_products: products.products,
        attributed_revenue: products.attributed_revenue,
        unattributed: products.unattributed,
    })
}

/// A month's figures from the aggregates (zeros without a row).
fn figures(ctx: &ReportContext, currency: Currency, month: Month) -> MonthFigures {
    let money = |minor| Money::new(minor, exponent_of(currency.as_str()));
    let row = ctx.of_currency(currency).find(|(m, _)| *m == month).map(|(_, r)| r);
    let (transactions, active, revenue) =
        row.map_or((0, 0, 0), |r| (r.transactions, r.active_customers, r.revenue_cents));
    MonthFigures {
        month,
        revenue: money(revenue),
        transactions,
        active_customers: active,
        avg_transaction_amount: money(revenue).div_round(transactions).unwrap_or(money(0)),
    }
}

fn change(current: &MonthFigures, previous: &MonthFigures) -> Result<MonthChange, ReportError> {
    let overflow = || ReportError::Overflow(format!("the change from {} to {}", previous.month, current.month));
    let (cur, prev) = (current.revenue.minor(), previous.revenue.minor());
    let revenue = current.revenue.checked_sub(previous.revenue).ok_or_else(overflow)?;
    let growth = |c: i64, p: i64| c.checked_sub(p).and_then(|d| Percent::ratio(d, p));
    Ok(MonthChange {
        revenue,
        revenue_pct: growth(cur, prev),
        transactions: current.transactions - previous.transactions,
        transactions_pct: growth(current.transactions, previous.transactions),
        active_customers: current.active_customers - previous.active_customers,
        active_customers_pct: growth(current.active_customers, previous.active_customers),
    })
}

/// The first moment of `month` (UTC).
pub(crate) fn start_of(month: Month) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(month.year(), month.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// The `limit` customers with the most spending in `month` and `currency`
/// (refunds subtracted), ties by id; names from `dim_user`, never e-mails.
async fn top_customers(
    db: &DatabaseConnection,
    currency: Currency,
    month: Month,
    limit: u32,
) -> Result<Vec<UserRow>, ReportError> {
    use fct_transaction::Column as C;
    // PostgreSQL's SUM of a BIGINT is a NUMERIC: cast back (an overflow is an error, not a wrap).
    const SPENDING: &str = "CAST(SUM(total_cents) AS BIGINT)";
    let rows: Vec<(String, i64, i64)> = fct_transaction::Entity::find()
        .select_only()
        .column(C::CustomerId)
        .column_as(Expr::cust(SPENDING), "spending")
        .column_as(Expr::cust("COUNT(*)"), "transactions")
        .filter(C::Currency.eq(currency.as_str()))
        .filter(C::DateUtc.gte(start_of(month)))
        .filter(C::DateUtc.lt(start_of(month.plus(1))))
        .group_by(C::CustomerId)
        .order_by(Expr::cust(SPENDING), Order::Desc)
        .order_by_asc(C::CustomerId)
        .limit(u64::from(limit))
        .into_tuple()
        .all(db)
        .await?;
    let names = super::names::names_of(db, rows.iter().map(|r| r.0.clone())).await?;
    let exponent = exponent_of(currency.as_str());
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, (customer_id, spending, transactions))| UserRow {
            rank: i as u32 + 1,
            customer_name: names.get(&customer_id).cloned().unwrap_or_default(),
            customer_id,
            total_spending: Money::new(spending, exponent),
            transactions,
        })
        .collect())
}

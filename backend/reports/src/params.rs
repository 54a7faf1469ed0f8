//! Report parameters: validated once, with errors that name the parameter and
//! the accepted range.

use std::collections::HashMap;

use api_types::{QualityReport, UserRow};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, IsolationLevel, QueryOrder,
    TransactionTrait,
};

use super::ReportError;
use domain::Month;
use store::entities::{agg_monthly, agg_product_month};

/// Largest accepted `months`.
pub const MAX_MONTHS: u32 = 36;

/// Raw window parameters as they arrive in a query string.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// Number of calendar months, 1–36 (default 6).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 36)]
    pub months: Option<String>,
    /// Last month of the window, `YYYY-MM` (default: the month of the latest transaction).
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub as_of: Option<String>,
    /// ISO currency code, e.g. `usd` (default: the currency with the most transactions).
    /// A code the data does not hold answers 400 with the available ones.
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<Format>, inline)]
    pub format: Option<String>,
}

/// The representation of a report (also chosen with `Accept: text/csv`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documents the values of the `format` parameter.
pub enum Format {
    Json,
    Csv,
}

/// `limit`, validated against a range.
pub struct Limit;

impl Limit {
    pub fn parse(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ReportError> {
        parse_int(raw, "limit", default, 1, max)
    }
}

/// A parameter's value as given; absent is `None`. Given but empty is an
/// error (the contract types every parameter; leave it out for the default).
pub(super) fn given<'a>(raw: Option<&'a str>, parameter: &'static str) -> Result<Option<&'a str>, ReportError> {
    match raw {
        Some("") => Err(ReportError::BadParameter {
            parameter,
            message: format!("parameter `{parameter}` is empty: leave it out for the default"),
        }),
        other => Ok(other),
    }
}

pub(super) fn parse_int(
    raw: Option<&str>,
    parameter: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ReportError> {
    let Some(raw) = given(raw, parameter)? else {
        return Ok(default);
    };
    match raw.parse::<u32>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(ReportError::BadParameter {
            parameter,
            message: format!("parameter `{parameter}` must be an integer from {min} to {max}, got {raw:?}"),
        }),
    }
}

/// Parses an optional `YYYY-MM` parameter.
pub fn parse_month(raw: Option<&str>, parameter: &'static str) -> Result<Option<Month>, ReportError> {
    let Some(raw) = given(raw, parameter)? else {
        return Ok(None);
    };
    Month::parse(raw).map(Some).ok_or_else(|| ReportError::BadParameter {
        parameter,
        message: format!("parameter `{parameter}` must be a month as YYYY-MM (e.g. 2024-05), got {raw:?}"),
    })
}

/// Everything the reports read, loaded once per ingest: the monthly aggregates
/// (one row per currency and month), the product aggregates, the best
/// customers per currency and the stored quality checks — all small, whatever
/// the number of transactions.
pub struct ReportContext {
    /// The ingest run whose data this is (`None`: nothing loaded yet).
    pub run: Option<i64>,
    pub rows: Vec<agg_monthly::Model>,
    /// Revenue per currency, month and product (a few rows per product and month).
    pub product_rows: Vec<agg_product_month::Model>,
    /// Currencies by transactions, most first.
    pub currencies: Vec<(String, i64, i64)>,
    pub first_month: Option<Month>,
    pub latest_month: Option<Month>,
    /// The best customers of each currency, best first.
    pub top_users: HashMap<String, Vec<UserRow>>,
    /// The checks of the latest successful run; `None` before the first.
    pub quality: Option<QualityReport>,
}

impl ReportContext {
    /// Everything the reports read, as of one moment: the id of the run whose
    /// data it is, and the data. The reads share one snapshot, so a load that
    /// commits meanwhile shows in all of them or in none — on PostgreSQL the
    /// tables are also locked (shared) first: a replace's new partitions are
    /// written frozen, visible even to older snapshots, so the swap must not
    /// happen between two reads (the snapshot is taken after the locks).
    pub async fn load(db: &DatabaseConnection) -> Result<(Option<i64>, Self), ReportError> {
        let txn = match db.get_database_backend() {
            DbBackend::Postgres => {
                let txn = db
                    .begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly))
                    .await?;
                // In the order a replace takes its exclusive locks (children
                // first): taken in another order, the two deadlock.
                let tables: Vec<&str> = store::tables::STAR.iter().rev().map(|t| t.name).collect();
                txn.execute_unprepared(&format!(
                    "LOCK TABLE {}, etl_run, etl_run_file IN ACCESS SHARE MODE",
                    tables.join(", ")
                ))
                .await?;
                txn
            }
            _ => db.begin().await?,
        };
        let run = super::cache::latest_run(&txn).await?;
        let ctx = Self {
            run,
            ..Self::read(&txn).await?
        };
        txn.commit().await?;
        Ok((run, ctx))
    }

    async fn read<C: ConnectionTrait>(db: &C) -> Result<Self, ReportError> {
        let rows = agg_monthly::Entity::find()
            .order_by_asc(agg_monthly::Column::Currency)
            .order_by_asc(agg_monthly::Column::Month)
            .all(db)
            .await?;
        let mut currencies: Vec<(String, i64, i64)> = Vec::new();
        let (mut first, mut latest): (Option<Month>, Option<Month>) = (None, None);
        for row in &rows {
            match currencies.iter_mut().find(|c| c.0 == row.currency) {
                Some(c) => {
                    c.1 += row.transactions;
                    c.2 += row.revenue_cents;
                }
                None => currencies.push((row.currency.clone(), row.transactions, row.revenue_cents)),
            }
            if let Some(m) = Month::parse(&row.month) {
                first = Some(first.map_or(m, |f| f.min(m)));
                latest = Some(latest.map_or(m, |l| l.max(m)));
            }
        }
        currencies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let product_rows = agg_product_month::Entity::find().all(db).await?;
        let mut top_users = HashMap::with_capacity(currencies.len());
        for (currency, _, _) in &currencies {
            top_users.insert(currency.clone(), super::users::load_top_users(db, currency).await?);
        }
        Ok(Self {
            run: None,
            rows,
            product_rows,
            currencies,
            first_month: first,
            latest_month: latest,
            top_users,
            quality: super::quality::load_quality(db).await?,
        })
    }

    /// The requested currency (any case), or the one with the most transactions.
    pub fn currency(&self, raw: Option<&str>) -> Result<String, ReportError> {
        let available = || self.currencies.iter().map(|c| c.0.clone()).collect::<Vec<_>>();
        match given(raw, "currency")? {
            None => self.currencies.first().map(|c| c.0.clone()).ok_or(ReportError::NoData),
            Some(given) => {
                let lower = given.to_ascii_lowercase();
                if self.currencies.iter().any(|c| c.0 == lower) {
                    Ok(lower)
                } else if self.currencies.is_empty() {
                    Err(ReportError::NoData)
                } else {
                    Err(ReportError::UnknownCurrency {
                        given: given.to_owned(),
                        available: available(),
                    })
                }
            }
        }
    }

    /// Resolves `months` and `as_of` into (first month, last month).
    pub fn window(&self, params: &WindowParams) -> Result<Window, ReportError> {
        let months = parse_int(params.months.as_deref(), "months", 6, 1, MAX_MONTHS)?;
        let as_of = match parse_month(params.as_of.as_deref(), "as_of")? {
            Some(m) => m,
            None => self.latest_month.ok_or(ReportError::NoData)?,
        };
        Ok(Window {
            from: as_of.plus(1 - months as i32),
            to: as_of,
            months,
        })
    }

    /// A month is complete when it lies strictly before the latest transaction's month.
    pub fn complete(&self, month: Month) -> bool {
        self.latest_month.is_some_and(|l| month < l)
    }

    /// The aggregate rows of one currency, by month.
    pub fn of_currency<'a>(&'a self, currency: &'a str) -> impl Iterator<Item = (Month, &'a agg_monthly::Model)> + 'a {
        self.rows
            .iter()
            .filter(move |r| r.currency == currency)
            .filter_map(|r| Month::parse(&r.month).map(|m| (m, r)))
    }
}

/// A resolved window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: Month,
    pub to: Month,
    pub months: u32,
}

impl Window {
    pub fn iter(&self) -> impl Iterator<Item = Month> {
        let from = self.from;
        (0..self.months as i32).map(move |i| from.plus(i))
    }

    pub fn contains(&self, m: Month) -> bool {
        self.from <= m && m <= self.to
    }

    pub fn to_api(self) -> api_types::Window {
        api_types::Window {
            from: self.from.to_string(),
            to: self.to.to_string(),
            as_of: self.to.to_string(),
            months: self.months,
        }
    }
}

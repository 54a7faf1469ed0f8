//! Subscription metrics (`/reports/saas/*`): the `saas` crate's figures
//! over the loaded transactions and the products' intervals.
//!
//! The figures are a function of all loaded transactions (an appended month
//! can restate earlier ones, spec §14), so they are computed whole, once per
//! ingest run, when first asked for: the defaults and the last [`RECENT`]
//! other parameter sets are kept for the run, and the movement lists' names
//! are read per page. Nothing outlives the run's snapshot but its
//! transactions, which an append's run catches up from.

mod csv;
mod feed;
mod figures;
mod input;

use ::saas::Parameters;
use api_types::{Money, SaasCohortsReport, SaasMovementKind, SaasMovementsReport, SaasMrrReport};
use sea_orm::DatabaseConnection;

use crate::ingests::MAX_CSV_ROWS;
use crate::params::{given, parse_int, parse_month};
use crate::ReportError;
pub use figures::{SaasFailure, SaasReports};
pub use input::KeptCounts;

/// Parameter sets other than the defaults kept per run (least recently used out).
pub const RECENT: usize = 8;
/// Movement lists kept per run (least recently used out).
pub const LISTS: usize = 32;
/// Largest `grace_days`.
pub const MAX_GRACE_DAYS: u32 = 90;
/// Largest page of `/reports/saas/movements`.
pub const MAX_MOVEMENTS_LIMIT: u32 = 1000;

/// Query parameters of `GET /reports/saas/mrr` and `GET /reports/saas/cohorts`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SaasParams {
    /// ISO currency code (default: the currency with the most transactions).
    /// A code the data does not hold answers 400 with the available ones.
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// Days after the end of a service period during which it still counts
    /// at a month close, 0–90 (default 7).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 90)]
    pub grace_days: Option<String>,
    /// An invoice with no evidence of its interval and at least this total
    /// (in its currency's major unit) is annual; a decimal ≥ 0 (default 3000.00).
    #[param(value_type = Option<String>, example = "3000.00", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub annual_threshold: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// Query parameters of `GET /reports/saas/movements`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SaasMovementsParams {
    /// ISO currency code (default: the currency with the most transactions).
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// A reported month after the first, `YYYY-MM`.
    #[param(required = true, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub month: Option<String>,
    /// The movement.
    #[param(required = true, value_type = Option<Kind>, inline)]
    pub kind: Option<String>,
    /// Customers to skip (default 0).
    #[param(value_type = Option<u32>, minimum = 0)]
    pub offset: Option<String>,
    /// Customers per page, 1–1000 (default 100). With `format=csv` up to
    /// 1000000, and by default every customer of the movement.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// As for `/reports/saas/mrr` (default 7).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 90)]
    pub grace_days: Option<String>,
    /// As for `/reports/saas/mrr` (default 3000.00).
    #[param(value_type = Option<String>, example = "3000.00", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub annual_threshold: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// The values of the `kind` parameter (api-types' `SaasMovementKind`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documents the values of the `kind` parameter.
pub enum Kind {
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

/// `grace_days` and `annual_threshold`, validated; absent ones are the defaults.
pub fn parameters(grace_days: Option<&str>, annual_threshold: Option<&str>) -> Result<Parameters, ReportError> {
    let defaults = Parameters::default();
    let grace_days = parse_int(grace_days, "grace_days", defaults.grace_days, 0, MAX_GRACE_DAYS)?;
    let annual_threshold = match given(annual_threshold, "annual_threshold")? {
        None => defaults.annual_threshold,
        Some(raw) => match raw.parse::<Money>() {
            Ok(m) if m.minor() >= 0 && !raw.starts_with(['+', '-']) => m,
            _ => {
                return Err(ReportError::BadParameter {
                    parameter: "annual_threshold",
                    message: format!(
                        "parameter `annual_threshold` must be a decimal number ≥ 0 in the currency's major unit \
                         (e.g. 3000.00), got {raw:?}"
                    ),
                })
            }
        },
    };
    Ok(Parameters {
        grace_days,
        annual_threshold,
    })
}

/// `GET /reports/saas/mrr`.
pub async fn saas_mrr(
    saas: &SaasReports,
    db: &DatabaseConnection,
    params: &SaasParams,
) -> Result<SaasMrrReport, ReportError> {
    saas.of_currency(db, params.shared(), |c| Ok(c.mrr())).await
}

/// `GET /reports/saas/cohorts`.
pub async fn saas_cohorts(
    saas: &SaasReports,
    db: &DatabaseConnection,
    params: &SaasParams,
) -> Result<SaasCohortsReport, ReportError> {
    saas.of_currency(db, params.shared(), |c| Ok(c.cohorts())).await
}

impl SaasParams {
    /// `currency`, `grace_days`, `annual_threshold`.
    fn shared(&self) -> [Option<&str>; 3] {
        [&self.currency, &self.grace_days, &self.annual_threshold].map(Option::as_deref)
    }
}

/// `GET /reports/saas/movements`: one page of the customers behind a movement.
pub async fn saas_movements(
    saas: &SaasReports,
    db: &DatabaseConnection,
    params: &SaasMovementsParams,
) -> Result<SaasMovementsReport, ReportError> {
    // Every parameter is checked before anything is computed.
    parameters(params.grace_days.as_deref(), params.annual_threshold.as_deref())?;
    let required = |parameter: &'static str, what: &str| ReportError::BadParameter {
        parameter,
        message: format!("parameter `{parameter}` is required: {what}"),
    };
    let month = parse_month(params.month.as_deref(), "month")?
        .ok_or_else(|| required("month", "a month as YYYY-MM (e.g. 2024-05)"))?;
    let kind = match given(params.kind.as_deref(), "kind")? {
        None => return Err(required("kind", "new, expansion, contraction, churn or reactivation")),
        Some(raw) => raw.parse::<SaasMovementKind>().map_err(|e| ReportError::BadParameter {
            parameter: "kind",
            message: format!("parameter `kind`: {e}"),
        })?,
    };
    let offset = parse_int(params.offset.as_deref(), "offset", 0, 0, u32::MAX)?;
    // A download holds the whole movement unless it asks for less (as the
    // rejected rows' CSV does): a file cut at a page size would lose rows.
    let limit = match params.format.as_deref() == Some("csv") {
        true => parse_int(params.limit.as_deref(), "limit", MAX_CSV_ROWS, 1, MAX_CSV_ROWS)?,
        false => parse_int(params.limit.as_deref(), "limit", 100, 1, MAX_MOVEMENTS_LIMIT)?,
    };
    let shared = [&params.currency, &params.grace_days, &params.annual_threshold].map(Option::as_deref);
    let list = saas
        .movements(db, shared, (month, kind), |currency| {
            let months = currency.months();
            let range = match (months.get(1), months.last()) {
                (Some(first), Some(last)) => format!("{} to {}", first.month, last.month),
                _ => "none (fewer than two closed months)".to_owned(),
            };
            ReportError::NotFound(format!(
                "{month} has no movements in {}: movements exist for the reported months after the first, {range}",
                currency.currency()
            ))
        })
        .await?;
    let mut report = list.page(u64::from(offset), u64::from(limit));
    saas.name(db, &mut report).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_default_and_refuse_with_the_parameter_named() {
        assert_eq!(parameters(None, None).unwrap(), Parameters::default());
        let p = parameters(Some("0"), Some("2500.5")).unwrap();
        assert_eq!((p.grace_days, p.annual_threshold), (0, Money::new(25005, 1)));
        for (grace, threshold, named) in [
            (Some("91"), None, "grace_days"),
            (Some("-1"), None, "grace_days"),
            (Some("7.5"), None, "grace_days"),
            (Some(""), None, "grace_days"),
            (None, Some("-1"), "annual_threshold"),
            (None, Some("abc"), "annual_threshold"),
            (None, Some("1e3"), "annual_threshold"),
            (None, Some(""), "annual_threshold"),
        ] {
            match parameters(grace, threshold) {
                Err(ReportError::BadParameter { parameter, message }) => {
                    assert_eq!(parameter, named);
                    assert!(message.contains(named), "{message}");
                }
                other => panic!("{grace:?} {threshold:?}: {other:?}"),
            }
        }
    }
}

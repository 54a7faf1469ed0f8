//! Response bodies of `/reports/saas/*`: subscription (SaaS) metrics as
//! `shared/specs/saas-metrics.md` defines them — MRR at each month close, its
//! five movements, the rates, the billed amounts, cohorts and the customers
//! behind one movement.
//!
//! Every figure is of one currency; money is [`Money`] (exact minor units,
//! served as decimal strings), rates are [`Percent`] or [`Ratio`] (exact
//! fractions rounded half away from zero to two decimals), months are
//! `YYYY-MM` like the other reports.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::{Currency, Money, Month, ParseMoneyError, Percent, Timestamp};

/// A ratio that is not a percentage (the quick ratio), in hundredths:
/// `Ratio(125)` is served as `"1.25"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "1.25", pattern = r"^-?\d+\.\d{2}$")
)]
pub struct Ratio(pub i64);

impl Ratio {
    /// The value in hundredths.
    pub fn hundredths(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same two-decimal form as a percentage, without its meaning.
        fmt::Display::fmt(&Percent(self.0), f)
    }
}

impl FromStr for Ratio {
    type Err = ParseMoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<Percent>().map(|p| Ratio(p.hundredths()))
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// The two settings the figures were computed with (defaults: 7 and 3000.00).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasParameters {
    /// Days after the end of a service period during which the subscription
    /// still counts at a month close (a late renewal is not churn).
    pub grace_days: u32,
    /// An invoice with no evidence of its interval and at least this total (in
    /// the invoice currency's major unit) is taken as annual.
    pub annual_threshold: Money,
}

/// The data the figures come from: one window for every currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasWindow {
    /// The earliest / latest loaded transaction (any currency); null without data.
    pub first_transaction: Option<Timestamp>,
    pub last_transaction: Option<Timestamp>,
    /// The reported months (`YYYY-MM`): those whose close is at or before the
    /// latest transaction.
    pub closed_months: Vec<Month>,
}

/// The five movements of MRR between two closes, with the net change and the
/// part of `new` that may be a renewal of a subscription older than the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMovements {
    pub new: Money,
    pub expansion: Money,
    pub contraction: Money,
    pub churn: Money,
    pub reactivation: Money,
    /// MRR(m) − MRR(m−1) = new + expansion + reactivation − contraction − churn.
    pub net_new: Money,
    /// Part of `new`: customers whose first invoice may renew a subscription
    /// that began before the data.
    pub new_left_censored: Money,
}

/// How many customers each movement has.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMovementCustomers {
    pub new: u64,
    pub expansion: u64,
    pub contraction: u64,
    pub churn: u64,
    pub reactivation: u64,
    pub new_left_censored: u64,
}

/// MRR at a close by the rule that chose each invoice's interval (sums to MRR):
/// how much of the figure is observed and how much assumed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMrrBySource {
    pub observed_next: Money,
    pub catalogue_year: Money,
    pub observed_previous: Money,
    pub catalogue_month: Money,
    pub assumed_annual: Money,
    pub assumed_monthly: Money,
}

/// An amount and the number of invoices behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasBilledAmount {
    pub amount: Money,
    pub count: u64,
}

/// A number of invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasBilledCount {
    pub count: u64,
}

/// What was billed in the calendar month: recurring + one_off + refunds =
/// total = the month's revenue of `/reports/monthly-transactions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasBilled {
    /// Invoices with a subscription id and a total > 0.
    pub recurring: SaasBilledAmount,
    /// Invoices without a subscription id and a total > 0 (usage, services).
    pub one_off: SaasBilledAmount,
    /// Invoices with a total of 0.
    pub zero_invoices: SaasBilledCount,
    /// Invoices with a negative total (amount ≤ 0).
    pub refunds: SaasBilledAmount,
    pub total: Money,
    /// Every invoice of the month.
    pub invoices: u64,
}

/// One month close of `GET /reports/saas/mrr`. Movements and rates compare
/// with the previous close: null for the first (opening) month; a rate is
/// also null when its denominator is 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMonth {
    /// `YYYY-MM`; the figures are at 00:00 UTC on the first day of the next month.
    pub month: Month,
    /// True while quarterly plans paid before the data began may still be
    /// missing (`opening_complete_up_to_months` < 3).
    pub warm_up: bool,
    /// Plans billed every n months are all visible at this close only when n
    /// is at most this number (1 for the first month).
    pub opening_complete_up_to_months: u32,
    pub mrr: Money,
    /// 12 × MRR.
    pub arr: Money,
    /// Customers with MRR > 0 at this close.
    pub customers: u64,
    /// MRR ÷ customers; null without customers.
    pub arpa: Option<Money>,
    pub movements: Option<SaasMovements>,
    pub movement_customers: Option<SaasMovementCustomers>,
    pub logo_churn_rate_pct: Option<Percent>,
    pub gross_mrr_churn_rate_pct: Option<Percent>,
    pub net_mrr_churn_rate_pct: Option<Percent>,
    pub nrr_pct: Option<Percent>,
    pub grr_pct: Option<Percent>,
    pub nrr_3m_pct: Option<Percent>,
    pub grr_3m_pct: Option<Percent>,
    pub nrr_6m_pct: Option<Percent>,
    pub grr_6m_pct: Option<Percent>,
    pub nrr_12m_pct: Option<Percent>,
    pub grr_12m_pct: Option<Percent>,
    /// (new + expansion + reactivation) ÷ (churn + contraction).
    pub quick_ratio: Option<Ratio>,
    pub mrr_growth_pct: Option<Percent>,
    /// MRR by interval in months (keys `"1"`, `"3"`, `"12"` …; intervals with
    /// MRR only); sums to `mrr`. JSON keys are strings: the contract says so
    /// (a map keyed by integers would promise integer keys no JSON can carry).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Money>))]
    pub mrr_by_interval_months: BTreeMap<u32, Money>,
    pub mrr_by_interval_source: SaasMrrBySource,
    pub billed: SaasBilled,
}

/// `GET /reports/saas/mrr`: MRR and everything derived from it, per month close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMrrReport {
    pub currency: Currency,
    pub parameters: SaasParameters,
    pub window: SaasWindow,
    pub months: Vec<SaasMonth>,
}

/// One later month of a cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasCohortCell {
    pub month: Month,
    /// 0 for the cohort's own month.
    pub months_since: u32,
    /// Members with MRR > 0 at this close (returned members included).
    pub active_customers: u64,
    /// The members' MRR at this close.
    pub mrr: Money,
    pub customer_retention_pct: Option<Percent>,
    pub mrr_retention_pct: Option<Percent>,
}

/// The customers first active at one month's close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasCohort {
    /// `YYYY-MM`.
    pub cohort: Month,
    /// The first reported month: everyone already paying then, not an
    /// acquisition cohort.
    pub opening: bool,
    pub customers: u64,
    /// The members' MRR at the cohort's close.
    pub mrr: Money,
    pub cells: Vec<SaasCohortCell>,
}

/// `GET /reports/saas/cohorts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasCohortsReport {
    pub currency: Currency,
    pub parameters: SaasParameters,
    pub cohorts: Vec<SaasCohort>,
}

/// One of the five movements of MRR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SaasMovementKind {
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

impl SaasMovementKind {
    pub const ALL: [SaasMovementKind; 5] = [
        SaasMovementKind::New,
        SaasMovementKind::Expansion,
        SaasMovementKind::Contraction,
        SaasMovementKind::Churn,
        SaasMovementKind::Reactivation,
    ];

    /// The name used in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SaasMovementKind::New => "new",
            SaasMovementKind::Expansion => "expansion",
            SaasMovementKind::Contraction => "contraction",
            SaasMovementKind::Churn => "churn",
            SaasMovementKind::Reactivation => "reactivation",
        }
    }
}

impl fmt::Display for SaasMovementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of the five movement names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMovementKindError(pub String);

impl fmt::Display for ParseMovementKindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a movement: expected new, expansion, contraction, churn or reactivation",
            self.0
        )
    }
}

impl std::error::Error for ParseMovementKindError {}

impl FromStr for SaasMovementKind {
    type Err = ParseMovementKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SaasMovementKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ParseMovementKindError(s.to_owned()))
    }
}

/// One customer behind a movement (no e-mail address: personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMovementCustomer {
    pub customer_id: String,
    /// Empty when the users file has no name for this customer.
    pub customer_name: String,
    /// MRR at the previous close.
    pub previous_mrr: Money,
    /// MRR at this month's close.
    pub current_mrr: Money,
    /// current − previous (negative for contraction and churn).
    pub change: Money,
    /// For `new`: the customer's first invoice may renew a subscription older
    /// than the data (always false for the other movements).
    pub left_censored: bool,
}

/// `GET /reports/saas/movements`: the customers behind one movement of one
/// month, largest change first, one page of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaasMovementsReport {
    pub currency: Currency,
    pub parameters: SaasParameters,
    pub month: Month,
    pub kind: SaasMovementKind,
    /// The movement's amount over all its customers (= the month's figure in
    /// `/reports/saas/mrr`).
    pub amount: Money,
    /// Customers of the movement, all pages.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
    pub customers: Vec<SaasMovementCustomer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_and_kind_round_trip() {
        assert_eq!(serde_json::to_string(&Ratio(125)).unwrap(), "\"1.25\"");
        assert_eq!(serde_json::from_str::<Ratio>("\"-0.05\"").unwrap(), Ratio(-5));
        for kind in SaasMovementKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(kind.as_str().parse::<SaasMovementKind>().unwrap(), kind);
        }
        assert!("net_new".parse::<SaasMovementKind>().is_err());
    }

    #[test]
    fn interval_keys_are_served_as_strings() {
        let map: BTreeMap<u32, Money> = [(1, Money::new(100, 2)), (12, Money::new(5, 2))].into();
        assert_eq!(serde_json::to_string(&map).unwrap(), r#"{"1":"1.00","12":"0.05"}"#);
        let back: BTreeMap<u32, Money> = serde_json::from_str(r#"{"1":"1.00","12":"0.05"}"#).unwrap();
        assert_eq!(back, map);
    }
}

//! The quality KPIs of a run: the dimensions ([`Dimension`]) and their mean, each an exact
//! ratio of counts the ETL keeps, served rounded half-up to two decimals
//! (the README states the definitions exactly as implemented here).

use api_types::{Dimension, Measure, PerDimension, Percent, QualityAlert, QualityRows, QualityScore};
use num_bigint::BigInt;
use num_rational::BigRational;
use serde::Serialize;

use super::guard::Pct;
use super::state::RowTotals;

/// The counts a run's dimensions are computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KpiCounts {
    /// Rows read in the three files, and of those rejected.
    pub rows_read: u64,
    pub rows_rejected: u64,
    /// transactions.csv: rows read, exact duplicates, rows rejected for sharing
    /// a transaction id with different content (in the file or with a loaded row).
    pub tx_read: u64,
    pub tx_duplicates: u64,
    pub tx_id_conflicts: u64,
    /// Customers (`dim_user` rows), and of those without a name or an e-mail.
    pub customers: u64,
    pub customers_incomplete: u64,
    /// Customers of the users files, and of those with conflicting names or e-mails.
    pub users_customers: u64,
    pub users_conflicting: u64,
    /// Transactions the run loaded, and of those without a known subscription
    /// or whose customer is not in the users files.
    pub tx_loaded: u64,
    pub tx_unreferenced: u64,
    /// Seconds from the latest transaction to the end of the run (`None`: no
    /// transaction), and the freshness target in seconds.
    pub age_seconds: Option<i64>,
    pub sla_seconds: i64,
}

impl KpiCounts {
    /// The counts of the row-based dimensions, to add to the data's totals.
    pub fn row_totals(&self) -> RowTotals {
        RowTotals {
            rows_read: self.rows_read,
            rows_rejected: self.rows_rejected,
            tx_read: self.tx_read,
            tx_duplicates: self.tx_duplicates,
            tx_id_conflicts: self.tx_id_conflicts,
            tx_loaded: self.tx_loaded,
            tx_unreferenced: self.tx_unreferenced,
        }
    }

    /// These counts with the row-based ones of `totals` (the data since the
    /// last replace): the customer-based ones and the data's age already
    /// describe the data as a whole.
    pub fn with_rows(self, totals: &RowTotals) -> Self {
        Self {
            rows_read: totals.rows_read,
            rows_rejected: totals.rows_rejected,
            tx_read: totals.tx_read,
            tx_duplicates: totals.tx_duplicates,
            tx_id_conflicts: totals.tx_id_conflicts,
            tx_loaded: totals.tx_loaded,
            tx_unreferenced: totals.tx_unreferenced,
            ..self
        }
    }
}

fn ratio(n: i128, d: i128) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// 100 × good / all (100 when there is nothing to count).
fn share(good: u64, all: u64) -> BigRational {
    if all == 0 {
        return ratio(100, 1);
    }
    ratio(100 * i128::from(good), i128::from(all))
}

/// Rounded half-up to hundredths (the values are never negative).
fn hundredths(x: &BigRational) -> Percent {
    let scaled = x * ratio(100, 1) + ratio(1, 2);
    let floor = scaled.floor().to_integer();
    Percent(i64::try_from(floor).unwrap_or(i64::MAX))
}

/// A dimension's exact value from the run's counts. Each dimension's
/// definition lives here, and only here (the README states it in words).
fn value(d: Dimension, c: &KpiCounts) -> BigRational {
    match d {
        Dimension::Completeness => share(c.customers - c.customers_incomplete.min(c.customers), c.customers),
        Dimension::Validity => share(c.rows_read - c.rows_rejected.min(c.rows_read), c.rows_read),
        Dimension::Uniqueness => share(c.tx_read.saturating_sub(c.tx_duplicates + c.tx_id_conflicts), c.tx_read),
        Dimension::Consistency => share(
            c.users_customers - c.users_conflicting.min(c.users_customers),
            c.users_customers,
        ),
        Dimension::Integrity => share(c.tx_loaded - c.tx_unreferenced.min(c.tx_loaded), c.tx_loaded),
        Dimension::Timeliness => match c.age_seconds {
            None => ratio(100, 1),
            Some(_) if c.sla_seconds <= 0 => ratio(100, 1),
            Some(age) => {
                let sla = i128::from(c.sla_seconds);
                // 100 × clamp((2·sla − age) / sla, 0, 1)
                let x = ratio(2 * sla - i128::from(age), sla);
                let x = x.max(ratio(0, 1)).min(ratio(1, 1));
                x * ratio(100, 1)
            }
        },
    }
}

/// Every dimension, and their mean (of the exact values, then rounded).
pub fn score(c: &KpiCounts) -> QualityScore {
    let exact = PerDimension::from_fn(|d| value(d, c));
    let sum = exact.iter().fold(ratio(0, 1), |sum, (_, v)| sum + v);
    let count = i128::try_from(Dimension::COUNT).unwrap_or(i128::MAX);
    QualityScore {
        overall: hundredths(&(sum / ratio(count, 1))),
        dimensions: exact.map(|_, v| hundredths(v)),
    }
}

/// The run's rows.
pub fn rows(c: &KpiCounts) -> QualityRows {
    let processed = c.rows_read as i64;
    let failed = c.rows_rejected as i64;
    QualityRows {
        processed,
        succeeded: processed - failed,
        failed,
    }
}

/// The minimum of the overall score and of each dimension (`--min-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityThresholds {
    pub overall: Pct,
    pub dimensions: PerDimension<Pct>,
}

impl QualityThresholds {
    /// The minimum of the overall score or of one dimension.
    pub fn get(&self, m: Measure) -> Pct {
        match m {
            Measure::Overall => self.overall,
            Measure::Dimension(d) => self.dimensions[d],
        }
    }

    /// Sets the minimum of the overall score or of one dimension.
    pub fn set(&mut self, m: Measure, min: Pct) {
        match m {
            Measure::Overall => self.overall = min,
            Measure::Dimension(d) => self.dimensions[d] = min,
        }
    }
}

/// Each measure's default minimum, from the enum.
impl Default for QualityThresholds {
    fn default() -> Self {
        let pct = |p: Percent| Pct::from_basis_points(u32::try_from(p.hundredths()).unwrap_or(0));
        Self {
            overall: pct(Measure::Overall.default_minimum()),
            dimensions: PerDimension::from_fn(|d| pct(d.default_minimum())),
        }
    }
}

/// As recorded with the run (`etl_run.options_json`): `overall`, then each
/// dimension by its key, in basis points.
impl Serialize for QualityThresholds {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("QualityThresholds", Measure::ALL.len())?;
        for m in Measure::ALL {
            s.serialize_field(m.key(), &self.get(m))?;
        }
        s.end()
    }
}

/// The thresholds, dimension by dimension, as served with the score.
pub fn thresholds(t: &QualityThresholds) -> QualityScore {
    let p = |min: Pct| Percent(i64::from(min.basis_points()));
    QualityScore {
        overall: p(t.overall),
        dimensions: t.dimensions.map(|_, min| p(*min)),
    }
}

/// The measures below their thresholds, the overall score first.
pub fn alerts(score: &QualityScore, t: &QualityThresholds) -> Vec<QualityAlert> {
    score.below(&thresholds(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Percent {
        s.parse().unwrap()
    }

    #[test]
    fn dimensions_are_exact_ratios_rounded_half_up() {
        let c = KpiCounts {
            rows_read: 3,
            rows_rejected: 1,
            tx_read: 8,
            tx_duplicates: 1,
            tx_id_conflicts: 0,
            customers: 3,
            customers_incomplete: 0,
            users_customers: 7,
            users_conflicting: 1,
            tx_loaded: 200,
            tx_unreferenced: 1,
            age_seconds: Some(3 * 86_400),
            sla_seconds: 2 * 86_400,
        };
        let s = score(&c);
        assert_eq!(s[Dimension::Validity], p("66.67"));
        assert_eq!(s[Dimension::Uniqueness], p("87.50"));
        assert_eq!(s[Dimension::Completeness], p("100.00"));
        assert_eq!(s[Dimension::Consistency], p("85.71"));
        assert_eq!(s[Dimension::Integrity], p("99.50"));
        // 3 days old, target 2: (4 − 3) / 2 = 50%.
        assert_eq!(s[Dimension::Timeliness], p("50.00"));
        // Mean of the exact values: (200/3 + 87.5 + 100 + 600/7 + 99.5 + 50) / 6 = 81.5634…
        assert_eq!(s.overall, p("81.56"));
        assert_eq!(
            rows(&c),
            QualityRows {
                processed: 3,
                succeeded: 2,
                failed: 1
            }
        );
    }

    #[test]
    fn empty_denominators_are_100_and_timeliness_is_clamped() {
        let s = score(&KpiCounts {
            age_seconds: Some(10),
            sla_seconds: 100,
            ..Default::default()
        });
        assert_eq!(s.overall, p("100.00"));
        let old = score(&KpiCounts {
            age_seconds: Some(1_000),
            sla_seconds: 100,
            ..Default::default()
        });
        assert_eq!(old[Dimension::Timeliness], p("0.00"));
        // Half-up: 100 × 9,996 / 80,000 = 12.495 exactly → 12.50.
        let half = score(&KpiCounts {
            rows_read: 80_000,
            rows_rejected: 70_004,
            ..Default::default()
        });
        assert_eq!(half[Dimension::Validity], p("12.50"));
    }

    #[test]
    fn alerts_name_the_dimensions_below_their_minimum() {
        let s = score(&KpiCounts {
            tx_loaded: 10,
            tx_unreferenced: 2,
            age_seconds: Some(0),
            sla_seconds: 1,
            ..Default::default()
        });
        let a = alerts(&s, &QualityThresholds::default());
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].dimension, a[0].value, a[0].threshold),
            (Measure::Dimension(Dimension::Integrity), p("80.00"), p("90.00"))
        );
        // At the threshold exactly: no alert.
        let mut exact = QualityThresholds::default();
        exact.set(Dimension::Integrity.into(), Pct::from_basis_points(8000));
        assert!(alerts(&s, &exact).is_empty());
    }

    #[test]
    fn thresholds_are_recorded_as_before() {
        // etl_run.options_json keeps its shape: overall, then each dimension.
        assert_eq!(
            serde_json::to_string(&QualityThresholds::default()).unwrap(),
            r#"{"overall":8000,"completeness":9000,"validity":9500,"uniqueness":9900,"consistency":9500,"integrity":9000,"timeliness":5000}"#
        );
    }
}

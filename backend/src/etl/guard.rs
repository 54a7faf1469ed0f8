//! Guard rails: the checks that refuse a run before anything is committed,
//! when its files look like a broken export rather than new data.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::audit::FileSummary;

/// A percentage with two decimals, as hundredths of a percent (`5` → 500):
/// compared with exact integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pct(u32);

impl Pct {
    pub const fn from_basis_points(bp: u32) -> Self {
        Pct(bp)
    }

    /// Hundredths of a percent.
    pub const fn basis_points(self) -> u32 {
        self.0
    }

    /// Whether `part / whole` is above this percentage.
    pub fn exceeded_by(self, part: u64, whole: u64) -> bool {
        u128::from(part) * 10_000 > u128::from(whole) * u128::from(self.0)
    }

    /// Whether `part / whole` is below this percentage.
    pub fn not_reached_by(self, part: u64, whole: u64) -> bool {
        u128::from(part) * 10_000 < u128::from(whole) * u128::from(self.0)
    }
}

impl fmt::Display for Pct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 % 100 {
            0 => write!(f, "{}%", self.0 / 100),
            r => write!(f, "{}.{:02}%", self.0 / 100, r),
        }
    }
}

impl FromStr for Pct {
    type Err = String;

    /// `5`, `2.5`, `0.25`, `100` (with or without `%`).
    fn from_str(s: &str) -> Result<Self, String> {
        let text = s.trim().trim_end_matches('%');
        let bad = || format!("{s:?} is not a percentage from 0 to 100 with at most two decimals");
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() || frac.len() > 2 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let whole: u32 = whole.parse().map_err(|_| bad())?;
        let frac: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<2}").parse().map_err(|_| bad())?
        };
        let bp = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        if bp > 10_000 {
            return Err(bad());
        }
        Ok(Pct(bp))
    }
}

/// The limits a run must stay within.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct GuardRails {
    /// Largest share of a file's rows that may be rejected.
    pub max_reject_pct: Pct,
    /// A replace must keep at least this share of the transactions loaded now.
    pub min_keep_pct: Pct,
}

impl Default for GuardRails {
    fn default() -> Self {
        Self {
            max_reject_pct: Pct(500),
            min_keep_pct: Pct(5000),
        }
    }
}

/// Why a run is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Refusal {
    NoDataRows {
        file: &'static str,
    },
    TooManyRejects {
        file: &'static str,
        rejected: u64,
        read: u64,
        limit: String,
    },
    TooFewTransactions {
        new: u64,
        current: u64,
        limit: String,
    },
    /// With `--strict-quality`: a quality dimension below its minimum.
    QualityBelowThreshold {
        dimension: String,
        value: String,
        threshold: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NoDataRows { file } => write!(f, "{file}: the file has no data rows (rule: no empty files)"),
            Refusal::TooManyRejects {
                file,
                rejected,
                read,
                limit,
            } => write!(
                f,
                "{file}: {rejected} of {read} rows rejected ({}), more than --max-reject-pct {limit}",
                share(*rejected, *read)
            ),
            Refusal::TooFewTransactions { new, current, limit } => write!(
                f,
                "transactions.csv: a replace would keep {new} transactions of the {current} loaded now ({}), \
                 less than --min-keep-pct {limit}",
                share(*new, *current)
            ),
            Refusal::QualityBelowThreshold {
                dimension,
                value,
                threshold,
            } => write!(
                f,
                "quality: {dimension} is {value}%, below its minimum of {threshold}% (--strict-quality)"
            ),
        }
    }
}

/// `part / whole` as a percentage with two decimals (for messages).
fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "n/a".to_owned();
    }
    let hundredths = (u128::from(part) * 10_000 + u128::from(whole) / 2) / u128::from(whole);
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// The rules a run breaks (none: it may commit). `files` are the files the run
/// read (not those skipped as already ingested); `replace` carries the new
/// and the current number of transactions of a replace.
pub fn check(files: &[FileSummary], replace: Option<(u64, u64)>, rails: &GuardRails) -> Vec<Refusal> {
    let mut out = Vec::new();
    for f in files.iter().filter(|f| f.same_as_run.is_none()) {
        if f.counts.read == 0 {
            out.push(Refusal::NoDataRows { file: f.file });
        } else if rails.max_reject_pct.exceeded_by(f.counts.rejected, f.counts.read) {
            out.push(Refusal::TooManyRejects {
                file: f.file,
                rejected: f.counts.rejected,
                read: f.counts.read,
                limit: rails.max_reject_pct.to_string(),
            });
        }
    }
    if let Some((new, current)) = replace {
        if current > 0 && rails.min_keep_pct.not_reached_by(new, current) {
            out.push(Refusal::TooFewTransactions {
                new,
                current,
                limit: rails.min_keep_pct.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etl::counts::Counts;

    fn file(name: &'static str, read: u64, rejected: u64) -> FileSummary {
        FileSummary {
            file: name,
            sha256: String::new(),
            bytes: 0,
            counts: Counts {
                read,
                loaded: read - rejected,
                rejected,
                ..Default::default()
            },
            same_as_run: None,
        }
    }

    #[test]
    fn percentages_parse_exactly() {
        assert_eq!("5".parse::<Pct>().unwrap(), Pct(500));
        assert_eq!("2.5%".parse::<Pct>().unwrap(), Pct(250));
        assert_eq!("0.01".parse::<Pct>().unwrap(), Pct(1));
        assert_eq!("100".parse::<Pct>().unwrap(), Pct(10_000));
        for bad in ["", "-1", "100.01", "1.234", "abc", "1e2", "4294967296"] {
            assert!(bad.parse::<Pct>().is_err(), "{bad}");
        }
        assert_eq!(Pct(250).to_string(), "2.50%");
        assert_eq!(Pct(500).to_string(), "5%");
    }

    #[test]
    fn each_rule_refuses_at_its_boundary() {
        let rails = GuardRails::default();
        // 5 of 100 rejected is exactly the limit: allowed; 6 is over.
        assert!(check(&[file("t", 100, 5)], None, &rails).is_empty());
        let r = check(&[file("t", 100, 6)], None, &rails);
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].to_string(),
            "t: 6 of 100 rows rejected (6.00%), more than --max-reject-pct 5%"
        );
        assert_eq!(
            check(&[file("t", 0, 0)], None, &rails),
            vec![Refusal::NoDataRows { file: "t" }]
        );
        // A skipped file is not read: no rule applies to it.
        let mut skipped = file("t", 0, 0);
        skipped.same_as_run = Some(3);
        assert!(check(&[skipped], None, &rails).is_empty());
        // Replace: keeping exactly half is allowed, less is not; an empty database is not a baseline.
        assert!(check(&[], Some((50, 100)), &rails).is_empty());
        assert_eq!(check(&[], Some((49, 100)), &rails).len(), 1);
        assert!(check(&[], Some((0, 0)), &rails).is_empty());
    }
}

//! Percentages of the guard rails, exact to the hundredth.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A percentage with two decimals, as hundredths of a percent (`5` → 500):
/// compared with exact integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pct(pub(super) u32);

impl Pct {
    pub const fn from_basis_points(bp: u32) -> Self {
        Pct(bp)
    }

    /// Hundredths of a percent.
    pub const fn basis_points(self) -> u32 {
        self.0
    }

    /// Whether `part / whole` is above this percentage (exact: 128-bit products).
    pub fn exceeded_by(self, part: impl Into<i128>, whole: impl Into<i128>) -> bool {
        part.into() * 10_000 > whole.into() * i128::from(self.0)
    }

    /// Whether `part / whole` is below this percentage (exact; a negative
    /// `part` of a positive `whole` is below any percentage but 0).
    pub fn not_reached_by(self, part: impl Into<i128>, whole: impl Into<i128>) -> bool {
        part.into() * 10_000 < whole.into() * i128::from(self.0)
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! Calendar months (`YYYY-MM`) as a dense integer, so windows are plain ranges.

use std::fmt;

use chrono::{Datelike, NaiveDateTime};

/// A calendar month: `year * 12 + (month - 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        (1..=12).contains(&month).then(|| Month(year * 12 + month as i32 - 1))
    }

    pub fn of(ts: &NaiveDateTime) -> Self {
        Month(ts.year() * 12 + ts.month0() as i32)
    }

    /// Parses exactly `YYYY-MM`.
    pub fn parse(text: &str) -> Option<Self> {
        let (y, m) = text.split_once('-')?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        Month::new(y.parse().ok()?, m.parse().ok()?)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    /// The month `n` months later (negative: earlier).
    pub fn plus(self, n: i32) -> Self {
        Month(self.0 + n)
    }

    /// The month as `year * 12 + (month - 1)` (a stable storage form).
    pub fn index(self) -> i32 {
        self.0
    }

    pub fn from_index(index: i32) -> Self {
        Month(index)
    }

    /// Whole months from `self` to `other`.
    pub fn months_until(self, other: Month) -> i32 {
        other.0 - self.0
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_arithmetic() {
        let m = Month::parse("2024-01").unwrap();
        assert_eq!(m.to_string(), "2024-01");
        assert_eq!(m.plus(-1).to_string(), "2023-12");
        assert_eq!(m.plus(11).to_string(), "2024-12");
        assert_eq!(m.months_until(Month::parse("2024-10").unwrap()), 9);
        for bad in ["2024-13", "2024-00", "24-01", "2024-1", "2024/01", ""] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
    }
}

//! Calendar months (`YYYY-MM`) as a dense integer, so windows are plain
//! ranges. The API writes every month as `YYYY-MM`; the backend and the
//! dashboard read it into this type once.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

    /// Every month from `self` to `last`, both included (empty when `last`
    /// is earlier).
    pub fn through(self, last: Month) -> impl Iterator<Item = Month> {
        (self.0..=last.0).map(Month)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Compares with the written form: `month == "2024-05"`.
impl PartialEq<str> for Month {
    fn eq(&self, other: &str) -> bool {
        Month::parse(other) == Some(*self)
    }
}

impl PartialEq<&str> for Month {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

/// A string that is not a month `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMonthError(pub String);

impl fmt::Display for ParseMonthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a month (expected YYYY-MM)", self.0)
    }
}

impl std::error::Error for ParseMonthError {}

impl FromStr for Month {
    type Err = ParseMonthError;

    fn from_str(s: &str) -> Result<Self, ParseMonthError> {
        Month::parse(s).ok_or_else(|| ParseMonthError(s.to_owned()))
    }
}

impl Serialize for Month {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Month {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some(r"^\d{4}-(0[1-9]|1[0-2])$"))
            .description(Some("A calendar month, YYYY-MM."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Month {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_arithmetic() {
        let m = Month::parse("2024-01").unwrap_or(Month(0));
        assert_eq!(m.to_string(), "2024-01");
        assert_eq!(m.plus(-1).to_string(), "2023-12");
        assert_eq!(m.plus(11).to_string(), "2024-12");
        assert_eq!(m.months_until(m.plus(9)), 9);
        for bad in ["2024-13", "2024-00", "24-01", "2024-1", "2024/01", "+024-01", ""] {
            assert!(Month::parse(bad).is_none(), "{bad}");
        }
        let months: Vec<String> = m.plus(-2).through(m.plus(1)).map(|m| m.to_string()).collect();
        assert_eq!(months, ["2023-11", "2023-12", "2024-01", "2024-02"]);
        assert_eq!(m.through(m.plus(-1)).count(), 0);
    }

    #[test]
    fn written_as_the_api_always_wrote_months() {
        let m = Month::new(2024, 5);
        assert_eq!(serde_json::to_string(&m).ok().as_deref(), Some(r#""2024-05""#));
        assert_eq!(serde_json::from_str::<Month>(r#""2024-05""#).ok(), m);
        let err = serde_json::from_str::<Month>(r#""2024-5""#)
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("expected YYYY-MM")));
    }
}

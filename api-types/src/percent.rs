//! Exact percentages.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{div_round_half_away, fmt_scaled, parse_scaled};
use crate::ParseMoneyError;

/// A percentage in hundredths of a percent. Serialised as `"-12.34"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "-12.34", pattern = r"^-?\d+\.\d{2}$")
)]
pub struct Percent(pub i64);

impl Percent {
    /// `part / whole` as a percentage rounded half away from zero; `None` if `whole` is 0.
    pub fn ratio(part: i64, whole: i64) -> Option<Percent> {
        (whole != 0).then(|| Percent(div_round_half_away(part as i128 * 10_000, whole as i128) as i64))
    }

    /// Growth from `previous` to `current` in percent; `None` if `previous` is 0.
    pub fn growth(current: i64, previous: i64) -> Option<Percent> {
        Percent::ratio(current - previous, previous)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The value as hundredths of a percent.
    pub fn hundredths(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_scaled(self.0, 2, f)
    }
}

impl FromStr for Percent {
    type Err = ParseMoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_scaled(s, 2).map(Percent)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_is_exact_and_signed() {
        assert_eq!(Percent::growth(150, 100).unwrap().to_string(), "50.00");
        assert_eq!(Percent::growth(50, 100).unwrap().to_string(), "-50.00");
        assert_eq!(Percent::growth(1, 3).unwrap().to_string(), "-66.67");
        assert!(Percent::growth(1, 0).is_none());
        assert!(Percent::growth(99, 100).unwrap().is_negative());
        assert_eq!("-12.34".parse::<Percent>().unwrap().hundredths(), -1234);
    }
}

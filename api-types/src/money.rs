//! Exact money and percentage values.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An amount in hundredths of a currency unit (cents). Serialised as `"1234.50"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "2451305.12", pattern = r"^-?\d+\.\d{2}$")
)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn cents(self) -> i64 {
        self.0
    }

    /// `self / divisor`, rounded half away from zero to the cent; `None` when dividing by zero.
    pub fn div_round(self, divisor: i64) -> Option<Money> {
        (divisor != 0).then(|| Money(div_round_half_away(self.0 as i128, divisor as i128) as i64))
    }
}

/// Integer division rounding half away from zero.
pub fn div_round_half_away(numerator: i128, denominator: i128) -> i128 {
    let q = numerator / denominator;
    let r = numerator % denominator;
    if 2 * r.abs() >= denominator.abs() {
        if (numerator < 0) == (denominator < 0) {
            q + 1
        } else {
            q - 1
        }
    } else {
        q
    }
}

fn fmt_hundredths(value: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_hundredths(self.0, f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseMoneyError(pub String);

impl fmt::Display for ParseMoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseMoneyError {}

/// Parses a plain decimal (`"12"`, `"-0.5"`, `"1234.56"`) into hundredths. More than
/// two decimals is an error unless the extra digits are zeros, never a rounding.
fn parse_hundredths(s: &str) -> Result<i64, ParseMoneyError> {
    let err = |why: &str| ParseMoneyError(format!("{s:?} is not a decimal amount: {why}"));
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(err("no digits"));
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit()) || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err("only digits, one '.' and a leading sign are allowed"));
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > 2 {
        return Err(err("more than 2 decimal places"));
    }
    let mut cents: i64 = 0;
    for b in int_part.bytes() {
        cents = cents
            .checked_mul(10)
            .and_then(|c| c.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| err("too large"))?;
    }
    let mut frac = [b'0'; 2];
    for (slot, b) in frac.iter_mut().zip(frac_trimmed.bytes()) {
        *slot = b;
    }
    cents = cents
        .checked_mul(100)
        .and_then(|c| c.checked_add(i64::from(frac[0] - b'0') * 10 + i64::from(frac[1] - b'0')))
        .ok_or_else(|| err("too large"))?;
    Ok(if negative { -cents } else { cents })
}

impl FromStr for Money {
    type Err = ParseMoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hundredths(s).map(Money)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(de::Error::custom)
    }
}

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
        fmt_hundredths(self.0, f)
    }
}

impl FromStr for Percent {
    type Err = ParseMoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_hundredths(s).map(Percent)
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
    fn money_round_trips_as_two_decimal_strings() {
        for (text, cents, shown) in [
            ("0", 0, "0.00"),
            ("531.93", 53193, "531.93"),
            ("499", 49900, "499.00"),
            ("0.5", 50, "0.50"),
            ("-12.30", -1230, "-12.30"),
            ("1.500", 150, "1.50"),
            (".25", 25, "0.25"),
        ] {
            let m: Money = text.parse().unwrap();
            assert_eq!(m.cents(), cents, "{text}");
            assert_eq!(m.to_string(), shown);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{shown}\""));
            assert_eq!(serde_json::from_str::<Money>(&format!("\"{shown}\"")).unwrap(), m);
        }
    }

    #[test]
    fn money_rejects_what_it_cannot_hold_exactly() {
        for bad in ["", "-", "1.234", "1e3", "12,50", "abc", "1.2.3", "99999999999999999999"] {
            assert!(bad.parse::<Money>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(Money(100).div_round(3), Some(Money(33)));
        assert_eq!(Money(5).div_round(2), Some(Money(3)));
        assert_eq!(Money(-5).div_round(2), Some(Money(-3)));
        assert_eq!(Money(5).div_round(0), None);
    }

    #[test]
    fn growth_is_exact_and_signed() {
        assert_eq!(Percent::growth(150, 100).unwrap().to_string(), "50.00");
        assert_eq!(Percent::growth(50, 100).unwrap().to_string(), "-50.00");
        assert_eq!(Percent::growth(1, 3).unwrap().to_string(), "-66.67");
        assert!(Percent::growth(1, 0).is_none());
        assert!(Percent::growth(99, 100).unwrap().is_negative());
    }
}

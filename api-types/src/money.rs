//! Exact money values.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// An exact amount of one currency: an integer count of its minor unit and
/// the currency's ISO 4217 exponent (the number of decimals of the minor
/// unit: 2 for cents, 0 for the yen, 3 for the Kuwaiti fils).
///
/// Serialised as a decimal string with exactly `exponent` decimals:
/// `"1234.50"` (usd), `"1500"` (jpy), `"12.345"` (kwd). Read back, the
/// exponent is the number of decimals written, so a value round-trips.
///
/// Two amounts compare by value (`1500` with exponent 0 equals `150000` with
/// exponent 2); amounts of different currencies are never compared or added.
#[derive(Debug, Clone, Copy)]
pub struct Money {
    minor: i64,
    exponent: u8,
}

impl Money {
    /// The most decimals an amount may have: 10^18 still fits an `i64`, and
    /// ISO 4217 has no currency with more than 4.
    pub const MAX_EXPONENT: u8 = 18;

    /// `minor` units of a currency with `exponent` decimals (at most
    /// [`Money::MAX_EXPONENT`]; a larger exponent is taken as the maximum,
    /// which no ISO 4217 currency comes near).
    pub const fn new(minor: i64, exponent: u8) -> Money {
        let exponent = if exponent > Self::MAX_EXPONENT {
            Self::MAX_EXPONENT
        } else {
            exponent
        };
        Money { minor, exponent }
    }

    /// Zero in a currency with `exponent` decimals.
    pub const fn zero(exponent: u8) -> Money {
        Money::new(0, exponent)
    }

    /// The amount in minor units (cents for a currency with two decimals).
    pub const fn minor(self) -> i64 {
        self.minor
    }

    /// The number of decimals of the minor unit.
    pub const fn exponent(self) -> u8 {
        self.exponent
    }

    pub const fn is_zero(self) -> bool {
        self.minor == 0
    }

    /// `self / divisor`, rounded half away from zero to the minor unit;
    /// `None` when dividing by zero (or `i64::MIN` by -1).
    pub fn div_round(self, divisor: i64) -> Option<Money> {
        if divisor == 0 {
            return None;
        }
        let q = div_round_half_away(i128::from(self.minor), i128::from(divisor));
        // Only i64::MIN / -1 leaves the range.
        i64::try_from(q).ok().map(|minor| Money::new(minor, self.exponent))
    }

    /// The same value with `exponent` decimals; `None` when that would lose
    /// digits (`"1500.50"` has no whole-unit form) or not fit 64 bits.
    pub fn with_exponent(self, exponent: u8) -> Option<Money> {
        if exponent > Self::MAX_EXPONENT {
            return None;
        }
        let minor = if exponent >= self.exponent {
            self.minor
                .checked_mul(10i64.checked_pow(u32::from(exponent - self.exponent))?)?
        } else {
            let factor = 10i64.pow(u32::from(self.exponent - exponent));
            if self.minor % factor != 0 {
                return None;
            }
            self.minor / factor
        };
        Some(Money { minor, exponent })
    }

    /// `self + other`, exact: with the larger of the two exponents; `None` when
    /// the sum does not fit 64 bits.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        let exponent = self.exponent.max(other.exponent);
        let (a, b) = (self.with_exponent(exponent)?, other.with_exponent(exponent)?);
        Some(Money::new(a.minor.checked_add(b.minor)?, exponent))
    }

    /// `self - other`, exact, as [`Money::checked_add`].
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        let exponent = self.exponent.max(other.exponent);
        let (a, b) = (self.with_exponent(exponent)?, other.with_exponent(exponent)?);
        Some(Money::new(a.minor.checked_sub(b.minor)?, exponent))
    }

    /// The value in whole currency units as a float: for drawing charts only,
    /// never for arithmetic.
    pub fn to_f64(self) -> f64 {
        self.minor as f64 / 10f64.powi(i32::from(self.exponent))
    }

    /// Parses a plain decimal (`"12"`, `"-0.5"`, `"1234.56"`) in a currency
    /// with `exponent` decimals. More decimals than that are an error
    /// ([`ParseMoneyError::TooManyDecimals`]) unless the extra digits are
    /// zeros (`"1500.00"` yen is 1500 yen): never a rounding.
    pub fn parse(text: &str, exponent: u8) -> Result<Money, ParseMoneyError> {
        let exponent = exponent.min(Self::MAX_EXPONENT);
        parse_scaled(text, exponent).map(|minor| Money { minor, exponent })
    }

    /// The value scaled to `10^18`-ths, for comparing amounts of different exponents.
    fn scaled(self) -> i128 {
        i128::from(self.minor) * 10i128.pow(u32::from(Self::MAX_EXPONENT - self.exponent))
    }
}

/// In the OpenAPI document: a string (the derive would describe the two fields).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .description(Some(
                "An exact decimal with as many decimals as the currency's ISO 4217 minor unit: \
                 \"2451305.12\" (usd), \"1500\" (jpy), \"12.345\" (kwd).",
            ))
            .pattern(Some(r"^-?\d+(\.\d+)?$"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Money {}

impl PartialEq for Money {
    fn eq(&self, other: &Self) -> bool {
        self.scaled() == other.scaled()
    }
}

impl Eq for Money {}

impl PartialOrd for Money {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Money {
    fn cmp(&self, other: &Self) -> Ordering {
        self.scaled().cmp(&other.scaled())
    }
}

impl Hash for Money {
    /// Equal values hash alike whatever their exponents.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.scaled().hash(state);
    }
}

/// Rewrites each amount of a per-currency map with its currency's exponent
/// (`exponent_of`), where that is exact: see [`Money::with_exponent`]. For
/// figures stored by an earlier version, which wrote two decimals for every
/// currency; an amount its currency cannot hold (`"1500.50"` yen, accepted by
/// mistake then) keeps the decimals it was stored with.
pub fn rescale_per_currency(
    amounts: &mut std::collections::BTreeMap<crate::Currency, Money>,
    exponent_of: &dyn Fn(&str) -> u8,
) {
    for (currency, amount) in amounts.iter_mut() {
        *amount = rescaled(*amount, currency.as_str(), exponent_of);
    }
}

/// `amount` with the exponent of `currency` where that is exact, else as it is.
pub fn rescaled(amount: Money, currency: &str, exponent_of: &dyn Fn(&str) -> u8) -> Money {
    amount.with_exponent(exponent_of(currency)).unwrap_or(amount)
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

/// `value` as a decimal with `exponent` decimals (none at all for 0), padded
/// as the formatter asks (`{:>12}`).
pub(crate) fn fmt_scaled(value: i64, exponent: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    if exponent == 0 {
        return f.pad(&format!("{sign}{abs}"));
    }
    let factor = 10u64.pow(u32::from(exponent));
    let width = usize::from(exponent);
    f.pad(&format!("{sign}{}.{:0width$}", abs / factor, abs % factor))
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_scaled(self.minor, self.exponent, f)
    }
}

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseMoneyError {
    /// Not a plain decimal: letters, separators, an exponent, no digits.
    NotADecimal { text: String, why: &'static str },
    /// More (non-zero) decimals than the currency has.
    TooManyDecimals { text: String, decimals: usize, allowed: u8 },
    /// Beyond 64-bit minor units.
    TooLarge { text: String },
}

impl fmt::Display for ParseMoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotADecimal { text, why } => write!(f, "{text:?} is not a decimal amount: {why}"),
            Self::TooManyDecimals {
                text,
                decimals,
                allowed,
            } => write!(
                f,
                "{text:?} has {decimals} decimal{}, more than the {allowed} of the currency's minor unit",
                if *decimals == 1 { "" } else { "s" }
            ),
            Self::TooLarge { text } => write!(f, "{text:?} is too large (beyond 64-bit minor units)"),
        }
    }
}

impl std::error::Error for ParseMoneyError {}

/// The parts of a plain decimal, its syntax checked: (negative, integer digits, decimal digits).
fn split_decimal(s: &str) -> Result<(bool, &str, &str), ParseMoneyError> {
    let err = |why: &'static str| ParseMoneyError::NotADecimal {
        text: s.to_owned(),
        why,
    };
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
    Ok((negative, int_part, frac_part))
}

/// Parses a plain decimal into units of `10^-exponent`. The syntax is checked
/// before the precision and the range, so a text that is no number at all is
/// always [`ParseMoneyError::NotADecimal`].
pub(crate) fn parse_scaled(s: &str, exponent: u8) -> Result<i64, ParseMoneyError> {
    let (negative, int_part, frac_part) = split_decimal(s)?;
    let significant = frac_part.trim_end_matches('0');
    if significant.len() > usize::from(exponent) {
        return Err(ParseMoneyError::TooManyDecimals {
            text: s.to_owned(),
            decimals: significant.len(),
            allowed: exponent,
        });
    }
    let too_large = || ParseMoneyError::TooLarge { text: s.to_owned() };
    // Accumulated negative: i64::MIN has no positive counterpart.
    let mut value: i64 = 0;
    let frac = significant
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(usize::from(exponent));
    for b in int_part.bytes().chain(frac) {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_sub(i64::from(b - b'0')))
            .ok_or_else(too_large)?;
    }
    if negative {
        Ok(value)
    } else {
        value.checked_neg().ok_or_else(too_large)
    }
}

impl FromStr for Money {
    type Err = ParseMoneyError;
    /// The exponent is the number of decimals written: `"12.50"` is 1250
    /// hundredths, `"1500"` 1500 whole units (how the API writes amounts).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (_, _, frac) = split_decimal(s)?;
        let exponent = u8::try_from(frac.len())
            .ok()
            .filter(|&e| e <= Self::MAX_EXPONENT)
            .ok_or_else(|| ParseMoneyError::TooManyDecimals {
                text: s.to_owned(),
                decimals: frac.len(),
                allowed: Self::MAX_EXPONENT,
            })?;
        Money::parse(s, exponent)
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
            let m = Money::parse(text, 2).unwrap();
            assert_eq!((m.minor(), m.exponent()), (cents, 2), "{text}");
            assert_eq!(m.to_string(), shown);
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{shown}\""));
            let back = serde_json::from_str::<Money>(&format!("\"{shown}\"")).unwrap();
            assert_eq!((back.minor(), back.exponent()), (cents, 2));
        }
    }

    #[test]
    fn each_exponent_has_its_own_decimals() {
        for (text, exponent, minor, shown) in [
            ("1500", 0, 1500, "1500"),
            ("1500.00", 0, 1500, "1500"),
            ("-7", 0, -7, "-7"),
            ("12.345", 3, 12345, "12.345"),
            ("12.3", 3, 12300, "12.300"),
            ("0.001", 3, 1, "0.001"),
            ("-0.5", 3, -500, "-0.500"),
            ("1.2345", 4, 12345, "1.2345"),
        ] {
            let m = Money::parse(text, exponent).unwrap();
            assert_eq!((m.minor(), m.exponent()), (minor, exponent), "{text}");
            assert_eq!(m.to_string(), shown);
            // What the API writes reads back with the same exponent.
            let back: Money = serde_json::from_str(&format!("\"{shown}\"")).unwrap();
            assert_eq!((back.minor(), back.exponent()), (minor, exponent), "{shown}");
        }
    }

    #[test]
    fn more_decimals_than_the_currency_has_are_refused() {
        assert_eq!(
            Money::parse("1500.50", 0),
            Err(ParseMoneyError::TooManyDecimals {
                text: "1500.50".into(),
                decimals: 1,
                allowed: 0
            })
        );
        let err = Money::parse("12.3456", 3).unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"12.3456\" has 4 decimals, more than the 3 of the currency's minor unit"
        );
        assert!(matches!(
            Money::parse("1.001", 2),
            Err(ParseMoneyError::TooManyDecimals { .. })
        ));
        // Syntax is judged before precision: a text that is no number says so.
        assert!(matches!(
            Money::parse("1,5.123", 0),
            Err(ParseMoneyError::NotADecimal { .. })
        ));
    }

    #[test]
    fn amounts_beyond_64_bits_are_refused_at_every_exponent() {
        assert_eq!(Money::parse("9223372036854775807", 0).unwrap().minor(), i64::MAX);
        assert_eq!(Money::parse("-9223372036854775808", 0).unwrap().minor(), i64::MIN);
        assert_eq!(Money::parse("-9223372036854775.808", 3).unwrap().minor(), i64::MIN);
        for (text, exponent) in [
            ("9223372036854775808", 0),
            ("92233720368547758.08", 2),
            ("9223372036854775.808", 3),
            ("99999999999999999999", 2),
            ("-92233720368547758.09", 2),
        ] {
            assert!(
                matches!(Money::parse(text, exponent), Err(ParseMoneyError::TooLarge { .. })),
                "{text} at {exponent}"
            );
        }
        assert_eq!(Money::new(i64::MIN, 2).to_string(), "-92233720368547758.08");
        assert_eq!(format!("{:>6}", Money::new(1500, 0)), "  1500");
    }

    #[test]
    fn money_rejects_what_it_cannot_hold_exactly() {
        for bad in ["", "-", "1.234", "1e3", "12,50", "abc", "1.2.3", "99999999999999999999"] {
            assert!(Money::parse(bad, 2).is_err(), "{bad:?} should not parse");
        }
        assert!("1.0000000000000000000".parse::<Money>().is_err(), "19 decimals");
    }

    #[test]
    fn values_compare_across_exponents() {
        assert_eq!(Money::new(1500, 0), Money::new(150_000, 2));
        assert!(Money::new(1, 3) < Money::new(1, 2));
        assert_eq!(Money::new(1500, 0).with_exponent(2), Some(Money::new(150_000, 2)));
        assert_eq!(Money::new(150_050, 2).with_exponent(0), None);
        assert_eq!(Money::new(i64::MAX, 0).with_exponent(1), None);
        let sum = Money::new(1500, 0).checked_add(Money::new(50, 2)).unwrap();
        assert_eq!((sum.minor(), sum.exponent()), (150_050, 2));
        assert_eq!(Money::new(5, 0).checked_sub(Money::new(7, 0)), Some(Money::new(-2, 0)));
        assert_eq!(Money::new(i64::MAX, 0).checked_add(Money::new(1, 0)), None);
        assert_eq!(Money::new(12_345, 3).to_f64(), 12.345);
    }

    #[test]
    fn division_rounds_half_away_from_zero() {
        assert_eq!(Money::new(100, 2).div_round(3), Some(Money::new(33, 2)));
        assert_eq!(Money::new(5, 2).div_round(2), Some(Money::new(3, 2)));
        assert_eq!(Money::new(-5, 2).div_round(2), Some(Money::new(-3, 2)));
        assert_eq!(
            Money::new(5, 0).div_round(2).map(|m| m.to_string()).as_deref(),
            Some("3")
        );
        assert_eq!(Money::new(5, 2).div_round(0), None);
        assert_eq!(Money::new(i64::MIN, 2).div_round(-1), None);
    }
}

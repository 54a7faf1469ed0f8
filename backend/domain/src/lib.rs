//! Domain newtypes that parse input once: a value of these types is valid.

mod currency;
mod month;
mod personal;
mod role;
mod shared;
mod timestamp;

pub use currency::{exponent_of, money_of, Currency, LEGACY_EXPONENT};
pub use month::Month;
pub use personal::mask_emails;
pub use role::Role;
pub use shared::SharedTexts;
pub use timestamp::parse_timestamp;

pub use api_types::{Money, ParseMoneyError};

/// The start of every API token: recognisable in a leaked file, a log line
/// or a secret scanner.
pub const TOKEN_PREFIX: &str = "rak_";

/// Longest id accepted (transaction, customer, subscription, plan), in bytes:
/// far above any real id, and below what a PostgreSQL index entry can hold
/// (about 2.7 kB), so both engines accept and refuse the same rows.
pub const MAX_ID_BYTES: usize = 255;

/// Checks an id's length (ids are never empty here: the caller checks that).
pub fn check_id(id: &str, column: &str) -> Result<(), String> {
    if id.len() > MAX_ID_BYTES {
        let mut cut = 40;
        while !id.is_char_boundary(cut) {
            cut -= 1;
        }
        return Err(format!(
            "column {column:?} is {} bytes long, more than the {MAX_ID_BYTES} an id may have (it starts {:?}…)",
            id.len(),
            &id[..cut]
        ));
    }
    Ok(())
}

/// The transaction dates a run accepts: anything outside is a typo or a
/// misread format (`12/31/99` read as 2099), and one such row would move the
/// latest month and empty every default report window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateBounds {
    pub earliest: chrono::NaiveDateTime,
    pub latest: chrono::NaiveDateTime,
}

/// The years a transaction may have: a month's partition is named and
/// bounded by a four-digit year (`fct_transaction__2024_01`).
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// The most `--max-days-ahead` may say (a century).
pub const MAX_DAYS_AHEAD: u32 = 36_500;

/// An `--earliest-date`: a day (YYYY-MM-DD) of a year in [`YEARS`].
pub fn parse_earliest_date(text: &str) -> Result<chrono::NaiveDate, String> {
    use chrono::Datelike;
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| format!("{text:?}: {e} (expected YYYY-MM-DD)"))?;
    if !YEARS.contains(&day.year()) {
        return Err(format!("{text:?}: the year must be 0001 to 9999"));
    }
    Ok(day)
}

impl DateBounds {
    /// From `earliest` (inclusive) to `days_ahead` days after `now`, never
    /// outside [`YEARS`] (the command line refuses such bounds; this keeps
    /// other callers from overflowing the date arithmetic).
    pub fn new(earliest: chrono::NaiveDate, days_ahead: u32, now: chrono::NaiveDateTime) -> Self {
        let first = chrono::NaiveDate::from_ymd_opt(*YEARS.start(), 1, 1)
            .unwrap_or(chrono::NaiveDate::MIN)
            .and_time(chrono::NaiveTime::MIN);
        let last = chrono::NaiveDate::from_ymd_opt(*YEARS.end(), 12, 31)
            .and_then(|d| d.and_hms_micro_opt(23, 59, 59, 999_999))
            .unwrap_or(chrono::NaiveDateTime::MAX);
        let latest = chrono::Duration::try_days(i64::from(days_ahead))
            .and_then(|ahead| now.checked_add_signed(ahead))
            .map_or(last, |t| t.min(last));
        Self {
            earliest: earliest.and_time(chrono::NaiveTime::MIN).clamp(first, last),
            latest,
        }
    }

    pub fn check(&self, t: chrono::NaiveDateTime) -> Result<(), String> {
        if t < self.earliest || t > self.latest {
            return Err(format!(
                "{} is outside the plausible range {} to {} (see --earliest-date, --max-days-ahead)",
                t.format("%Y-%m-%d %H:%M:%S"),
                self.earliest.format("%Y-%m-%d"),
                self.latest.format("%Y-%m-%d %H:%M")
            ));
        }
        Ok(())
    }
}

/// Why an amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("negative amount {0:?}")]
    Negative(String),
    #[error(transparent)]
    Parse(#[from] ParseMoneyError),
}

impl AmountError {
    /// The rejection's reason code: an amount with more decimals than its
    /// currency has is told apart from one that is no amount at all.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Self::Parse(ParseMoneyError::TooManyDecimals { .. }) => "too_many_decimals",
            _ => "invalid_amount",
        }
    }
}

/// Parses an amount of a currency with `exponent` decimals into exact minor
/// units (`"173000"`, `"12.5"`, `"-0.99"`); binary floating point never
/// touches it. More decimals than `exponent` are refused unless they are
/// zeros. Negative amounts (refunds) are accepted only when `allow_negative`.
pub fn parse_amount(raw: &str, exponent: u8, allow_negative: bool) -> Result<Money, AmountError> {
    let text = raw.trim();
    if text.starts_with('-') && !allow_negative {
        return Err(AmountError::Negative(raw.to_owned()));
    }
    Ok(Money::parse(text, exponent)?)
}

/// Decimals of a plan's amount (products.csv `Amount`): the file names no
/// currency, so plan amounts are kept in thousandths, enough for every
/// currency's minor unit (a test checks it). They only weigh a transaction's
/// split across its plans: the scale cancels out.
pub const PLAN_AMOUNT_EXPONENT: u8 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_amount_nn(raw: &str) -> Result<Money, AmountError> {
        parse_amount(raw, 2, false)
    }

    #[test]
    fn ids_and_dates_have_bounds() {
        assert!(check_id(&"a".repeat(255), "Customer ID").is_ok());
        let err = check_id(&"é".repeat(200), "Customer ID").unwrap_err();
        assert!(err.contains("400 bytes") && err.len() < 200, "{err}");
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let now = day("2026-11-29").and_hms_opt(12, 0, 0).unwrap();
        let bounds = DateBounds::new(day("2000-01-01"), 1, now);
        assert!(bounds.check(day("2000-01-01").and_hms_opt(0, 0, 0).unwrap()).is_ok());
        assert!(bounds.check(now + chrono::Duration::hours(24)).is_ok());
        assert!(bounds.check(now + chrono::Duration::hours(25)).is_err());
        assert!(bounds
            .check(day("1999-12-31").and_hms_opt(23, 59, 59).unwrap())
            .is_err());
        assert!(bounds
            .check(day("2099-12-31").and_hms_opt(0, 0, 0).unwrap())
            .unwrap_err()
            .contains("2099-12-31"));
    }

    #[test]
    fn date_bounds_stay_within_four_digit_years() {
        let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let now = day("2026-11-29").and_hms_opt(12, 0, 0).unwrap();
        let wide = DateBounds::new(chrono::NaiveDate::MIN, u32::MAX, now);
        assert_eq!(wide.earliest.to_string(), "0001-01-01 00:00:00");
        assert_eq!(wide.latest.to_string(), "9999-12-31 23:59:59.999999");
        assert_eq!(parse_earliest_date("2000-01-01"), Ok(day("2000-01-01")));
        for bad in ["0000-12-31", "+10000-01-01", "-0001-01-01", "2000-13-01", "yesterday"] {
            let err = parse_earliest_date(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn refunds_only_where_allowed() {
        assert_eq!(parse_amount("-624.8", 2, true).unwrap().minor(), -62480);
        assert!(parse_amount("-624.8", 2, false).is_err());
        assert!(parse_amount("-", 2, true).is_err());
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount_nn("173000").unwrap().minor(), 17_300_000);
        assert_eq!(parse_amount_nn(" 12.5 ").unwrap().minor(), 1250);
        assert_eq!(parse_amount_nn("0").unwrap().minor(), 0);
        assert_eq!(parse_amount_nn("0.01").unwrap().minor(), 1);
        assert!(parse_amount_nn("-1.00").unwrap_err().to_string().contains("negative"));
        assert_eq!(parse_amount_nn("1.001").unwrap_err().reason_code(), "too_many_decimals");
        for bad in ["abc", "", "1e5", "1,000.00"] {
            assert_eq!(
                parse_amount_nn(bad).unwrap_err().reason_code(),
                "invalid_amount",
                "{bad:?}"
            );
        }
    }

    /// Each currency's own minor unit: whole yen, thousandths of a dinar.
    #[test]
    fn amounts_per_exponent() {
        let parse = |raw: &str, code: &str| {
            let currency = Currency::parse(code).unwrap();
            parse_amount(raw, currency.exponent(), true).map(|m| (m.minor(), m.to_string()))
        };
        assert_eq!(parse("1500", "jpy"), Ok((1500, "1500".into())));
        assert_eq!(parse("1500.00", "jpy"), Ok((1500, "1500".into())), "zeros lose nothing");
        assert_eq!(parse("-20", "jpy"), Ok((-20, "-20".into())));
        assert_eq!(parse("12.345", "kwd"), Ok((12_345, "12.345".into())));
        assert_eq!(parse("12.34", "kwd"), Ok((12_340, "12.340".into())));
        assert_eq!(parse("0.001", "bhd"), Ok((1, "0.001".into())));
        assert_eq!(parse("12.34", "usd"), Ok((1234, "12.34".into())));
        let too_precise = |raw: &str, code: &str| {
            let currency = Currency::parse(code).unwrap();
            let err = parse_amount(raw, currency.exponent(), true).unwrap_err();
            (err.reason_code(), err.to_string())
        };
        assert_eq!(
            too_precise("1500.50", "jpy"),
            (
                "too_many_decimals",
                "\"1500.50\" has 1 decimal, more than the 0 of the currency's minor unit".into()
            )
        );
        assert_eq!(too_precise("12.3456", "kwd").0, "too_many_decimals");
        assert_eq!(too_precise("12.345", "usd").0, "too_many_decimals");
        // Overflow is judged in the currency's unit: 10^16 dinars are 10^19 fils.
        assert_eq!(parse("9223372036854775807", "jpy").map(|m| m.0), Ok(i64::MAX));
        assert_eq!(too_precise("9223372036854775808", "jpy").0, "invalid_amount");
        assert_eq!(too_precise("10000000000000000", "kwd").0, "invalid_amount");
        assert!(too_precise("10000000000000000", "kwd").1.contains("too large"));
        assert_eq!(
            parse("1000000000000000", "kwd").map(|m| m.0),
            Ok(1_000_000_000_000_000_000)
        );
    }

    #[test]
    fn plan_amounts_hold_every_minor_unit() {
        assert!(Currency::all().iter().all(|c| c.exponent() <= PLAN_AMOUNT_EXPONENT));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text: an amount or an explanation, never a panic; an amount
        /// printed and parsed again is the same amount.
        #[test]
        fn amounts_round_trip(cents in any::<i64>(), text in "\\PC{0,30}") {
            for exponent in [0, 2, 3] {
                let _ = parse_amount(&text, exponent, true);
                let printed = Money::new(cents, exponent).to_string();
                prop_assert_eq!(parse_amount(&printed, exponent, true).map(|m| m.minor()), Ok(cents));
            }
        }

        /// Text near the accepted forms (digits, separators, signs, a
        /// multi-byte letter) reaches the parsers' inner branches, which
        /// arbitrary text almost never does: still never a panic.
        #[test]
        fn timestamp_like_text_never_panics(text in "[0-9T:+/ .Zzé\\-ⶠ]{0,30}", amount in "[0-9$€.,\\- ()ⶠ]{0,20}") {
            let _ = parse_timestamp(&text);
            let _ = parse_amount(&amount, 3, true);
        }

        /// Any text: a timestamp or an explanation, never a panic; every
        /// supported form of a time parses back to that time.
        #[test]
        fn timestamps_round_trip(text in "\\PC{0,40}", secs in 946_684_800i64..4_102_444_800, micros in 0u32..1_000_000) {
            let _ = parse_timestamp(&text);
            let t = chrono::DateTime::from_timestamp(secs, micros * 1000).unwrap().naive_utc();
            let whole = t.with_nanosecond(0).unwrap();
            let minute = whole.with_second(0).unwrap();
            for (form, want) in [
                (t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(), t),
                (t.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string(), t),
                (whole.format("%-m/%-d/%Y %-H:%M:%S").to_string(), whole),
                (minute.format("%-m/%-d/%y %-H:%M").to_string(), minute),
            ] {
                prop_assert_eq!(parse_timestamp(&form), Ok(want), "{}", form);
            }
        }
    }

    use chrono::Timelike;
}

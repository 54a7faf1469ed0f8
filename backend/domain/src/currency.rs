//! ISO 4217 currencies, stored lowercase as in the export (`usd`, `eur`), each
//! with its minor unit: the number of decimals an amount of it has (2 for the
//! dollar's cents, 0 for the yen, 3 for the Kuwaiti dinar's fils).
//!
//! The codes and exponents come from the `iso_currency` crate (ISO's own
//! table, maintained upstream) rather than a list kept here.

use std::fmt;
use std::sync::LazyLock;

/// A currency a transaction can be paid in, lowercase, with its ISO 4217 exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    exponent: u8,
    /// The code as the API writes it.
    api: api_types::Currency,
}

/// Codes withdrawn from ISO 4217 (and so from the crate) that earlier
/// versions accepted, with their exponent: exports keep historical
/// transactions, and a reload must not reject what loaded before.
/// `ang` (Netherlands Antillean guilder) was replaced by `xcg` in 2025.
const WITHDRAWN: &[(&str, u8)] = &[("ang", 2)];

/// The exponent of amounts stored for a code this table does not know: only
/// data loaded by an older version can have one, and those amounts were
/// stored in hundredths.
pub const LEGACY_EXPONENT: u8 = 2;

/// Every accepted currency, sorted by code. Fund codes (`bov`, `clf`, …) and
/// special codes (precious metals, `xdr`, `xts`, `xxx`) are not currencies a
/// customer pays in and have no or an unusual minor unit: they are refused,
/// as they were before the table came from the crate.
static TABLE: LazyLock<Vec<Currency>> = LazyLock::new(|| {
    // The crate has no list without its `iterator` feature (and strum):
    // ISO numeric codes are three digits, so every currency has one below 1000.
    let mut table: Vec<Currency> = (0..1000u16)
        .filter_map(iso_currency::Currency::from_numeric)
        .filter(|c| !c.is_fund() && !c.is_special())
        .filter_map(|c| {
            let exponent = u8::try_from(c.exponent()?).ok()?;
            // The code lives as long as the table: leaked once, ~180 three-byte strings.
            let code: &'static str = Box::leak(c.code().to_ascii_lowercase().into_boxed_str());
            Currency::of(code, exponent)
        })
        .chain(
            WITHDRAWN
                .iter()
                .filter_map(|&(code, exponent)| Currency::of(code, exponent)),
        )
        .collect();
    table.sort_unstable();
    table.dedup_by_key(|c| c.code);
    table
});

impl Currency {
    /// A code of the table: three letters, so always a code of the API too.
    fn of(code: &'static str, exponent: u8) -> Option<Self> {
        let api = api_types::Currency::from_code(code).ok()?;
        Some(Currency { code, exponent, api })
    }

    /// The code as the API writes it (the contract's type).
    pub fn code(self) -> api_types::Currency {
        self.api
    }

    /// Accepts any case and surrounding spaces: `"USD"`, `" eur"`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        // The common case (already lowercase) needs no allocation.
        let lower;
        let code = if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = trimmed.to_ascii_lowercase();
            lower.as_str()
        } else {
            trimmed
        };
        TABLE
            .binary_search_by(|c| c.code.cmp(code))
            .ok()
            .map(|i| TABLE[i])
            .ok_or_else(|| format!("unknown currency code {raw:?} (expected an ISO 4217 code such as usd or eur)"))
    }

    pub fn as_str(self) -> &'static str {
        self.code
    }

    /// The number of decimals of the currency's minor unit (ISO 4217).
    pub fn exponent(self) -> u8 {
        self.exponent
    }

    /// `minor` units of this currency as an amount.
    pub fn money(self, minor: i64) -> api_types::Money {
        api_types::Money::new(minor, self.exponent)
    }

    /// Every accepted currency, sorted by code.
    pub fn all() -> &'static [Currency] {
        &TABLE
    }
}

/// The exponent of a stored currency code: its ISO 4217 exponent, or
/// [`LEGACY_EXPONENT`] for a code no longer in the table.
pub fn exponent_of(code: &str) -> u8 {
    Currency::parse(code).map_or(LEGACY_EXPONENT, Currency::exponent)
}

/// `minor` units of the stored currency `code` as an amount.
pub fn money_of(code: &str, minor: i64) -> api_types::Money {
    api_types::Money::new(minor, exponent_of(code))
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_codes_only() {
        assert_eq!(Currency::parse("usd").unwrap().as_str(), "usd");
        assert_eq!(Currency::parse(" EUR ").unwrap().as_str(), "eur");
        assert!(Currency::parse("xyz").unwrap_err().contains("\"xyz\""));
        assert!(Currency::parse("").is_err());
        // Funds, metals and test codes are no currency of payment.
        for code in ["xau", "xxx", "xts", "xdr", "bov", "clf", "uyw"] {
            assert!(Currency::parse(code).is_err(), "{code}");
        }
        assert!(
            Currency::all().windows(2).all(|w| w[0].code < w[1].code),
            "sorted, no repeats"
        );
    }

    #[test]
    fn exponents_are_iso_4217_minor_units() {
        for (code, exponent) in [
            ("usd", 2),
            ("eur", 2),
            ("jpy", 0),
            ("krw", 0),
            ("xof", 0),
            ("isk", 0),
            ("kwd", 3),
            ("bhd", 3),
            ("omr", 3),
            ("jod", 3),
            ("tnd", 3),
            ("lyd", 3),
            ("iqd", 3),
            ("ang", 2),
        ] {
            assert_eq!(Currency::parse(code).unwrap().exponent(), exponent, "{code}");
        }
        assert_eq!(exponent_of("jpy"), 0);
        assert_eq!(exponent_of("zzz"), LEGACY_EXPONENT);
        assert_eq!(money_of("kwd", 12_345).to_string(), "12.345");
    }

    /// Every code the hand-kept list of earlier versions accepted still parses:
    /// data that loaded before loads again.
    #[test]
    fn the_codes_accepted_before_are_still_accepted() {
        const BEFORE: &[&str] = &[
            "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt", "bgn", "bhd",
            "bif", "bmd", "bnd", "bob", "brl", "bsd", "btn", "bwp", "byn", "bzd", "cad", "cdf", "chf", "clp", "cny",
            "cop", "crc", "cup", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "ern", "etb", "eur", "fjd", "fkp",
            "gbp", "gel", "ghs", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg", "huf", "idr", "ils", "inr",
            "iqd", "irr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf", "kpw", "krw", "kwd", "kyd", "kzt",
            "lak", "lbp", "lkr", "lrd", "lsl", "lyd", "mad", "mdl", "mga", "mkd", "mmk", "mnt", "mop", "mru", "mur",
            "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr", "nzd", "omr", "pab", "pen", "pgk",
            "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub", "rwf", "sar", "sbd", "scr", "sdg", "sek", "sgd",
            "shp", "sle", "sos", "srd", "ssp", "stn", "svc", "syp", "szl", "thb", "tjs", "tmt", "tnd", "top", "try",
            "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "ves", "vnd", "vuv", "wst", "xaf", "xcd", "xof",
            "xpf", "yer", "zar", "zmw", "zwl",
        ];
        let missing: Vec<&str> = BEFORE.iter().copied().filter(|c| Currency::parse(c).is_err()).collect();
        assert!(missing.is_empty(), "no longer accepted: {missing:?}");
    }
}

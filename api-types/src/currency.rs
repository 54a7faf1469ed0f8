//! A currency as the API names it: its ISO 4217 code in lowercase (`usd`,
//! `eur`), as the export writes it. This is the contract's form only; which
//! codes a load accepts and how many decimals each has is the backend's
//! business (`domain::Currency`, from ISO's table), which the dashboard does
//! not need: an amount ([`crate::Money`]) carries its own decimals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A three-letter currency code, lowercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Reads a code in any case with surrounding spaces (`" USD"`): three
    /// ASCII letters. Whether ISO 4217 knows it is not checked here.
    pub fn from_code(text: &str) -> Result<Self, ParseCurrencyError> {
        match text.trim().as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => {
                Ok(Self([a, b, c].map(|b| b.to_ascii_lowercase())))
            }
            _ => Err(ParseCurrencyError(text.to_owned())),
        }
    }

    /// The lowercase code, as the API writes it.
    pub fn as_str(&self) -> &str {
        // Three ASCII letters by construction: always UTF-8.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl AsRef<str> for Currency {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Currency {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Currency {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A string that is not a three-letter currency code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseCurrencyError(pub String);

impl fmt::Display for ParseCurrencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a currency code (expected three letters, such as usd)",
            self.0
        )
    }
}

impl std::error::Error for ParseCurrencyError {}

impl FromStr for Currency {
    type Err = ParseCurrencyError;

    fn from_str(s: &str) -> Result<Self, ParseCurrencyError> {
        Self::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .pattern(Some("^[a-z]{3}$"))
            .description(Some("An ISO 4217 currency code in lowercase: usd, eur, jpy."))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn three_letters_written_lowercase() {
        let usd = Currency::from_code(" USD ");
        assert_eq!(usd.as_ref().map(Currency::as_str), Ok("usd"));
        assert_eq!(serde_json::to_string(&usd.ok()).ok().as_deref(), Some(r#""usd""#));
        assert_eq!(
            serde_json::from_str::<Currency>(r#""eur""#)
                .map(|c| c.to_string())
                .ok()
                .as_deref(),
            Some("eur")
        );
        for bad in ["us", "usdx", "", "u$d", "ééé"] {
            assert!(Currency::from_code(bad).is_err(), "{bad}");
        }
        let a = Currency::from_code("aud").ok();
        let b = Currency::from_code("usd").ok();
        assert!(a < b, "ordered as the codes are");
    }

    /// Per-currency maps are keyed by `Currency`: their JSON must stay what
    /// `String` keys wrote, in the same order, and read back from object keys.
    #[test]
    fn a_map_key_reads_and_writes_as_its_code_in_code_order() {
        let mut codes = Vec::new();
        for a in b'a'..=b'z' {
            for b in b'a'..=b'z' {
                // The last letter first: the list starts out of order.
                codes.extend((b'a'..=b'z').map(|c| String::from_utf8(vec![c, b, a]).unwrap()));
            }
        }
        let mut by_currency: Vec<Currency> = codes.iter().map(|c| Currency::from_code(c).unwrap()).collect();
        by_currency.sort();
        let mut by_text = codes.clone();
        by_text.sort();
        assert!(by_currency
            .iter()
            .map(Currency::as_str)
            .eq(by_text.iter().map(String::as_str)));

        let text: BTreeMap<String, i64> = [("usd", 1), ("eur", 2), ("aud", 3), ("jpy", 4)]
            .map(|(c, n)| (c.to_owned(), n))
            .into();
        let keyed: BTreeMap<Currency, i64> = text
            .iter()
            .map(|(c, &n)| (Currency::from_code(c).unwrap(), n))
            .collect();
        let json = serde_json::to_string(&keyed).unwrap();
        assert_eq!(json, serde_json::to_string(&text).unwrap());
        assert_eq!(json, r#"{"aud":3,"eur":2,"jpy":4,"usd":1}"#);
        assert_eq!(serde_json::from_str::<BTreeMap<Currency, i64>>(&json).unwrap(), keyed);
        assert!(serde_json::from_str::<BTreeMap<Currency, i64>>(r#"{"dollars":1}"#).is_err());
    }
}

//! Domain newtypes that parse input once: a value of these types is valid.

mod currency;
mod month;
mod personal;
mod timestamp;

pub use currency::Currency;
pub use month::Month;
pub use personal::mask_emails;
pub use timestamp::parse_timestamp;

pub use api_types::Money;

/// Parses an amount with at most two decimals into exact cents (`"173000"`,
/// `"12.5"`, `"-0.99"`); binary floating point never touches it. Negative amounts
/// (refunds) are accepted only when `allow_negative`.
pub fn parse_amount(raw: &str, allow_negative: bool) -> Result<Money, String> {
    let text = raw.trim();
    if text.starts_with('-') && !allow_negative {
        return Err(format!("negative amount {raw:?}"));
    }
    text.parse::<Money>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_amount_nn(raw: &str) -> Result<Money, String> {
        parse_amount(raw, false)
    }

    #[test]
    fn refunds_only_where_allowed() {
        assert_eq!(parse_amount("-624.8", true).unwrap().cents(), -62480);
        assert!(parse_amount("-624.8", false).is_err());
        assert!(parse_amount("-", true).is_err());
    }

    #[test]
    fn amounts() {
        assert_eq!(parse_amount_nn("173000").unwrap().cents(), 17_300_000);
        assert_eq!(parse_amount_nn(" 12.5 ").unwrap().cents(), 1250);
        assert_eq!(parse_amount_nn("0").unwrap().cents(), 0);
        assert_eq!(parse_amount_nn("0.01").unwrap().cents(), 1);
        assert!(parse_amount_nn("-1.00").unwrap_err().contains("negative"));
        assert!(parse_amount_nn("1.001").is_err());
        assert!(parse_amount_nn("abc").is_err());
        assert!(parse_amount_nn("").is_err());
        assert!(parse_amount_nn("1e5").is_err());
    }
}

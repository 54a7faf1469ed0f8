//! Calendar months (`YYYY-MM`) as a dense integer, so windows are plain
//! ranges: the contract's [`api_types::Month`], which the dashboard reads too.

pub use api_types::Month;

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

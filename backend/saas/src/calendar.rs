//! The calendar of §3 and §4: month indexes, month closes, `add_months`, `gap_days`.

use api_types::Month;
use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, Utc};

/// A calendar month as `year × 12 + month − 1`: consecutive months are consecutive integers.
pub(crate) type MonthIndex = i64;

pub(crate) fn month_index(t: DateTime<Utc>) -> MonthIndex {
    i64::from(t.year()) * 12 + i64::from(t.month0())
}

/// 00:00 UTC on the first day of the month; `None` outside chrono's range.
pub(crate) fn month_start(month: MonthIndex) -> Option<DateTime<Utc>> {
    let year = i32::try_from(month.div_euclid(12)).ok()?;
    let month0 = u32::try_from(month.rem_euclid(12)).ok()?;
    NaiveDate::from_ymd_opt(year, month0 + 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// The contract's month of an index (both count `year × 12 + month − 1`;
/// chrono's years keep every index within `i32`).
pub(crate) fn month_of(month: MonthIndex) -> Month {
    Month::from_index(month as i32)
}

/// The index of a contract's month.
pub(crate) fn index_of(month: Month) -> MonthIndex {
    i64::from(month.index())
}

/// §3: same time of day, `k` months later, the day clamped to the target
/// month's last day (chrono's rule too). `None` beyond chrono's range.
pub(crate) fn add_months(t: DateTime<Utc>, k: u32) -> Option<DateTime<Utc>> {
    t.checked_add_months(Months::new(k))
}

/// §3: whole days in `b − a`, rounded down.
pub(crate) fn gap_days(a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
    let d = b - a;
    // Floor, also for a negative difference (never one on ordered invoices).
    let secs = d.num_seconds() - i64::from(d.subsec_nanos() < 0);
    secs.div_euclid(86_400)
}

/// `t + days`; `None` beyond chrono's range.
pub(crate) fn add_days(t: DateTime<Utc>, days: u32) -> Option<DateTime<Utc>> {
    t.checked_add_signed(TimeDelta::try_days(i64::from(days))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn add_months_clamps_the_day_as_section_3_says() {
        assert_eq!(add_months(at(2024, 1, 31, 10), 1), Some(at(2024, 2, 29, 10)));
        assert_eq!(add_months(at(2024, 3, 31, 0), 3), Some(at(2024, 6, 30, 0)));
        assert_eq!(add_months(at(2024, 8, 31, 0), 12), Some(at(2025, 8, 31, 0)));
        assert_eq!(add_months(at(2023, 12, 15, 3), 1), Some(at(2024, 1, 15, 3)));
    }

    #[test]
    fn gap_days_floors() {
        assert_eq!(gap_days(at(2024, 1, 1, 12), at(2024, 1, 31, 11)), 29);
        assert_eq!(gap_days(at(2024, 1, 1, 12), at(2024, 1, 31, 12)), 30);
        let half = at(2024, 1, 1, 0) + TimeDelta::milliseconds(500);
        assert_eq!(gap_days(half, at(2024, 1, 2, 0)), 0);
        assert_eq!(gap_days(at(2024, 1, 2, 0), half), -1);
    }

    #[test]
    fn months_round_trip() {
        let m = month_index(at(2024, 12, 31, 23));
        assert_eq!(month_of(m).to_string(), "2024-12");
        assert_eq!(month_start(m + 1), Some(at(2025, 1, 1, 0)));
        assert_eq!(Month::parse("2024-12").map(index_of), Some(m));
    }
}

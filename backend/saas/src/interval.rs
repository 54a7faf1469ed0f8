//! §5: the catalogue (products file) and the interval of each recurring invoice.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use crate::calendar::gap_days;

/// The `Interval` column of the products file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Month,
    Year,
    /// Anything else (`week`, `day`, empty): ignored by §5.
    Other,
}

impl Interval {
    /// Case-insensitive, surrounding blanks ignored: `"Year "` is [`Interval::Year`].
    pub fn parse(text: &str) -> Interval {
        let text = text.trim();
        if text.eq_ignore_ascii_case("month") {
            Interval::Month
        } else if text.eq_ignore_ascii_case("year") {
            Interval::Year
        } else {
            Interval::Other
        }
    }
}

/// What the products file says about one subscription id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CatalogueEntry {
    /// One of its items is `year` (§5 rule 2).
    pub year: bool,
    /// The largest hint among its `month` items' product names (§5 rule 4);
    /// `None` without a `month` item.
    pub month_hint: Option<u32>,
}

/// Interval information of the products file, per subscription id: from each
/// item (row) its `Interval` and `Product`. The file's own rules (one row per
/// (subscription, plan), the last one wins) are the reader's; every item
/// added here counts.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Looked up once per subscription of every computation: SipHash took a
    /// sixth of the computation's time. The ids are the uploader's own.
    entries: HashMap<String, CatalogueEntry, FxBuildHasher>,
}

impl Catalogue {
    pub fn new() -> Catalogue {
        Catalogue::default()
    }

    /// Adds one item of `subscription_id`. Items whose interval is neither
    /// month nor year are ignored: a subscription with only such items is
    /// absent from the catalogue (§5 rule 4).
    pub fn add_item(&mut self, subscription_id: &str, interval: Interval, product: &str) -> &mut Catalogue {
        if interval == Interval::Other {
            return self;
        }
        let entry = self.entries.entry(subscription_id.to_owned()).or_default();
        match interval {
            Interval::Year => entry.year = true,
            Interval::Month => {
                let hint = month_hint(product);
                entry.month_hint = Some(entry.month_hint.map_or(hint, |h| h.max(hint)));
            }
            Interval::Other => {}
        }
        self
    }

    /// Subscription ids with a month or year item.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn get(&self, subscription_id: &str) -> Option<CatalogueEntry> {
        self.entries.get(subscription_id).copied()
    }
}

/// §5 rule 4 on one product name: "N month(s)" → N (N ≥ 1), "semi-annual" → 6,
/// "quarterly" → 3, otherwise 1; case-insensitive. "N month(s)" is taken at
/// word boundaries (`\b(\d+)[\s-]*months?\b`, its first occurrence), so
/// "36 Months" and "3-month" count and "3 monthly" does not.
pub(crate) fn month_hint(product: &str) -> u32 {
    let name = product.to_lowercase();
    if let Some(n) = first_n_months(name.as_bytes()) {
        if n >= 1 {
            return n;
        }
    }
    if ["semi-annual", "semi annual", "semiannual"]
        .iter()
        .any(|p| name.contains(p))
    {
        return 6;
    }
    if name.contains("quarterly") {
        return 3;
    }
    1
}

/// A byte of a word (`\w`): ASCII letters, digits, `_`, and — taken as letters — every non-ASCII byte.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// The number of the first `\b(\d+)[\s-]*months?\b` in a lower-case name
/// (saturating: a number beyond u32 later fails as a date out of range).
fn first_n_months(name: &[u8]) -> Option<u32> {
    let mut i = 0;
    while i < name.len() {
        if !name[i].is_ascii_digit() || (i > 0 && is_word(name[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < name.len() && name[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &name[start..i];
        let mut j = i;
        while j < name.len() && (name[j].is_ascii_whitespace() || name[j] == b'-') {
            j += 1;
        }
        if name[j..].starts_with(b"month") {
            let mut end = j + 5;
            if name.get(end) == Some(&b's') && !name.get(end + 1).is_some_and(|&b| is_word(b)) {
                end += 1;
            }
            if !name.get(end).is_some_and(|&b| is_word(b)) {
                let n = digits
                    .iter()
                    .fold(0u32, |n, &d| n.saturating_mul(10).saturating_add(u32::from(d - b'0')));
                return Some(n);
            }
        }
    }
    None
}

/// The rule of §5 that chose an invoice's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntervalSource {
    ObservedNext,
    CatalogueYear,
    ObservedPrevious,
    CatalogueMonth,
    AssumedAnnual,
    AssumedMonthly,
}

impl IntervalSource {
    pub const ALL: [IntervalSource; 6] = [
        IntervalSource::ObservedNext,
        IntervalSource::CatalogueYear,
        IntervalSource::ObservedPrevious,
        IntervalSource::CatalogueMonth,
        IntervalSource::AssumedAnnual,
        IntervalSource::AssumedMonthly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntervalSource::ObservedNext => "observed_next",
            IntervalSource::CatalogueYear => "catalogue_year",
            IntervalSource::ObservedPrevious => "observed_previous",
            IntervalSource::CatalogueMonth => "catalogue_month",
            IntervalSource::AssumedAnnual => "assumed_annual",
            IntervalSource::AssumedMonthly => "assumed_monthly",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// §5 bands of `gap_days` → months.
pub(crate) fn band(days: i64) -> Option<u32> {
    match days {
        25..=35 => Some(1),
        80..=100 => Some(3),
        170..=200 => Some(6),
        350..=380 => Some(12),
        _ => None,
    }
}

/// The interval of recurring invoice `n` of one subscription (its recurring
/// invoices in (timestamp, transaction id) order, as timestamps and minor
/// amounts), by the first rule of §5 that applies.
pub(crate) fn choose(
    times: &[chrono::DateTime<chrono::Utc>],
    n: usize,
    minor: i64,
    entry: Option<CatalogueEntry>,
    annual_threshold_minor: i128,
) -> (u32, IntervalSource) {
    if let Some(k) = times.get(n + 1).and_then(|&next| band(gap_days(times[n], next))) {
        return (k, IntervalSource::ObservedNext);
    }
    if entry.is_some_and(|e| e.year) {
        return (12, IntervalSource::CatalogueYear);
    }
    if let Some(k) = n.checked_sub(1).and_then(|p| band(gap_days(times[p], times[n]))) {
        return (k, IntervalSource::ObservedPrevious);
    }
    if let Some(k) = entry.and_then(|e| e.month_hint) {
        return (k, IntervalSource::CatalogueMonth);
    }
    if i128::from(minor) >= annual_threshold_minor {
        (12, IntervalSource::AssumedAnnual)
    } else {
        (1, IntervalSource::AssumedMonthly)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn month_hints() {
        for (name, k) in [
            ("Video : Quarterly", 3),
            ("Chat Enterprise : Quarterly", 3),
            ("Plan 36 Months", 36),
            ("Plan 3-month", 3),
            ("Plan 12months", 12),
            ("Semi-Annually billed", 6),
            ("semi annual", 6),
            ("Chat Elevate : 10k MAU", 1),
            ("3 monthly", 1),
            ("x3 months", 1),
            ("0 months, quarterly", 3),
            ("6 months or quarterly", 6),
            ("Monthly", 1),
            ("12 month-to-month", 12),
        ] {
            assert_eq!(month_hint(name), k, "{name}");
        }
    }

    #[test]
    fn catalogue_keeps_the_largest_month_hint_and_any_year() {
        let mut c = Catalogue::new();
        c.add_item("s1", Interval::parse(" Month"), "Basic")
            .add_item("s1", Interval::parse("month"), "Video : Quarterly")
            .add_item("s2", Interval::parse("YEAR"), "Annual")
            .add_item("s2", Interval::Month, "Basic")
            .add_item("s3", Interval::parse("week"), "Weekly");
        assert_eq!(
            c.get("s1"),
            Some(CatalogueEntry {
                year: false,
                month_hint: Some(3)
            })
        );
        assert_eq!(
            c.get("s2"),
            Some(CatalogueEntry {
                year: true,
                month_hint: Some(1)
            })
        );
        assert_eq!(c.get("s3"), None, "only other intervals: absent");
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn rules_apply_in_order() {
        let t = |m: u32, d: u32| Utc.with_ymd_and_hms(2024, m, d, 12, 0, 0).unwrap();
        let year = Some(CatalogueEntry {
            year: true,
            month_hint: None,
        });
        let quarterly = Some(CatalogueEntry {
            year: false,
            month_hint: Some(3),
        });
        let monthly_then_far = [t(1, 1), t(2, 1), t(7, 1)];
        // Rule 1 beats the catalogue.
        assert_eq!(
            choose(&monthly_then_far, 0, 100, year, 300_000),
            (1, IntervalSource::ObservedNext)
        );
        // 151 days: no band; a year item beats the previous cadence.
        assert_eq!(
            choose(&monthly_then_far, 1, 100, year, 300_000),
            (12, IntervalSource::CatalogueYear)
        );
        assert_eq!(
            choose(&monthly_then_far, 1, 100, quarterly, 300_000),
            (1, IntervalSource::ObservedPrevious)
        );
        assert_eq!(
            choose(&monthly_then_far, 2, 100, quarterly, 300_000),
            (3, IntervalSource::CatalogueMonth)
        );
        assert_eq!(
            choose(&monthly_then_far, 2, 300_000, None, 300_000),
            (12, IntervalSource::AssumedAnnual)
        );
        assert_eq!(
            choose(&monthly_then_far, 2, 299_999, None, 300_000),
            (1, IntervalSource::AssumedMonthly)
        );
        // Band edges.
        for (days, k) in [
            (24, None),
            (25, Some(1)),
            (35, Some(1)),
            (36, None),
            (80, Some(3)),
            (100, Some(3)),
        ] {
            assert_eq!(band(days), k, "{days}");
        }
        for (days, k) in [
            (169, None),
            (170, Some(6)),
            (200, Some(6)),
            (350, Some(12)),
            (380, Some(12)),
            (381, None),
        ] {
            assert_eq!(band(days), k, "{days}");
        }
    }
}

//! Transaction timestamps: the export's `M/D/YY H:MM`, its four-digit-year and
//! seconds variants, and ISO 8601 — all normalised to UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Parses a timestamp into UTC, or explains why not (quoting the value).
/// Fractions of a second are kept to the microsecond, the precision both
/// databases store (so a value read back equals the value parsed).
pub fn parse_timestamp(raw: &str) -> Result<NaiveDateTime, String> {
    use chrono::Timelike;
    let text = raw.trim();
    let parsed = if text.contains('/') {
        parse_us(text)
    } else {
        parse_iso(text)
    };
    let parsed = parsed.and_then(|t| t.with_nanosecond(t.nanosecond() / 1000 * 1000));
    // A leap second (`23:59:60`, nanoseconds past 1e9 in chrono) is the next
    // second's start, as PostgreSQL stores it: one instant everywhere, so its
    // month is the month its row is stored in.
    let parsed = parsed.and_then(|t| match t.nanosecond().checked_sub(1_000_000_000) {
        // Checked: chrono's last representable second has no next one.
        Some(ns) => t
            .with_nanosecond(ns)
            .and_then(|t| t.checked_add_signed(chrono::Duration::seconds(1))),
        None => Some(t),
    });
    parsed.ok_or_else(|| {
        format!(
            "unrecognised date {raw:?} (expected M/D/YY H:MM, M/D/YYYY H:MM[:SS] or ISO 8601 such as 2024-01-31T07:00:00Z)"
        )
    })
}

/// `M/D/YY H:MM`, `M/D/YYYY H:MM[:SS]` (UTC, as the export's header says).
fn parse_us(text: &str) -> Option<NaiveDateTime> {
    let (date, time) = text.split_once(' ')?;
    let mut d = date.split('/');
    let (m, day, y) = (d.next()?, d.next()?, d.next()?);
    if d.next().is_some() || m.is_empty() || m.len() > 2 || day.is_empty() || day.len() > 2 {
        return None;
    }
    let year: i32 = match y.len() {
        2 => 2000 + num(y)? as i32,
        4 => num(y)? as i32,
        _ => return None,
    };
    let mut t = time.trim().split(':');
    let (h, min) = (t.next()?, t.next()?);
    let sec = t.next();
    if t.next().is_some() || h.is_empty() || h.len() > 2 || min.len() != 2 || sec.is_some_and(|s| s.len() != 2) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, num(m)?, num(day)?)?.and_hms_opt(num(h)?, num(min)?, sec.map_or(Some(0), num)?)
}

fn num(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// ISO 8601 date-time with `T` or space, with or without seconds (and fraction),
/// with an optional `Z` or `±HH:MM` / `±HHMM` offset (converted to UTC).
fn parse_iso(text: &str) -> Option<NaiveDateTime> {
    let text = text.replacen(' ', "T", 1);
    if let Some(local) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return naive_iso(local);
    }
    // An offset follows the time: look for a sign after the 'T'.
    let t_pos = text.find('T')?;
    if let Some(pos) = text[t_pos..].rfind(['+', '-']).map(|p| p + t_pos) {
        let with_colon = {
            let (head, off) = text.split_at(pos);
            // Byte slicing below: only on ASCII, so a multi-byte
            // character is a rejection, never a panic.
            if off.len() == 5 && off.is_ascii() && !off.contains(':') {
                format!("{head}{}:{}", &off[..3], &off[3..])
            } else {
                text.clone()
            }
        };
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z"] {
            if let Ok(dt) = DateTime::parse_from_str(&with_colon, fmt) {
                return Some(dt.naive_utc());
            }
        }
        return None;
    }
    naive_iso(&text)
}

fn naive_iso(text: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(text, fmt).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> String {
        parse_timestamp(s).unwrap().format("%Y-%m-%d %H:%M:%S").to_string()
    }

    #[test]
    fn export_formats() {
        assert_eq!(ts("1/1/24 7:00"), "2024-01-01 07:00:00");
        assert_eq!(ts("12/31/24 23:59"), "2024-12-31 23:59:00");
        assert_eq!(ts("10/5/2024 07:30"), "2024-10-05 07:30:00");
        assert_eq!(ts("10/5/2024 7:30:15"), "2024-10-05 07:30:15");
    }

    #[test]
    fn iso_formats() {
        assert_eq!(ts("2024-03-01T10:15:30Z"), "2024-03-01 10:15:30");
        assert_eq!(ts("2024-03-01 10:15:30"), "2024-03-01 10:15:30");
        assert_eq!(ts("2024-03-01T10:15"), "2024-03-01 10:15:00");
        assert_eq!(ts("2024-03-01T10:15:30.250Z"), "2024-03-01 10:15:30");
        assert_eq!(ts("2024-03-01T10:15:30+02:00"), "2024-03-01 08:15:30");
        assert_eq!(ts("2024-03-01T01:15:30-0100"), "2024-03-01 02:15:30");
        assert_eq!(ts("2024-03-01T23:30+01:00"), "2024-03-01 22:30:00");
    }

    #[test]
    fn a_leap_second_is_the_next_second() {
        assert_eq!(ts("2016-12-31T23:59:60Z"), "2017-01-01 00:00:00");
        let t = parse_timestamp("2016-12-31T23:59:60.5Z").unwrap();
        assert_eq!(t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(), "2017-01-01 00:00:00.500");
    }

    #[test]
    fn rejects_with_quoted_value() {
        for bad in [
            "",
            "2/30/24 7:00",
            "13/1/24 7:00",
            "1/1/24",
            "yesterday",
            "2024-03-01",
            "1/1/124 7:00",
            "1/1/24 25:00",
            "T+0ⶠ",
            "2024-03-01T10:00+0ⶠ",
            "+262142-12-31T23:59:60Z",
        ] {
            let err = parse_timestamp(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}

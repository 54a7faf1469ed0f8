//! Number formatting: thousands separators and currency symbols, from the API's
//! exact decimal strings (no floating point on the way to the screen).

use api_types::{Money, Month, Percent, Timestamp};

/// Groups the integer digits of a plain decimal string: `"2451305.12"` → `"2,451,305.12"`.
pub fn group_digits(plain: &str) -> String {
    let (sign, rest) = plain.strip_prefix('-').map_or(("", plain), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// The symbol of a currency code, or the upper-case code.
pub fn currency_symbol(code: &str) -> String {
    match code {
        "usd" => "$".to_owned(),
        "eur" => "€".to_owned(),
        "gbp" => "£".to_owned(),
        "jpy" => "¥".to_owned(),
        other => format!("{} ", other.to_uppercase()),
    }
}

/// `"$2,451,305.12"`, `"-$11,146.41"`, `"¥1,500"`, `"KWD 12.345"`: the
/// currency's own decimals, as the API wrote them.
/// `currency`: an [`api_types::Currency`], or a code keying a map of the API.
pub fn money(amount: Money, currency: impl AsRef<str>) -> String {
    let text = group_digits(&amount.to_string());
    let symbol = currency_symbol(currency.as_ref());
    match text.strip_prefix('-') {
        Some(abs) => format!("-{symbol}{abs}"),
        None => format!("{symbol}{text}"),
    }
}

/// The decimals that show every multiple of `step` exactly: 0 for steps of
/// 1 or 20, 1 for 0.5 or 2.5, 2 for 0.25. Axis labels use it so that two
/// gridlines never read the same (at most 6: beyond, a step is noise).
pub fn step_decimals(step: f64) -> usize {
    let step = step.abs();
    (0..=6)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() <= 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6)
}

/// `value` with `decimals` digits, trailing zeros (and a bare point) removed:
/// `1.50` → `"1.5"`, `2.00` → `"2"`.
fn trimmed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A value-axis label in thousands (`k`) or millions (`M`) with the digits
/// its tick `step` needs, prefixed by `prefix`: `1500` on a step of 500 →
/// `"1.5k"`, `1250` on a step of 250 → `"1.25k"`, `3e6` on a step of 1e6 → `"3M"`.
/// The value is first rounded to its step (plotters' ticks carry float noise).
pub fn tick(value: f64, step: f64, prefix: &str) -> String {
    let step = if step.is_finite() && step > 0.0 { step } else { 1.0 };
    let value = (value / step).round() * step;
    let a = value.abs();
    let (unit, suffix) = if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let text = trimmed(a / unit, step_decimals(step / unit));
    let sign = if value < 0.0 && text != "0" { "-" } else { "" };
    format!("{sign}{prefix}{text}{suffix}")
}

/// A money axis label exact for its tick step: `"$1.5k"`, `"-€250"`, `"¥1.25M"`.
pub fn money_tick(value: f64, step: f64, currency: impl AsRef<str>) -> String {
    tick(value, step, &currency_symbol(currency.as_ref()))
}

/// A plain axis label exact for its tick step, without units: `"2.5"`, `"-0.25"`, `"40"`.
pub fn plain_tick(value: f64, step: f64) -> String {
    let step = if step.is_finite() && step > 0.0 { step } else { 1.0 };
    let text = trimmed((value / step).round() * step, step_decimals(step));
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

/// `"+12.34%"`, `"-35.85%"`, `"–"` when there is no value.
pub fn percent(p: Option<Percent>) -> String {
    match p {
        Some(p) if p.hundredths() > 0 => format!("+{p}%"),
        Some(p) => format!("{p}%"),
        None => "–".to_owned(),
    }
}

/// A share, without a sign: `"13.82%"`.
pub fn share(p: Option<Percent>) -> String {
    p.map_or("–".to_owned(), |p| format!("{p}%"))
}

/// `2024-10-30T22:50:00.000Z` → `"30 Oct 2024 22:50 UTC"`.
pub fn timestamp(t: &Timestamp) -> String {
    let text = t.rfc3339();
    let rfc3339 = text.as_str();
    let (date, time) = rfc3339.split_once('T').unwrap_or((rfc3339, ""));
    let mut parts = date.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => {
            let month = Month::parse(&format!("{y}-{m}")).map_or_else(|| format!("{y}-{m}"), month_label);
            let day = d.trim_start_matches('0');
            let hm = time.get(..5).map(|t| format!(" {t} UTC")).unwrap_or_default();
            format!("{day} {month}{hm}")
        }
        _ => rfc3339.to_owned(),
    }
}

/// `2024-10-03T16:44:00Z` → `"3 Oct 2024"`.
pub fn date(t: &Timestamp) -> String {
    let full = timestamp(t);
    full.strip_suffix(" UTC")
        .and_then(|rest| rest.rsplit_once(' '))
        .map_or(full.clone(), |(day, _)| day.to_owned())
}

/// An integer with thousands separators.
pub fn count(n: i64) -> String {
    group_digits(&n.to_string())
}

/// A count's change with its sign: `"+18"`, `"-5"`, `"±0"`.
pub fn signed_count(n: i64) -> String {
    match n {
        0 => "±0".to_owned(),
        n if n > 0 => format!("+{}", count(n)),
        n => count(n),
    }
}

/// A change of money with its sign: `"+$513.00"`, `"-€2.50"`, `"±0"`.
pub fn signed_money(delta: Money, currency: impl AsRef<str>) -> String {
    match delta.minor() {
        0 => "±0".to_owned(),
        c if c > 0 => format!("+{}", money(delta, currency)),
        _ => money(delta, currency),
    }
}

/// A change of a percentage in points, with its sign: `"+13.17"`, `"-1.00"`, `"±0.00"`.
pub fn signed_points(delta: Percent) -> String {
    match delta.hundredths() {
        0 => "±0.00".to_owned(),
        h if h > 0 => format!("+{delta}"),
        _ => delta.to_string(),
    }
}

/// A run's duration: `"15 ms"`, `"2.4 s"`, `"3 min 05 s"`; `"–"` while unknown.
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "–".to_owned(),
        Some(ms) if ms < 1_000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{}.{} s", ms / 1_000, ms % 1_000 / 100),
        Some(ms) => {
            let s = ms / 1_000;
            format!("{} min {:02} s", s / 60, s % 60)
        }
    }
}

/// A file size: `"176 B"`, `"1.6 KB"`, `"12.3 MB"` (powers of 1024).
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The months a data set spans: `"Jan 2024 – Oct 2024"`, `"–"` without data.
pub fn month_range(first: Option<Month>, latest: Option<Month>) -> String {
    match (first, latest) {
        (Some(a), Some(b)) if a == b => month_label(a),
        (Some(a), Some(b)) => format!("{} – {}", month_label(a), month_label(b)),
        _ => "–".to_owned(),
    }
}

/// 2024-05 → `"May 2024"`.
pub fn month_label(month: Month) -> String {
    format!("{} {:04}", month_short(month), month.year())
}

/// 2024-05 → `"May"` (axis labels).
pub fn month_short(month: Month) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[(month.month() as usize - 1) % 12].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_thousands() {
        assert_eq!(group_digits("2451305.12"), "2,451,305.12");
        assert_eq!(group_digits("-1000.00"), "-1,000.00");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(group_digits("0.50"), "0.50");
        assert_eq!(group_digits("123456"), "123,456");
    }

    #[test]
    fn money_and_percent() {
        assert_eq!(money(Money::new(245130512, 2), "usd"), "$2,451,305.12");
        assert_eq!(money(Money::new(-1114641, 2), "usd"), "-$11,146.41");
        assert_eq!(money(Money::new(100, 2), "eur"), "€1.00");
        assert_eq!(money(Money::new(100, 2), "chf"), "CHF 1.00");
        assert_eq!(money(Money::new(1_234_500, 0), "jpy"), "¥1,234,500");
        assert_eq!(money(Money::new(-12_345, 3), "kwd"), "-KWD 12.345");
        assert_eq!(percent(Some(Percent(3176))), "+31.76%");
        assert_eq!(percent(Some(Percent(-3585))), "-35.85%");
        assert_eq!(percent(Some(Percent(0))), "0.00%");
        assert_eq!(percent(None), "–");
        assert_eq!(count(12870), "12,870");
        assert_eq!(share(Some(Percent(1382))), "13.82%");
        let at: Timestamp = "2024-10-03T16:44:00Z".parse().unwrap();
        assert_eq!(timestamp(&at), "3 Oct 2024 16:44 UTC");
        assert_eq!(date(&at), "3 Oct 2024");
    }

    #[test]
    fn changes_and_sizes() {
        assert_eq!(signed_count(18), "+18");
        assert_eq!(signed_count(-1500), "-1,500");
        assert_eq!(signed_count(0), "±0");
        assert_eq!(signed_money(Money::new(51300, 2), "usd"), "+$513.00");
        assert_eq!(signed_money(Money::new(-250, 2), "eur"), "-€2.50");
        assert_eq!(signed_money(Money::new(0, 2), "usd"), "±0");
        assert_eq!(signed_money(Money::new(1_500, 0), "jpy"), "+¥1,500");
        assert_eq!(signed_points(Percent(1317)), "+13.17");
        assert_eq!(signed_points(Percent(-100)), "-1.00");
        assert_eq!(signed_points(Percent(-5)), "-0.05");
        assert_eq!(signed_points(Percent(0)), "±0.00");
        assert_eq!(duration(None), "–");
        assert_eq!(duration(Some(15)), "15 ms");
        assert_eq!(duration(Some(2_450)), "2.4 s");
        assert_eq!(duration(Some(185_000)), "3 min 05 s");
        assert_eq!(bytes(176), "176 B");
        assert_eq!(bytes(1606), "1.6 KB");
        assert_eq!(bytes(12 * 1024 * 1024 + 300 * 1024), "12.3 MB");
        let m = |s| Month::parse(s);
        assert_eq!(month_range(m("2024-01"), m("2024-10")), "Jan 2024 – Oct 2024");
        assert_eq!(month_range(m("2024-01"), m("2024-01")), "Jan 2024");
        assert_eq!(month_range(None, None), "–");
    }

    #[test]
    fn months() {
        let m = |s| Month::parse(s).unwrap();
        assert_eq!(month_label(m("2024-05")), "May 2024");
        assert_eq!(month_short(m("2024-12")), "Dec");
        assert_eq!(month_label(m("0999-01")), "Jan 0999");
    }

    /// The ticks from `lo` to `hi` every `step`, labelled.
    fn axis(lo: f64, hi: f64, step: f64, currency: &str) -> Vec<String> {
        let n = ((hi - lo) / step).round() as i64;
        (0..=n)
            .map(|i| money_tick(lo + i as f64 * step, step, currency))
            .collect()
    }

    fn all_distinct(labels: &[String]) -> bool {
        let set: std::collections::BTreeSet<&String> = labels.iter().collect();
        set.len() == labels.len()
    }

    #[test]
    fn money_ticks_are_exact_for_their_step() {
        assert_eq!(
            axis(0.0, 1250.0, 250.0, "usd"),
            ["$0", "$250", "$500", "$750", "$1k", "$1.25k"]
        );
        assert_eq!(
            axis(1000.0, 3000.0, 500.0, "usd"),
            ["$1k", "$1.5k", "$2k", "$2.5k", "$3k"]
        );
        assert_eq!(
            axis(0.0, 10_000.0, 2_500.0, "usd"),
            ["$0", "$2.5k", "$5k", "$7.5k", "$10k"]
        );
        assert_eq!(axis(0.0, 4e6, 1e6, "usd"), ["$0", "$1M", "$2M", "$3M", "$4M"]);
        assert_eq!(
            axis(0.0, 1.5e6, 250_000.0, "usd"),
            ["$0", "$250k", "$500k", "$750k", "$1M", "$1.25M", "$1.5M"]
        );
        assert_eq!(
            axis(-1000.0, 1000.0, 500.0, "usd"),
            ["-$1k", "-$500", "$0", "$500", "$1k"]
        );
        // The euro gridlines that both read "€2k" before.
        assert_eq!(axis(1500.0, 2500.0, 500.0, "eur"), ["€1.5k", "€2k", "€2.5k"]);
        assert_eq!(axis(0.0, 1.0, 0.2, "eur"), ["€0", "€0.2", "€0.4", "€0.6", "€0.8", "€1"]);
        // Yen have no minor unit, but an axis may still step by fractions of a million.
        assert_eq!(axis(0.0, 2e6, 500_000.0, "jpy"), ["¥0", "¥500k", "¥1M", "¥1.5M", "¥2M"]);
        assert_eq!(
            axis(0.0, 50_000.0, 10_000.0, "jpy"),
            ["¥0", "¥10k", "¥20k", "¥30k", "¥40k", "¥50k"]
        );
        assert_eq!(
            axis(0.0, 750.0, 250.0, "chf"),
            ["CHF 0", "CHF 250", "CHF 500", "CHF 750"]
        );
        // Float noise from the tick generator does not show.
        assert_eq!(money_tick(1499.9999999, 500.0, "usd"), "$1.5k");
        assert_eq!(money_tick(999_999.999_99, 250_000.0, "usd"), "$1M");
    }

    #[test]
    fn no_two_money_ticks_read_the_same() {
        for step in [
            0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 20.0, 50.0, 250.0, 500.0, 2_000.0, 2_500.0, 5e4, 1e5, 2.5e5, 5e5, 1e6,
            2.5e6,
        ] {
            for currency in ["usd", "eur", "jpy", "gbp", "kwd"] {
                let labels = axis(-4.0 * step, 40.0 * step, step, currency);
                assert!(all_distinct(&labels), "step {step} {currency}: {labels:?}");
            }
        }
    }

    #[test]
    fn plain_ticks() {
        assert_eq!(step_decimals(0.25), 2);
        assert_eq!(step_decimals(2.5), 1);
        assert_eq!(step_decimals(500.0), 0);
        assert_eq!(plain_tick(-0.5, 0.5), "-0.5");
        assert_eq!(plain_tick(-0.000001, 0.5), "0");
        assert_eq!(plain_tick(40.0, 20.0), "40");
        assert_eq!(tick(2_500.0, 500.0, ""), "2.5k");
    }
}

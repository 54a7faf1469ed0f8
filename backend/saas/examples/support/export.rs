//! A small reader of the export's files (transactions.csv, products.csv),
//! for the example and the tests only: the service reads them with the ETL.
//! It follows the ETL's rules that matter on real exports — tab, comma or
//! semicolon separated, headers matched case- and punctuation-insensitively,
//! dates `M/D/YY H:MM[:SS]`, `M/D/YYYY …` or ISO 8601 (UTC), totals in major
//! units, exact duplicate rows dropped, every row of a transaction id with
//! conflicting contents rejected, products de-duplicated on (subscription,
//! plan) with the last row winning — but not quoting (the exports have none).

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};

use api_types::Money;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use saas::{Catalogue, Interval, Invoice};

/// Decimals of a currency's minor unit (ISO 4217; two unless listed).
pub fn exponent_of(currency: &str) -> u8 {
    const ZERO: &[&str] = &[
        "bif", "clp", "djf", "gnf", "isk", "jpy", "kmf", "krw", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    ];
    const THREE: &[&str] = &["bhd", "iqd", "jod", "kwd", "lyd", "omr", "tnd"];
    if ZERO.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else {
        2
    }
}

fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The rows of a delimited text as maps of the wanted columns (normalised header names).
fn table(text: &str, wanted: &[&str]) -> Result<Vec<Vec<String>>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let header = lines.next().ok_or("no header")?;
    for delimiter in ['\t', ',', ';'] {
        let names: Vec<String> = header.split(delimiter).map(normalise).collect();
        let Some(columns) = wanted
            .iter()
            .map(|w| names.iter().position(|n| n == w))
            .collect::<Option<Vec<usize>>>()
        else {
            continue;
        };
        return Ok(lines
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(delimiter).collect();
                columns
                    .iter()
                    .map(|&c| cells.get(c).map(|s| s.trim().to_owned()))
                    .collect()
            })
            .collect());
    }
    Err(format!("header lacks one of {wanted:?}"))
}

pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    for format in [
        "%m/%d/%y %H:%M",
        "%m/%d/%y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %H:%M:%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            // %y reads 24 as 2024 and 69 as 1969: the exports are this century.
            let t = if format.contains("%y") && t.date() < NaiveDate::from_ymd_opt(2000, 1, 1)? {
                t.checked_add_months(chrono::Months::new(1200))?
            } else {
                t
            };
            return Some(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    None
}

/// The transactions of a transactions.csv text, as the ETL would load them.
pub fn transactions(text: &str) -> Result<Vec<Invoice>, String> {
    let rows = table(
        text,
        &[
            "dateutc",
            "transactionid",
            "customerid",
            "subscriptionid",
            "total",
            "currency",
        ],
    )?;
    let mut by_id: HashMap<String, Vec<Invoice>> = HashMap::new();
    let mut order = Vec::new();
    for r in rows {
        let currency = r[5].to_ascii_lowercase();
        let (Some(timestamp), Ok(amount)) = (parse_date(&r[0]), Money::parse(&r[4], exponent_of(&currency))) else {
            continue;
        };
        if r[1].is_empty() || r[2].is_empty() {
            continue;
        }
        let inv = Invoice {
            timestamp,
            transaction_id: r[1].as_str().into(),
            customer_id: r[2].as_str().into(),
            subscription_id: r[3].as_str().into(),
            currency: currency.into(),
            amount,
        };
        let group = by_id.entry(inv.transaction_id.to_string()).or_default();
        if group.is_empty() {
            order.push(inv.transaction_id.to_string());
        }
        group.push(inv);
    }
    let mut out = Vec::new();
    for id in order {
        let group = &by_id[&id];
        // Exact duplicates are one transaction; conflicting ones are all rejected.
        if group.iter().all(|g| *g == group[0]) {
            out.push(group[0].clone());
        }
    }
    Ok(out)
}

/// The catalogue of a products.csv text.
pub fn catalogue(text: &str) -> Result<Catalogue, String> {
    let rows = table(text, &["subscriptionid", "plan", "product", "interval"])?;
    let mut items: BTreeMap<(String, String), (usize, String, String)> = BTreeMap::new();
    for (line, r) in rows.into_iter().enumerate() {
        if r[0].is_empty() {
            continue;
        }
        items.insert((r[0].clone(), r[1].clone()), (line, r[3].clone(), r[2].clone()));
    }
    let mut catalogue = Catalogue::new();
    for ((sub, _), (_, interval, product)) in items {
        catalogue.add_item(&sub, Interval::parse(&interval), &product);
    }
    Ok(catalogue)
}

/// Reads `dir/transactions.csv` and `dir/products.csv`.
pub fn read_dir(dir: &std::path::Path) -> Result<(Vec<Invoice>, Catalogue), String> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    Ok((
        transactions(&read("transactions.csv")?)?,
        catalogue(&read("products.csv")?)?,
    ))
}

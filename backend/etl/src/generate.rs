//! A deterministic generator of billing exports in the real export's format and
//! quirks: tab-separated, CRLF, a header, `M/D/YY H:MM` dates, users repeated once
//! per transaction with blanks and conflicting names, ~9% empty subscription ids,
//! most subscription ids unknown to products, multi-plan subscriptions, zero
//! totals, a few refunds (negative totals) and a few customers paying in euros. The same seed gives the same bytes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Duration, NaiveDate};

const PRODUCTS: &[&str] = &[
    "Analytics Suite",
    "Billing Cloud",
    "CRM Starter",
    "CRM Enterprise",
    "Data Warehouse",
    "Email Campaigns",
    "Helpdesk",
    "Identity Gateway",
    "Marketing Hub",
    "Payments API",
    "Reporting Studio",
    "Team Chat",
];
const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam",
];
const LAST: &[&str] = &[
    "Adams", "Brown", "Costa", "Dubois", "Evans", "Fischer", "García", "Hansen", "Ito", "Jones", "Khan", "Lopez",
];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    pub transactions: u64,
    pub seed: u64,
    /// The first day of the transactions, which spread evenly over `days` days.
    pub from: NaiveDate,
    pub days: u32,
}

impl Default for GenerateOptions {
    /// 5,000 transactions from January 1st to October 31st 2024.
    fn default() -> Self {
        Self {
            transactions: 5000,
            seed: 42,
            from: NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default(),
            days: 304,
        }
    }
}

/// Writes products.csv, transactions.csv and users.csv into `out`.
pub fn generate(out: &Path, options: GenerateOptions) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let n = options.transactions;
    let customers = (n / 8).max(20);
    // Each customer has one or two subscriptions; about 8% of subscriptions are in products.
    let subs_per_customer = |c: u64| 1 + u64::from(c.is_multiple_of(3));
    let sub_id = |c: u64, k: u64| format!("sub_{:010x}", (c * 2 + k).wrapping_mul(0x9E37_79B9) & 0xff_ffff_ffff);
    let customer_id = |c: u64| format!("cus_{:012x}", c.wrapping_mul(0x5851_F42D_4C95_7F2D) >> 16);

    let mut products = writer(&out.join("products.csv"))?;
    write!(products, "subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus\r\n")?;
    let mut product_lines = 0u64;
    for c in 0..customers {
        for k in 0..subs_per_customer(c) {
            if rng.u32(0..100) >= 8 {
                continue;
            }
            let product = PRODUCTS[rng.usize(0..PRODUCTS.len())];
            let interval = if rng.bool() { "month" } else { "year" };
            let amount = if rng.u32(0..20) == 0 {
                0
            } else {
                rng.u64(1..2000) * 100 + if rng.bool() { 0 } else { 49 }
            };
            let status = ["active", "active", "active", "canceled", "past_due"][rng.usize(0..5)];
            let sub = sub_id(c, k);
            if product_lines > 0 {
                write!(products, "\r\n")?;
            }
            write!(
                products,
                "{sub}\t{product} {interval}ly\t{product}\t{interval}\t{amount}\t{status}"
            )?;
            product_lines += 1;
            if rng.u32(0..12) == 0 {
                // An add-on plan on the same subscription.
                let support = amount / 10;
                write!(
                    products,
                    "\r\n{sub}\t{product} - Support\t{product} - Support\t{interval}\t{support}\t{status}"
                )?;
                product_lines += 1;
            }
        }
    }
    products.flush()?;

    let mut tx = writer(&out.join("transactions.csv"))?;
    let mut users = writer(&out.join("users.csv"))?;
    write!(
        tx,
        "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency\r\n"
    )?;
    write!(users, "Customer ID\tCustomer Name\tCustomer Email\r\n")?;
    let start = options.from.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Plus up to an hour of jitter per row (the last rows may pass the last day).
    let span_minutes = 60 * 24 * u64::from(options.days.max(1));
    for i in 0..n {
        let c = rng.u64(0..customers);
        let minutes = i * span_minutes / n.max(1) + rng.u64(0..60);
        let at = start + Duration::minutes(minutes as i64);
        let sub = if rng.u32(0..100) < 9 {
            String::new()
        } else {
            sub_id(c, rng.u64(0..subs_per_customer(c)))
        };
        let currency = if c % 400 == 7 { "eur" } else { "usd" };
        let total = total(&mut rng, domain::exponent_of(currency));
        let sep = if i > 0 { "\r\n" } else { "" };
        write!(
            tx,
            "{sep}{}\ttxn_{:016x}\t{}\t{sub}\t{total}\t{currency}",
            at.format("%-m/%-d/%y %-H:%M"),
            (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ options.seed,
            customer_id(c)
        )?;
        let (first, last) = (FIRST[(c % 12) as usize], LAST[(c / 12 % 12) as usize]);
        let name = match rng.u32(0..100) {
            0..=10 => String::new(),
            11..=12 => format!("{first} {last}-{}", FIRST[rng.usize(0..FIRST.len())]),
            _ => format!("{first} {last}"),
        };
        let email = if rng.u32(0..100) < 5 {
            String::new()
        } else {
            format!("{}.{}{c}@example.com", first.to_lowercase(), last.to_lowercase())
        };
        write!(users, "{sep}{}\t{name}\t{email}", customer_id(c))?;
    }
    tx.flush()?;
    users.flush()
}

/// A transaction's total with the currency's own decimals (`exponent`: 2 for
/// usd and eur): mostly positive, some whole, a few zeros and refunds.
fn total(rng: &mut fastrand::Rng, exponent: u8) -> String {
    let decimals = |rng: &mut fastrand::Rng| match exponent {
        0 => String::new(),
        e => {
            let width = usize::from(e);
            format!(".{:0width$}", rng.u32(0..10u32.pow(u32::from(e))))
        }
    };
    match rng.u32(0..1000) {
        0 => format!("-{}{}", rng.u64(5..3000), decimals(rng)),
        1..=30 => "0".to_owned(),
        31..=400 => format!("{}", rng.u64(5..3000)),
        _ => format!("{}{}", rng.u64(5..3000), decimals(rng)),
    }
}

fn writer(path: &Path) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Totals parse in their currency: as many decimals as its minor unit.
    #[test]
    fn totals_have_the_currencys_decimals() {
        let mut rng = fastrand::Rng::with_seed(1);
        for exponent in [0u8, 2, 3] {
            for _ in 0..200 {
                let text = total(&mut rng, exponent);
                let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                assert!(
                    decimals == 0 || decimals == usize::from(exponent),
                    "{text} at {exponent}"
                );
                assert!(domain::parse_amount(&text, exponent, true).is_ok(), "{text}");
            }
        }
    }
}

//! Times `saas::compute` on generated invoices (default 5,000,000):
//!
//! ```text
//! cargo run -p saas --release --example saas_bench -- [N]
//! ```
//!
//! Subscriptions are monthly (most), quarterly or annual, some upgrade, some
//! stop, a few invoices are one-offs, refunds or zero; 22 months, two
//! currencies. Prints the time for input already in the crate's order and
//! for the same input in time order (sorted by `compute` itself).

use std::time::Instant;

use api_types::Money;
use chrono::{Months, TimeDelta, TimeZone, Utc};
use saas::{compute, Catalogue, Interval, Invoice, Parameters};

/// CPU seconds this process has used (user + system), from /proc (Linux):
/// wall time means little on a shared machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which ends with ')'): utime is the 12th, stime the 13th.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rand = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let start = Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let end = start + Months::new(22);
    let mut invoices = Vec::with_capacity(n + 1000);
    let mut catalogue = Catalogue::new();
    let mut customer = 0u64;
    while invoices.len() < n {
        customer += 1;
        let currency = if rand(50) == 0 { "eur" } else { "usd" };
        for s in 0..=rand(2) {
            let sub = format!("sub_{customer:08}_{s}");
            let k = [1, 1, 1, 1, 1, 1, 3, 12][rand(8) as usize];
            if k == 12 && rand(2) == 0 {
                catalogue.add_item(&sub, Interval::Year, "Annual");
            }
            let mut t = start + TimeDelta::minutes(rand(60 * 24 * 600) as i64);
            let mut amount = (rand(2000) as i64 + 10) * 100 * i64::from(k);
            let stop = rand(40);
            let mut i = 0;
            while t < end {
                let (sub_id, minor) = match rand(100) {
                    0 => (String::new(), amount / 3),
                    1 => (sub.clone(), 0),
                    2 => (sub.clone(), -amount / 10),
                    _ => (sub.clone(), amount),
                };
                invoices.push(Invoice {
                    timestamp: t,
                    transaction_id: format!("in_{customer:08}_{s}_{i:03}").into(),
                    customer_id: format!("cus_{customer:08}").into(),
                    subscription_id: sub_id.into(),
                    currency: currency.into(),
                    amount: Money::new(minor, 2),
                });
                i += 1;
                if rand(30) == 0 {
                    amount += amount / 5;
                }
                if i > stop && rand(20) == 0 {
                    break;
                }
                t = t + Months::new(k) + TimeDelta::hours(rand(48) as i64 - 12);
            }
        }
    }
    invoices.sort_by(|a, b| {
        (
            &a.currency,
            &a.customer_id,
            &a.subscription_id,
            a.timestamp,
            &a.transaction_id,
        )
            .cmp(&(
                &b.currency,
                &b.customer_id,
                &b.subscription_id,
                b.timestamp,
                &b.transaction_id,
            ))
    });
    let params = Parameters::default();
    let t0 = Instant::now();
    let sorted = invoices.is_sorted_by(|a, b| {
        (
            &a.currency,
            &a.customer_id,
            &a.subscription_id,
            a.timestamp,
            &a.transaction_id,
        ) <= (
            &b.currency,
            &b.customer_id,
            &b.subscription_id,
            b.timestamp,
            &b.transaction_id,
        )
    });
    println!("checking the order alone: {sorted} in {:?}", t0.elapsed());
    for round in 0..2 {
        let (t0, c0) = (Instant::now(), cpu_seconds());
        match compute(&invoices, &catalogue, &params) {
            Ok(f) => {
                let usd = "usd".parse().ok().and_then(|usd| f.currency(usd)).map(|c| c.mrr());
                let last = usd.as_ref().and_then(|r| r.months.last());
                println!(
                    "sorted, round {round}: {} invoices, {} customers in {:?} ({:.2} s CPU); last usd close {:?}: MRR {:?}, {:?} customers",
                    invoices.len(),
                    customer,
                    t0.elapsed(),
                    cpu_seconds() - c0,
                    last.map(|m| &m.month),
                    last.map(|m| m.mrr.to_string()),
                    last.map(|m| m.customers)
                );
            }
            Err(e) => println!("error: {e}"),
        }
    }
    // Time order, each invoice's strings allocated afresh in that order: what
    // reading the export file (or a query without ORDER BY) would give.
    invoices.sort_by(|a, b| (a.timestamp, &a.transaction_id).cmp(&(b.timestamp, &b.transaction_id)));
    let invoices: Vec<Invoice> = invoices.to_vec();
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let ok = compute(&invoices, &catalogue, &params).is_ok();
    println!(
        "time order (sorted internally): ok={ok} in {:?} ({:.2} s CPU)",
        t0.elapsed(),
        cpu_seconds() - c0
    );
    drop(invoices);
    let _ = &mut rand;
}

//! A deterministic generator of billing exports in the real export's format and
//! quirks: tab-separated, CRLF, a header, `M/D/YY H:MM` dates, users repeated once
//! per transaction with blanks and conflicting names, a few customers paying in
//! euros. The same seed gives the same bytes.
//!
//! About four in five transactions are subscription invoices that behave like
//! the real ones, so that the subscription metrics mean something on generated
//! data: monthly, quarterly and annual cadences (the products file names the
//! cadence as the real one does, for the minority of subscriptions it lists),
//! upgrades and downgrades, add-ons that start later or stop earlier, customers
//! who leave and some who come back months later, renewals a day or two late.
//! The rest are one-off invoices without subscription, $0.00 invoices (free
//! plans among them) and a few refunds.
//!
//! Streaming: every customer's life is a function of (seed, customer), so a
//! day's invoices are listed twice (counted, then written) instead of kept.

mod population;
mod rows;
mod schedule;

use std::path::Path;

use chrono::{Duration, NaiveDate};

use population::Customer;
use rows::{Rows, Writers};
use schedule::Population;

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
    let n = options.transactions;
    let population = Population::new(options.seed, options.from, options.days, n);
    write_products(out, &population)?;
    let mut rows = Rows::new(Writers::create(out)?, &population);
    let days = u64::from(options.days.max(1));
    for d in 0..days {
        let date = options.from + Duration::days(d as i64);
        // Rows up to the end of this day, spread evenly; the last day takes
        // whatever remains so that there are exactly `n`.
        let target = if d + 1 == days {
            n
        } else {
            (u128::from(n) * u128::from(d + 1) / u128::from(days)) as u64
        };
        rows.day(date, target, n)?;
    }
    rows.finish()
}

/// products.csv: the subscriptions it lists, each with its cadence in the
/// product name ("Helpdesk : Quarterly", a `month` item, as in the real
/// export), some with a second item (an add-on plan), and a few free plans.
fn write_products(out: &Path, population: &Population) -> std::io::Result<()> {
    let mut w = rows::writer(&out.join("products.csv"))?;
    let mut text = String::from("subscription ID\tPlan\tProduct\tInterval\tAmount\tStatus");
    let statuses = ["active", "active", "active", "past_due", "trialing"];
    for c in 0..population.customers {
        let customer = Customer::draw(population.seed, c, population.months());
        let product = PRODUCTS[customer.product];
        // A snapshot of the subscriptions alive during the window, as an export's is.
        let seen = |r: &population::Run| r.listed && r.periods > 0 && r.end() > 0 && r.start < population.months();
        for (slot, run) in customer.runs().filter(|(_, r)| seen(r)) {
            let (word, interval) = run.cadence.catalogue();
            let amount = customer.total_cents(run.cadence, run.last_price());
            let status = if run.end() > population.months() {
                statuses[(population::mix(c ^ run.end() as u64) % 5) as usize]
            } else {
                "canceled"
            };
            let sub = rows::SubscriptionId(c, slot);
            text.push_str(&format!(
                "\r\n{sub}\t{product} {word}\t{product} : {word}\t{interval}\t{}\t{status}",
                rows::Major(amount as i64, 2)
            ));
            if population::mix(c.wrapping_add(slot as u64)).is_multiple_of(12) {
                text.push_str(&format!(
                    "\r\n{sub}\t{product} - Support\t{product} - Support\t{interval}\t{}\t{status}",
                    rows::Major(amount as i64 / 10, 2)
                ));
            }
        }
        if population::mix(population.seed ^ c) % 100 < 1 {
            let sub = rows::SubscriptionId(c, population::Slot::Free);
            text.push_str(&format!(
                "\r\n{sub}\t{product} Free\t{product} : Free\tmonth\t0\tactive"
            ));
        }
        if text.len() > 1 << 16 {
            std::io::Write::write_all(&mut w, text.as_bytes())?;
            text.clear();
        }
    }
    std::io::Write::write_all(&mut w, text.as_bytes())?;
    std::io::Write::flush(&mut w)
}

//! The rows of transactions.csv and users.csv: a day's recurring invoices
//! interleaved with one-off invoices, $0.00 invoices and refunds, each with
//! its user row (blank and conflicting names included), written without
//! allocating per row.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};

use super::population::{self, Invoice, Slot};
use super::schedule::Population;

const FIRST: &[&str] = &[
    "Ada", "Ben", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam",
];
const LAST: &[&str] = &[
    "Adams", "Brown", "Costa", "Dubois", "Evans", "Fischer", "García", "Hansen", "Ito", "Jones", "Khan", "Lopez",
];
/// [`FIRST`] and [`LAST`] as they appear in e-mail addresses.
const FIRST_LOWER: &[&str] = &[
    "ada", "ben", "chloé", "dmitri", "elena", "farid", "grace", "hiro", "ines", "jonas", "kemi", "liam",
];
const LAST_LOWER: &[&str] = &[
    "adams", "brown", "costa", "dubois", "evans", "fischer", "garcía", "hansen", "ito", "jones", "khan", "lopez",
];

pub(super) fn writer(path: &Path) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
}

/// A subscription id: customer and slot, spread over 40 bits (a bijection,
/// so two customers never share one).
pub(super) struct SubscriptionId(pub u64, pub Slot);

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = (self.0 * 4 + self.1 as u64).wrapping_mul(0x9E37_79B9) & 0xff_ffff_ffff;
        write!(f, "sub_{n:010x}")
    }
}

/// A customer id.
struct CustomerId(u64);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cus_{:012x}", self.0.wrapping_mul(0x5851_F42D_4C95_7F2D) >> 16)
    }
}

/// An amount in minor units written in major units with the currency's
/// decimals, the decimals left out when they are all zero (`499`, `531.93`).
pub(super) struct Major(pub i64, pub u8);

impl fmt::Display for Major {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Major(minor, exponent) = *self;
        let sign = if minor < 0 { "-" } else { "" };
        let scale = 10u64.pow(u32::from(exponent));
        let (whole, fraction) = (minor.unsigned_abs() / scale, minor.unsigned_abs() % scale);
        if fraction == 0 {
            write!(f, "{sign}{whole}")
        } else {
            write!(f, "{sign}{whole}.{fraction:0width$}", width = usize::from(exponent))
        }
    }
}

/// The two files rows go to.
pub(super) struct Writers {
    tx: BufWriter<File>,
    users: BufWriter<File>,
}

impl Writers {
    pub(super) fn create(out: &Path) -> std::io::Result<Writers> {
        let mut tx = writer(&out.join("transactions.csv"))?;
        let mut users = writer(&out.join("users.csv"))?;
        write!(
            tx,
            "Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency"
        )?;
        write!(users, "Customer ID\tCustomer Name\tCustomer Email")?;
        Ok(Writers { tx, users })
    }
}

/// One transaction row before it is written.
struct Row {
    customer: u64,
    subscription: Option<Slot>,
    /// Minor units of the customer's currency.
    total: i64,
}

/// The writer of the transaction and user rows.
pub(super) struct Rows<'a> {
    files: Writers,
    population: &'a Population,
    rng: fastrand::Rng,
    written: u64,
}

impl<'a> Rows<'a> {
    pub(super) fn new(files: Writers, population: &'a Population) -> Rows<'a> {
        Rows {
            files,
            population,
            rng: fastrand::Rng::with_seed(population.seed),
            written: 0,
        }
    }

    /// Writes `date`'s rows: its recurring invoices (as many as fit in
    /// `total` rows), and other invoices up to `target` rows in all so far.
    pub(super) fn day(&mut self, date: NaiveDate, target: u64, total: u64) -> std::io::Result<()> {
        let room = target.max(self.written) - self.written;
        let all = self.population.invoices_on(date).count() as u64;
        let recurring = all.min(total - self.written);
        let slots = room.max(recurring);
        let mut invoices = self.population.invoices_on(date);
        let days = [date, date + Duration::days(1)].map(|d| (d.month(), d.day(), d.year() % 100));
        for j in 0..slots {
            // Recurring invoices spread evenly among the day's rows.
            let row = if (j + 1) * recurring / slots > j * recurring / slots {
                invoices.next().map(|i| self.recurring(i))
            } else {
                None
            };
            let row = row.unwrap_or_else(|| self.other());
            // Plus up to an hour of jitter (the last rows may pass the last day).
            let minute = j * 1440 / slots + self.rng.u64(0..60);
            let (m, d, y) = days[usize::from(minute >= 1440)];
            let minute = minute % 1440;
            // Rows are separated, not ended, by CRLF, as in the real export.
            write!(self.files.tx, "\r\n{m}/{d}/{y:02} {}:{:02}\t", minute / 60, minute % 60)?;
            self.write(&row)?;
        }
        Ok(())
    }

    fn recurring(&self, invoice: Invoice) -> Row {
        Row {
            customer: invoice.customer,
            subscription: Some(invoice.slot),
            total: invoice.cents as i64,
        }
    }

    /// An invoice that is no subscription revenue, for any customer: a
    /// one-off (no subscription id), a $0.00 invoice (some on free plans) or
    /// a refund.
    fn other(&mut self) -> Row {
        let rng = &mut self.rng;
        let customer = rng.u64(0..self.population.customers);
        // Usage and services: about a tenth of the revenue, as in the real export.
        let cents = |rng: &mut fastrand::Rng| {
            let whole = rng.i64(5..1000) * 100;
            if rng.u32(0..10) < 4 {
                whole
            } else {
                whole + rng.i64(0..100)
            }
        };
        let (subscription, total) = match rng.u32(0..1000) {
            0..=4 => (rng.bool().then_some(Slot::Main), -cents(rng)),
            5..=399 => (Some(if rng.u32(0..10) < 4 { Slot::Free } else { Slot::Main }), 0),
            _ => (None, cents(rng)),
        };
        Row {
            customer,
            subscription,
            total,
        }
    }

    /// The rest of the transaction row after its date, and its user row.
    fn write(&mut self, row: &Row) -> std::io::Result<()> {
        let c = row.customer;
        let currency = population::currency(c);
        let id = (self.written + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ self.population.seed;
        let tx = &mut self.files.tx;
        write!(tx, "txn_{id:016x}\t{}\t", CustomerId(c))?;
        if let Some(slot) = row.subscription {
            write!(tx, "{}", SubscriptionId(c, slot))?;
        }
        write!(tx, "\t{}\t{currency}", Major(row.total, domain::exponent_of(currency)))?;
        self.written += 1;
        let (first, last) = ((c % 12) as usize, (c / 12 % 12) as usize);
        let users = &mut self.files.users;
        write!(users, "\r\n{}\t", CustomerId(c))?;
        match self.rng.u32(0..100) {
            0..=10 => {}
            11..=12 => write!(
                users,
                "{} {}-{}",
                FIRST[first],
                LAST[last],
                FIRST[self.rng.usize(0..FIRST.len())]
            )?,
            _ => write!(users, "{} {}", FIRST[first], LAST[last])?,
        }
        if self.rng.u32(0..100) < 5 {
            write!(users, "\t")
        } else {
            write!(users, "\t{}.{}{c}@example.com", FIRST_LOWER[first], LAST_LOWER[last])
        }
    }

    pub(super) fn finish(mut self) -> std::io::Result<()> {
        self.files.tx.flush()?;
        self.files.users.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amounts parse back in their currency: as many decimals as its minor unit.
    #[test]
    fn amounts_have_the_currencys_decimals() {
        let mut rng = fastrand::Rng::with_seed(1);
        for exponent in [0u8, 2, 3] {
            for _ in 0..200 {
                let minor = rng.i64(-300_000..300_000);
                let text = Major(minor, exponent).to_string();
                let decimals = text.split_once('.').map_or(0, |(_, f)| f.len());
                assert!(
                    decimals == 0 || decimals == usize::from(exponent),
                    "{text} at {exponent}"
                );
                let parsed = domain::parse_amount(&text, exponent, true).unwrap();
                assert_eq!(parsed.minor(), minor, "{text}");
            }
        }
    }
}

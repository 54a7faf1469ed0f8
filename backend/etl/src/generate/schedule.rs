//! When the generated subscriptions bill: every customer renews on one day of
//! the month (its anchor, 1–28, so no date needs clamping), a few of them a
//! day or two late. Customers are numbered so that those of one anchor are
//! every 28th, which lets a day's invoices be listed without any state.

use chrono::{Datelike, Duration, NaiveDate};

use super::population::{mix, Customer, Invoice};

/// The part of the transactions that are subscription invoices; the rest
/// are one-off invoices, $0.00 invoices and refunds. Below 100% so that the
/// month-to-month variation of renewals fits in the day's share of rows.
const RECURRING_SHARE: f64 = 0.8;

/// Customers drawn to learn how many invoices one customer makes in the window.
const SAMPLE: u64 = 2_000;

/// Renewal days of the month; customer `c` renews on day `c % ANCHORS + 1`.
const ANCHORS: u64 = 28;

/// The generated customers of one window.
#[derive(Debug, Clone, Copy)]
pub(super) struct Population {
    pub seed: u64,
    pub customers: u64,
    /// The window's first month as `year * 12 + month0`.
    first_month: i32,
    months: i32,
}

impl Population {
    /// As many customers as make about [`RECURRING_SHARE`] of `transactions`
    /// invoices between `from` and `days` days later.
    pub(super) fn new(seed: u64, from: NaiveDate, days: u32, transactions: u64) -> Population {
        let last = from + Duration::days(i64::from(days.max(1)) - 1);
        let first_month = month_number(from);
        let mut population = Population {
            seed,
            customers: 0,
            first_month,
            months: month_number(last) - first_month + 1,
        };
        let mut invoices = 0u64;
        for c in 0..SAMPLE {
            let customer = Customer::draw(seed, c, population.months);
            for month in 0..population.months {
                let billed = population.anchor_date(c, month).is_some_and(|d| d >= from && d <= last);
                if billed {
                    invoices += customer.invoices(month).iter().flatten().count() as u64;
                }
            }
        }
        let per_customer = invoices as f64 / SAMPLE as f64;
        let wanted = if per_customer > 0.0 {
            (transactions as f64 * RECURRING_SHARE / per_customer).round() as u64
        } else {
            transactions / 8
        };
        population.customers = wanted.clamp(20, transactions.saturating_mul(4).max(20));
        population
    }

    pub(super) fn months(&self) -> i32 {
        self.months
    }

    /// The day customer `c` is due in `month` (an index from the window's first).
    fn anchor_date(&self, c: u64, month: i32) -> Option<NaiveDate> {
        let number = self.first_month + month;
        let day = (c % ANCHORS) as u32 + 1;
        NaiveDate::from_ymd_opt(number.div_euclid(12), number.rem_euclid(12) as u32 + 1, day)
    }

    /// The recurring invoices dated `date`.
    pub(super) fn invoices_on(&self, date: NaiveDate) -> DayInvoices<'_> {
        DayInvoices {
            population: self,
            date,
            late: -1,
            month: 0,
            next: u64::MAX,
            pending: None,
        }
    }
}

/// `year * 12 + month0` of a date.
fn month_number(date: NaiveDate) -> i32 {
    date.year() * 12 + date.month0() as i32
}

/// How many days late customer `c` pays in `month`: mostly on the day, 5%
/// a day late, 2% two days late (inside the default grace of seven days).
fn lateness(seed: u64, c: u64, month: i32) -> i32 {
    let h = mix(seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
        ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (month as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    match h % 100 {
        0..=92 => 0,
        93..=97 => 1,
        _ => 2,
    }
}

/// The invoices of one day: those due that day and paid on time, then those
/// due one and two days earlier and paid late.
pub(super) struct DayInvoices<'a> {
    population: &'a Population,
    date: NaiveDate,
    /// Days late of the customers being listed; -1 before the first.
    late: i32,
    /// The month (index) of their due date.
    month: i32,
    /// The next customer of the anchor being listed.
    next: u64,
    /// A customer's second invoice of the day.
    pending: Option<Invoice>,
}

impl DayInvoices<'_> {
    /// Moves to the customers `late + 1` days late; false after the last.
    fn next_lateness(&mut self) -> bool {
        self.late += 1;
        if self.late > 2 {
            return false;
        }
        let due = self.date - Duration::days(i64::from(self.late));
        let anchor = u64::from(due.day());
        self.next = if anchor <= ANCHORS { anchor - 1 } else { u64::MAX };
        self.month = month_number(due) - self.population.first_month;
        true
    }
}

impl Iterator for DayInvoices<'_> {
    type Item = Invoice;

    fn next(&mut self) -> Option<Invoice> {
        let p = self.population;
        loop {
            if let Some(invoice) = self.pending.take() {
                return Some(invoice);
            }
            if self.next >= p.customers {
                if !self.next_lateness() {
                    return None;
                }
                continue;
            }
            let c = self.next;
            self.next += ANCHORS;
            if lateness(p.seed, c, self.month) != self.late {
                continue;
            }
            match Customer::draw(p.seed, c, p.months).invoices(self.month) {
                [Some(a), b] => {
                    self.pending = b;
                    return Some(a);
                }
                [None, Some(b)] => return Some(b),
                [None, None] => {}
            }
        }
    }
}

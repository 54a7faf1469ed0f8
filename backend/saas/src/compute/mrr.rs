//! §5–§6: a customer's MRR at every close, read from its subscriptions'
//! recurring invoices — each invoice's interval and MRR, the closes it
//! covers (grace included), the latest covering invoice winning — with the
//! splits of §7 and every invoice counted in the billed amounts (§10).

use api_types::Money;
use chrono::{DateTime, Utc};

use super::billed::bill;
use super::rounding::div_round;
use super::sums::Sums;
use crate::calendar::{add_days, add_months, month_index, month_of, MonthIndex};
use crate::interval::{choose, CatalogueEntry, IntervalSource};
use crate::order::{runs, Break, ReadingOrder, Row, NO_SUBSCRIPTION};
use crate::SaasError;

/// What reading one currency's invoices needs to know.
pub(super) struct Reading<'a> {
    /// The invoices' texts.
    pub(super) order: &'a ReadingOrder,
    /// Each subscription's catalogue entry, by rank.
    pub(super) entries: &'a [Option<CatalogueEntry>],
    pub(super) grace_days: u32,
    pub(super) first_month: MonthIndex,
    /// W0 of §4: 00:00 on the first day of the first month.
    pub(super) window_start: DateTime<Utc>,
    pub(super) currency: &'a str,
    pub(super) exponent: u8,
    /// §5 rule 5's threshold in the currency's minor units.
    pub(super) threshold: i128,
}

impl Reading<'_> {
    fn overflow(&self, what: &'static str) -> SaasError {
        SaasError::Overflow {
            currency: self.currency.to_owned(),
            what,
        }
    }

    fn out_of_range(&self, inv: &Row) -> SaasError {
        SaasError::DateOutOfRange {
            currency: self.currency.to_owned(),
            transaction_id: self.order.id(inv).to_owned(),
        }
    }

    /// The invoice's total in the currency's (largest) exponent.
    fn minor_of(&self, inv: &Row) -> Result<i64, SaasError> {
        Money::new(inv.total, inv.exponent)
            .with_exponent(self.exponent)
            .map(Money::minor)
            .ok_or_else(|| self.overflow("an invoice total"))
    }
}

/// The threshold in the currency's minor units, exactly: the smallest
/// whole number of minor units at or above it (`2999.99` in yen is 3000
/// yen), so `total >= threshold` is the comparison of the exact decimals.
pub(super) fn threshold_minor(threshold: Money, exponent: u8) -> i128 {
    let minor = i128::from(threshold.minor());
    let (t, e) = (u32::from(threshold.exponent()), u32::from(exponent));
    if t <= e {
        // At most 10^18 × i64::MAX: within i128.
        minor * 10i128.pow(e - t)
    } else {
        let factor = 10i128.pow(t - e);
        minor / factor + i128::from(minor % factor > 0)
    }
}

/// One recurring invoice of the subscription being read.
struct Recurring<'a> {
    invoice: &'a Row,
    /// Its month's index in the window (0 = the first month).
    month: i64,
    minor: i64,
    k: u32,
    source: IntervalSource,
    mrr: i64,
}

/// Reads one customer at a time; its buffers are reused from customer to
/// customer.
pub(super) struct CustomerReader<'a> {
    reading: Reading<'a>,
    /// The customer's MRR at every reported close.
    row: Vec<i64>,
    /// Per close, the latest covering invoice of the subscription being read.
    latest: Vec<Option<usize>>,
    recurring: Vec<Recurring<'a>>,
    times: Vec<DateTime<Utc>>,
    /// (own month, invoice) of each recurring invoice with MRR.
    own_month_checks: Vec<(usize, &'a Row)>,
    /// (timestamp, invoice, interval) of the customer's first recurring invoice.
    first: Option<(DateTime<Utc>, &'a Row, u32)>,
}

impl<'a> CustomerReader<'a> {
    /// A reader for a window of `n` reported months.
    pub(super) fn new(reading: Reading<'a>, n: usize) -> CustomerReader<'a> {
        CustomerReader {
            reading,
            row: vec![0; n],
            latest: vec![None; n],
            recurring: Vec::new(),
            times: Vec::new(),
            own_month_checks: Vec::new(),
            first: None,
        }
    }

    /// The MRR of the customer last read at every reported close.
    pub(super) fn row(&self) -> &[i64] {
        &self.row
    }

    /// Reads one customer's invoices (in the reading order; `breaks` are
    /// theirs): its MRR at every close into [`Self::row`], its invoices into
    /// the billed amounts and its MRR into the splits of `sums`.
    pub(super) fn read(&mut self, customer: &'a [Row], breaks: &[Break], sums: &mut Sums) -> Result<(), SaasError> {
        self.row.fill(0);
        self.own_month_checks.clear();
        self.first = None;
        for sub_run in runs(breaks, Break::Subscription) {
            self.subscription(&customer[sub_run], sums)?;
        }
        // §13: every recurring invoice's customer is active at its month's close.
        for &(m, invoice) in &self.own_month_checks {
            if self.row[m] <= 0 {
                let transaction_id = self.reading.order.id(invoice);
                return Err(SaasError::Invariant {
                    month: month_of(self.reading.first_month + m as i64).to_string(),
                    currency: self.reading.currency.to_owned(),
                    what: format!(
                        "customer {} of recurring invoice {transaction_id} is not active at the month's close",
                        self.reading.order.customer(&customer[0])
                    ),
                });
            }
        }
        Ok(())
    }

    /// §4: whether the customer last read, when new, may be renewing a
    /// subscription older than the window: its first recurring invoice falls
    /// within its own interval of the window's start. (`customer`: any of its
    /// invoices, to name it in an error.)
    pub(super) fn left_censored(&self, customer: &Row) -> Result<bool, SaasError> {
        Ok(match self.first {
            Some((t, _, k)) => {
                t < add_months(self.reading.window_start, k).ok_or_else(|| self.reading.out_of_range(customer))?
            }
            None => false,
        })
    }

    /// Reads one subscription's invoices: bills each, and adds the MRR of the
    /// latest covering recurring invoice at each close to the customer's.
    fn subscription(&mut self, subscription: &'a [Row], sums: &mut Sums) -> Result<(), SaasError> {
        let recurring_sub = subscription[0].subscription != NO_SUBSCRIPTION;
        self.recurring.clear();
        for inv in subscription {
            let minor = self.reading.minor_of(inv)?;
            let month = month_index(inv.timestamp) - self.reading.first_month;
            bill(&mut sums.billed, inv, month, minor);
            if recurring_sub && minor > 0 {
                self.recurring.push(Recurring {
                    invoice: inv,
                    month,
                    minor,
                    k: 1,
                    source: IntervalSource::AssumedMonthly,
                    mrr: 0,
                });
            }
        }
        if self.recurring.is_empty() {
            return Ok(());
        }
        self.times.clear();
        self.times.extend(self.recurring.iter().map(|r| r.invoice.timestamp));
        let entry = self.reading.entries[subscription[0].subscription as usize];
        let (mut touched_lo, mut touched_hi) = (self.row.len(), 0);
        for i in 0..self.recurring.len() {
            let (lo, hi) = self.cover(i, entry)?;
            if lo < hi {
                touched_lo = touched_lo.min(lo);
                touched_hi = touched_hi.max(hi);
            }
        }
        let f = &self.recurring[0];
        let candidate = (f.invoice.timestamp, f.invoice, f.k);
        let earlier = |(t, first, _): (DateTime<Utc>, &Row, u32)| match candidate.0.cmp(&t) {
            std::cmp::Ordering::Equal => self.reading.order.id_before(candidate.1.id, first.id),
            other => other.is_lt(),
        };
        if self.first.is_none_or(earlier) {
            self.first = Some(candidate);
        }
        self.add_latest(touched_lo..touched_hi, sums)
    }

    /// §5–§6 for recurring invoice `i`: its interval and MRR, and the closes
    /// it covers, `lo..hi`, where it becomes the latest covering invoice.
    fn cover(&mut self, i: usize, entry: Option<CatalogueEntry>) -> Result<(usize, usize), SaasError> {
        let n = self.row.len();
        let r = &mut self.recurring[i];
        let (k, source) = choose(&self.times, i, r.minor, entry, self.reading.threshold);
        // §5: MRR = total / k rounded half up, once per invoice.
        r.k = k;
        r.source = source;
        r.mrr = div_round(i128::from(r.minor), i128::from(k)) as i64;
        let inv = r.invoice;
        let end = add_months(inv.timestamp, k).ok_or_else(|| self.reading.out_of_range(inv))?;
        let grace_end = add_days(end, self.reading.grace_days).ok_or_else(|| self.reading.out_of_range(inv))?;
        // §6: it covers C(m) when t < C(m) <= end + grace: the closes
        // of its own month up to the month before grace_end's.
        let lo = r.month;
        let hi = (month_index(grace_end) - self.reading.first_month).min(n as i64);
        let lo = usize::try_from(lo).unwrap_or(0);
        let hi = usize::try_from(hi).unwrap_or(0);
        // Invoices come in (timestamp, id) order: the later one wins.
        for slot in self.latest.iter_mut().take(hi).skip(lo) {
            *slot = Some(i);
        }
        if lo < n && r.mrr > 0 {
            self.own_month_checks.push((lo, inv));
        }
        Ok((lo, hi))
    }

    /// Adds the MRR of the latest covering invoice at each close of `closes`
    /// to the customer's MRR and to the splits by interval and by source.
    fn add_latest(&mut self, closes: std::ops::Range<usize>, sums: &mut Sums) -> Result<(), SaasError> {
        for m in closes {
            let Some(i) = self.latest[m].take() else { continue };
            let r = &self.recurring[i];
            self.row[m] = self.row[m]
                .checked_add(r.mrr)
                .ok_or_else(|| self.reading.overflow("a customer's MRR"))?;
            let mrr = i128::from(r.mrr);
            match sums.by_interval[m].iter_mut().find(|(k, _)| *k == r.k) {
                Some((_, sum)) => *sum += mrr,
                None => sums.by_interval[m].push((r.k, mrr)),
            }
            sums.by_source[m][r.source.index()] += mrr;
        }
        Ok(())
    }
}

//! The computation: one pass over the invoices ordered by (currency,
//! customer, subscription, time, transaction id), one customer at a time,
//! adding each customer's MRR at every close into the currency's sums; then
//! the rates, the cohorts and the §13 checks.
//!
//! Sums are kept in `i128` (no sum of 64-bit values over any realistic
//! number of invoices can leave it) and converted back with a check, so an
//! overflow is an error, never a wrapped figure.
//!
//! One submodule per section of the spec, each owning both its part of the
//! reading and its part of the report: [`mrr`] reads a customer's MRR at
//! every close (§5–§6); [`month`](mod@month) a month's MRR, ARPA and splits
//! (§7); [`movements`] (§8); [`rates`] (§9); [`billed`] (§10);
//! [`cohorts`](mod@cohorts) (§11). [`sums`] holds what they share;
//! [`output`] turns sums into money and percentages with [`rounding`]'s one
//! rule (§1).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use api_types::{SaasCohort, SaasMonth, SaasWindow, Timestamp};
use chrono::{DateTime, Utc};

use crate::calendar::{month_index, month_of, month_start, MonthIndex};
use crate::figures::{CurrencyFigures, SaasFigures};
use crate::interval::CatalogueEntry;
use crate::order::{runs, Break, ReadingOrder, Row};
use crate::threads::threads_for;
use crate::{Catalogue, Invoice, Parameters, SaasError};

mod billed;
mod cohorts;
mod month;
mod movements;
mod mrr;
mod output;
mod rates;
mod rounding;
mod sums;

use cohorts::cohorts;
use month::month;
use mrr::{threshold_minor, CustomerReader, Reading};
use output::Output;
use sums::Sums;

/// Computes every figure of every currency in `invoices`. The §13
/// invariants are checked: a violation is an [`SaasError::Invariant`] naming
/// the month and currency.
///
/// Any order is accepted: the invoices are copied into a [`ReadingOrder`]
/// — (currency, customer id, subscription id, timestamp, transaction id),
/// every string compared bytewise — and sorted there unless they come in
/// that order already (PostgreSQL: `ORDER BY … COLLATE "C"` on each text
/// column; SQLite's default collation is bytewise already). A caller
/// computing the same invoices more than once keeps the [`ReadingOrder`]
/// and calls [`ReadingOrder::compute`].
pub fn compute(invoices: &[Invoice], catalogue: &Catalogue, params: &Parameters) -> Result<SaasFigures, SaasError> {
    compute_on(invoices, catalogue, params, threads_for(invoices.len()))
}

/// [`compute`] with each currency's customers read on up to `threads`
/// threads (the same figures whatever the number: customers are
/// independent, and their sums add exactly).
pub fn compute_on(
    invoices: &[Invoice],
    catalogue: &Catalogue,
    params: &Parameters,
    threads: usize,
) -> Result<SaasFigures, SaasError> {
    ReadingOrder::new(invoices.to_vec()).compute_on(catalogue, params, threads)
}

impl ReadingOrder {
    /// [`compute`] of these invoices, without checking their order.
    pub fn compute(&self, catalogue: &Catalogue, params: &Parameters) -> Result<SaasFigures, SaasError> {
        self.compute_on(catalogue, params, threads_for(self.len()))
    }

    /// [`compute_on`] of these invoices, without checking their order.
    pub fn compute_on(
        &self,
        catalogue: &Catalogue,
        params: &Parameters,
        threads: usize,
    ) -> Result<SaasFigures, SaasError> {
        compute_scanned(self, catalogue, params, threads)
    }
}

/// The computation of `order`.
fn compute_scanned(
    order: &ReadingOrder,
    catalogue: &Catalogue,
    params: &Parameters,
    threads: usize,
) -> Result<SaasFigures, SaasError> {
    if params.annual_threshold.minor() < 0 {
        return Err(SaasError::NegativeThreshold {
            threshold: params.annual_threshold,
        });
    }
    let scanned = order.scan();
    let bounds = scanned.bounds;
    let Some((first, last)) = bounds else {
        return Ok(SaasFigures {
            window: SaasWindow {
                first_transaction: None,
                last_transaction: None,
                closed_months: Vec::new(),
            },
            parameters: params.to_api(),
            currencies: BTreeMap::new(),
        });
    };
    // §4: one window for every currency; a month is closed when its close is
    // at or before the latest transaction, which makes every month before
    // the latest transaction's month closed and that month open.
    let first_month = month_index(first);
    let n_months = usize::try_from(month_index(last) - first_month).unwrap_or(0);
    let window = SaasWindow {
        first_transaction: Some(Timestamp::from_utc(first)),
        last_transaction: Some(Timestamp::from_utc(last)),
        closed_months: (0..n_months).map(|i| month_of(first_month + i as i64)).collect(),
    };
    let ctx = Context {
        order,
        entries: order.catalogue_entries(catalogue),
        params,
        threads,
        first_month,
        n_months,
        window_start: month_start(first_month).ok_or_else(|| SaasError::DateOutOfRange {
            currency: order.currency(&order.rows()[0]).to_owned(),
            transaction_id: order.id(&order.rows()[0]).to_owned(),
        })?,
        window,
    };
    let mut currencies = BTreeMap::new();
    for (range, exponent) in &scanned.currencies {
        let figures = ctx.currency(range.clone(), *exponent)?;
        currencies.insert(figures.code, figures);
    }
    Ok(SaasFigures {
        window: ctx.window,
        parameters: params.to_api(),
        currencies,
    })
}

struct Context<'a> {
    order: &'a ReadingOrder,
    /// Each subscription's catalogue entry, by rank.
    entries: Vec<Option<CatalogueEntry>>,
    params: &'a Parameters,
    /// Threads each currency's customers are read on.
    threads: usize,
    first_month: MonthIndex,
    n_months: usize,
    /// W0 of §4: 00:00 on the first day of the first month.
    window_start: DateTime<Utc>,
    window: SaasWindow,
}

impl Context<'_> {
    /// The figures of one currency from its invoices (`range` of the
    /// order) and the largest exponent among them.
    fn currency(&self, range: Range<usize>, exponent: u8) -> Result<CurrencyFigures, SaasError> {
        let group = &self.order.rows()[range.clone()];
        let breaks = &self.order.scan().breaks[range];
        let currency = self.order.currency(&group[0]).to_owned();
        let customer_runs: Vec<Range<usize>> = runs(breaks, Break::Customer).collect();
        let parts = split(&customer_runs, group.len(), self.threads);
        // Customers are independent and the sums add exactly: each part is
        // read on its own thread (5M invoices: 0.9 s on one core), and the
        // parts are joined in the reading order, so the figures, the
        // customer rows and the first error are those of one pass.
        let read = |runs: &[Range<usize>]| self.customers(group, breaks, runs, &currency, exponent);
        let mut results = if parts.len() == 1 {
            vec![read(&customer_runs)]
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = parts
                    .iter()
                    .map(|r| scope.spawn(|| read(&customer_runs[r.clone()])))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                    .collect()
            })
        }
        .into_iter();
        let mut all = results.next().unwrap_or_else(|| Ok(Part::new(self.n_months)))?;
        for part in results {
            all.absorb(part?);
        }
        let (months, cohorts) = self.report(&currency, exponent, &all.sums)?;
        Ok(CurrencyFigures {
            code: api_types::Currency::from_code(&currency).map_err(SaasError::Currency)?,
            currency,
            exponent,
            parameters: self.params.to_api(),
            window: self.window.clone(),
            first_month: self.first_month,
            months,
            cohorts,
            customers: all.customers,
            customer_mrr: all.customer_mrr,
            left_censored: all.left_censored,
        })
    }

    /// Reads the customers `customer_runs` (ranges of `group`) of one currency.
    fn customers(
        &self,
        group: &[Row],
        breaks: &[Break],
        customer_runs: &[Range<usize>],
        currency: &str,
        exponent: u8,
    ) -> Result<Part, SaasError> {
        let reading = Reading {
            order: self.order,
            entries: &self.entries,
            grace_days: self.params.grace_days,
            first_month: self.first_month,
            window_start: self.window_start,
            currency,
            exponent,
            threshold: threshold_minor(self.params.annual_threshold, exponent),
        };
        let mut reader = CustomerReader::new(reading, self.n_months);
        let mut part = Part::new(self.n_months);
        for customer_run in customer_runs {
            let customer = &group[customer_run.clone()];
            reader.read(customer, &breaks[customer_run.clone()], &mut part.sums)?;
            let row = reader.row();
            if row.iter().all(|&v| v == 0) {
                continue;
            }
            let censored = reader.left_censored(&customer[0])?;
            add_customer(&mut part.sums, row, censored);
            // The invoices' shared id: a reference count, not a copy (780,000
            // customers at 5M transactions).
            part.customers.push(self.order.customer(&customer[0]).clone());
            part.customer_mrr.extend_from_slice(row);
            part.left_censored.push(censored);
        }
        Ok(part)
    }
}

/// What reading some of a currency's customers gives: their sums and the
/// rows of those ever active.
struct Part {
    sums: Sums,
    customers: Vec<Arc<str>>,
    customer_mrr: Vec<i64>,
    left_censored: Vec<bool>,
}

impl Part {
    fn new(n_months: usize) -> Part {
        Part {
            sums: Sums::new(n_months),
            customers: Vec::new(),
            customer_mrr: Vec::new(),
            left_censored: Vec::new(),
        }
    }

    /// Adds `later`, whose customers follow this part's in the reading order.
    fn absorb(&mut self, later: Part) {
        self.sums.absorb(later.sums);
        self.customers.extend(later.customers);
        self.customer_mrr.extend(later.customer_mrr);
        self.left_censored.extend(later.left_censored);
    }
}

/// Splits `customer_runs` (consecutive ranges covering `invoices` invoices)
/// into at most `threads` consecutive parts of about as many invoices each,
/// as ranges of `customer_runs`.
fn split(customer_runs: &[Range<usize>], invoices: usize, threads: usize) -> Vec<Range<usize>> {
    if threads < 2 || customer_runs.len() < 2 {
        return std::iter::once(0..customer_runs.len()).collect();
    }
    let share = invoices.div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut start = 0;
    for (i, run) in customer_runs.iter().enumerate() {
        if run.end >= share * (parts.len() + 1) && parts.len() + 1 < threads {
            parts.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < customer_runs.len() {
        parts.push(start..customer_runs.len());
    }
    parts
}

/// Adds one customer's MRR at every close to the sums: MRR, customers
/// (§7), cohorts (§11), movements (§8) and retention numerators (§9).
fn add_customer(sums: &mut Sums, row: &[i64], censored: bool) {
    let Some(cohort) = row.iter().position(|&v| v > 0) else {
        return;
    };
    month::add(sums, row);
    cohorts::add(sums, row, cohort);
    movements::add(sums, row, cohort, censored);
    rates::add(sums, row);
}

impl Context<'_> {
    /// The months and cohorts of one currency from its sums, with the §13 checks.
    fn report(&self, currency: &str, exponent: u8, s: &Sums) -> Result<(Vec<SaasMonth>, Vec<SaasCohort>), SaasError> {
        let out = Output {
            currency,
            exponent,
            first_month: self.first_month,
        };
        let months = (0..self.n_months)
            .map(|m| month(&out, s, m))
            .collect::<Result<_, _>>()?;
        let cohorts = cohorts(&out, s)?;
        Ok((months, cohorts))
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn a_split_covers_every_customer_once_in_order() {
        let runs = [0..3, 3..5, 5..10, 10..11, 11..20, 20..21];
        for threads in 1..8 {
            let parts = split(&runs, 21, threads);
            assert!(parts.len() <= threads.max(1), "{threads}: {parts:?}");
            let joined: Vec<usize> = parts.iter().flat_map(Clone::clone).collect();
            assert_eq!(joined, (0..runs.len()).collect::<Vec<_>>(), "{threads}: {parts:?}");
            assert!(parts.iter().all(|p| !p.is_empty()), "{threads}: {parts:?}");
        }
        assert_eq!(split(&runs, 21, 2), vec![0..4, 4..6]);
        assert_eq!(split(&runs[..1], 3, 4), vec![0..1]);
    }
}

//! The order the computation reads invoices in — (currency, customer,
//! subscription, timestamp, transaction id bytewise) — and the compact form
//! a run's invoices are kept in, in that order: a [`ReadingOrder`] holds
//! each distinct currency, customer and subscription once, in byte order,
//! and each invoice as a 40-byte [`Row`] of their ranks, with the
//! transaction ids in one buffer. Integer comparisons of the ranks are the
//! byte order of the texts, so neither the sort nor the computation follows
//! a pointer per invoice; and the kept invoices cost about 70 bytes each
//! instead of about 130 (an `Invoice` with a heap id and three shared
//! texts), with no allocation per invoice to make or free.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::Arc;

use api_types::Money;
use chrono::{DateTime, Utc};

use crate::interval::{Catalogue, CatalogueEntry};
use crate::Invoice;

mod merge;
mod numbered;

pub use numbered::{Numbered, Text};

/// One invoice of a [`ReadingOrder`]: its currency, customer and
/// subscription as ranks among their field's distinct values, its
/// transaction id as a number in the order's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    /// The total in minor units of `exponent` (scaled to the currency's
    /// largest exponent when the computation reads it, as for an `Invoice`).
    pub(crate) total: i64,
    pub(crate) timestamp: DateTime<Utc>,
    pub(crate) currency: u32,
    pub(crate) customer: u32,
    /// 0 is no subscription: the empty id, first in byte order.
    pub(crate) subscription: u32,
    pub(crate) id: u32,
    pub(crate) exponent: u8,
}

// The size the memory figures of SCALING.md assume.
const _: () = assert!(std::mem::size_of::<Row>() == 40);

/// The rank of "no subscription" (the empty id).
pub(crate) const NO_SUBSCRIPTION: u32 = 0;

/// Transaction ids, one after the other in one buffer.
#[derive(Debug, Clone, Default)]
struct Ids {
    text: String,
    ends: Vec<usize>,
}

impl Ids {
    /// Adds `id`; its number. Callers have far fewer than 2^32 invoices
    /// (each costs 70 bytes of memory here).
    fn push(&mut self, id: &str) -> u32 {
        self.text.push_str(id);
        self.ends.push(self.text.len());
        (self.ends.len() - 1) as u32
    }

    fn get(&self, id: u32) -> &str {
        let i = id as usize;
        let start = match i.checked_sub(1) {
            Some(p) => self.ends[p],
            None => 0,
        };
        &self.text[start..self.ends[i]]
    }

    fn len(&self) -> u32 {
        self.ends.len() as u32
    }

    fn append(&mut self, other: &Ids) {
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.ends.extend(other.ends.iter().map(|end| base + end));
    }
}

/// Where an invoice starts a new group in the reading order: a new currency,
/// a new customer, a new subscription, or none. Ordered from the outermost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Break {
    Currency,
    Customer,
    Subscription,
    None,
}

/// Where each group starts, the first and last timestamps, and each
/// currency's range and largest exponent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    pub breaks: Vec<Break>,
    pub bounds: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub currencies: Vec<(Range<usize>, u8)>,
}

/// The break between neighbours `a` and `b` in the reading order (`a`
/// none: `b` is the first invoice).
fn break_between(a: Option<&Row>, b: &Row) -> Break {
    match a {
        None => Break::Currency,
        Some(a) if a.currency != b.currency => Break::Currency,
        Some(a) if a.customer != b.customer => Break::Customer,
        Some(a) if a.subscription != b.subscription => Break::Subscription,
        Some(_) => Break::None,
    }
}

/// The scan of `rows`, in the reading order.
fn scan(rows: &[Row]) -> Scan {
    let mut breaks = Vec::with_capacity(rows.len());
    let mut currencies: Vec<(Range<usize>, u8)> = Vec::new();
    let mut bounds: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
    for (i, row) in rows.iter().enumerate() {
        let brk = break_between(i.checked_sub(1).map(|p| &rows[p]), row);
        breaks.push(brk);
        match currencies.last_mut() {
            Some((range, max)) if brk != Break::Currency => {
                range.end = i + 1;
                *max = (*max).max(row.exponent);
            }
            _ => currencies.push((i..i + 1, row.exponent)),
        }
        let t = row.timestamp;
        bounds = Some(bounds.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
    }
    Scan {
        breaks,
        bounds,
        currencies,
    }
}

/// The runs of `breaks` (a group's breaks) whose members share everything
/// down to `level`: a run starts wherever the break is at or outside `level`.
pub(crate) fn runs(breaks: &[Break], level: Break) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= breaks.len() {
            return None;
        }
        let mut end = start + 1;
        while end < breaks.len() && breaks[end] > level {
            end += 1;
        }
        let run = start..end;
        start = end;
        Some(run)
    })
}

/// Invoices in the reading order, kept compactly (see the module), with
/// where each group starts, their first and last timestamps and each
/// currency's range: made by sorting ([`ReadingOrder::new`],
/// [`ReadingOrder::from`]) and kept in order by merging
/// ([`ReadingOrder::merge`]), so that a computation neither checks the
/// order nor scans it again.
#[derive(Debug, Clone)]
pub struct ReadingOrder {
    rows: Vec<Row>,
    currencies: Vec<Arc<str>>,
    customers: Vec<Arc<str>>,
    /// Starts with the empty id (no subscription).
    subscriptions: Vec<Arc<str>>,
    ids: Ids,
    scan: Scan,
}

/// The same invoices in the same order (their ids compared by text: two
/// orders of the same invoices number them differently).
impl PartialEq for ReadingOrder {
    fn eq(&self, other: &ReadingOrder) -> bool {
        self.currencies == other.currencies
            && self.customers == other.customers
            && self.subscriptions == other.subscriptions
            && self.scan == other.scan
            && self.rows.len() == other.rows.len()
            && self
                .rows
                .iter()
                .zip(&other.rows)
                .all(|(a, b)| Row { id: 0, ..*a } == Row { id: 0, ..*b } && self.ids.get(a.id) == other.ids.get(b.id))
    }
}

impl Eq for ReadingOrder {}

/// The reading order of two rows of the same dictionaries, their ids in `ids`.
fn row_order(a: &Row, b: &Row, ids: &Ids) -> Ordering {
    (a.currency, a.customer, a.subscription, a.timestamp)
        .cmp(&(b.currency, b.customer, b.subscription, b.timestamp))
        .then_with(|| ids.get(a.id).as_bytes().cmp(ids.get(b.id).as_bytes()))
}

impl ReadingOrder {
    /// Puts `invoices` in the reading order (see [`compute`](crate::compute)).
    pub fn new(invoices: Vec<Invoice>) -> ReadingOrder {
        ReadingOrder::from(Numbered::of_invoices(invoices))
    }

    /// The invoices, in the reading order.
    pub fn to_invoices(&self) -> Vec<Invoice> {
        self.rows
            .iter()
            .map(|row| Invoice {
                timestamp: row.timestamp,
                transaction_id: self.id(row).into(),
                customer_id: self.customer(row).clone(),
                subscription_id: self.subscriptions[row.subscription as usize].clone(),
                currency: self.currencies[row.currency as usize].clone(),
                amount: Money::new(row.total, row.exponent),
            })
            .collect()
    }

    pub(crate) fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub(crate) fn scan(&self) -> &Scan {
        &self.scan
    }

    pub(crate) fn id(&self, row: &Row) -> &str {
        self.ids.get(row.id)
    }

    pub(crate) fn customer(&self, row: &Row) -> &Arc<str> {
        &self.customers[row.customer as usize]
    }

    /// Each subscription's entry in `catalogue`, by rank: looked up once
    /// per computation, in the dictionary's order, where a lookup per
    /// subscription as the customers are read missed the CPU's caches
    /// twice (the dictionary's slot, then the text), a fifth of a
    /// computation's samples at 5M.
    pub(crate) fn catalogue_entries(&self, catalogue: &Catalogue) -> Vec<Option<CatalogueEntry>> {
        if catalogue.is_empty() {
            return vec![None; self.subscriptions.len()];
        }
        self.subscriptions.iter().map(|s| catalogue.get(s)).collect()
    }

    pub(crate) fn currency(&self, row: &Row) -> &str {
        &self.currencies[row.currency as usize]
    }

    /// Whether `a` comes before `b` among invoices of one subscription with
    /// the same timestamp (by transaction id, bytewise).
    pub(crate) fn id_before(&self, a: u32, b: u32) -> bool {
        self.ids.get(a).as_bytes() < self.ids.get(b).as_bytes()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests;

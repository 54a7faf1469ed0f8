//! Numbered invoices ([`Numbered`]) and how they are put in the reading
//! order: each text ranked among its field's distinct values, the rows
//! renumbered and sorted on the ranks.

use std::cmp::Ordering;
use std::collections::{HashMap, TryReserveError};
use std::sync::Arc;

use api_types::Money;
use chrono::{DateTime, Utc};
use rustc_hash::FxBuildHasher;

use super::{row_order, scan, Ids, ReadingOrder, Row, NO_SUBSCRIPTION};
use crate::threads::{both, threads_for};
use crate::Invoice;

/// Invoices whose currency, customer and subscription are given as numbers
/// into lists of texts (a subscription feed's dictionaries), put in the
/// reading order by [`ReadingOrder::from`] with no allocation per invoice.
/// A text may be listed more than once (each run's dictionary in turn):
/// equal texts are one value.
#[derive(Debug, Clone)]
pub struct Numbered {
    currencies: Vec<Arc<str>>,
    customers: Vec<Arc<str>>,
    /// Always starts with the empty id (no subscription).
    subscriptions: Vec<Arc<str>>,
    rows: Vec<Row>,
    ids: Ids,
}

/// A text's number in a [`Numbered`]: give it only to the same
/// `Numbered`, for the field it was listed for (another number is out of
/// its lists, or another value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text(u32);

impl Default for Numbered {
    fn default() -> Numbered {
        Numbered {
            currencies: Vec::new(),
            customers: Vec::new(),
            subscriptions: vec![Arc::from("")],
            rows: Vec::new(),
            ids: Ids::default(),
        }
    }
}

impl Numbered {
    pub fn new() -> Numbered {
        Numbered::default()
    }

    /// Lists a currency code (lower case, as the invoices carry it).
    pub fn currency(&mut self, code: &str) -> Text {
        listed(&mut self.currencies, code)
    }

    pub fn customer(&mut self, id: &str) -> Text {
        listed(&mut self.customers, id)
    }

    /// Lists a subscription id; the empty id is no subscription.
    pub fn subscription(&mut self, id: &str) -> Text {
        if id.is_empty() {
            return Text(NO_SUBSCRIPTION);
        }
        listed(&mut self.subscriptions, id)
    }

    /// Room for `n` more invoices.
    /// Room for `n` more invoices, exactly; an error, not an abort, when
    /// that much memory cannot be had (`n` from a feed's count, checked
    /// only once its records are read).
    pub fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
        self.rows.try_reserve_exact(n)?;
        self.ids.ends.try_reserve_exact(n)
    }

    /// Adds one invoice (see [`Invoice`] for what each field means).
    pub fn push(
        &mut self,
        currency: Text,
        customer: Text,
        subscription: Text,
        timestamp: DateTime<Utc>,
        amount: Money,
        transaction_id: &str,
    ) {
        let id = self.ids.push(transaction_id);
        self.rows.push(Row {
            total: amount.minor(),
            timestamp,
            currency: currency.0,
            customer: customer.0,
            subscription: subscription.0,
            id,
            exponent: amount.exponent(),
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The invoices numbered, each distinct text listed once: told apart by
    /// their allocation first (a caller keeping millions of invoices shares
    /// one per distinct value), so that hashing reads an address, not a
    /// text that misses the CPU's caches; equal texts in different
    /// allocations are listed twice and made one value by the ranking.
    pub(super) fn of_invoices(invoices: Vec<Invoice>) -> Numbered {
        #[derive(Default)]
        struct Seen(HashMap<*const u8, Text, FxBuildHasher>);
        impl Seen {
            fn text(&mut self, value: &Arc<str>, list: &mut Vec<Arc<str>>) -> Text {
                *self
                    .0
                    .entry(value.as_ptr())
                    .or_insert_with(|| listed_shared(list, value))
            }
        }
        let mut numbered = Numbered::new();
        numbered.rows.reserve_exact(invoices.len());
        numbered.ids.ends.reserve_exact(invoices.len());
        let (mut currencies, mut customers, mut subscriptions) = (Seen::default(), Seen::default(), Seen::default());
        // The invoices are held until the end: no address is reused meanwhile.
        for inv in &invoices {
            let currency = currencies.text(&inv.currency, &mut numbered.currencies);
            let customer = customers.text(&inv.customer_id, &mut numbered.customers);
            let subscription = match inv.subscription_id.is_empty() {
                true => Text(NO_SUBSCRIPTION),
                false => subscriptions.text(&inv.subscription_id, &mut numbered.subscriptions),
            };
            numbered.push(
                currency,
                customer,
                subscription,
                inv.timestamp,
                inv.amount,
                &inv.transaction_id,
            );
        }
        numbered
    }
}

fn listed(list: &mut Vec<Arc<str>>, text: &str) -> Text {
    list.push(Arc::from(text));
    Text((list.len() - 1) as u32)
}

fn listed_shared(list: &mut Vec<Arc<str>>, text: &Arc<str>) -> Text {
    list.push(text.clone());
    Text((list.len() - 1) as u32)
}

/// Each listed text's rank among the distinct texts in byte order, and the
/// distinct texts by rank. Sorted on their first 16 bytes as one integer,
/// so that a text is read again only where those tie (hundreds of
/// thousands of ids, each in its own allocation: comparing the texts
/// themselves missed the CPU's caches at every step, 14% of a 5M read);
/// the distinct texts are moved out, not cloned. (Stripe's ids made in the
/// same second share their first 16 bytes: those tie and are compared as
/// texts — correct, only slower.)
fn rank(mut texts: Vec<Arc<str>>) -> (Vec<u32>, Vec<Arc<str>>) {
    let mut order: Vec<(u128, u32)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| (prefix(text), i as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| texts[a.1 as usize].cmp(&texts[b.1 as usize]))
    });
    let mut rank = vec![0u32; texts.len()];
    let mut distinct: Vec<Arc<str>> = Vec::new();
    let moved: Arc<str> = Arc::from("");
    let mut last = None;
    for &(key, i) in &order {
        let i = i as usize;
        let same = last == Some(key) && distinct.last().is_some_and(|d| **d == *texts[i]);
        if !same {
            distinct.push(std::mem::replace(&mut texts[i], moved.clone()));
        }
        last = Some(key);
        rank[i] = (distinct.len() - 1) as u32;
    }
    (rank, distinct)
}

/// The first 16 bytes of `text`, zero-padded, as a big-endian integer:
/// where two texts' prefixes differ, they compare as the texts do.
fn prefix(text: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = text.len().min(16);
    bytes[..n].copy_from_slice(&text.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

/// Puts numbered invoices in the reading order: each text is replaced by
/// its rank among its field's distinct values, and the rows are sorted on
/// the ranks (ties on everything but the id — rare — broken by the id).
impl From<Numbered> for ReadingOrder {
    fn from(numbered: Numbered) -> ReadingOrder {
        let Numbered {
            currencies,
            customers,
            subscriptions,
            mut rows,
            ids,
        } = numbered;
        let many = threads_for(rows.len()) > 1;
        let (currency_rank, currencies) = rank(currencies);
        // The empty id is listed first and is the least text: it keeps rank 0.
        let ((customer_rank, customers), (subscription_rank, subscriptions)) =
            both(many, || rank(customers), || rank(subscriptions));
        for row in &mut rows {
            row.currency = currency_rank[row.currency as usize];
            row.customer = customer_rank[row.customer as usize];
            row.subscription = subscription_rank[row.subscription as usize];
        }
        drop((currency_rank, customer_rank, subscription_rank));
        let order = |a: &Row, b: &Row| row_order(a, b, &ids);
        // Invoices read in the reading order (the fact table's ordered read) need no sort.
        if !rows.is_sorted_by(|a, b| order(a, b) != Ordering::Greater) {
            if many {
                // Split at the median, then each half sorted on its own thread.
                let middle = rows.len() / 2;
                rows.select_nth_unstable_by(middle, order);
                let (low, high) = rows.split_at_mut(middle);
                both(true, || low.sort_unstable_by(order), || high.sort_unstable_by(order));
            } else {
                rows.sort_unstable_by(order);
            }
        }
        let scan = scan(&rows);
        ReadingOrder {
            rows,
            currencies,
            customers,
            subscriptions,
            ids,
            scan,
        }
    }
}

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
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use api_types::Money;
use chrono::{DateTime, Utc};
use rustc_hash::FxBuildHasher;

use crate::interval::{Catalogue, CatalogueEntry};
use crate::threads::{both, threads_for};
use crate::Invoice;

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
    pub fn reserve(&mut self, n: usize) {
        self.rows.reserve(n);
        self.ids.ends.reserve(n);
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
    fn of_invoices(invoices: Vec<Invoice>) -> Numbered {
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
        numbered.reserve(invoices.len());
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
/// the distinct texts are moved out, not cloned.
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

/// Adds `added`'s texts to `kept` (both distinct, in byte order), keeping
/// it distinct and in byte order; where each text of `added` now is, and
/// where each former text of `kept` is (`None`: where it was). An append
/// adds few texts to many: each is found by a binary search and the kept
/// ones are moved, not compared or cloned (780,000 customers at 5M: a
/// linear union read every text and touched every reference count).
fn unite(kept: &mut Vec<Arc<str>>, added: &[Arc<str>]) -> (Option<Vec<u32>>, Vec<u32>) {
    // For each added text, where it is in `kept`, or before which kept text it goes.
    let found: Vec<Result<usize, usize>> = added.iter().map(|text| kept.binary_search(text)).collect();
    let inserts: Vec<usize> = found.iter().filter_map(|f| f.err()).collect();
    if inserts.is_empty() {
        let in_kept = found.iter().map(|f| f.unwrap_or_default() as u32).collect();
        return (None, in_kept);
    }
    // Texts inserted before kept position `i`: those at positions <= i.
    let before = |i: usize| inserts.partition_point(|&p| p <= i);
    let mut inserted = 0;
    let in_added = found
        .iter()
        .map(|f| match *f {
            Ok(i) => (i + before(i)) as u32,
            // After the `i` kept texts and the added ones inserted so far.
            Err(i) => {
                inserted += 1;
                (i + inserted - 1) as u32
            }
        })
        .collect();
    let mut old = std::mem::take(kept).into_iter();
    let mut united = Vec::with_capacity(old.len() + inserts.len());
    let mut moved = 0;
    for (text, f) in added.iter().zip(&found) {
        if let Err(p) = *f {
            united.extend(old.by_ref().take(p - moved));
            moved = p;
            united.push(text.clone());
        }
    }
    united.extend(old);
    let mut in_kept = Vec::with_capacity(united.len() - inserts.len());
    let mut shift = 0;
    for i in 0..united.len() - inserts.len() {
        while shift < inserts.len() && inserts[shift] <= i {
            shift += 1;
        }
        in_kept.push((i + shift) as u32);
    }
    *kept = united;
    (Some(in_kept), in_added)
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
        let order = |a: &Row, b: &Row| row_order(a, b, &ids, &ids);
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

/// The reading order of two rows (`a`'s ids in `a_ids`, `b`'s in `b_ids`)
/// whose ranks are of the same dictionaries.
fn row_order(a: &Row, b: &Row, a_ids: &Ids, b_ids: &Ids) -> Ordering {
    (a.currency, a.customer, a.subscription, a.timestamp)
        .cmp(&(b.currency, b.customer, b.subscription, b.timestamp))
        .then_with(|| a_ids.get(a.id).as_bytes().cmp(b_ids.get(b.id).as_bytes()))
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

    /// Merges `added` in: the same invoices and scan as
    /// [`ReadingOrder::new`] of the union, without a sort of the whole. The
    /// added texts join the dictionaries, the kept rows are renumbered when
    /// any did (one pass), and
    /// the added rows merged in place — each kept row moves up once at
    /// most, from the back, and a binary search finds where each added one
    /// goes (an append of 10,000 transactions to 5M kept ones: one pass of
    /// moves over the rows after the first added one).
    pub fn merge(&mut self, added: Vec<Invoice>) {
        if added.is_empty() {
            return;
        }
        let added = ReadingOrder::new(added);
        let (kept_currency, added_currency) = unite(&mut self.currencies, &added.currencies);
        let (kept_customer, added_customer) = unite(&mut self.customers, &added.customers);
        let (kept_subscription, added_subscription) = unite(&mut self.subscriptions, &added.subscriptions);
        if kept_currency.is_some() || kept_customer.is_some() || kept_subscription.is_some() {
            let renumber = |map: &Option<Vec<u32>>, rank: u32| map.as_ref().map_or(rank, |m| m[rank as usize]);
            for row in &mut self.rows {
                row.currency = renumber(&kept_currency, row.currency);
                row.customer = renumber(&kept_customer, row.customer);
                row.subscription = renumber(&kept_subscription, row.subscription);
            }
        }
        let base = self.ids.len();
        self.ids.append(&added.ids);
        let added_rows = added
            .rows
            .iter()
            .map(|row| Row {
                currency: added_currency[row.currency as usize],
                customer: added_customer[row.customer as usize],
                subscription: added_subscription[row.subscription as usize],
                id: base + row.id,
                ..*row
            })
            .collect();
        merge_in_place(&mut self.rows, added_rows, &self.ids);
        self.scan = scan(&self.rows);
    }
}

/// Merges `added` (in the reading order) into `kept` (in the reading order)
/// in place; both rows' ids are in `ids`.
fn merge_in_place(kept: &mut Vec<Row>, mut added: Vec<Row>, ids: &Ids) {
    let mut read = kept.len();
    // Room at the end, which the merge fills from the back. The room is
    // always the slots `read..write`.
    kept.extend_from_slice(&added);
    let mut write = kept.len();
    while let Some(row) = added.pop() {
        // The kept rows from `stay` on read after it (ties: never for distinct ids).
        let stay = kept[..read].partition_point(|k| row_order(k, &row, ids, ids) != Ordering::Greater);
        let moved = read - stay;
        kept.copy_within(stay..read, write - moved);
        write -= moved;
        read = stay;
        write -= 1;
        kept[write] = row;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    /// The reading order as the spec states it, on the invoices' texts.
    fn input_order(a: &Invoice, b: &Invoice) -> Ordering {
        a.currency
            .cmp(&b.currency)
            .then_with(|| a.customer_id.cmp(&b.customer_id))
            .then_with(|| a.subscription_id.cmp(&b.subscription_id))
            .then_with(|| a.timestamp.cmp(&b.timestamp))
            .then_with(|| a.transaction_id.as_bytes().cmp(b.transaction_id.as_bytes()))
    }

    fn invoices(n: u32, seed: u64) -> Vec<Invoice> {
        let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let long = "cus_0123456789abcdef0123456789";
        let mut invoices = Vec::new();
        let mut x: u64 = seed;
        for i in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let pick = |n: u64, shift: u32| ((x >> shift) % n) as usize;
            let customers = [
                long,
                "cus_0123456789abcdef0123456788",
                "cus_a",
                "cus_a\0",
                "cus_",
                "",
                "cus_b",
            ];
            let subs = [
                "",
                "sub_1",
                "sub_10",
                "sub_1OTfU6I9Qa85Sr7CP4LwhwTU",
                "sub_1OTfU6I9Qa85Sr7CP4LwhwTV",
            ];
            invoices.push(Invoice {
                timestamp: t0 + TimeDelta::milliseconds(pick(5, 20) as i64 * 500) + TimeDelta::days(pick(3, 30) as i64),
                // Distinct ids, many sharing a timestamp: ties broken by the id.
                transaction_id: format!("in_{}_{i}_{seed}", pick(50, 40)).into(),
                customer_id: customers[pick(customers.len() as u64, 0)].into(),
                subscription_id: subs[pick(subs.len() as u64, 8)].into(),
                currency: ["usd", "eur", "us", "usdx"][pick(4, 50)].into(),
                amount: Money::new(i64::from(i), [2, 0][pick(2, 60)] as u8),
            });
        }
        invoices
    }

    fn sorted(mut invoices: Vec<Invoice>) -> Vec<Invoice> {
        invoices.sort_by(input_order);
        invoices
    }

    #[test]
    fn the_ranked_sort_is_the_reading_order() {
        let invoices = invoices(2_000, 7);
        let order = ReadingOrder::new(invoices.clone());
        assert_eq!(order.to_invoices(), sorted(invoices.clone()));
        // The sort's scan is the scan of its result, and sorting it again changes nothing.
        let again = ReadingOrder::new(order.to_invoices());
        assert_eq!(again, order);
        assert_eq!(again.scan(), &scan(order.rows()));
        // No subscription is rank 0 and the empty id.
        assert!(order
            .rows()
            .iter()
            .all(|r| (r.subscription == NO_SUBSCRIPTION) == order.subscriptions[r.subscription as usize].is_empty()));
    }

    #[test]
    fn an_order_large_enough_for_threads_is_the_reading_order() {
        let invoices = invoices(120_000, 13);
        assert!(threads_for(invoices.len()) > 1 || std::thread::available_parallelism().map_or(1, |n| n.get()) == 1);
        let order = ReadingOrder::new(invoices.clone());
        assert_eq!(order.to_invoices(), sorted(invoices));
        assert_eq!(order.scan(), &scan(order.rows()));
    }

    #[test]
    fn numbered_texts_listed_again_are_one_value() {
        let invoices = invoices(500, 11);
        let mut numbered = Numbered::new();
        for inv in &invoices {
            // Every text listed anew for every invoice, as feeds of several runs list them.
            let currency = numbered.currency(&inv.currency);
            let customer = numbered.customer(&inv.customer_id);
            let subscription = numbered.subscription(&inv.subscription_id);
            numbered.push(
                currency,
                customer,
                subscription,
                inv.timestamp,
                inv.amount,
                &inv.transaction_id,
            );
        }
        assert_eq!(ReadingOrder::from(numbered), ReadingOrder::new(invoices));
    }

    #[test]
    fn united_texts_are_the_sorted_union_and_the_numbers_follow() {
        let mut x: u64 = 5;
        for round in 0..200 {
            let mut set = |n: u64| {
                let mut texts: Vec<Arc<str>> = (0..n)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        Arc::from(format!("t{}", x % 40).as_str())
                    })
                    .collect();
                texts.sort();
                texts.dedup();
                texts
            };
            let (kept, added) = (set(round % 30), set(round % 7));
            let mut united = kept.clone();
            let (in_kept, in_added) = unite(&mut united, &added);
            let mut expected: Vec<Arc<str>> = kept.iter().chain(&added).cloned().collect();
            expected.sort();
            expected.dedup();
            assert_eq!(united, expected, "{kept:?} + {added:?}");
            for (i, text) in kept.iter().enumerate() {
                let at = in_kept.as_ref().map_or(i, |m| m[i] as usize);
                assert_eq!(&united[at], text);
            }
            for (j, text) in added.iter().enumerate() {
                assert_eq!(&united[in_added[j] as usize], text);
            }
            assert_eq!(in_kept.is_none(), united.len() == kept.len());
        }
    }

    #[test]
    fn a_merge_is_the_order_of_the_union() {
        let (kept, mut added) = (invoices(1_500, 3), invoices(300, 5));
        // Texts the kept invoices do not have: every kept row is renumbered.
        added[0].customer_id = "cus_0".into();
        added[1].subscription_id = "sub_0".into();
        added[2].currency = "aud".into();
        let mut merged = ReadingOrder::new(kept.clone());
        merged.merge(added.clone());
        let union = ReadingOrder::new(kept.into_iter().chain(added).collect());
        assert_eq!(merged, union);
        assert_eq!(merged.to_invoices(), union.to_invoices());
        assert_eq!(merged.scan(), &scan(merged.rows()));
    }
}

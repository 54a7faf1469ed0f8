//! Merging an append's invoices into kept ones, in the reading order.

use std::cmp::Ordering;
use std::sync::Arc;

use super::{row_order, scan, Ids, ReadingOrder, Row};
use crate::Invoice;

impl ReadingOrder {
    /// Merges `added` in: the same invoices and scan as
    /// [`ReadingOrder::new`] of the union, without a sort of the whole. The
    /// added texts join the dictionaries, the kept rows are renumbered when
    /// any did (one pass), and the added rows merged in place — each kept
    /// row moves up once at most, from the back, and a binary search finds
    /// where each added one goes (an append of 10,000 transactions to 5M
    /// kept ones: one pass of moves over the rows after the first added one).
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

/// Adds `added`'s texts to `kept` (both distinct, in byte order), keeping
/// it distinct and in byte order; where each text of `added` now is, and
/// where each former text of `kept` is (`None`: where it was). An append
/// adds few texts to many: each is found by a binary search and the kept
/// ones are moved, not compared or cloned (780,000 customers at 5M: a
/// linear union read every text and touched every reference count).
pub(super) fn unite(kept: &mut Vec<Arc<str>>, added: &[Arc<str>]) -> (Option<Vec<u32>>, Vec<u32>) {
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
        let stay = kept[..read].partition_point(|k| row_order(k, &row, ids) != Ordering::Greater);
        let moved = read - stay;
        kept.copy_within(stay..read, write - moved);
        write -= moved;
        read = stay;
        write -= 1;
        kept[write] = row;
    }
}

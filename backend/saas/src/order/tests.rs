//! The reading order against the spec's, on the invoices' texts.

use super::merge::unite;
use super::*;
use crate::threads::threads_for;
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

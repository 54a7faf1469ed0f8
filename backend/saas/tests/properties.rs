//! Property tests: on random invoice sets the §13 identities hold (checked
//! here again from the output, independently of the checks inside
//! `compute`), every customer's MRR equals a brute-force reading of §5–§6,
//! the input order and the number of threads do not matter, and a merge of appended invoices into
//! kept ones is the reading order of their union.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};

use api_types::{Money, SaasMovementKind};
use chrono::{DateTime, Datelike, Months, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use saas::{compute, compute_on, Catalogue, Interval, Invoice, Parameters, ReadingOrder};

const PRODUCTS: [(&str, u32); 4] = [
    ("Plain", 1),
    ("Video : Quarterly", 3),
    ("Plan 6 months", 6),
    ("Big : Semi-Annual", 6),
];
const GAPS: [i64; 12] = [1, 10, 28, 30, 31, 35, 36, 60, 91, 100, 182, 365];

#[derive(Debug, Clone)]
struct Case {
    invoices: Vec<Invoice>,
    /// sub id → (interval: 0 month, 1 year, 2 other; product index).
    catalogue: Vec<(String, u8, usize)>,
    grace_days: u32,
    threshold: i64,
}

/// (currency, customer, subscription, start minute, [(gap index, amount kind, minute jitter)]).
type SubscriptionPlan = (u8, u8, u8, i64, Vec<(usize, i64, u32)>);

fn arb_subscription() -> impl Strategy<Value = SubscriptionPlan> {
    (
        0u8..2,
        0u8..5,
        0u8..4,
        0i64..(60 * 24 * 200),
        prop::collection::vec((0usize..GAPS.len(), -2i64..8, 0u32..600), 1..8),
    )
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(arb_subscription(), 1..14),
        prop::collection::vec((0u8..4, 0u8..3, 0usize..PRODUCTS.len()), 0..6),
        prop_oneof![Just(0u32), Just(1), Just(7), 0u32..40],
        prop_oneof![Just(300_000i64), Just(0), Just(100_000), Just(i64::MAX / 4)],
    )
        .prop_map(|(subs, cat, grace_days, threshold)| {
            let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
            let mut invoices = Vec::new();
            let mut n = 0;
            for (cur, cust, sub, minute, steps) in subs {
                let mut t = start + TimeDelta::minutes(minute);
                for (gap, kind, jitter) in steps {
                    let minor = match kind {
                        -2 => -5_000,
                        -1 => 0,
                        0 => 100,
                        k => k * 25_000 + i64::from(jitter),
                    };
                    n += 1;
                    invoices.push(Invoice {
                        timestamp: t,
                        // Ids not in time order, so the tie-break is exercised.
                        transaction_id: format!("in_{:03}", (n * 37) % 1000).into(),
                        customer_id: format!("cus_{cust}").into(),
                        subscription_id: if sub == 3 {
                            "".into()
                        } else {
                            format!("sub_{cust}_{sub}").into()
                        },
                        currency: ["usd", "eur"][usize::from(cur)].into(),
                        amount: Money::new(minor, 2),
                    });
                    t += TimeDelta::days(GAPS[gap]) + TimeDelta::minutes(i64::from(jitter) - 300);
                }
            }
            let catalogue = cat
                .into_iter()
                .map(|(sub, interval, product)| (format!("sub_{}_{}", sub % 5, sub % 3), interval, product))
                .collect();
            Case {
                invoices,
                catalogue,
                grace_days,
                threshold,
            }
        })
}

fn catalogue_of(case: &Case) -> Catalogue {
    let mut c = Catalogue::new();
    for (sub, interval, product) in &case.catalogue {
        let interval = [Interval::Month, Interval::Year, Interval::Other][usize::from(*interval)];
        c.add_item(sub, interval, PRODUCTS[*product].0);
    }
    c
}

fn params_of(case: &Case) -> Parameters {
    Parameters {
        grace_days: case.grace_days,
        annual_threshold: Money::new(case.threshold, 2),
    }
}

fn band(days: i64) -> Option<u32> {
    [(25, 35, 1), (80, 100, 3), (170, 200, 6), (350, 380, 12)]
        .into_iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&days))
        .map(|(_, _, k)| k)
}

/// §5–§6 read literally, by brute force: per (currency, customer) the MRR at every close.
fn brute_force(case: &Case, closes: &[DateTime<Utc>]) -> BTreeMap<(String, String), Vec<i64>> {
    let mut cat: HashMap<&str, (bool, Option<u32>)> = HashMap::new();
    for (sub, interval, product) in &case.catalogue {
        let e = match interval {
            0 => cat.entry(sub).or_insert((false, None)),
            1 => cat.entry(sub).or_insert((false, None)),
            _ => continue,
        };
        if *interval == 1 {
            e.0 = true;
        } else {
            e.1 = Some(e.1.unwrap_or(0).max(PRODUCTS[*product].1));
        }
    }
    let mut subs: BTreeMap<(&str, &str, &str), Vec<&Invoice>> = BTreeMap::new();
    for i in &case.invoices {
        if !i.subscription_id.is_empty() && i.amount.minor() > 0 {
            subs.entry((&*i.currency, &*i.customer_id, &*i.subscription_id))
                .or_default()
                .push(i);
        }
    }
    let mut out: BTreeMap<(String, String), Vec<i64>> = BTreeMap::new();
    for ((cur, cust, sub), mut invs) in subs {
        invs.sort_by(|a, b| (a.timestamp, &a.transaction_id).cmp(&(b.timestamp, &b.transaction_id)));
        let entry = cat.get(sub).copied();
        let gap = |a: &Invoice, b: &Invoice| (b.timestamp - a.timestamp).num_seconds().div_euclid(86_400);
        let periods: Vec<(DateTime<Utc>, DateTime<Utc>, i64)> = (0..invs.len())
            .map(|n| {
                let next = invs.get(n + 1).and_then(|j| band(gap(invs[n], j)));
                let prev = n.checked_sub(1).and_then(|h| band(gap(invs[h], invs[n])));
                let k = next
                    .or(entry.filter(|e| e.0).map(|_| 12))
                    .or(prev)
                    .or(entry.and_then(|e| e.1))
                    .unwrap_or(if invs[n].amount.minor() >= case.threshold {
                        12
                    } else {
                        1
                    });
                let t = invs[n].timestamp;
                let end = t.checked_add_months(Months::new(k)).unwrap() + TimeDelta::days(case.grace_days.into());
                let minor = invs[n].amount.minor();
                let k = i64::from(k);
                (t, end, (2 * minor + k) / (2 * k))
            })
            .collect();
        let row = out
            .entry((cur.to_string(), cust.to_string()))
            .or_insert_with(|| vec![0; closes.len()]);
        for (m, &c) in closes.iter().enumerate() {
            if let Some(p) = periods.iter().rev().find(|(t, end, _)| *t < c && c <= *end) {
                row[m] += p.2;
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn identities_hold_and_mrr_matches_a_brute_force_reading(case in arb_case()) {
        let figures = compute(&case.invoices, &catalogue_of(&case), &params_of(&case));
        let figures = match figures {
            Ok(f) => f,
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        let closes: Vec<DateTime<Utc>> = figures.window().closed_months.iter().map(|m| {
            let first = Utc.with_ymd_and_hms(m.year(), m.month(), 1, 0, 0, 0).unwrap();
            first.checked_add_months(Months::new(1)).unwrap()
        }).collect();
        let expected = brute_force(&case, &closes);
        for ((cur, cust), row) in &expected {
            let got = figures.currency(cur.parse().unwrap()).and_then(|c| c.customer_mrr(cust)).map(<[i64]>::to_vec)
                .unwrap_or_else(|| vec![0; closes.len()]);
            prop_assert_eq!(&got, row, "{} {}", cur, cust);
        }
        for c in figures.currencies() {
            let months = c.months();
            let ids: Vec<String> = c.movement_customer_ids().map(str::to_owned).collect();
            let rows: Vec<&[i64]> = ids.iter().map(|id| c.customer_mrr(id).unwrap()).collect();
            for (m, month) in months.iter().enumerate() {
                let mrr: i64 = rows.iter().map(|r| r[m]).sum();
                prop_assert_eq!(month.mrr.minor(), mrr);
                prop_assert_eq!(month.customers, rows.iter().filter(|r| r[m] > 0).count() as u64);
                prop_assert_eq!(month.mrr_by_interval_months.values().map(|v| v.minor()).sum::<i64>(), mrr);
                let s = &month.mrr_by_interval_source;
                let by_source = [s.observed_next, s.catalogue_year, s.observed_previous, s.catalogue_month, s.assumed_annual, s.assumed_monthly];
                prop_assert_eq!(by_source.iter().map(|v| v.minor()).sum::<i64>(), mrr);
                let b = &month.billed;
                prop_assert_eq!(b.recurring.amount.minor() + b.one_off.amount.minor() + b.refunds.amount.minor(), b.total.minor());
                let Some(mv) = &month.movements else {
                    prop_assert_eq!(m, 0);
                    continue;
                };
                let mc = month.movement_customers.clone().unwrap();
                let prev = &months[m - 1];
                let amounts = [mv.new, mv.expansion, mv.contraction, mv.churn, mv.reactivation].map(|v| v.minor());
                prop_assert!(amounts.iter().all(|&v| v >= 0));
                prop_assert!(mv.churn.minor() + mv.contraction.minor() <= prev.mrr.minor());
                prop_assert_eq!(month.mrr.minor(), prev.mrr.minor() + amounts[0] + amounts[1] + amounts[4] - amounts[2] - amounts[3]);
                prop_assert_eq!(mv.net_new.minor(), month.mrr.minor() - prev.mrr.minor());
                prop_assert_eq!(month.customers + mc.churn, prev.customers + mc.new + mc.reactivation);
                prop_assert!(mv.new_left_censored <= mv.new && mc.new_left_censored <= mc.new);
                // NRR/GRR from customers equal NRR/GRR from movements.
                let base: Vec<&&[i64]> = rows.iter().filter(|r| r[m - 1] > 0).collect();
                let nrr: i64 = base.iter().map(|r| r[m]).sum();
                let grr: i64 = base.iter().map(|r| r[m].min(r[m - 1])).sum();
                prop_assert_eq!(nrr, prev.mrr.minor() + amounts[1] - amounts[2] - amounts[3]);
                prop_assert_eq!(grr, prev.mrr.minor() - amounts[2] - amounts[3]);
                for (kind, amount) in SaasMovementKind::ALL.into_iter().zip(amounts) {
                    let list = c.movements(month.month, kind).unwrap();
                    prop_assert_eq!(list.amount().minor(), amount);
                }
            }
            // Cohorts.
            let cohorts = c.cohorts().cohorts;
            let ever: u64 = cohorts.iter().map(|k| k.customers).sum();
            let new: u64 = months.iter().skip(1).map(|m| m.movement_customers.as_ref().unwrap().new).sum();
            prop_assert_eq!(ever, months.first().map_or(0, |m| m.customers) + new);
            prop_assert_eq!(ever, ids.len() as u64);
            for month in months {
                let cells = cohorts.iter().filter_map(|k| k.cells.iter().find(|x| x.month == month.month));
                let (active, mrr) = cells.fold((0, 0), |(a, s), x| (a + x.active_customers, s + x.mrr.minor()));
                prop_assert_eq!((active, mrr), (month.customers, month.mrr.minor()));
            }
            // Every recurring invoice's customer is active at its closed month's close.
            for i in case.invoices.iter().filter(|i| &*i.currency == c.currency() && !i.subscription_id.is_empty() && i.amount.minor() > 0) {
                let label = format!("{:04}-{:02}", i.timestamp.year(), i.timestamp.month());
                if let Some(m) = months.iter().position(|x| x.month == label.as_str()) {
                    prop_assert!(c.customer_mrr(&i.customer_id).is_some_and(|r| r[m] > 0));
                }
            }
        }
    }

    #[test]
    fn input_order_does_not_matter(case in arb_case(), seed in any::<u64>()) {
        let a = compute(&case.invoices, &catalogue_of(&case), &params_of(&case)).unwrap();
        let mut shuffled = case.invoices.clone();
        // A deterministic shuffle from the seed (xorshift).
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let b = compute(&shuffled, &catalogue_of(&case), &params_of(&case)).unwrap();
        prop_assert_eq!(a, b);
    }

    /// Reading a currency's customers on several threads gives the figures
    /// (or the error) of one pass.
    #[test]
    fn threads_do_not_change_the_figures(case in arb_case(), threads in 2usize..6) {
        let on = |threads| compute_on(&case.invoices, &catalogue_of(&case), &params_of(&case), threads)
            .map_err(|e| e.to_string());
        prop_assert_eq!(on(1), on(threads));
    }

    /// An append's invoices merged into the kept ones are exactly the
    /// union put in the reading order (what a full read would keep), and
    /// their figures are the same.
    #[test]
    fn a_merge_is_the_reading_order_of_the_union(case in arb_case(), added in prop::collection::vec(any::<bool>(), 0..120)) {
        let (mut kept, mut appended) = (Vec::new(), Vec::new());
        for (i, invoice) in case.invoices.iter().enumerate() {
            match added.get(i).copied().unwrap_or(false) {
                true => appended.push(invoice.clone()),
                false => kept.push(invoice.clone()),
            }
        }
        let mut merged = ReadingOrder::new(kept);
        merged.merge(appended);
        let union = ReadingOrder::new(case.invoices.clone());
        // The same invoices, and the same breaks, bounds and currencies.
        prop_assert_eq!(&merged, &union);
        let (catalogue, params) = (catalogue_of(&case), params_of(&case));
        let of = |order: &ReadingOrder| order.compute(&catalogue, &params).map_err(|e| e.to_string());
        prop_assert_eq!(of(&merged), of(&union));
        prop_assert_eq!(of(&union), compute(&case.invoices, &catalogue, &params).map_err(|e| e.to_string()));
    }
}

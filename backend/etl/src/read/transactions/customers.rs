//! What pass 2 learns about each customer of the run: their spending per
//! currency and months active (the input of `agg_customer_spending`, merged
//! with the stored spending by `reconcile::customers`), and their
//! transactions without a known subscription (flags of `dim_user`).
//!
//! One slot per distinct customer is what the load's memory grows with
//! (7.8 million at 50M generated transactions), so a slot is 32 bytes: the
//! first currency's totals inline, a currency as a 2-byte index into the
//! run's few currencies, the months' window as a 2-byte offset, and any
//! further currency of the customer in a side table (a `SmallVec` of
//! full-width totals took 80 bytes per customer plus a heap block for each
//! customer of several currencies; a link to a side list, 40).

use rustc_hash::FxHashMap as HashMap;

use crate::aggregates::{add_cents, Attribution};
use crate::error::EtlError;
use crate::months::ActiveMonths;
use crate::rows::FactRef;
use domain::{Currency, Month};

/// Whether the catalogue knows a transaction's subscription: what a
/// customer's facts keep of its [`Attribution`] (the flags of `dim_user`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Catalogued {
    NoSubscription,
    Unknown,
    Known,
}

impl Catalogued {
    pub(super) fn of(attribution: &Attribution<'_>) -> Catalogued {
        match attribution {
            Attribution::NoSubscription => Catalogued::NoSubscription,
            Attribution::Unknown => Catalogued::Unknown,
            Attribution::Plans(_) => Catalogued::Known,
        }
    }
}

/// Totals of one customer in one currency, in this run (24 bytes).
#[derive(Clone, Copy)]
struct Spending {
    cents: i64,
    /// Months with a transaction: bit `k` is month `base + k`. Months outside
    /// these 64 go to [`CustomerFacts::far_months`] (rare: over five years apart).
    bits: u64,
    /// The window's first month, in months from [`window_origin`].
    base: i16,
    /// Index into [`CustomerFacts::currencies`].
    currency: u16,
    transactions: u32,
}

/// What [`Spending::base`] counts from: January 2000. A window that would
/// start more than 2,730 years away is put at the end of the range, and its
/// months then go to [`CustomerFacts::far_months`] like any month outside it.
fn window_origin() -> Month {
    Month::from_index(2000 * 12)
}

impl Spending {
    fn new(currency: u16, first: Month) -> Self {
        // Room for 31 months before the first one seen and 32 after.
        let base = window_origin().months_until(first.plus(-31));
        Self {
            cents: 0,
            bits: 0,
            base: base.clamp(i16::MIN.into(), i16::MAX.into()) as i16,
            currency,
            transactions: 0,
        }
    }

    /// Where `month` is in the window, if it is.
    fn bit(&self, month: Month) -> Option<u32> {
        let k = window_origin().plus(self.base.into()).months_until(month);
        u32::try_from(k).ok().filter(|&k| k < 64)
    }

    fn month(&self, bit: u32) -> Month {
        window_origin().plus(i32::from(self.base) + bit as i32)
    }
}

/// One customer: its first currency's totals and its unattributed transactions.
struct Slot {
    first: Spending,
    /// Transactions without a subscription id / with one unknown to the catalog.
    null_subscription_tx: u32,
    unknown_subscription_tx: u32,
}

/// A customer's spending in one currency, as the reconcile phase reads it.
pub struct CurrencySpending {
    pub currency: Currency,
    pub cents: i64,
    pub transactions: i64,
    pub months: ActiveMonths,
}

/// Everything pass 2 learnt about the run's customers, by customer index
/// (the index of `Transactions::customer_ids`).
#[derive(Default)]
pub struct CustomerFacts {
    slots: Vec<Slot>,
    /// The second and further currencies of customers paying in several, in
    /// first-seen order.
    extra: HashMap<u32, Vec<Spending>>,
    /// The run's currencies, in first-seen order.
    currencies: Vec<Currency>,
    /// (customer, currency) → months outside its [`Spending`]'s 64-month window.
    far_months: HashMap<(u32, Currency), Vec<Month>>,
}

impl CustomerFacts {
    /// Bytes held on the heap (capacity; the rare months outside a
    /// customer's window are left out), for the memory log.
    pub fn heap_bytes(&self) -> usize {
        let extra: usize = self.extra.values().map(|v| v.capacity() * size_of::<Spending>()).sum();
        size_of::<Slot>() * self.slots.capacity() + size_of::<(u32, Vec<Spending>)>() * self.extra.capacity() + extra
    }

    /// Asks for the memory of customer `cust`'s slot ahead of its
    /// [`CustomerFacts::observe`] (a slot per customer: beyond the CPU's
    /// caches past about 100,000 customers).
    pub(super) fn prefetch(&self, cust: u32) {
        crate::interner::prefetch(self.slots.as_ptr().wrapping_add(cust as usize));
    }

    fn currency_index(&mut self, currency: Currency) -> Result<u16, EtlError> {
        if let Some(i) = self.currencies.iter().position(|c| *c == currency) {
            return Ok(i as u16);
        }
        let i = u16::try_from(self.currencies.len())
            .map_err(|_| EtlError::Overflow("more than 65,535 currencies".to_owned()))?;
        self.currencies.push(currency);
        Ok(i)
    }

    /// The customer's totals in `currency` (created if new); a new customer
    /// is the next index.
    fn spending_of(&mut self, cust: u32, currency: u16, month: Month) -> Result<&mut Spending, EtlError> {
        let c = cust as usize;
        if c == self.slots.len() {
            self.slots.push(Slot {
                first: Spending::new(currency, month),
                null_subscription_tx: 0,
                unknown_subscription_tx: 0,
            });
        }
        let slot = self
            .slots
            .get_mut(c)
            .ok_or_else(|| EtlError::Internal(format!("customer {cust} observed out of order")))?;
        if slot.first.currency == currency {
            return Ok(&mut slot.first);
        }
        let extra = self.extra.entry(cust).or_default();
        let i = match extra.iter().position(|s| s.currency == currency) {
            Some(i) => i,
            None => {
                // Exactly: a growing Vec would reserve four (96 bytes) for
                // the customer's second currency.
                extra.reserve_exact(1);
                extra.push(Spending::new(currency, month));
                extra.len() - 1
            }
        };
        Ok(&mut extra[i])
    }

    /// Adds an accepted transaction (`fact`, paid in `currency`) to the
    /// facts of its customer, numbered `customer`. Customers come in index
    /// order: a new one is the next index.
    pub(super) fn observe(
        &mut self,
        customer: u32,
        fact: &FactRef<'_>,
        currency: Currency,
        known: Catalogued,
    ) -> Result<(), EtlError> {
        let month = Month::of(&fact.date_utc);
        let index = self.currency_index(currency)?;
        let spending = self.spending_of(customer, index, month)?;
        add_cents(&mut spending.cents, fact.total_cents, &|| {
            format!("the {currency} spending of customer {:?}", fact.customer_id)
        })?;
        spending.transactions = spending.transactions.checked_add(1).ok_or_else(|| {
            EtlError::Overflow(format!(
                "customer {:?} has more than 4,294,967,295 {currency} transactions in one run",
                fact.customer_id
            ))
        })?;
        match spending.bit(month) {
            Some(k) => spending.bits |= 1 << k,
            None => {
                let far = self.far_months.entry((customer, currency)).or_default();
                if !far.contains(&month) {
                    far.push(month);
                }
            }
        }
        let slot = &mut self.slots[customer as usize];
        match known {
            Catalogued::NoSubscription => slot.null_subscription_tx = slot.null_subscription_tx.saturating_add(1),
            Catalogued::Unknown => slot.unknown_subscription_tx = slot.unknown_subscription_tx.saturating_add(1),
            Catalogued::Known => {}
        }
        Ok(())
    }

    /// Customer `cust`'s transactions without a subscription id, and with one
    /// unknown to the catalog.
    pub fn unattributed(&self, cust: u32) -> (u64, u64) {
        self.slots.get(cust as usize).map_or((0, 0), |s| {
            (u64::from(s.null_subscription_tx), u64::from(s.unknown_subscription_tx))
        })
    }

    /// Customer `cust`'s spending, one entry per currency in first-seen order.
    pub fn spending(&self, cust: u32) -> Vec<CurrencySpending> {
        let first = self.slots.get(cust as usize).map(|s| &s.first);
        let extra = self.extra.get(&cust).into_iter().flatten();
        first
            .into_iter()
            .chain(extra)
            .map(|s| {
                let currency = self.currencies[s.currency as usize];
                CurrencySpending {
                    currency,
                    cents: s.cents,
                    transactions: i64::from(s.transactions),
                    months: self.active_months(cust, currency, s),
                }
            })
            .collect()
    }

    /// The months in which customer `cust` paid in `spending`'s currency in this run.
    fn active_months(&self, cust: u32, currency: Currency, spending: &Spending) -> ActiveMonths {
        let mut months = ActiveMonths::default();
        for k in 0..64 {
            if spending.bits & (1 << k) != 0 {
                months.insert(spending.month(k));
            }
        }
        for &m in self.far_months.get(&(cust, currency)).into_iter().flatten() {
            months.insert(m);
        }
        months
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observe(facts: &mut CustomerFacts, customer: u32, currency: &str, date: &str, cents: i64, sub: Attribution) {
        let sub = Catalogued::of(&sub);
        let date_utc = chrono::NaiveDateTime::parse_from_str(&format!("{date} 00:00"), "%Y-%m-%d %H:%M").unwrap();
        let currency = Currency::parse(currency).unwrap();
        let fact = FactRef {
            transaction_id: "t",
            date_utc,
            customer_id: "c",
            subscription_id: None,
            total_cents: cents,
            currency: currency.as_str(),
        };
        facts.observe(customer, &fact, currency, sub).unwrap();
    }

    fn months(s: &CurrencySpending) -> Vec<String> {
        s.months.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn a_slot_stays_32_bytes() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
    }

    #[test]
    fn each_customer_keeps_each_currency_apart_in_first_seen_order() {
        let mut facts = CustomerFacts::default();
        let none = Attribution::NoSubscription;
        observe(&mut facts, 0, "usd", "2024-01-05", 100, none);
        observe(&mut facts, 1, "eur", "2024-01-06", 7, Attribution::Unknown);
        observe(&mut facts, 0, "eur", "2024-02-01", 50, none);
        observe(&mut facts, 0, "jpy", "2024-03-01", 9, none);
        observe(&mut facts, 0, "eur", "2024-04-01", -20, none);
        observe(&mut facts, 0, "usd", "2024-01-20", 1, none);
        // Ten years later: outside the 64-month window.
        observe(&mut facts, 1, "eur", "2034-06-01", 3, Attribution::Unknown);
        let c0 = facts.spending(0);
        let got: Vec<(&str, i64, i64)> = c0
            .iter()
            .map(|s| (s.currency.as_str(), s.cents, s.transactions))
            .collect();
        assert_eq!(got, [("usd", 101, 2), ("eur", 30, 2), ("jpy", 9, 1)]);
        assert_eq!(months(&c0[0]), ["2024-01"]);
        assert_eq!(months(&c0[1]), ["2024-02", "2024-04"]);
        assert_eq!(facts.unattributed(0), (5, 0));
        let c1 = facts.spending(1);
        assert_eq!(c1.len(), 1);
        assert_eq!((c1[0].cents, c1[0].transactions), (10, 2));
        assert_eq!(months(&c1[0]), ["2024-01", "2034-06"]);
        assert_eq!(facts.unattributed(1), (0, 2));
        assert!(facts.spending(2).is_empty());
    }

    /// Months thousands of years from 2000 (whatever the date bounds let
    /// through) are kept exactly, outside the window.
    #[test]
    fn months_far_from_the_window_origin_are_kept() {
        let mut facts = CustomerFacts::default();
        let none = Attribution::NoSubscription;
        observe(&mut facts, 0, "usd", "0001-03-05", 1, none);
        observe(&mut facts, 0, "usd", "0001-04-05", 2, none);
        observe(&mut facts, 0, "usd", "2024-01-05", 4, none);
        observe(&mut facts, 1, "usd", "9999-12-01", 8, none);
        observe(&mut facts, 1, "eur", "9999-11-01", 16, none);
        let c0 = facts.spending(0);
        assert_eq!((c0[0].cents, c0[0].transactions), (7, 3));
        assert_eq!(months(&c0[0]), ["0001-03", "0001-04", "2024-01"]);
        let c1 = facts.spending(1);
        assert_eq!(months(&c1[0]), ["9999-12"]);
        assert_eq!(
            (c1[1].currency.as_str(), months(&c1[1])),
            ("eur", vec!["9999-11".to_owned()])
        );
    }

    /// Either side of where the window's start is clamped (a first month of
    /// 4733-03 starts it at the last offset, 4733-04 would start it one
    /// later): every month kept exactly, in the window or beside it.
    #[test]
    fn months_either_side_of_the_clamp_are_kept() {
        let none = Attribution::NoSubscription;
        for first in ["4733-02", "4733-03", "4733-04", "4733-05"] {
            let mut facts = CustomerFacts::default();
            let first = Month::parse(first).unwrap();
            let dates: Vec<Month> = [0, -31, 32, 33, -32, 1, 64].iter().map(|&k| first.plus(k)).collect();
            for m in &dates {
                observe(&mut facts, 0, "usd", &format!("{m}-15"), 1, none);
            }
            let mut want: Vec<String> = dates.iter().map(|m| m.to_string()).collect();
            want.sort();
            assert_eq!(months(&facts.spending(0)[0]), want, "first month {first}");
        }
    }
}

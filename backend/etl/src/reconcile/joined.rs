//! An append's customers that join the users files: stored customers that
//! earlier runs loaded transactions of without the customer being in any
//! users file, and that the run's users.csv brings. Their stored
//! transactions all counted as unreferenced; from this run on, only those on
//! no subscription or on one still unknown do — as one replace of
//! everything would count them.
//!
//! Cost: nothing when no customer joins, and nothing for a joining customer
//! whose stored flags say none of its transactions is on no subscription or
//! on one still unknown (all of them become referenced: the stored spending
//! counts them). Otherwise one read, after every chunk, of the stored
//! transactions of those customers, grouped by subscription (no index on the
//! customer: on Citus the facts are distributed by it), and one of the
//! stored products of their subscriptions the run's catalogue lacks.

use rustc_hash::FxHashSet as HashSet;

use super::restate::RestatedCustomer;
use super::Merged;
use crate::error::EtlError;
use crate::load::stored::{self, StoredCustomer};
use crate::load::Loader;
use crate::read::products::Catalog;
use crate::rows::LookupKey;

/// The stored transactions that stop counting as unreferenced because their
/// customer joins the users files.
#[derive(Default)]
pub struct Joined {
    /// Counted from the stored spending: every stored transaction of the
    /// customer is referenced now.
    counted: u64,
    /// Customers some of whose stored transactions may stay unreferenced:
    /// counted by [`Joined::resolve`].
    to_read: Vec<String>,
}

impl Merged {
    /// Whether the customer was stored outside the users files and the run's
    /// users file brings it.
    pub fn joins_users(&self) -> bool {
        self.before.is_some_and(|b| !b.in_users_file) && self.after.in_users_file
    }
}

impl Joined {
    /// Notes customer `stored` if it joins the users files in `merged`
    /// (`restated`: what the run's catalogue makes known of its stored
    /// transactions).
    pub fn note(&mut self, stored: Option<&StoredCustomer>, merged: &Merged, restated: Option<&RestatedCustomer>) {
        let Some(s) = stored.filter(|_| merged.joins_users()) else {
            return;
        };
        let unknown = s.unknown_subscription && !restated.is_some_and(|r| r.cleared);
        if s.null_subscription || unknown {
            self.to_read.push(s.customer_id.clone());
        } else {
            let transactions: i64 = s.spending.iter().map(|x| x.transactions).sum();
            self.counted += u64::try_from(transactions).unwrap_or(0);
        }
    }

    /// The count: the noted customers' stored transactions on a subscription
    /// known after the run (in `catalog`, or stored).
    pub async fn resolve(self, loader: &mut Loader, catalog: &Catalog) -> Result<u64, EtlError> {
        if self.to_read.is_empty() {
            return Ok(self.counted);
        }
        let keys: Vec<LookupKey> = self.to_read.into_iter().map(LookupKey).collect();
        let per_subscription = loader
            .fetch_in(
                "SELECT f.subscription_id, COUNT(*) FROM fct_transaction f \
                 WHERE f.customer_id {in_keys} AND f.subscription_id IS NOT NULL \
                 GROUP BY f.subscription_id",
                &keys,
                |r| Ok((r.text(0)?, r.int(1)?)),
            )
            .await?;
        let mut others: Vec<String> = per_subscription
            .iter()
            .filter(|(s, _)| !catalog.knows(s))
            .map(|(s, _)| s.clone())
            .collect();
        others.sort_unstable();
        let stored: HashSet<String> = stored::products(loader, &others)
            .await?
            .into_iter()
            .map(|p| p.subscription_id.to_string())
            .collect();
        let referenced: i64 = per_subscription
            .iter()
            .filter(|(s, _)| catalog.knows(s) || stored.contains(s))
            .map(|(_, n)| n)
            .sum();
        Ok(self.counted + u64::try_from(referenced).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::Profile;
    use crate::load::stored::StoredSpending;
    use crate::reconcile::merge;
    use domain::Currency;

    fn stored(id: &str, in_users_file: bool, null: bool, unknown: bool) -> StoredCustomer {
        StoredCustomer {
            customer_id: id.to_owned(),
            in_users_file,
            null_subscription: null,
            unknown_subscription: unknown,
            spending: vec![StoredSpending {
                currency: Currency::parse("usd").unwrap(),
                cents: 100,
                transactions: 3,
                months: Default::default(),
            }],
            ..Default::default()
        }
    }

    fn note(joined: &mut Joined, s: &StoredCustomer, in_file: bool, restated: Option<RestatedCustomer>) {
        let profile = in_file.then_some(Profile {
            name: "N",
            email: "n@x.test",
            conflicting_name: false,
            conflicting_email: false,
        });
        let merged = merge(&s.customer_id, Some(s), None, profile).unwrap();
        joined.note(Some(s), &merged, restated.as_ref());
    }

    #[test]
    fn only_joining_customers_count_and_only_doubtful_ones_are_read() {
        let mut joined = Joined::default();
        note(&mut joined, &stored("in", true, false, false), true, None);
        note(&mut joined, &stored("absent", false, false, false), false, None);
        assert_eq!((joined.counted, joined.to_read.len()), (0, 0), "no customer joins");
        note(&mut joined, &stored("clean", false, false, false), true, None);
        let cleared = RestatedCustomer {
            unknown_transactions: 1,
            cleared: true,
        };
        note(&mut joined, &stored("learnt", false, false, true), true, Some(cleared));
        assert_eq!(
            (joined.counted, joined.to_read.len()),
            (6, 0),
            "every stored one counts"
        );
        note(&mut joined, &stored("null", false, true, false), true, None);
        note(&mut joined, &stored("unknown", false, false, true), true, None);
        assert_eq!(joined.to_read, ["null", "unknown"]);
        assert_eq!(joined.counted, 6);
    }
}

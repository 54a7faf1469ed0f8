//! The cumulative counts that describe the loaded data as a whole (what
//! `/quality` reports about customers, and what the run summary prints),
//! stored with each run (`etl_run.state_json`). A replace starts them from
//! zero; an append adds the difference each customer it touches makes, so the
//! counts stay exact without reading the customers it does not touch.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// Customer counts over `dim_user`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerTotals {
    pub customers: i64,
    /// Customers with transactions but no row in any users file.
    pub only_in_transactions: i64,
    /// Customers of a users file without any transaction.
    pub without_transactions: i64,
    /// Customers paying in more than one currency.
    pub multi_currency: i64,
    /// Customers with a transaction without subscription id.
    pub null_subscription: i64,
    /// Customers with a transaction whose subscription is not in the products.
    pub unknown_subscription: i64,
    pub without_name: i64,
    pub without_email: i64,
    pub conflicting_names: i64,
    pub conflicting_emails: i64,
    /// Customers without a name or without an e-mail.
    #[serde(default)]
    pub incomplete: i64,
    /// Customers with conflicting names or conflicting e-mails.
    #[serde(default)]
    pub conflicting: i64,
}

/// What counts one customer contributes to [`CustomerTotals`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CustomerFlags {
    pub in_users_file: bool,
    pub currencies: usize,
    pub null_subscription: bool,
    pub unknown_subscription: bool,
    pub has_name: bool,
    pub has_email: bool,
    pub conflicting_name: bool,
    pub conflicting_email: bool,
}

impl CustomerTotals {
    fn of(f: &CustomerFlags) -> Self {
        let n = |b: bool| i64::from(b);
        Self {
            customers: 1,
            only_in_transactions: n(!f.in_users_file),
            without_transactions: n(f.currencies == 0),
            multi_currency: n(f.currencies > 1),
            null_subscription: n(f.null_subscription),
            unknown_subscription: n(f.unknown_subscription),
            without_name: n(!f.has_name),
            without_email: n(!f.has_email),
            conflicting_names: n(f.conflicting_name),
            conflicting_emails: n(f.conflicting_email),
            incomplete: n(!f.has_name || !f.has_email),
            conflicting: n(f.conflicting_name || f.conflicting_email),
        }
    }

    fn combine(&mut self, o: &Self, sign: i64) {
        self.customers += sign * o.customers;
        self.only_in_transactions += sign * o.only_in_transactions;
        self.without_transactions += sign * o.without_transactions;
        self.multi_currency += sign * o.multi_currency;
        self.null_subscription += sign * o.null_subscription;
        self.unknown_subscription += sign * o.unknown_subscription;
        self.without_name += sign * o.without_name;
        self.without_email += sign * o.without_email;
        self.conflicting_names += sign * o.conflicting_names;
        self.conflicting_emails += sign * o.conflicting_emails;
        self.incomplete += sign * o.incomplete;
        self.conflicting += sign * o.conflicting;
    }

    /// Accounts for one customer changing from `before` (`None`: new) to `after`.
    pub fn apply(&mut self, before: Option<&CustomerFlags>, after: &CustomerFlags) {
        if let Some(b) = before {
            self.combine(&Self::of(b), -1);
        }
        self.combine(&Self::of(after), 1);
    }

    pub fn add(&mut self, delta: &Self) {
        self.combine(delta, 1);
    }
}

/// The counts behind the row-based quality dimensions (validity,
/// uniqueness, integrity), summed over every run since the last replace: the
/// data's score is computed from them as one run's is from its own, so a
/// replace of January–May then an append of June–October scores as one
/// replace of the whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowTotals {
    pub rows_read: u64,
    pub rows_rejected: u64,
    pub tx_read: u64,
    pub tx_duplicates: u64,
    pub tx_id_conflicts: u64,
    pub tx_loaded: u64,
    pub tx_unreferenced: u64,
}

impl RowTotals {
    pub fn add(&mut self, o: &Self) {
        self.rows_read += o.rows_read;
        self.rows_rejected += o.rows_rejected;
        self.tx_read += o.tx_read;
        self.tx_duplicates += o.tx_duplicates;
        self.tx_id_conflicts += o.tx_id_conflicts;
        self.tx_loaded += o.tx_loaded;
        self.tx_unreferenced += o.tx_unreferenced;
    }
}

/// The state of the loaded data after a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataState {
    pub customers: CustomerTotals,
    /// Rows of the users files (all runs since the last replace) without a name / e-mail.
    pub user_rows_without_name: i64,
    pub user_rows_without_email: i64,
    /// `dim_product` rows, and their distinct subscription ids.
    pub products: i64,
    pub subscriptions: i64,
    pub first_transaction_at: Option<NaiveDateTime>,
    pub latest_transaction_at: Option<NaiveDateTime>,
    /// Per currency, the sum of the absolute amounts of every transaction
    /// loaded. Every sum a report computes (over any months, products or
    /// customers) is at most this, so keeping it within 64 bits keeps every
    /// report sum exact: a run that would exceed it fails.
    #[serde(default)]
    pub gross_cents: BTreeMap<String, i64>,
    /// Since the last replace; `None` when a run since then was made by a
    /// version that did not keep them (the data's score is then unknown
    /// until the next replace). Boxed: the state is moved around whole, and
    /// most of it is small.
    #[serde(default)]
    pub rows: Option<Box<RowTotals>>,
}

impl DataState {
    /// Adds a run's gross volume of `currency`; `Err` when the total no longer fits.
    pub fn add_gross(&mut self, currency: &str, cents: i64) -> Result<(), String> {
        let total = self.gross_cents.entry(currency.to_owned()).or_insert(0);
        *total = total.checked_add(cents).ok_or_else(|| {
            format!(
                "the {currency} transactions' absolute amounts add up to more than 64-bit minor units (cents) can hold \
                 (about 92 quadrillion): sums of them could not be exact"
            )
        })?;
        Ok(())
    }

    /// Widens the transaction time range by a run's.
    pub fn cover(&mut self, first: Option<NaiveDateTime>, last: Option<NaiveDateTime>) {
        if let Some(f) = first {
            self.first_transaction_at = Some(self.first_transaction_at.map_or(f, |x| x.min(f)));
        }
        if let Some(l) = last {
            self.latest_transaction_at = Some(self.latest_transaction_at.map_or(l, |x| x.max(l)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_is_counted_once_whatever_changes() {
        let mut t = CustomerTotals::default();
        let only_tx = CustomerFlags {
            currencies: 1,
            ..Default::default()
        };
        t.apply(None, &only_tx);
        assert_eq!((t.customers, t.only_in_transactions, t.without_name), (1, 1, 1));
        // The users file arrives later with a name, and a second currency is paid.
        let named = CustomerFlags {
            in_users_file: true,
            currencies: 2,
            has_name: true,
            has_email: true,
            ..Default::default()
        };
        t.apply(Some(&only_tx), &named);
        assert_eq!(
            t,
            CustomerTotals {
                customers: 1,
                multi_currency: 1,
                ..Default::default()
            }
        );
        let mut sum = CustomerTotals::default();
        sum.add(&t);
        sum.add(&t);
        assert_eq!(sum.customers, 2);
    }

    #[test]
    fn cover_widens_the_range() {
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let mut s = DataState::default();
        s.cover(Some(at("2024-03-01 00:00")), Some(at("2024-05-01 00:00")));
        s.cover(Some(at("2024-01-01 00:00")), Some(at("2024-04-01 00:00")));
        s.cover(None, None);
        assert_eq!(s.first_transaction_at, Some(at("2024-01-01 00:00")));
        assert_eq!(s.latest_transaction_at, Some(at("2024-05-01 00:00")));
    }
}

//! One customer's merge: what the run says of it (its facts from the
//! transactions, its profile from the users file) added to what is stored.

use crate::error::EtlError;
use crate::load::stored::{StoredCustomer, StoredSpending};
use crate::months::ActiveMonths;
use crate::rows::{CustomerSpendingRow, UserRow};
use crate::state::CustomerFlags;
use domain::{Currency, Month};

impl StoredCustomer {
    fn flags(&self) -> CustomerFlags {
        CustomerFlags {
            in_users_file: self.in_users_file,
            currencies: self.spending.len(),
            null_subscription: self.null_subscription,
            unknown_subscription: self.unknown_subscription,
            has_name: !self.name.is_empty(),
            has_email: !self.email.is_empty(),
            conflicting_name: self.conflicting_name,
            conflicting_email: self.conflicting_email,
        }
    }
}

// A customer's record in this run's users file: the last non-empty name
// (or empty) and e-mail in the file, and whether its own rows disagree.
use crate::customers::Profile;

/// A customer's spending in one currency in this run.
pub struct RunSpending {
    pub currency: Currency,
    pub cents: i64,
    pub transactions: i64,
    pub months: ActiveMonths,
}

/// The run's facts about one customer.
pub struct RunFacts {
    pub spending: Vec<RunSpending>,
    /// Transactions without a subscription id / with one unknown to the catalog.
    pub null_subscription_tx: u64,
    pub unknown_subscription_tx: u64,
}

/// One customer after the merge.
#[derive(Debug)]
pub struct Merged {
    pub user: UserRow,
    /// The currencies this run paid in, merged with the stored totals.
    pub spending: Vec<CustomerSpendingRow>,
    /// (currency, month) cells where this customer is active for the first time.
    pub new_months: Vec<(Currency, Month)>,
    pub before: Option<CustomerFlags>,
    pub after: CustomerFlags,
    /// Whether the stored customer changes (always, for a new one).
    pub changed: bool,
    /// Whether its name, e-mail or their flags change (always, for a new one):
    /// what a users-file row is counted loaded for.
    pub profile_changed: bool,
    pub currencies: usize,
}

/// Merges what the run says of a customer into what is stored of it.
pub fn merge(
    id: &str,
    stored: Option<&StoredCustomer>,
    facts: Option<&RunFacts>,
    profile: Option<Profile<'_>>,
) -> Result<Merged, EtlError> {
    let empty = StoredCustomer::default();
    let s = stored.unwrap_or(&empty);
    let names = Names::merge(s, profile);
    // Spending: the stored currencies, each added to by this run's.
    let mut all: Vec<StoredSpending> = s.spending.clone();
    let (spending, new_months) = add_spending(id, &mut all, facts)?;
    // The currency paid in most often (ties: the first in code order).
    let main = all
        .iter()
        .max_by(|a, b| a.transactions.cmp(&b.transactions).then(b.currency.cmp(&a.currency)));
    let user = UserRow {
        customer_id: id.to_owned(),
        customer_name: names.name.to_owned(),
        customer_email: names.email.to_owned(),
        currency: main.map(|m| m.currency.as_str()),
        total_spending_cents: main.map_or(0, |m| m.cents),
        transactions: main.map_or(0, |m| m.transactions),
        in_users_file: s.in_users_file || profile.is_some(),
        conflicting_name: names.conflicting_name,
        conflicting_email: names.conflicting_email,
        null_subscription: s.null_subscription || facts.is_some_and(|f| f.null_subscription_tx > 0),
        unknown_subscription: s.unknown_subscription || facts.is_some_and(|f| f.unknown_subscription_tx > 0),
    };
    let after = CustomerFlags {
        in_users_file: user.in_users_file,
        currencies: all.len(),
        null_subscription: user.null_subscription,
        unknown_subscription: user.unknown_subscription,
        has_name: !user.customer_name.is_empty(),
        has_email: !user.customer_email.is_empty(),
        conflicting_name: names.conflicting_name,
        conflicting_email: names.conflicting_email,
    };
    let before = stored.map(StoredCustomer::flags);
    let profile_changed = stored.is_none_or(|s| {
        s.name != user.customer_name
            || s.email != user.customer_email
            || s.in_users_file != user.in_users_file
            || s.conflicting_name != names.conflicting_name
            || s.conflicting_email != names.conflicting_email
    });
    let changed = profile_changed || !spending.is_empty() || before != Some(after);
    Ok(Merged {
        user,
        spending,
        new_months,
        before,
        after,
        changed,
        profile_changed,
        currencies: all.len(),
    })
}

/// [`merge`] for a stored customer none of whose stored transactions is on
/// an unknown subscription any more (the run's catalogue made them known):
/// its flag is cleared, unless the run's own transactions set it again.
pub fn merge_cleared(
    id: &str,
    stored: &StoredCustomer,
    facts: Option<&RunFacts>,
    profile: Option<Profile<'_>>,
) -> Result<Merged, EtlError> {
    let cleared = StoredCustomer {
        unknown_subscription: false,
        ..stored.clone()
    };
    let mut merged = merge(id, Some(&cleared), facts, profile)?;
    merged.before = Some(stored.flags());
    merged.changed |= merged.before != Some(merged.after);
    Ok(merged)
}

/// A customer's name and e-mail after the merge.
struct Names<'a> {
    name: &'a str,
    email: &'a str,
    conflicting_name: bool,
    conflicting_email: bool,
}

impl<'a> Names<'a> {
    /// Conflicting when two non-empty values in file order differ; the stored
    /// value comes first. E-mails compare without case.
    fn merge(s: &'a StoredCustomer, profile: Option<Profile<'a>>) -> Self {
        let (name, conflicting_name) = match profile {
            Some(p) if !p.name.is_empty() => (
                p.name,
                s.conflicting_name || p.conflicting_name || (!s.name.is_empty() && s.name != p.name),
            ),
            Some(p) => (s.name.as_str(), s.conflicting_name || p.conflicting_name),
            None => (s.name.as_str(), s.conflicting_name),
        };
        let (email, conflicting_email) = match profile {
            Some(p) if !p.email.is_empty() => (
                p.email,
                s.conflicting_email
                    || p.conflicting_email
                    || (!s.email.is_empty() && !s.email.eq_ignore_ascii_case(p.email)),
            ),
            Some(p) => (s.email.as_str(), s.conflicting_email || p.conflicting_email),
            None => (s.email.as_str(), s.conflicting_email),
        };
        Names {
            name,
            email,
            conflicting_name,
            conflicting_email,
        }
    }
}

/// Adds the run's spending to the stored totals `all` (a currency new to
/// the customer is appended): the rows to write, and the (currency, month)
/// cells where the customer is active for the first time.
#[allow(clippy::type_complexity)]
fn add_spending(
    id: &str,
    all: &mut Vec<StoredSpending>,
    facts: Option<&RunFacts>,
) -> Result<(Vec<CustomerSpendingRow>, Vec<(Currency, Month)>), EtlError> {
    let mut spending = Vec::new();
    let mut new_months = Vec::new();
    for run in facts.map(|f| f.spending.as_slice()).unwrap_or_default() {
        let i = match all.iter().position(|x| x.currency == run.currency) {
            Some(i) => i,
            None => {
                all.push(StoredSpending {
                    currency: run.currency,
                    cents: 0,
                    transactions: 0,
                    months: ActiveMonths::default(),
                });
                all.len() - 1
            }
        };
        let total = &mut all[i];
        total.cents = total.cents.checked_add(run.cents).ok_or_else(|| {
            EtlError::Overflow(format!(
                "the {} spending of customer {id:?} exceeds the range of 64-bit minor units (cents)",
                run.currency
            ))
        })?;
        total.transactions += run.transactions;
        for m in run.months.iter() {
            if total.months.insert(m) {
                new_months.push((run.currency, m));
            }
        }
        spending.push(CustomerSpendingRow {
            currency: run.currency.as_str(),
            customer_id: id.to_owned(),
            total_spending_cents: total.cents,
            transactions: total.transactions,
            active_months: total.months.encode(),
        });
    }
    Ok((spending, new_months))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::CustomerTotals;

    fn usd() -> Currency {
        Currency::parse("usd").unwrap()
    }

    fn month(s: &str) -> Month {
        Month::parse(s).unwrap()
    }

    fn facts(cents: i64, months: &[&str]) -> RunFacts {
        let mut m = ActiveMonths::default();
        for x in months {
            m.insert(month(x));
        }
        RunFacts {
            spending: vec![RunSpending {
                currency: usd(),
                cents,
                transactions: months.len() as i64,
                months: m,
            }],
            null_subscription_tx: 0,
            unknown_subscription_tx: months.len() as u64,
        }
    }

    fn profile<'a>(name: &'a str, email: &'a str) -> Profile<'a> {
        Profile {
            name,
            email,
            conflicting_name: false,
            conflicting_email: false,
        }
    }

    #[test]
    fn a_new_customer_is_the_run_alone() {
        let m = merge(
            "c1",
            None,
            Some(&facts(500, &["2024-01", "2024-02"])),
            Some(profile("Ann", "a@x")),
        )
        .unwrap();
        assert!(m.changed && m.before.is_none());
        assert_eq!(m.user.total_spending_cents, 500);
        assert_eq!(m.user.currency, Some("usd"));
        assert_eq!(m.new_months, vec![(usd(), month("2024-01")), (usd(), month("2024-02"))]);
        assert!(m.user.unknown_subscription && m.user.in_users_file);
    }

    #[test]
    fn appended_months_count_once_and_spending_adds_up() {
        let first = merge("c1", None, Some(&facts(500, &["2024-01", "2024-02"])), None).unwrap();
        let stored = StoredCustomer {
            customer_id: "c1".into(),
            spending: vec![StoredSpending {
                currency: usd(),
                cents: first.user.total_spending_cents,
                transactions: 2,
                months: ActiveMonths::decode(&first.spending[0].active_months).unwrap(),
            }],
            unknown_subscription: true,
            ..Default::default()
        };
        let m = merge("c1", Some(&stored), Some(&facts(300, &["2024-02", "2024-03"])), None).unwrap();
        assert_eq!(m.user.total_spending_cents, 800);
        assert_eq!(m.user.transactions, 4);
        assert_eq!(
            m.new_months,
            vec![(usd(), month("2024-03"))],
            "February was active already"
        );
        assert!(!m.user.in_users_file);
    }

    #[test]
    fn names_merge_in_file_order() {
        let stored = StoredCustomer {
            customer_id: "c1".into(),
            name: "Ann".into(),
            email: "ann@x.test".into(),
            in_users_file: true,
            ..Default::default()
        };
        // Same e-mail in another case, empty name: no conflict, nothing changes.
        let m = merge("c1", Some(&stored), None, Some(profile("", "ANN@x.test"))).unwrap();
        assert!(!m.user.conflicting_email && !m.user.conflicting_name);
        assert_eq!(m.user.customer_email, "ANN@x.test", "the last e-mail wins");
        assert!(m.changed);
        let m = merge("c1", Some(&stored), None, Some(profile("Ann", "ann@x.test"))).unwrap();
        assert!(!m.changed, "an identical record changes nothing");
        let m = merge("c1", Some(&stored), None, Some(profile("Anna", ""))).unwrap();
        assert!(m.user.conflicting_name && !m.user.conflicting_email);
        assert_eq!(
            (m.user.customer_name.as_str(), m.user.customer_email.as_str()),
            ("Anna", "ann@x.test")
        );
        // A stored conflict stays.
        let conflicted = StoredCustomer {
            conflicting_name: true,
            ..stored
        };
        let m = merge("c1", Some(&conflicted), None, Some(profile("Ann", ""))).unwrap();
        assert!(m.user.conflicting_name);
    }

    #[test]
    fn flags_move_from_before_to_after() {
        let stored = StoredCustomer {
            customer_id: "c9".into(),
            spending: vec![StoredSpending {
                currency: usd(),
                cents: 1,
                transactions: 1,
                months: ActiveMonths::default(),
            }],
            ..Default::default()
        };
        let m = merge("c9", Some(&stored), None, Some(profile("Cid", "c@x"))).unwrap();
        let mut totals = CustomerTotals::default();
        totals.apply(m.before.as_ref(), &m.after);
        assert_eq!(totals.customers, 0);
        assert_eq!(totals.only_in_transactions, -1);
        assert_eq!((totals.without_name, totals.without_email), (-1, -1));
    }
}

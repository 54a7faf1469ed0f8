//! Phase 2, reconcile: the run's products and customers merged with what is
//! stored (nothing, in a replace), by the same rules as one file: the last
//! non-empty name and e-mail win, disagreements are counted, a customer's
//! spending and active months add up, a product row replaces the stored row
//! of its (subscription, plan).
//!
//! A customer is written only when the merge changes it, and the counts of
//! `/quality` move by what each merged customer changes ([`CustomerTotals::apply`]).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::error::EtlError;
use crate::load::stored::{self, StoredCustomer, StoredSpending};
use crate::load::Loader;
use crate::months::ActiveMonths;
use crate::progress::Progress;
use crate::read::products::{Catalog, ProductsFile};
use crate::read::transactions::{CustomerFacts, Transactions};
use crate::read::users::Users;
use crate::rows::{CustomerSpendingRow, ProductRow, UserRow};
use crate::state::{CustomerFlags, CustomerTotals};
use domain::{Currency, Month};

/// Customers merged and written per chunk (and looked up per chunk in an append).
const CHUNK: usize = 16_384;

/// What the products of a run change.
pub struct ProductChanges {
    /// Rows to write (a replace: all; an append: new or changed).
    pub rows: Vec<ProductRow>,
    /// Rows whose (subscription, plan) was not stored, and subscriptions new to the catalog.
    pub new_products: i64,
    pub new_subscriptions: i64,
}

/// Products: classifies the file's rows against the stored ones (an append)
/// and builds the catalog that attributes the run's revenue.
pub async fn products(
    loader: &mut Loader,
    file: &mut ProductsFile,
    append: bool,
) -> Result<(ProductChanges, Catalog), EtlError> {
    let rows = std::mem::take(&mut file.rows);
    if !append {
        let subscriptions: HashSet<&str> = rows.iter().map(|r| r.subscription_id.as_str()).collect();
        let new_subscriptions = subscriptions.len() as i64;
        file.counts.loaded = rows.len() as u64;
        let catalog = Catalog::of_file(&rows);
        let changes = ProductChanges {
            new_products: rows.len() as i64,
            new_subscriptions,
            rows,
        };
        return Ok((changes, catalog));
    }
    let mut subscriptions: Vec<String> = rows.iter().map(|r| r.subscription_id.clone()).collect();
    subscriptions.sort_unstable();
    subscriptions.dedup();
    let stored_rows = stored::products(loader, &subscriptions).await?;
    let stored_keys: HashMap<(&str, &str), &ProductRow> = stored_rows
        .iter()
        .map(|r| ((r.subscription_id.as_str(), r.plan.as_str()), r))
        .collect();
    let stored_subs: HashSet<&str> = stored_rows.iter().map(|r| r.subscription_id.as_str()).collect();
    let mut catalog = Catalog::for_append(&rows);
    let mut changes = ProductChanges {
        rows: Vec::new(),
        new_products: 0,
        new_subscriptions: subscriptions
            .iter()
            .filter(|s| !stored_subs.contains(s.as_str()))
            .count() as i64,
    };
    for row in &rows {
        match stored_keys.get(&(row.subscription_id.as_str(), row.plan.as_str())) {
            Some(s) if *s == row => file.counts.already_loaded += 1,
            found => {
                changes.new_products += i64::from(found.is_none());
                file.counts.loaded += 1;
                changes.rows.push(row.clone());
            }
        }
    }
    catalog.merge_stored(&subscriptions, &stored_rows);
    Ok((changes, catalog))
}

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

/// A customer's record in this run's users file.
#[derive(Debug, Clone, Copy)]
pub struct Profile<'a> {
    /// The last non-empty name (or empty) and e-mail in the file.
    pub name: &'a str,
    pub email: &'a str,
    /// The file's own rows disagree.
    pub conflicting_name: bool,
    pub conflicting_email: bool,
}

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
    // Names: conflicting when two non-empty values in file order differ; the
    // stored value comes first. E-mails compare without case.
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
    // Spending: the stored currencies, each added to by this run's.
    let mut all: Vec<StoredSpending> = s.spending.clone();
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
    // The currency paid in most often (ties: the first in code order).
    let main = all
        .iter()
        .max_by(|a, b| a.transactions.cmp(&b.transactions).then(b.currency.cmp(&a.currency)));
    let user = UserRow {
        customer_id: id.to_owned(),
        customer_name: name.to_owned(),
        customer_email: email.to_owned(),
        currency: main.map(|m| m.currency.as_str()),
        total_spending_cents: main.map_or(0, |m| m.cents),
        transactions: main.map_or(0, |m| m.transactions),
        in_users_file: s.in_users_file || profile.is_some(),
        conflicting_name,
        conflicting_email,
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
        conflicting_name,
        conflicting_email,
    };
    let before = stored.map(StoredCustomer::flags);
    let profile_changed = stored.is_none_or(|s| {
        s.name != user.customer_name
            || s.email != user.customer_email
            || s.in_users_file != user.in_users_file
            || s.conflicting_name != conflicting_name
            || s.conflicting_email != conflicting_email
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

/// What reconciling the customers produced.
#[derive(Default)]
pub struct CustomerChanges {
    pub totals: CustomerTotals,
    /// (currency, month) → customers active there for the first time.
    pub new_active: HashMap<(Currency, Month), i64>,
    /// Customers written (new or changed).
    pub written: u64,
    /// The run's transactions without a known subscription or whose customer
    /// is not in the users files (what referential integrity counts).
    pub tx_unreferenced: u64,
    pub multi_currency_examples: Vec<String>,
}

fn run_facts(tx: &Transactions, cust: u32, facts: &CustomerFacts) -> RunFacts {
    RunFacts {
        spending: facts
            .spending
            .iter()
            .map(|s| RunSpending {
                currency: s.currency,
                cents: s.cents,
                transactions: s.transactions,
                months: tx.active_months(cust, s),
            })
            .collect(),
        null_subscription_tx: u64::from(facts.null_subscription_tx),
        unknown_subscription_tx: u64::from(facts.unknown_subscription_tx),
    }
}

/// Customers: every customer of either file, merged with its stored self (an
/// append), written in chunks; the users file's counts are completed here
/// (`loaded`: new or changed customers; `already_loaded`: unchanged ones).
pub async fn customers(
    loader: &mut Loader,
    tx: &Transactions,
    users: &mut Users,
    append: bool,
    stored_currencies: &[Currency],
    progress: &Progress,
) -> Result<CustomerChanges, EtlError> {
    let total = tx.customer_ids.len() + users.ids.len();
    let phase = progress.phase("reconcile customers", Some(total as u64));
    let mut out = CustomerChanges::default();
    let mut in_run = vec![false; users.customers.len()];
    // Transactions' customers first (in first-seen order), then the users
    // file's customers without transactions (in file order).
    let mut ids: Vec<(&str, Option<u32>, Option<u32>)> = Vec::with_capacity(CHUNK);
    let (mut users_loaded, mut users_unchanged) = (0u64, 0u64);
    let mut done = 0u64;
    let tx_ids = tx.customer_ids.iter().enumerate().map(|(i, id)| (id, Some(i as u32)));
    let users_only: Vec<u32> = {
        for id in tx.customer_ids.iter() {
            if let Some(u) = users.ids.find(id) {
                in_run[u as usize] = true;
            }
        }
        (0..users.customers.len() as u32)
            .filter(|&u| !in_run[u as usize])
            .collect()
    };
    let all = tx_ids.chain(users_only.iter().map(|&u| (users.ids.get(u), None)));
    let mut all = all.peekable();
    while all.peek().is_some() {
        ids.clear();
        for (id, cust) in all.by_ref().take(CHUNK) {
            ids.push((id, cust, users.ids.find(id)));
        }
        let stored = if append {
            let keys: Vec<&str> = ids.iter().map(|(id, _, _)| *id).collect();
            stored::customers(loader, &keys, stored_currencies).await?
        } else {
            HashMap::default()
        };
        let mut user_rows = Vec::with_capacity(ids.len());
        let mut spending_rows = Vec::with_capacity(ids.len());
        for &(id, cust, user) in &ids {
            let facts = cust.map(|c| run_facts(tx, c, &tx.customers[c as usize]));
            let profile = user.map(|u| {
                let p = users.customers[u as usize];
                Profile {
                    name: users.texts.get(p.name),
                    email: users.texts.get(p.email),
                    conflicting_name: p.conflicting_name,
                    conflicting_email: p.conflicting_email,
                }
            });
            let merged = merge(id, stored.get(id), facts.as_ref(), profile)?;
            if let Some(f) = &facts {
                out.tx_unreferenced += match merged.user.in_users_file {
                    true => f.null_subscription_tx + f.unknown_subscription_tx,
                    false => f.spending.iter().map(|s| s.transactions as u64).sum(),
                };
            }
            out.totals.apply(merged.before.as_ref(), &merged.after);
            for &cell in &merged.new_months {
                *out.new_active.entry(cell).or_default() += 1;
            }
            if merged.currencies > 1 && out.multi_currency_examples.len() < 20 {
                out.multi_currency_examples.push(id.to_owned());
            }
            if user.is_some() {
                if merged.profile_changed {
                    users_loaded += 1;
                } else {
                    users_unchanged += 1;
                }
            }
            if merged.changed {
                out.written += 1;
                user_rows.push(merged.user);
                spending_rows.extend(merged.spending);
            }
        }
        loader.write(&user_rows).await?;
        loader.write(&spending_rows).await?;
        done += ids.len() as u64;
        phase.at(done);
    }
    phase.done(done);
    users.counts.loaded = users_loaded;
    users.counts.already_loaded = users_unchanged;
    out.multi_currency_examples.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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

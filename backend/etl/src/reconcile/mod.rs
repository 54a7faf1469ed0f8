//! Phase 2, reconcile: the run's products and customers merged with what is
//! stored (nothing, in a replace), by the same rules as one file: the last
//! non-empty name and e-mail win, disagreements are counted, a customer's
//! spending and active months add up, a product row replaces the stored row
//! of its (subscription, plan).
//!
//! A customer is written only when the merge changes it, and the counts of
//! `/quality` move by what each merged customer changes ([`CustomerTotals::apply`]).

use std::collections::BinaryHeap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::error::EtlError;
use crate::load::stored;
use crate::load::Loader;
use crate::progress::Progress;
use crate::read::products::{Catalog, ProductsFile};
use crate::read::transactions::{CustomerFacts, Transactions};
use crate::read::users::Users;
use crate::rows::{MonthlyRow, ProductRow};
use crate::state::CustomerTotals;
use domain::{Currency, Month};

mod joined;
mod merge;
pub mod restate;

use joined::Joined;
pub use merge::{merge, Merged, RunFacts, RunSpending};
use restate::{Reattributed, RestatedCustomer};

/// Customers merged and written per chunk (and looked up per chunk in an append).
const CHUNK: usize = 16_384;

/// What the products of a run change.
pub struct ProductChanges {
    /// Rows to write (a replace: all; an append: new or changed).
    pub rows: Vec<ProductRow>,
    /// Rows whose (subscription, plan) was not stored, and subscriptions new to the catalog.
    pub new_products: i64,
    pub new_subscriptions: i64,
    /// An append: the subscriptions whose plans now split revenue otherwise
    /// (their stored transactions are restated, see [`restate`]).
    pub reattributed: Vec<Reattributed>,
}

/// [`products`], their changed rows written: what the run keeps of them
/// is the catalogue (and the counts).
pub async fn products_written(
    loader: &mut Loader,
    file: &mut ProductsFile,
    append: bool,
) -> Result<(ProductChanges, Catalog), EtlError> {
    let (mut changes, catalog) = products(loader, file, append).await?;
    loader.write(&changes.rows).await?;
    changes.rows = Vec::new();
    Ok((changes, catalog))
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
        file.counts.loaded = rows.len() as u64;
        let catalog = Catalog::of_file(&rows)?;
        // Counted by the catalogue's table: a set of the ids beside it was
        // 35 MB more at 50M transactions, at the end of pass 1.
        let changes = ProductChanges {
            new_products: rows.len() as i64,
            new_subscriptions: catalog.subscriptions() as i64,
            rows,
            reattributed: Vec::new(),
        };
        return Ok((changes, catalog));
    }
    let mut subscriptions: Vec<String> = rows.iter().map(|r| r.subscription_id.to_string()).collect();
    subscriptions.sort_unstable();
    subscriptions.dedup();
    let stored_rows = stored::products(loader, &subscriptions).await?;
    let stored_keys: HashMap<(&str, &str), &ProductRow> = stored_rows
        .iter()
        .map(|r| ((&*r.subscription_id, &*r.plan), r))
        .collect();
    let stored_subs: HashSet<&str> = stored_rows.iter().map(|r| &*r.subscription_id).collect();
    let mut catalog = Catalog::for_append(&rows)?;
    let mut changes = ProductChanges {
        rows: Vec::new(),
        new_products: 0,
        new_subscriptions: subscriptions
            .iter()
            .filter(|s| !stored_subs.contains(s.as_str()))
            .count() as i64,
        reattributed: Vec::new(),
    };
    for row in &rows {
        match stored_keys.get(&(&*row.subscription_id, &*row.plan)) {
            Some(s) if *s == row => file.counts.already_loaded += 1,
            found => {
                changes.new_products += i64::from(found.is_none());
                file.counts.loaded += 1;
                changes.rows.push(row.clone());
            }
        }
    }
    catalog.merge_stored(&subscriptions, &stored_rows)?;
    changes.reattributed = reattributed(&changes.rows, &stored_rows, &catalog);
    Ok((changes, catalog))
}

/// The subscriptions of the changed `rows` whose plans in `catalog` split
/// revenue otherwise than their `stored` rows.
fn reattributed(rows: &[ProductRow], stored: &[ProductRow], catalog: &Catalog) -> Vec<Reattributed> {
    let mut changed: Vec<&str> = rows.iter().map(|r| &*r.subscription_id).collect();
    changed.sort_unstable();
    changed.dedup();
    let mut by_subscription: HashMap<&str, Vec<&ProductRow>> = HashMap::default();
    for row in stored {
        by_subscription.entry(&*row.subscription_id).or_default().push(row);
    }
    let mut out = Vec::new();
    for sub in changed {
        let mut before = by_subscription.remove(sub).unwrap_or_default();
        before.sort_by(|a, b| a.plan.cmp(&b.plan));
        let after: Vec<(&str, i64)> = catalog.plans(sub).map_or(Vec::new(), |plans| {
            plans
                .iter()
                .map(|p| (catalog.names[p.product as usize].as_str(), p.amount_cents))
                .collect()
        });
        let split: Vec<(&str, i64)> = before.iter().map(|r| (&*r.product, r.amount_cents)).collect();
        if before.is_empty() || !restate::same_split(&split, &after) {
            out.push(Reattributed {
                subscription: sub.to_owned(),
                before: before.into_iter().cloned().collect(),
            });
        }
    }
    out
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
    /// Stored transactions that counted as unreferenced and no longer do:
    /// their subscription became known (restated) and their customer is in
    /// the users files (already, or for the first time: see `tx_joined`).
    pub tx_restated: u64,
    /// Stored transactions that counted as unreferenced and no longer do:
    /// their customer joins the users files, and their subscription is known
    /// (see the `joined` module).
    pub tx_joined: u64,
    pub multi_currency_examples: Vec<String>,
    /// Users-file customers whose profile changed (loaded) or did not.
    users_loaded: u64,
    users_unchanged: u64,
}

fn run_facts(facts: &CustomerFacts, cust: u32) -> RunFacts {
    let (null_subscription_tx, unknown_subscription_tx) = facts.unattributed(cust);
    RunFacts {
        spending: facts
            .spending(cust)
            .into_iter()
            .map(|s| RunSpending {
                currency: s.currency,
                cents: s.cents,
                transactions: s.transactions,
                months: s.months,
            })
            .collect(),
        null_subscription_tx,
        unknown_subscription_tx,
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
    Stored { monthly, restated }: Stored<'_>,
    progress: &Progress,
) -> Result<CustomerChanges, EtlError> {
    let stored_currencies = currencies(monthly);
    log_memory(tx, users);
    let total = tx.customer_ids.len() + users.ids.len() + restated.len();
    let phase = progress.phase("reconcile customers", Some(total as u64));
    let mut out = CustomerChanges::default();
    let mut joined = Joined::default();
    let mut examples = Examples::default();
    // users.csv's customers first, in its order (the order their profiles
    // are read back in), then the transactions' customers it lacks (in
    // first-seen order), then those only restated.
    let by_user = tx.customer_ids.by_user(&users.ids);
    let mut profiles = users.profiles.in_order()?;
    let mut ids: Vec<(&str, Option<u32>, Option<u32>)> = Vec::with_capacity(CHUNK);
    let mut done = 0u64;
    let users_first = (users.ids.iter().enumerate()).map(|(u, id)| (id, by_user.number(u as u32), Some(u as u32)));
    let tx_only = (tx.customer_ids.iter().enumerate())
        .filter(|&(n, _)| !by_user.in_users(n as u32))
        .map(|(n, id)| (id, Some(n as u32), None));
    let mut all = (users_first.chain(tx_only))
        .chain(
            restated_only(restated, tx, users)
                .into_iter()
                .map(|id| (id, None, None)),
        )
        .peekable();
    while all.peek().is_some() {
        ids.clear();
        ids.extend(all.by_ref().take(CHUNK));
        let stored = if append {
            let keys: Vec<&str> = ids.iter().map(|(id, _, _)| *id).collect();
            stored::customers(loader, &keys, &stored_currencies).await?
        } else {
            HashMap::default()
        };
        let mut user_rows = Vec::with_capacity(ids.len());
        let mut spending_rows = Vec::with_capacity(ids.len());
        for (k, &(id, cust, user)) in ids.iter().enumerate() {
            let facts = cust.map(|c| run_facts(&tx.customers, c));
            let profile = match user {
                Some(_) => Some(profiles.next_profile()?.ok_or_else(fewer_profiles)?),
                None => None,
            };
            let restated = restated.get(id);
            let merged = match (restated, stored.get(id)) {
                (Some(r), Some(s)) if r.cleared => merge::merge_cleared(id, s, facts.as_ref(), profile)?,
                (_, s) => merge(id, s, facts.as_ref(), profile)?,
            };
            out.count(&merged, facts.as_ref(), user.is_some(), restated);
            if merged.currencies > 1 {
                examples.offer(rank(cust, user, done + k as u64), id);
            }
            joined.note(stored.get(id), &merged, restated);
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
    drop(all);
    out.tx_joined = joined.resolve(loader, &tx.catalog).await?;
    users.counts.loaded = out.users_loaded;
    users.counts.already_loaded = out.users_unchanged;
    out.multi_currency_examples = examples.sorted();
    Ok(out)
}

/// Examples of customers paying in several currencies kept for the run's summary.
const EXAMPLES: usize = 20;

/// The first [`EXAMPLES`] customers paying in several currencies in the
/// order customers were once merged in: the transactions' (first seen
/// first), then users.csv's, then those only restated (they are merged in
/// users.csv's order now, the order its profiles are read back in).
#[derive(Default)]
struct Examples(BinaryHeap<(u64, String)>);

impl Examples {
    fn offer(&mut self, rank: u64, id: &str) {
        if self.0.len() == EXAMPLES && self.0.peek().is_some_and(|(last, _)| rank < *last) {
            self.0.pop();
        }
        if self.0.len() < EXAMPLES {
            self.0.push((rank, id.to_owned()));
        }
    }

    fn sorted(self) -> Vec<String> {
        let mut ids: Vec<String> = self.0.into_iter().map(|(_, id)| id).collect();
        ids.sort();
        ids
    }
}

/// A customer's place in [`Examples`]' order: its number in the run's
/// transactions, else its index in users.csv, else its place in the merge.
fn rank(cust: Option<u32>, user: Option<u32>, merged_at: u64) -> u64 {
    match (cust, user) {
        (Some(n), _) => u64::from(n),
        (None, Some(u)) => 1 << 32 | u64::from(u),
        (None, None) => 2 << 32 | merged_at,
    }
}

/// The customers of restated transactions in neither file, sorted.
fn restated_only<'a>(
    restated: &'a HashMap<String, RestatedCustomer>,
    tx: &Transactions,
    users: &Users,
) -> Vec<&'a str> {
    let mut only: Vec<&str> = restated
        .keys()
        .map(String::as_str)
        .filter(|id| tx.customer_ids.find(id).is_none() && users.ids.find(id).is_none())
        .collect();
    only.sort_unstable();
    only
}

fn fewer_profiles() -> EtlError {
    EtlError::Internal("users.csv's customers outnumber their profiles".to_owned())
}

/// The capacity of the per-customer structures, in MB (what the load's
/// memory grows with: see BENCHMARKS.md, "Load memory").
fn log_memory(tx: &Transactions, users: &Users) {
    tracing::debug!(
        tx_ids_mb = tx.customer_ids.heap_bytes() >> 20,
        tx_facts_mb = tx.customers.heap_bytes() >> 20,
        user_ids_mb = users.ids.heap_bytes() >> 20,
        user_profiles_mb = users.profiles.heap_bytes() >> 20,
        rss_mb = crate::resident_mb(),
        "per-customer memory before reconciling"
    );
}

/// What the customers' merge reads of the stored data besides the customers.
#[derive(Clone, Copy)]
pub struct Stored<'a> {
    /// Every stored monthly cell (the currencies the data holds).
    pub monthly: &'a [MonthlyRow],
    /// The customers of restated transactions (an append; see [`restate`]).
    pub restated: &'a HashMap<String, RestatedCustomer>,
}

/// The currencies of `monthly`, sorted, once each.
fn currencies(monthly: &[MonthlyRow]) -> Vec<Currency> {
    let mut currencies: Vec<Currency> = monthly.iter().map(|r| r.currency).collect();
    currencies.sort_unstable();
    currencies.dedup();
    currencies
}

impl CustomerChanges {
    /// Counts what merging customer `id` changed.
    fn count(
        &mut self,
        merged: &Merged,
        facts: Option<&RunFacts>,
        in_users_file: bool,
        restated: Option<&RestatedCustomer>,
    ) {
        if let Some(f) = facts {
            self.tx_unreferenced += match merged.user.in_users_file {
                true => f.null_subscription_tx + f.unknown_subscription_tx,
                false => f.spending.iter().map(|s| s.transactions as u64).sum(),
            };
        }
        // A customer joining the users files counts its restated transactions
        // with the rest of its stored ones (`tx_joined`).
        if let Some(r) = restated.filter(|_| merged.user.in_users_file && !merged.joins_users()) {
            self.tx_restated += r.unknown_transactions;
        }
        self.totals.apply(merged.before.as_ref(), &merged.after);
        for &cell in &merged.new_months {
            *self.new_active.entry(cell).or_default() += 1;
        }
        if in_users_file {
            if merged.profile_changed {
                self.users_loaded += 1;
            } else {
                self.users_unchanged += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever order the customers come in, the examples are the first
    /// 20 by rank (the transactions' customers, then users.csv's, then the
    /// restated), each once.
    #[test]
    fn examples_are_the_first_by_rank() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut ranked: Vec<(u64, String)> = (0..30u32)
            .map(|n| (rank(Some(n), Some(99 - n), 0), format!("t{n:02}")))
            .chain((0..5u32).map(|u| (rank(None, Some(u), 0), format!("u{u}"))))
            .chain((0..5u64).map(|i| (rank(None, None, i), format!("r{i}"))))
            .collect();
        for _ in 0..20 {
            rng.shuffle(&mut ranked);
            let mut examples = Examples::default();
            for (r, id) in &ranked {
                examples.offer(*r, id);
            }
            let want: Vec<String> = (0..20).map(|n| format!("t{n:02}")).collect();
            assert_eq!(examples.sorted(), want);
        }
        let mut few = Examples::default();
        for (r, id) in [
            (rank(None, None, 7), "r"),
            (rank(None, Some(3), 0), "u"),
            (rank(Some(5), None, 0), "t"),
        ] {
            few.offer(r, id);
        }
        assert_eq!(few.sorted(), ["r", "t", "u"]);
    }
}

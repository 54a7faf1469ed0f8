//! The catalogue: each subscription's plans, what attributes a transaction's
//! revenue to products. Held from products.csv's read to the end of the run
//! (1.45 million subscriptions at 50M generated transactions), so it is
//! compact: the subscription ids in an [`Interner`], and per subscription
//! one 32-byte entry, its plan inline when it has one (most have), else an
//! index into a list of lists. A map of shared ids to vectors of plans took
//! about three times as much (a table slot, a block for the id and one for
//! the vector, each subscription).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::aggregates::Plan;
use crate::error::EtlError;
use crate::interner::Interner;
use crate::rows::ProductRow;

/// What attributes revenue: each subscription's plans. A replace builds it from
/// products.csv; an append from products.csv and, for the other subscriptions
/// its transactions reference, the stored `dim_product` rows (looked up as
/// they appear: see [`Catalog::needs`]).
#[derive(Default)]
pub struct Catalog {
    /// Subscription ids, numbered in first-seen order.
    subscriptions: Interner,
    /// Subscription `i`'s plans, one per (subscription, plan) row, in plan
    /// id order: the allocation's tie-break (the earlier plan) then does not
    /// depend on the order rows arrive in (a file's, or the database's).
    entries: Vec<Entry>,
    /// The plans of subscriptions with several ([`Entry::Several`]).
    several: Vec<Vec<Plan>>,
    /// Distinct product names.
    pub names: Vec<String>,
    name_index: HashMap<String, u32>,
    /// Append: subscriptions whose stored rows were merged in (or are known
    /// to have none). Replace: `None`, products.csv is the whole catalog.
    resolved: Option<HashSet<String>>,
}

enum Entry {
    One(Plan),
    /// An index into [`Catalog::several`].
    Several(u32),
}

impl Catalog {
    /// The catalog of products.csv alone (a replace).
    pub fn of_file(rows: &[ProductRow]) -> Result<Self, EtlError> {
        let mut catalog = Self::default();
        for row in rows {
            catalog.add(row)?;
        }
        Ok(catalog)
    }

    /// An append's catalog: products.csv, to be merged with stored rows.
    pub fn for_append(rows: &[ProductRow]) -> Result<Self, EtlError> {
        let mut catalog = Self::of_file(rows)?;
        catalog.resolved = Some(Default::default());
        Ok(catalog)
    }

    /// `subscription`'s plans, in plan id order, if the catalogue knows it.
    pub fn plans(&self, subscription: &str) -> Option<&[Plan]> {
        let i = self.subscriptions.find(subscription)?;
        Some(match &self.entries[i as usize] {
            Entry::One(plan) => std::slice::from_ref(plan),
            Entry::Several(k) => &self.several[*k as usize],
        })
    }

    /// How many subscriptions the catalogue knows.
    pub fn subscriptions(&self) -> usize {
        self.subscriptions.len()
    }

    /// Whether the catalogue knows `subscription`.
    pub fn knows(&self, subscription: &str) -> bool {
        self.subscriptions.find(subscription).is_some()
    }

    /// Adds a row; a row of the same (subscription, plan) replaces it.
    fn add(&mut self, row: &ProductRow) -> Result<(), EtlError> {
        let plan = Plan {
            plan: row.plan.clone(),
            product: self.intern(&row.product),
            amount_cents: row.amount_cents,
        };
        let (i, new) = self
            .subscriptions
            .intern(&row.subscription_id)
            .map_err(|_| EtlError::Overflow("the catalogue's subscription ids exceed 4 GiB in total".to_owned()))?;
        if new {
            self.entries.push(Entry::One(plan));
            return Ok(());
        }
        let entry = &mut self.entries[i as usize];
        match entry {
            Entry::One(one) if one.plan == plan.plan => *one = plan,
            Entry::One(one) => {
                let k = u32::try_from(self.several.len())
                    .map_err(|_| EtlError::Overflow("more than 4 billion subscriptions".to_owned()))?;
                let mut plans = vec![one.clone(), plan];
                plans.sort_by(|a, b| a.plan.cmp(&b.plan));
                self.several.push(plans);
                *entry = Entry::Several(k);
            }
            Entry::Several(k) => {
                let plans = &mut self.several[*k as usize];
                match plans.binary_search_by(|p| p.plan.cmp(&plan.plan)) {
                    Ok(j) => plans[j] = plan,
                    Err(j) => {
                        // Exactly: a growing Vec would reserve four.
                        plans.reserve_exact(1);
                        plans.insert(j, plan);
                    }
                }
            }
        }
        Ok(())
    }

    /// The index of product `name` in [`Self::names`] (added if new).
    pub fn intern(&mut self, name: &str) -> u32 {
        match self.name_index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(name.to_owned());
                self.name_index.insert(name.to_owned(), i);
                i
            }
        }
    }

    /// Whether `subscription`'s stored rows still have to be merged in.
    pub fn needs(&self, subscription: &str) -> bool {
        self.resolved.as_ref().is_some_and(|r| !r.contains(subscription))
    }

    /// Merges stored rows of `subscriptions`; rows of products.csv keep
    /// precedence (they are newer). Every listed subscription is then resolved.
    pub fn merge_stored(&mut self, subscriptions: &[String], stored: &[ProductRow]) -> Result<(), EtlError> {
        for row in stored {
            let from_file = self
                .plans(&row.subscription_id)
                .is_some_and(|plans| plans.iter().any(|p| p.plan == row.plan));
            if !from_file {
                self.add(row)?;
            }
        }
        if let Some(resolved) = &mut self.resolved {
            resolved.extend(subscriptions.iter().cloned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sub: u32, plan: u32, product: &str, amount: i64) -> ProductRow {
        ProductRow {
            subscription_id: format!("s{sub}").into(),
            plan: format!("p{plan}").into(),
            product: product.into(),
            interval: "month".into(),
            amount_cents: amount,
            status: "active".into(),
        }
    }

    /// The catalogue as a plain map: (subscription, plan) → the last row's
    /// (product, amount).
    type Model = std::collections::BTreeMap<(String, String), (String, i64)>;

    fn assert_same(catalog: &Catalog, model: &Model, subscriptions: u32) {
        for sub in 0..subscriptions {
            let id = format!("s{sub}");
            let expected: Vec<(String, String, i64)> = model
                .range((id.clone(), String::new())..)
                .take_while(|((s, _), _)| *s == id)
                .map(|((_, plan), (product, amount))| (plan.clone(), product.clone(), *amount))
                .collect();
            let got: Vec<(String, String, i64)> = catalog.plans(&id).map_or(Vec::new(), |plans| {
                plans
                    .iter()
                    .map(|p| {
                        (
                            p.plan.to_string(),
                            catalog.names[p.product as usize].clone(),
                            p.amount_cents,
                        )
                    })
                    .collect()
            });
            assert_eq!(got, expected, "{id}");
            assert_eq!(catalog.knows(&id), !expected.is_empty(), "{id}");
        }
    }

    /// Rows in any order, repeated keys included: each subscription's plans
    /// are its last rows, in plan id order, whatever the order they came in.
    #[test]
    fn a_subscriptions_plans_are_its_last_rows_in_plan_order() {
        let mut rng = fastrand::Rng::with_seed(7);
        for (subscriptions, plans) in [(1, 1), (3, 4), (50, 2), (200, 6)] {
            let rows: Vec<ProductRow> = (0..2000)
                .map(|i| {
                    let product = ["Alpha", "Beta", "Gamma"][rng.usize(0..3)];
                    row(rng.u32(0..subscriptions), rng.u32(0..plans), product, i)
                })
                .collect();
            let mut model = Model::new();
            for r in &rows {
                let key = (r.subscription_id.to_string(), r.plan.to_string());
                model.insert(key, (r.product.to_string(), r.amount_cents));
            }
            assert_same(&Catalog::of_file(&rows).unwrap(), &model, subscriptions + 1);
        }
    }

    /// Stored rows add the plans products.csv lacks, never replace its own.
    #[test]
    fn stored_rows_fill_in_and_the_file_wins() {
        let file = [row(1, 2, "Alpha", 10)];
        let mut catalog = Catalog::for_append(&file).unwrap();
        assert!(catalog.needs("s1") && catalog.needs("s2"));
        let stored = [row(1, 2, "Beta", 99), row(1, 1, "Beta", 20), row(2, 1, "Gamma", 30)];
        catalog
            .merge_stored(&["s1".to_owned(), "s2".to_owned()], &stored)
            .unwrap();
        assert!(!catalog.needs("s1") && !catalog.needs("s2") && catalog.needs("s3"));
        let mut model = Model::new();
        model.insert(("s1".into(), "p1".into()), ("Beta".into(), 20));
        model.insert(("s1".into(), "p2".into()), ("Alpha".into(), 10));
        model.insert(("s2".into(), "p1".into()), ("Gamma".into(), 30));
        assert_same(&catalog, &model, 4);
        assert!(
            !Catalog::of_file(&file).unwrap().needs("s9"),
            "a replace's catalogue is whole"
        );
    }

    #[test]
    fn an_entry_is_a_plan_wide() {
        assert_eq!(size_of::<Entry>(), size_of::<Plan>());
    }
}

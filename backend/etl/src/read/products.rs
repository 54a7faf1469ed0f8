//! products.csv → `dim_product`, de-duplicated on (subscription_id, plan), last row wins;
//! and the catalog that attributes each transaction's revenue to products.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::path::Path;

mod catalog;

use crate::counts::Counts;
use crate::error::EtlError;
use crate::read::source::{for_each_row, Column, Digested, Limits, Source};
use crate::rejects::Rejects;
use crate::rows::{ProductRow, Reject, RejectedRow};
pub use catalog::Catalog;
use domain::{parse_amount, SharedTexts, PLAN_AMOUNT_EXPONENT};

pub const FILE: &str = "products.csv";

const COLUMNS: &[Column] = &[
    Column {
        name: "subscription ID",
        aliases: &["subscriptionid", "subscription"],
    },
    Column {
        name: "Plan",
        aliases: &["plan"],
    },
    Column {
        name: "Product",
        aliases: &["product"],
    },
    Column {
        name: "Interval",
        aliases: &["interval"],
    },
    Column {
        name: "Amount",
        aliases: &["amount"],
    },
    Column {
        name: "Status",
        aliases: &["status"],
    },
];

/// The cleaned rows of products.csv (default: an append given no products.csv).
#[derive(Default)]
pub struct ProductsFile {
    pub rows: Vec<ProductRow>,
    pub counts: Counts,
    pub rejects: Rejects,
    pub sha256: String,
    pub bytes: u64,
}

impl ProductsFile {
    /// Drops the file's content (it was ingested before): nothing of it is loaded.
    pub fn skip(&mut self) {
        self.rows.clear();
        self.rejects = Rejects::default();
        self.counts = Counts::default();
    }
}

/// The rows of products.csv, the last of each (subscription, plan) kept.
#[derive(Default)]
struct KeptRows {
    rows: Vec<Option<ProductRow>>,
    /// The index of each key's row, hashed and compared on the row itself: a
    /// map keyed by copies of the two texts cost about 150 bytes per row
    /// (1.45 million rows at 50M transactions) while the file was read.
    by_key: HashTable<usize>,
    /// Rows replaced by a later row of their key (`None` in `rows`).
    replaced: usize,
}

/// Rows at least, before the replaced ones are dropped from [`KeptRows::rows`].
const COMPACT_FROM: usize = if cfg!(test) { 8 } else { 4096 };

fn key_hash(sub: &str, plan: &str) -> u64 {
    FxBuildHasher.hash_one((sub, plan))
}

impl KeptRows {
    /// Keeps `row`; true when it replaces an earlier row of its key (which
    /// becomes a duplicate).
    fn keep(&mut self, row: ProductRow) -> bool {
        let Self { rows, by_key, .. } = self;
        let at = rows.len();
        let hash = key_hash(&row.subscription_id, &row.plan);
        let same = |i: &usize| {
            rows[*i]
                .as_ref()
                .is_some_and(|r| r.subscription_id == row.subscription_id && r.plan == row.plan)
        };
        let rehash = |i: &usize| rows[*i].as_ref().map_or(0, |r| key_hash(&r.subscription_id, &r.plan));
        let replaced = match by_key.entry(hash, same, rehash) {
            hashbrown::hash_table::Entry::Occupied(mut e) => {
                let previous = std::mem::replace(e.get_mut(), at);
                rows[previous] = None;
                true
            }
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(at);
                false
            }
        };
        rows.push(Some(row));
        if replaced {
            self.replaced += 1;
            // A file of many repeated rows (products.csv pasted twice) would
            // otherwise keep an empty slot per repeat to the end of the file.
            if self.replaced * 2 > self.rows.len() && self.rows.len() >= COMPACT_FROM {
                self.compact();
            }
        }
        replaced
    }

    /// Drops the replaced rows (keeping the others' order) and indexes the
    /// rest again.
    fn compact(&mut self) {
        let Self { rows, by_key, replaced } = self;
        rows.retain(Option::is_some);
        by_key.clear();
        let hash_of = |r: &Option<ProductRow>| r.as_ref().map_or(0, |r| key_hash(&r.subscription_id, &r.plan));
        for (i, row) in rows.iter().enumerate() {
            by_key.insert_unique(hash_of(row), i, |&j| hash_of(&rows[j]));
        }
        *replaced = 0;
    }

    fn into_rows(self) -> Vec<ProductRow> {
        // `filter_map` collects in place (an `Option<ProductRow>` is the
        // size of a row): no second vector of 1.45 million rows at 50M.
        // `flatten` does not (checked with Rust 1.95: a new buffer).
        #[allow(clippy::filter_map_identity)]
        self.rows.into_iter().filter_map(|row| row).collect()
    }
}

pub fn read(dir: &Path, run_id: i64, limits: Limits) -> Result<ProductsFile, EtlError> {
    let digest = Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()), limits)?;
    let p = source.positions.clone();
    let mut kept = KeptRows::default();
    // Plans, products, intervals and statuses repeat on every row.
    let mut texts = SharedTexts::default();
    let mut counts = Counts::default();
    let mut rejects = Rejects::default();
    counts.read = for_each_row(&mut source, |row| {
        let parsed = (|| {
            let sub = row.field(p[0], COLUMNS[0].name)?;
            let plan = row.field(p[1], COLUMNS[1].name)?;
            let product = row.field(p[2], COLUMNS[2].name)?;
            let interval = row.field(p[3], COLUMNS[3].name)?;
            let amount = row.field(p[4], COLUMNS[4].name)?;
            let status = row.field(p[5], COLUMNS[5].name)?;
            if sub.is_empty() {
                return Err(Reject::new("empty_subscription_id", "empty subscription ID"));
            }
            if plan.is_empty() {
                return Err(Reject::new("empty_plan", "empty Plan"));
            }
            if product.is_empty() {
                return Err(Reject::new("empty_product", "empty Product"));
            }
            for (value, column) in [(sub, &COLUMNS[0]), (plan, &COLUMNS[1])] {
                domain::check_id(value, column.name).map_err(|e| Reject::new("id_too_long", e))?;
            }
            let amount = parse_amount(amount, PLAN_AMOUNT_EXPONENT, false)
                .map_err(|e| Reject::new(e.reason_code(), format!("column \"Amount\": {e}")))?;
            Ok(ProductRow {
                subscription_id: sub.into(),
                plan: texts.get(plan),
                product: texts.get(product),
                interval: texts.get(interval),
                amount_cents: amount.minor(),
                status: texts.get(status),
            })
        })();
        match parsed {
            Ok(product) => {
                if kept.keep(product) {
                    counts.duplicates += 1;
                }
            }
            Err(reject) => {
                counts.rejected += 1;
                rejects.push(RejectedRow {
                    run_id,
                    file: FILE,
                    line_number: row.line as i64,
                    reason_code: reject.code,
                    reason: reject.message,
                    raw_line: row.raw_line(),
                });
            }
        }
        Ok(())
    })?;
    let rows = kept.into_rows();
    let (sha256, bytes) = digest.finish();
    Ok(ProductsFile {
        rows,
        counts,
        rejects,
        sha256,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sub: u32, plan: u32, amount: i64) -> ProductRow {
        ProductRow {
            subscription_id: format!("s{sub}").into(),
            plan: format!("p{plan}").into(),
            product: "Alpha".into(),
            interval: "month".into(),
            amount_cents: amount,
            status: "active".into(),
        }
    }

    /// The last row of each (subscription, plan) is kept, in the order of
    /// those last rows, however often the replaced rows are dropped along
    /// the way (every few rows under test).
    #[test]
    fn the_last_row_of_each_key_is_kept_in_order() {
        let mut rng = fastrand::Rng::with_seed(3);
        for keys in [1, 3, 20, 200] {
            let rows: Vec<ProductRow> = (0..1000).map(|i| row(rng.u32(0..keys), rng.u32(0..2), i)).collect();
            let mut kept = KeptRows::default();
            let mut replaced = 0;
            for r in &rows {
                replaced += usize::from(kept.keep(r.clone()));
            }
            // The rows no later row of the same key follows.
            let want: Vec<i64> = rows
                .iter()
                .enumerate()
                .filter(|(i, r)| {
                    !rows[i + 1..]
                        .iter()
                        .any(|l| l.subscription_id == r.subscription_id && l.plan == r.plan)
                })
                .map(|(_, r)| r.amount_cents)
                .collect();
            // At most as many replaced rows as kept ones are held.
            assert!(
                kept.rows.len() <= (2 * want.len() + 1).max(COMPACT_FROM),
                "{}",
                kept.rows.len()
            );
            let got: Vec<i64> = kept.into_rows().iter().map(|r| r.amount_cents).collect();
            assert_eq!(got, want, "{keys} keys");
            assert_eq!(replaced, rows.len() - want.len());
        }
    }
}

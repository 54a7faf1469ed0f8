//! products.csv → `dim_product`, de-duplicated on (subscription_id, plan), last row wins.

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;

use super::counts::Counts;
use super::error::EtlError;
use super::rows::{ProductRow, RejectedRow};
use super::source::{for_each_row, Column, Source};
use crate::domain::parse_amount;

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

/// The cleaned products and what they mean for attributing revenue.
pub struct Products {
    pub rows: Vec<ProductRow>,
    /// subscription id → (index into `names`, plan amount in cents), one per plan row.
    pub plans: HashMap<String, Vec<(u32, i64)>>,
    /// Distinct product names.
    pub names: Vec<String>,
    pub counts: Counts,
    pub rejects: Vec<RejectedRow>,
    pub sha256: String,
    pub bytes: u64,
}

pub fn read(dir: &Path, run_id: i64) -> Result<Products, EtlError> {
    let digest = super::source::Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()))?;
    let p = source.positions.clone();
    let mut by_key: HashMap<(String, String), usize> = HashMap::default();
    let mut rows: Vec<Option<ProductRow>> = Vec::new();
    let mut counts = Counts::default();
    let mut rejects = Vec::new();
    counts.read = for_each_row(&mut source, |row| {
        let parsed = (|| {
            let sub = row.field(p[0], COLUMNS[0].name)?;
            let plan = row.field(p[1], COLUMNS[1].name)?;
            let product = row.field(p[2], COLUMNS[2].name)?;
            let interval = row.field(p[3], COLUMNS[3].name)?;
            let amount = row.field(p[4], COLUMNS[4].name)?;
            let status = row.field(p[5], COLUMNS[5].name)?;
            if sub.is_empty() {
                return Err("empty subscription ID".to_owned());
            }
            if plan.is_empty() {
                return Err("empty Plan".to_owned());
            }
            if product.is_empty() {
                return Err("empty Product".to_owned());
            }
            let amount = parse_amount(amount, false).map_err(|e| format!("column \"Amount\": {e}"))?;
            Ok(ProductRow {
                subscription_id: sub.to_owned(),
                plan: plan.to_owned(),
                product: product.to_owned(),
                interval: interval.to_owned(),
                amount_cents: amount.cents(),
                status: status.to_owned(),
            })
        })();
        match parsed {
            Ok(product) => {
                let key = (product.subscription_id.clone(), product.plan.clone());
                if let Some(&previous) = by_key.get(&key) {
                    // Keep the last row for a key; the earlier one becomes a duplicate.
                    rows[previous] = None;
                    counts.duplicates += 1;
                }
                by_key.insert(key, rows.len());
                rows.push(Some(product));
            }
            Err(reason) => {
                counts.rejected += 1;
                rejects.push(RejectedRow {
                    run_id,
                    file: FILE,
                    line_number: row.line as i64,
                    reason,
                    raw_line: row.raw_line(),
                });
            }
        }
        Ok(())
    })?;
    let rows: Vec<ProductRow> = rows.into_iter().flatten().collect();
    counts.loaded = rows.len() as u64;
    let mut name_index: HashMap<String, u32> = HashMap::default();
    let mut names = Vec::new();
    let mut plans: HashMap<String, Vec<(u32, i64)>> = HashMap::default();
    for row in &rows {
        let idx = *name_index.entry(row.product.clone()).or_insert_with(|| {
            names.push(row.product.clone());
            names.len() as u32 - 1
        });
        plans
            .entry(row.subscription_id.clone())
            .or_default()
            .push((idx, row.amount_cents));
    }
    let (sha256, bytes) = digest.finish();
    Ok(Products {
        rows,
        plans,
        names,
        counts,
        rejects,
        sha256,
        bytes,
    })
}

/// Splits `total` cents across plans in proportion to their amounts, exactly:
/// largest remainders get the leftover cents (ties to the earlier plan), equal
/// shares when every amount is zero. The parts always add up to `total`.
pub fn allocate(total: i64, amounts: &[i64]) -> Vec<i64> {
    if total < 0 {
        // A refund is split like the charge it reverses.
        return allocate(-total, amounts).into_iter().map(|p| -p).collect();
    }
    let n = amounts.len();
    if n == 0 {
        return Vec::new();
    }
    let weight_sum: i128 = amounts.iter().map(|&a| i128::from(a.max(0))).sum();
    let weights: Vec<i128> = if weight_sum == 0 {
        vec![1; n]
    } else {
        amounts.iter().map(|&a| i128::from(a.max(0))).collect()
    };
    let denom: i128 = weights.iter().sum();
    let total128 = i128::from(total);
    let mut parts: Vec<i64> = Vec::with_capacity(n);
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(n);
    for (i, w) in weights.iter().enumerate() {
        let num = total128 * w;
        parts.push((num / denom) as i64);
        remainders.push((num % denom, i));
    }
    let mut leftover = total - parts.iter().sum::<i64>();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if leftover == 0 {
            break;
        }
        parts[i] += 1;
        leftover -= 1;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn allocation_is_exact_and_proportional() {
        assert_eq!(allocate(1000, &[300, 100]), vec![750, 250]);
        assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
        assert_eq!(allocate(101, &[0, 0]), vec![51, 50]);
        assert_eq!(allocate(0, &[5, 7]), vec![0, 0]);
        assert_eq!(allocate(-100, &[1, 1, 1]), vec![-34, -33, -33]);
        assert_eq!(allocate(999, &[173_000, 0]), vec![999, 0]);
        for total in [1, 7, 99_999, 123_456_789] {
            let parts = allocate(total, &[17_300_000, 4_900, 1_049]);
            assert_eq!(parts.iter().sum::<i64>(), total);
        }
    }
}

//! `agg_product_month`: each product's sales per (currency, month), the
//! revenue of a subscription allocated across its plans by their amounts.

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

use super::{add_cents, allocate, times_cents, Accepted, Aggregate, Attribution, Finished, Plan, Restated};
use crate::error::EtlError;
use crate::rows::{CellWriter, Row};
use crate::tables::Table;
use domain::{Currency, Month};
use store::entities::agg_product_month;

/// The run's sales: (currency, month, product index) → (cents, transactions).
#[derive(Default)]
pub struct ProductMonths {
    pub cells: HashMap<(Currency, Month, u32), (i64, i64)>,
}

impl Aggregate for ProductMonths {
    type Row = ProductMonthRow;
    type Entity = store::entities::agg_product_month::Entity;

    fn observe(&mut self, tx: &Accepted<'_>) -> Result<(), EtlError> {
        match tx.attribution {
            Attribution::Plans(plans) => self.add(tx.currency, tx.month, plans, tx.fact.total_cents, 1),
            _ => Ok(()),
        }
    }

    /// The old plans' shares taken back, the new plans' added.
    fn restate(&mut self, r: &Restated<'_>) -> Result<(), EtlError> {
        for (attribution, sign) in [(r.before, -r.transactions), (r.after, r.transactions)] {
            if let Attribution::Plans(plans) = attribution {
                self.add(r.currency, r.month, plans, r.total_cents, sign)?;
            }
        }
        Ok(())
    }

    /// The run's cells with their products' names, sorted.
    fn rows(&self, run: &Finished<'_>) -> Result<Vec<ProductMonthRow>, EtlError> {
        let mut rows: Vec<ProductMonthRow> = self
            .cells
            .iter()
            .map(|(&(currency, month, product), &(cents, n))| ProductMonthRow {
                currency: currency.as_str(),
                month: month.to_string(),
                product: run.product_names[product as usize].clone(),
                total_sales_cents: cents,
                transactions: n,
            })
            .collect();
        rows.sort_by(|a, b| (a.currency, &a.month, &a.product).cmp(&(b.currency, &b.month, &b.product)));
        Ok(rows)
    }
}

impl ProductMonths {
    /// `times` transactions of `total` minor units each (negative: taken
    /// back), allocated across `plans`.
    fn add(
        &mut self,
        currency: Currency,
        month: Month,
        plans: &[Plan],
        total: i64,
        times: i64,
    ) -> Result<(), EtlError> {
        let cell = || format!("the {currency} revenue of {month}");
        let amounts: SmallVec<[i64; 4]> = plans.iter().map(|p| p.amount_cents).collect();
        let parts = allocate(total, &amounts);
        // Several plans of one product count the transaction once for it.
        let mut seen: SmallVec<[u32; 4]> = SmallVec::new();
        for (plan, part) in plans.iter().zip(parts) {
            let entry = self.cells.entry((currency, month, plan.product)).or_default();
            add_cents(&mut entry.0, times_cents(part, times, &cell)?, &cell)?;
            if !seen.contains(&plan.product) {
                add_cents(&mut entry.1, times, &cell)?;
                seen.push(plan.product);
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct ProductMonthRow {
    pub currency: &'static str,
    pub month: String,
    pub product: String,
    pub total_sales_cents: i64,
    pub transactions: i64,
}

impl Row for ProductMonthRow {
    const TABLE: &'static Table = &agg_product_month::TABLE;
    const COLUMNS: &'static [&'static str] = &["currency", "month", "product", "total_sales_cents", "transactions"];
    fn write<W: CellWriter>(&self, out: &mut W) {
        out.text(self.currency);
        out.text(&self.month);
        out.text(&self.product);
        out.int(self.total_sales_cents);
        out.int(self.transactions);
    }
}

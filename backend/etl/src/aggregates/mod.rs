//! Phase 3, build aggregates. Each aggregate table is one module here: it
//! observes every transaction pass 2 accepts ([`Aggregate::observe`]) and,
//! once the run's customers are reconciled, yields its table's rows
//! ([`Aggregate::rows`]). `build.rs` lists them once, from this folder's files, in [`registry!`]; pass 2 feeds the
//! list, the aggregate phase writes it (a replace: whole rows; an append:
//! deltas merged by each table's `Append` rule), and `tests/tables.rs` checks
//! each one's row type against its SeaORM entity and `store::entities::STAR`.
//!
//! `agg_customer_spending` is the exception: it is merged with the stored
//! spending per customer and written beside each `dim_user` row by
//! `reconcile::customers`, from the customer facts pass 2 keeps.

use rustc_hash::FxHashMap as HashMap;

use std::future::Future;
use std::sync::Arc;

use crate::error::EtlError;
use crate::rows::{FactRef, MonthlyRow, Row};
use crate::tables::Table;
pub use allocate::allocate;
use domain::{Currency, Month};

/// A transaction pass 2 accepted (new, valid, and not a repeat), as the
/// aggregates see it.
pub struct Accepted<'a> {
    pub fact: FactRef<'a>,
    pub currency: Currency,
    pub month: Month,
    pub attribution: Attribution<'a>,
}

/// What the catalog made of a transaction's subscription.
#[derive(Clone, Copy)]
pub enum Attribution<'a> {
    NoSubscription,
    /// A subscription id the catalog does not know.
    Unknown,
    /// The subscription's plans, among which its revenue is allocated.
    Plans(&'a [Plan]),
}

/// One plan of a subscription.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Shared with the product row it comes from.
    pub plan: Arc<str>,
    /// Index into the catalog's product names (`Finished::product_names`).
    pub product: u32,
    /// Thousandths of the plan's currency unit ([`PLAN_AMOUNT_EXPONENT`]): a weight.
    pub amount_cents: i64,
}

/// Transactions loaded by an earlier run whose attribution the run's
/// catalogue changes (see `reconcile::restate`): `transactions` of the same
/// currency, month, subscription and amount, attributed `before` when they
/// were loaded and `after` now. A product row only adds or replaces plans,
/// so `after` is always `Plans`.
pub struct Restated<'a> {
    pub currency: Currency,
    pub month: Month,
    /// Each one's amount, in minor units.
    pub total_cents: i64,
    pub transactions: i64,
    pub before: Attribution<'a>,
    pub after: Attribution<'a>,
}

/// What an aggregate's rows may depend on besides its observations.
pub struct Finished<'a> {
    /// The names of the products [`Plan::product`] indexes (the catalog that
    /// attributed the revenue).
    pub product_names: &'a [String],
    /// Customers active in a (currency, month) cell for the first time.
    pub new_active: &'a HashMap<(Currency, Month), i64>,
}

/// An aggregate table, built from the accepted transactions.
pub trait Aggregate: Default + Send {
    /// The row it writes (its table is `Row::TABLE`).
    type Row: Row;
    /// The SeaORM entity the reports read the table through.
    type Entity: sea_orm::EntityTrait;
    /// Sees one accepted transaction (each exactly once).
    fn observe(&mut self, tx: &Accepted<'_>) -> Result<(), EtlError>;
    /// Moves stored transactions from their old attribution to their new one
    /// (an append's deltas): an aggregate that does not read the attribution
    /// changes nothing, one that does must say how, or an append no longer
    /// equals a replace of the whole.
    fn restate(&mut self, restated: &Restated<'_>) -> Result<(), EtlError>;
    /// The run's rows: whole rows (a replace) or deltas (an append).
    fn rows(&self, run: &Finished<'_>) -> Result<Vec<Self::Row>, EtlError>;
}

/// Where the aggregates' rows go: the load (kept abstract so that the
/// aggregates need not know the loaders).
pub trait Sink {
    fn write<R: Row>(&mut self, rows: &[R]) -> impl Future<Output = Result<(), EtlError>>;
}

/// Visits every registered aggregate's type (the tests check each one).
pub trait Visitor {
    fn visit<A: Aggregate>(&mut self);
}

/// The one list of aggregates: the state pass 2 fills ([`Observed`]), the
/// writes of the aggregate phase, [`TABLES`] and [`visit`] all come from it.
macro_rules! registry {
    ($($field:ident: $aggregate:ty),* $(,)?) => {
        /// Every aggregate's observations of one run.
        #[derive(Default)]
        pub struct Observed {
            $(pub $field: $aggregate,)*
        }

        impl Observed {
            /// Shows an accepted transaction to every aggregate.
            pub fn observe(&mut self, tx: &Accepted<'_>) -> Result<(), EtlError> {
                $(self.$field.observe(tx)?;)*
                Ok(())
            }

            /// Shows restated transactions to every aggregate.
            pub fn restate(&mut self, restated: &Restated<'_>) -> Result<(), EtlError> {
                $(self.$field.restate(restated)?;)*
                Ok(())
            }

            /// Writes every aggregate's rows.
            pub async fn write(&self, run: &Finished<'_>, sink: &mut impl Sink) -> Result<(), EtlError> {
                $(sink.write(&self.$field.rows(run)?).await?;)*
                Ok(())
            }
        }

        /// The tables of the registered aggregates.
        pub const TABLES: &[&Table] = &[$(<<$aggregate as Aggregate>::Row as Row>::TABLE,)*];

        /// Calls `visitor` with each registered aggregate.
        pub fn visit(visitor: &mut impl Visitor) {
            $(visitor.visit::<$aggregate>();)*
        }
    };
}

// Every file of this folder as a module, and the ones that implement
// `Aggregate` in `registry!` (build.rs): a new aggregate is its file alone.
include!(concat!(env!("OUT_DIR"), "/aggregates.rs"));

/// What the aggregate phase hands the assessment.
pub struct Aggregates {
    /// Every monthly cell after the run, sorted by currency and month.
    pub monthly_after: Vec<MonthlyRow>,
}

/// `cents` × `times`, checked like [`add_cents`].
pub(crate) fn times_cents(cents: i64, times: i64, what: &dyn Fn() -> String) -> Result<i64, EtlError> {
    cents
        .checked_mul(times)
        .ok_or_else(|| EtlError::Overflow(format!("{} exceeds the range of 64-bit minor units (cents)", what())))
}

/// A sum in minor units that no longer fits 64 bits: the run fails rather
/// than wrap (pass 2 names the file).
pub(crate) fn add_cents(sum: &mut i64, cents: i64, what: &dyn Fn() -> String) -> Result<(), EtlError> {
    *sum = sum
        .checked_add(cents)
        .ok_or_else(|| EtlError::Overflow(format!("{} exceeds the range of 64-bit minor units (cents)", what())))?;
    Ok(())
}

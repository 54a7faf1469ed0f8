//! SeaORM entities of the star schema, the report aggregates and the ETL audit
//! trail. They mirror the migrations; `tests/api/schema.rs` checks them against
//! the live schema on both engines. Money columns (`*_cents`, a name kept from
//! when every currency had cents) hold integer minor units of the row's
//! currency: cents of usd, whole yen, thousandths of a Kuwaiti dinar (ISO 4217
//! exponents); `dim_product.amount_cents` holds thousandths of any currency.

use crate::tables::Table;

/// The fact table: loaded on a connection of its own by a PostgreSQL replace.
pub const FACTS: &Table = &fct_transaction::TABLE;

/// Whether a run replaces or merges `table` (see [`STAR`]).
pub fn is_star(table: &Table) -> bool {
    STAR.iter().any(|t| t.name == table.name)
}

/// Every entity, listed once: declares each module, makes [`STAR`] of the
/// tables a run writes (each such entity's module describes its table in a
/// `TABLE`), and hands the whole list to a macro of the caller's
/// (`for_each_entity!(check)` calls `check!(agg_customer_spending, …)`), so
/// the tests that go through every table (`tests/api/schema.rs`,
/// `etl/tests/tables.rs`) keep no list of their own.
macro_rules! entities {
    // `$d` is a `$`, for the macro this one defines.
    ($d:tt star: $($star:ident),+; other: $($other:ident),+ $(,)?) => {
        $(pub mod $star;)+
        $(pub mod $other;)+

        /// Every table a run replaces or appends to, parents before
        /// children: the order in which an append merges them, a replace
        /// attaches them and takes its locks (the report cache's shared
        /// locks follow it too). The loaders refuse a row whose table is
        /// not here at its first write, never skip it.
        pub const STAR: &[&Table] = &[$(&$star::TABLE),+];

        /// Calls the macro `m` with the module name of every entity.
        #[macro_export]
        macro_rules! for_each_entity {
            ($d m:ident) => { $d m!($($star,)+ $($other),+) };
        }
    };
}

entities! {
    $
    // Written by every run, parents first.
    star:
        dim_user,
        dim_product,
        agg_monthly,
        agg_product_month,
        agg_customer_spending,
        fct_transaction;
    // Written otherwise (the audit trail, access control; the ranking of
    // the top customers, the appended transactions and the subscription
    // feed in each run's load transaction).
    other:
        agg_top_customer,
        api_session_revoked,
        api_signing_key,
        api_token,
        etl_appended_transaction,
        etl_rejected_row,
        etl_run,
        etl_run_file,
        etl_saas_feed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::{ETL_REJECTED_ROW, LOOKUP_KEYS};

    #[test]
    fn star_tables_are_listed_parents_first() {
        assert!(STAR.iter().all(|t| is_star(t) && t.append.is_some()));
        assert!(!is_star(&ETL_REJECTED_ROW) && !is_star(&LOOKUP_KEYS));
        let position = |t: &Table| STAR.iter().position(|s| s.name == t.name);
        assert!(
            position(&dim_user::TABLE) < position(FACTS),
            "the facts reference dim_user"
        );
    }
}

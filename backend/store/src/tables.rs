//! The tables a load writes, listed once. The loaders derive from this list
//! which tables a replace swaps, what an append stages and how it merges each
//! table, and the order of writes; a row type names its table here, so a table
//! missing from [`STAR`] is refused at its first write, never skipped.

/// How an append merges a row whose key is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Append {
    /// Keys are new by construction (the ETL looked them up first): a clash is an error.
    Insert,
    /// The new row replaces the stored one.
    Overwrite,
    /// The row holds deltas: every non-key column is added to the stored value.
    Add,
}

/// A table written by the ETL.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    /// Primary key columns (the conflict target of an append).
    pub key: &'static [&'static str],
    /// `Some`: part of the star schema or its aggregates, replaced by a replace
    /// and merged by an append. `None`: written as is by every run (the audit
    /// trail, and the loader's own scratch tables).
    pub append: Option<Append>,
}

pub const DIM_USER: Table = Table {
    name: "dim_user",
    key: &["customer_id"],
    append: Some(Append::Overwrite),
};
pub const DIM_PRODUCT: Table = Table {
    name: "dim_product",
    key: &["subscription_id", "plan"],
    append: Some(Append::Overwrite),
};
pub const AGG_MONTHLY: Table = Table {
    name: "agg_monthly",
    key: &["currency", "month"],
    append: Some(Append::Add),
};
pub const AGG_PRODUCT_MONTH: Table = Table {
    name: "agg_product_month",
    key: &["currency", "month", "product"],
    append: Some(Append::Add),
};
pub const AGG_CUSTOMER_SPENDING: Table = Table {
    name: "agg_customer_spending",
    key: &["currency", "customer_id"],
    append: Some(Append::Overwrite),
};
pub const FCT_TRANSACTION: Table = Table {
    name: "fct_transaction",
    key: &["transaction_id"],
    append: Some(Append::Insert),
};
pub const ETL_RUN_FILE: Table = Table {
    name: "etl_run_file",
    key: &["run_id", "file"],
    append: None,
};
pub const ETL_REJECTED_ROW: Table = Table {
    name: "etl_rejected_row",
    key: &["id"],
    append: None,
};
/// Scratch table of the load's connection: the keys whose stored rows it reads.
pub const LOOKUP_KEYS: Table = Table {
    name: "etl_lookup_keys",
    key: &["k"],
    append: None,
};

/// Every table a run replaces or appends to, parents before children: the
/// order in which an append merges them and a replace attaches them.
pub const STAR: [&Table; 6] = [
    &DIM_USER,
    &DIM_PRODUCT,
    &AGG_MONTHLY,
    &AGG_PRODUCT_MONTH,
    &AGG_CUSTOMER_SPENDING,
    &FCT_TRANSACTION,
];

/// The fact table: loaded on a connection of its own by a PostgreSQL replace.
pub const FACTS: &Table = &FCT_TRANSACTION;

impl Table {
    /// Whether a run replaces or merges this table (see [`STAR`]).
    pub fn is_star(&self) -> bool {
        STAR.iter().any(|t| t.name == self.name)
    }

    /// The statement that merges rows staged in `from` (same columns) into this
    /// table, by the table's [`Append`] rule. `None` for audit tables.
    pub fn merge_sql(&self, columns: &[&str], from: &str) -> Option<String> {
        let list = columns.join(", ");
        let insert = format!("INSERT INTO {} AS t ({list}) SELECT {list} FROM {from}", self.name);
        let set = |f: &dyn Fn(&str) -> String| {
            columns
                .iter()
                .filter(|c| !self.key.contains(c))
                .map(|c| format!("{c} = {}", f(c)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sets = match self.append? {
            Append::Insert => return Some(insert),
            Append::Overwrite => set(&|c| format!("EXCLUDED.{c}")),
            Append::Add => set(&|c| format!("t.{c} + EXCLUDED.{c}")),
        };
        // `WHERE true`: SQLite needs it to parse ON CONFLICT after a SELECT.
        Some(format!(
            "{insert} WHERE true ON CONFLICT ({}) DO UPDATE SET {sets}",
            self.key.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_statements_follow_the_rules() {
        assert_eq!(
            AGG_MONTHLY.merge_sql(&["currency", "month", "transactions"], "s").unwrap(),
            "INSERT INTO agg_monthly AS t (currency, month, transactions) SELECT currency, month, transactions FROM s \
             WHERE true ON CONFLICT (currency, month) DO UPDATE SET transactions = t.transactions + EXCLUDED.transactions"
        );
        assert_eq!(
            DIM_USER.merge_sql(&["customer_id", "customer_name"], "s").unwrap(),
            "INSERT INTO dim_user AS t (customer_id, customer_name) SELECT customer_id, customer_name FROM s \
             WHERE true ON CONFLICT (customer_id) DO UPDATE SET customer_name = EXCLUDED.customer_name"
        );
        assert_eq!(
            FCT_TRANSACTION.merge_sql(&["transaction_id"], "s").unwrap(),
            "INSERT INTO fct_transaction AS t (transaction_id) SELECT transaction_id FROM s"
        );
        assert!(ETL_RUN_FILE.merge_sql(&["run_id"], "s").is_none());
    }

    #[test]
    fn star_tables_are_listed_parents_first() {
        assert!(STAR.iter().all(|t| t.is_star() && t.append.is_some()));
        assert!(!ETL_REJECTED_ROW.is_star() && !LOOKUP_KEYS.is_star());
        let position = |t: &Table| STAR.iter().position(|s| s.name == t.name);
        assert!(position(&DIM_USER) < position(FACTS), "the facts reference dim_user");
    }
}

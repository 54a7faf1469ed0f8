//! How a load writes its tables. A table of the star schema or its
//! aggregates is described by its entity's module (`TABLE`: name, key,
//! append rule) and listed in `entities::STAR` by the entities' one list,
//! from which the loaders derive which tables a replace swaps, what an
//! append stages and how it merges each table, and the order of writes; a
//! row type names its table, so a table missing from `STAR` is refused at
//! its first write, never skipped. The audit tables and the loader's
//! scratch table are described here.

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

impl Table {
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

impl Table {
    /// For an `Add` table, the statement that deletes the rows among the
    /// keys staged in `from` whose figures all came to zero: a replace
    /// writes no such row (a restated append can take every transaction
    /// of a product's month back to another product). `None` otherwise.
    pub fn prune_sql(&self, columns: &[&str], from: &str) -> Option<String> {
        if self.append? != Append::Add {
            return None;
        }
        let key = self.key.join(", ");
        let zero = columns
            .iter()
            .filter(|c| !self.key.contains(c))
            .map(|c| format!(" AND {c} = 0"))
            .collect::<String>();
        Some(format!(
            "DELETE FROM {} WHERE ({key}) IN (SELECT {key} FROM {from}){zero}",
            self.name
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_statements_follow_the_rules() {
        let table = |name, key, append| Table {
            name,
            key,
            append: Some(append),
        };
        assert_eq!(
            table("agg_monthly", &["currency", "month"], Append::Add)
                .merge_sql(&["currency", "month", "transactions"], "s")
                .unwrap(),
            "INSERT INTO agg_monthly AS t (currency, month, transactions) SELECT currency, month, transactions FROM s \
             WHERE true ON CONFLICT (currency, month) DO UPDATE SET transactions = t.transactions + EXCLUDED.transactions"
        );
        assert_eq!(
            table("dim_user", &["customer_id"], Append::Overwrite)
                .merge_sql(&["customer_id", "customer_name"], "s")
                .unwrap(),
            "INSERT INTO dim_user AS t (customer_id, customer_name) SELECT customer_id, customer_name FROM s \
             WHERE true ON CONFLICT (customer_id) DO UPDATE SET customer_name = EXCLUDED.customer_name"
        );
        assert_eq!(
            table("fct_transaction", &["transaction_id"], Append::Insert)
                .merge_sql(&["transaction_id"], "s")
                .unwrap(),
            "INSERT INTO fct_transaction AS t (transaction_id) SELECT transaction_id FROM s"
        );
        assert!(ETL_RUN_FILE.merge_sql(&["run_id"], "s").is_none());
        assert_eq!(
            table("agg_product_month", &["month", "product"], Append::Add)
                .prune_sql(&["month", "product", "cents", "transactions"], "s")
                .unwrap(),
            "DELETE FROM agg_product_month WHERE (month, product) IN (SELECT month, product FROM s) \
             AND cents = 0 AND transactions = 0"
        );
        assert!(table("dim_user", &["customer_id"], Append::Overwrite)
            .prune_sql(&["customer_id", "customer_name"], "s")
            .is_none());
    }
}

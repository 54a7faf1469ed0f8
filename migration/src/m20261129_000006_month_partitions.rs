//! PostgreSQL: `fct_transaction` partitioned by month, an experiment that
//! `m20261203_000008_single_fact_table` ended (BENCHMARKS.md says why); its
//! code stays here, for databases migrating through it and for migration 8's
//! `down`, which goes back to it.
//!
//! `fct_transaction` becomes `PARTITION BY RANGE (date_utc)`: one partition
//! per month, `fct_transaction__2024_01` holding `[2024-01-01, 2024-02-01)`,
//! and the `DEFAULT` partition `fct_transaction__default`. A partition's index
//! attached to the parent's index `X` is named `<partition>_X` (shortened with
//! a hash when that passes PostgreSQL's 63 bytes).
//!
//! Until then the fact table was `PARTITION BY LIST (transaction_id)` with one
//! `DEFAULT` partition (migration 4), so every append grew one heap and one
//! primary-key index holding the whole history. Partitioned by the transaction
//! time, an append writes only the partitions of the months it touches, and a
//! month's data can be read, archived or dropped on its own.
//!
//! A partitioning strategy cannot be changed in place, so the table is rebuilt:
//! the rows are copied into the new table's partitions (one pass, before its
//! keys are built in bulk), and its owner, GRANTs, comment and the indexes
//! users added are carried over. What it cannot carry faithfully — views
//! (bound to the old table), row-level security and policies, triggers,
//! constraints users added, column grants, publications — makes it refuse,
//! naming them, rather than drop them silently.
//!
//! The primary key becomes `(transaction_id, date_utc)`: a unique key of a
//! partitioned table must include the partition key. The ETL kept
//! `transaction_id` unique on its own (a replace de-duplicates the file, an
//! append looks every id up among the stored rows first).
//!
//! SQLite keeps its plain table: nothing to do.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::names::{fnv1a, quote_ident, suffixed, MAX_IDENTIFIER};
use crate::pg::{exec, keys, pairs, plain_indexes};
use crate::DATA_PARTITION_SUFFIX;

#[derive(DeriveMigrationName)]
pub struct Migration;

const FOREIGN_KEY: &str = "fk_fct_transaction_customer";
const PRIMARY_KEY: &str = "fct_transaction_pkey";
/// The fact table.
pub(crate) const FACTS: &str = "fct_transaction";
/// Its `DEFAULT` partition, partitioned by month.
const DEFAULT_PARTITION: &str = "fct_transaction__default";

/// A month as (year, month 1–12).
type YearMonth = (i32, u32);

/// `fct_transaction__2024_01`.
fn month_partition((year, month): YearMonth) -> String {
    format!("{FACTS}__{year:04}_{month:02}")
}

/// `FOR VALUES FROM ('2024-12-01 00:00:00') TO ('2025-01-01 00:00:00')`.
fn month_partition_bound((year, month): YearMonth) -> String {
    let (next_year, next) = if month >= 12 { (year + 1, 1) } else { (year, month + 1) };
    format!("FOR VALUES FROM ('{year:04}-{month:02}-01 00:00:00') TO ('{next_year:04}-{next:02}-01 00:00:00')")
}

/// The name of a month partition's index attached to the parent's index `parent_index`.
fn partition_index_name(partition: &str, parent_index: &str) -> String {
    let name = format!("{partition}_{parent_index}");
    if name.len() <= MAX_IDENTIFIER {
        return name;
    }
    format!("{partition}_{:016x}", fnv1a(parent_index))
}

/// (index, its parent index) for every index of a partition (`$1`, a regclass
/// text) attached to an index of the partitioned table.
const PARTITION_INDEXES_SQL: &str = "SELECT ci.relname::text, pi.relname::text \
     FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid \
     JOIN pg_inherits i ON i.inhrelid = x.indexrelid JOIN pg_class pi ON pi.oid = i.inhparent \
     WHERE x.indrelid = to_regclass($1) ORDER BY 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        to_month_partitions(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        to_one_partition(manager).await
    }
}

/// `fct_transaction` partitioned by month, from the table with one
/// partition that migrations 4 and 8 make. PostgreSQL only.
pub(crate) async fn to_month_partitions(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let carried = Carried::take(manager, "partitioned by month").await?;
    let old = format!("{FACTS}__by_transaction_id");
    exec(manager, &format!("ALTER TABLE {FACTS} RENAME TO {old}")).await?;
    exec(
        manager,
        &format!(
            "CREATE TABLE {FACTS} (LIKE {old} INCLUDING DEFAULTS INCLUDING COMMENTS) PARTITION BY RANGE (date_utc)"
        ),
    )
    .await?;
    let months = pairs(
        manager,
        &format!("SELECT DISTINCT to_char(date_utc, 'YYYY'), to_char(date_utc, 'MM') FROM {old}"),
    )
    .await?;
    let mut partitions = Vec::with_capacity(months.len() + 1);
    for (year, month) in months {
        let month = match (year.parse(), month.parse()) {
            (Ok(y), Ok(m)) => (y, m),
            _ => return Err(DbErr::Migration(format!("unexpected month {year}-{month}"))),
        };
        let partition = month_partition(month);
        exec(
            manager,
            &format!(
                "CREATE TABLE {partition} PARTITION OF {FACTS} {}",
                month_partition_bound(month)
            ),
        )
        .await?;
        partitions.push(partition);
    }
    exec(
        manager,
        &format!("CREATE TABLE {DEFAULT_PARTITION} PARTITION OF {FACTS} DEFAULT"),
    )
    .await?;
    partitions.push(DEFAULT_PARTITION.to_owned());
    // Into partitions without indexes yet: the keys are then built in bulk.
    exec(manager, &format!("INSERT INTO {FACTS} SELECT * FROM {old}")).await?;
    exec(manager, &format!("DROP TABLE {old}")).await?;
    exec(
        manager,
        &format!("ALTER TABLE {FACTS} ADD CONSTRAINT {PRIMARY_KEY} PRIMARY KEY (transaction_id, date_utc)"),
    )
    .await?;
    carried.restore(manager).await?;
    for partition in partitions {
        name_partition_indexes(manager, &partition, |parent| partition_index_name(&partition, parent)).await?;
    }
    Ok(())
}

/// Back to migration 4's table, from the month partitions:
/// `PARTITION BY LIST (transaction_id)` with every row in its `DEFAULT`
/// partition `fct_transaction__data`, primary key `transaction_id`. PostgreSQL only.
pub(crate) async fn to_one_partition(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let carried = Carried::take(manager, "as one table with one key").await?;
    let old = format!("{FACTS}__by_month");
    let data = format!("{FACTS}{DATA_PARTITION_SUFFIX}");
    exec(manager, &format!("ALTER TABLE {FACTS} RENAME TO {old}")).await?;
    for sql in [
            format!("CREATE TABLE {FACTS} (LIKE {old} INCLUDING DEFAULTS INCLUDING COMMENTS) PARTITION BY LIST (transaction_id)"),
            format!("CREATE TABLE {data} PARTITION OF {FACTS} DEFAULT"),
            format!("INSERT INTO {FACTS} SELECT * FROM {old}"),
            format!("DROP TABLE {old}"),
            format!("ALTER TABLE {FACTS} ADD CONSTRAINT {PRIMARY_KEY} PRIMARY KEY (transaction_id)"),
        ] {
            exec(manager, &sql).await?;
        }
    carried.restore(manager).await?;
    name_partition_indexes(manager, &data, |parent| suffixed(parent, DATA_PARTITION_SUFFIX)).await
}

/// What the rebuilt fact table keeps from the old one besides its rows: the
/// statements that grant, comment and index it again (its primary key and
/// foreign key are the migration's own).
struct Carried {
    statements: Vec<String>,
    /// The table's owner, given the new table and its partitions (a load
    /// running as the owner drops and attaches partitions).
    owner: String,
}

impl Carried {
    /// Reads them from the table, then drops what would clash with the new
    /// table (keys and index names), leaving the old table bare of them.
    async fn take(manager: &SchemaManager<'_>, rebuilt_as: &str) -> Result<Self, DbErr> {
        let views = pairs(
            manager,
            &format!(
                "SELECT DISTINCT v.oid::regclass::text, '' FROM pg_depend d \
                 JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class \
                 WHERE d.classid = 'pg_rewrite'::regclass AND v.oid <> d.refobjid AND d.refobjid IN \
                   (SELECT '{FACTS}'::regclass UNION ALL \
                    SELECT inhrelid FROM pg_inherits WHERE inhparent = '{FACTS}'::regclass) \
                 ORDER BY 1"
            ),
        )
        .await?;
        let mut blockers: Vec<String> = views.into_iter().map(|(v, _)| format!("view {v}")).collect();
        blockers.extend(
            pairs(
                manager,
                &format!(
                    "SELECT 'row-level security', '' FROM pg_class \
                       WHERE oid = '{FACTS}'::regclass AND (relrowsecurity OR relforcerowsecurity) \
                     UNION ALL SELECT 'policy ' || polname, '' FROM pg_policy WHERE polrelid = '{FACTS}'::regclass \
                     UNION ALL SELECT 'trigger ' || tgname, '' FROM pg_trigger \
                       WHERE tgrelid = '{FACTS}'::regclass AND NOT tgisinternal \
                     UNION ALL SELECT 'constraint ' || conname, '' FROM pg_constraint \
                       WHERE conrelid = '{FACTS}'::regclass AND conparentid = 0 \
                       AND conname NOT IN ('{PRIMARY_KEY}', '{FOREIGN_KEY}') \
                     UNION ALL SELECT 'column grant on ' || attname, '' FROM pg_attribute \
                       WHERE attrelid = '{FACTS}'::regclass AND attacl IS NOT NULL \
                     UNION ALL SELECT 'publication ' || p.pubname, '' FROM pg_publication_rel r \
                       JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = '{FACTS}'::regclass \
                     ORDER BY 1"
                ),
            )
            .await?
            .into_iter()
            .map(|(b, _)| b),
        );
        if !blockers.is_empty() {
            return Err(DbErr::Migration(format!(
                "{FACTS} is rebuilt ({rebuilt_as}), and the migration cannot carry over: {}. \
                 Save their definitions, drop them, run the migration, then create them again \
                 (GRANTs, the comment, the owner and indexes are carried over)",
                blockers.join(", ")
            )));
        }
        let mut statements: Vec<String> = pairs(
            manager,
            &format!(
                "SELECT format('GRANT %s ON {FACTS} TO %s%s', a.privilege_type, \
                   CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, \
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '' \
                 FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a \
                 WHERE c.oid = '{FACTS}'::regclass AND a.grantee <> c.relowner \
                 UNION ALL \
                 SELECT format('COMMENT ON TABLE {FACTS} IS %L', d), '' \
                 FROM obj_description('{FACTS}'::regclass, 'pg_class') d WHERE d IS NOT NULL"
            ),
        )
        .await?
        .into_iter()
        .map(|(s, _)| s)
        .collect();
        statements.push(format!(
            "ALTER TABLE {FACTS} ADD CONSTRAINT {FOREIGN_KEY} FOREIGN KEY (customer_id) REFERENCES dim_user (customer_id)"
        ));
        exec(
            manager,
            &format!("ALTER TABLE {FACTS} DROP CONSTRAINT IF EXISTS {FOREIGN_KEY}"),
        )
        .await?;
        for (name, _) in keys(manager, FACTS).await? {
            exec(
                manager,
                &format!("ALTER TABLE {FACTS} DROP CONSTRAINT {}", quote_ident(&name)),
            )
            .await?;
        }
        for (name, def) in plain_indexes(manager, FACTS).await? {
            exec(manager, &format!("DROP INDEX {}", quote_ident(&name))).await?;
            // `… ON ONLY public.t USING …` would index the parent alone.
            statements.push(def.replacen(" ON ONLY ", " ON ", 1));
        }
        let owner = pairs(
            manager,
            &format!("SELECT quote_ident(pg_get_userbyid(relowner)), '' FROM pg_class WHERE oid = '{FACTS}'::regclass"),
        )
        .await?
        .into_iter()
        .map(|(o, _)| o)
        .next()
        .ok_or_else(|| DbErr::Migration(format!("{FACTS} has no owner")))?;
        Ok(Self { statements, owner })
    }

    async fn restore(self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        for sql in self.statements {
            exec(manager, &sql).await?;
        }
        let partitions = pairs(
            manager,
            &format!("SELECT inhrelid::regclass::text, '' FROM pg_inherits WHERE inhparent = '{FACTS}'::regclass"),
        )
        .await?;
        for table in std::iter::once(FACTS.to_owned()).chain(partitions.into_iter().map(|(p, _)| p)) {
            exec(manager, &format!("ALTER TABLE {table} OWNER TO {}", self.owner)).await?;
        }
        Ok(())
    }
}

/// Renames each index of `partition` attached to a parent index to `name(parent)`.
async fn name_partition_indexes(
    manager: &SchemaManager<'_>,
    partition: &str,
    name: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    let sql = PARTITION_INDEXES_SQL.replace("$1", &format!("'{partition}'"));
    for (index, parent) in pairs(manager, &sql).await? {
        let wanted = name(&parent);
        if index != wanted {
            exec(
                manager,
                &format!("ALTER INDEX {} RENAME TO {}", quote_ident(&index), quote_ident(&wanted)),
            )
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_names_and_bounds() {
        assert_eq!(month_partition((2024, 1)), "fct_transaction__2024_01");
        assert_eq!(
            month_partition_bound((2024, 12)),
            "FOR VALUES FROM ('2024-12-01 00:00:00') TO ('2025-01-01 00:00:00')"
        );
        assert_eq!(
            month_partition_bound((2024, 1)),
            "FOR VALUES FROM ('2024-01-01 00:00:00') TO ('2024-02-01 00:00:00')"
        );
        assert_eq!(
            partition_index_name("fct_transaction__2024_01", "fct_transaction_pkey"),
            "fct_transaction__2024_01_fct_transaction_pkey"
        );
        let long = "an_index_name_an_analyst_chose_that_is_rather_long";
        let a = partition_index_name("fct_transaction__2024_01", long);
        let b = partition_index_name("fct_transaction__2024_01", &format!("{long}_too"));
        assert!(a.len() <= MAX_IDENTIFIER && b.len() <= MAX_IDENTIFIER);
        assert_ne!(a, b);
    }
}

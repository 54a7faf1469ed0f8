//! The names and bounds of the fact table's month partitions on PostgreSQL
//! (migration `m20261129_000006`), shared by the migration and the loads so
//! that both make the same objects.
//!
//! `fct_transaction` is `PARTITION BY RANGE (date_utc)`: one partition per
//! month, `fct_transaction__2024_01` holding `[2024-01-01, 2024-02-01)`,
//! created when a load first meets the month, and the `DEFAULT` partition
//! `fct_transaction__default` for rows of a month without one (a load never
//! puts rows there; an append that creates the month moves them in).
//!
//! A partition's index attached to the parent's index `X` is named
//! `<partition>_X` (shortened with a hash when that passes PostgreSQL's 63
//! bytes), whichever path made it: the migration, a replace (built on the load
//! table, renamed with it) or an append (built by `ATTACH`).

/// The partitioned fact table.
pub const FACTS: &str = "fct_transaction";
/// Its `DEFAULT` partition.
pub const DEFAULT_PARTITION: &str = "fct_transaction__default";
/// Prefix of a replace's month tables until they are attached
/// (`fct_transaction__load_2024_01`); a run killed after they were committed
/// leaves them behind, and the next run drops them.
pub const LOAD_PREFIX: &str = "fct_transaction__load_";

/// PostgreSQL's limit on identifiers, in bytes.
const MAX_IDENTIFIER: usize = 63;

/// A month as (year, month 1–12).
pub type YearMonth = (i32, u32);

/// `fct_transaction__2024_01`.
pub fn month_partition((year, month): YearMonth) -> String {
    format!("{FACTS}__{year:04}_{month:02}")
}

/// `fct_transaction__load_2024_01`: a replace's table for the month.
pub fn month_load_table((year, month): YearMonth) -> String {
    format!("{LOAD_PREFIX}{year:04}_{month:02}")
}

/// The month after.
pub fn next_month((year, month): YearMonth) -> YearMonth {
    if month >= 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

/// The month's range as SQL timestamp literals: `('2024-01-01 00:00:00',
/// '2024-02-01 00:00:00')`, the bounds `FROM … TO …` of its partition.
pub fn month_bounds(month: YearMonth) -> (String, String) {
    let literal = |(y, m): YearMonth| format!("'{y:04}-{m:02}-01 00:00:00'");
    (literal(month), literal(next_month(month)))
}

/// `FOR VALUES FROM (…) TO (…)` of the month's partition.
pub fn month_partition_bound(month: YearMonth) -> String {
    let (from, to) = month_bounds(month);
    format!("FOR VALUES FROM ({from}) TO ({to})")
}

/// The `CHECK` that lets `ATTACH PARTITION` skip scanning a month's table: it
/// implies the partition bound (rows are checked as they are written instead).
pub fn month_check(month: YearMonth) -> String {
    let (from, to) = month_bounds(month);
    format!("CHECK (date_utc >= {from} AND date_utc < {to})")
}

/// The name of a partition's index attached to the parent's index `parent_index`.
pub fn partition_index_name(partition: &str, parent_index: &str) -> String {
    let name = format!("{partition}_{parent_index}");
    if name.len() <= MAX_IDENTIFIER {
        return name;
    }
    format!("{partition}_{:016x}", fnv1a(parent_index))
}

/// FNV-1a: stable across versions and platforms (names made with it are stored).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `name` with `suffix` (`__load`, `__data`), within PostgreSQL's 63 bytes.
/// PostgreSQL would cut a longer name silently, so `name` with two suffixes,
/// or with one, could become the same name (a 63-byte index name stays
/// itself): a name too long is cut at a character boundary and given a hash
/// of the whole name before the suffix.
pub fn suffixed(name: &str, suffix: &str) -> String {
    let whole = format!("{name}{suffix}");
    if whole.len() <= MAX_IDENTIFIER {
        return whole;
    }
    let mut cut = MAX_IDENTIFIER.saturating_sub(suffix.len() + 17).min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:016x}{suffix}", &name[..cut], fnv1a(name))
}

/// `name` as a quoted SQL identifier (names read from the catalog may hold
/// capitals or quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// (index, its parent index) for every index of `partition` (a regclass text)
/// attached to an index of the partitioned table: what
/// [`partition_index_name`] renames.
pub const PARTITION_INDEXES_SQL: &str = "SELECT ci.relname::text, pi.relname::text \
     FROM pg_index x JOIN pg_class ci ON ci.oid = x.indexrelid \
     JOIN pg_inherits i ON i.inhrelid = x.indexrelid JOIN pg_class pi ON pi.oid = i.inhparent \
     WHERE x.indrelid = to_regclass($1) ORDER BY 1";

/// The month of a month partition, parsed from its name.
pub fn month_of_partition(name: &str) -> Option<YearMonth> {
    parse_month(name.strip_prefix(FACTS)?.strip_prefix("__")?)
}

/// The month of a replace's month table ([`month_load_table`]), parsed from
/// its name: `None` for any other table, a user's `fct_transaction__load_x` too.
pub fn month_of_load_table(name: &str) -> Option<YearMonth> {
    parse_month(name.strip_prefix(LOAD_PREFIX)?)
}

/// `YYYY_MM`.
fn parse_month(rest: &str) -> Option<YearMonth> {
    let (y, m) = rest.split_once('_')?;
    if !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let month: u32 = m.parse().ok()?;
    (1..=12).contains(&month).then_some((y.parse().ok()?, month))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bounds() {
        assert_eq!(month_partition((2024, 1)), "fct_transaction__2024_01");
        assert_eq!(month_load_table((2024, 12)), "fct_transaction__load_2024_12");
        assert_eq!(
            month_partition_bound((2024, 12)),
            "FOR VALUES FROM ('2024-12-01 00:00:00') TO ('2025-01-01 00:00:00')"
        );
        assert_eq!(month_of_partition("fct_transaction__2024_12"), Some((2024, 12)));
        assert_eq!(month_of_partition(DEFAULT_PARTITION), None);
        assert_eq!(month_of_partition("fct_transaction__load_2024_12"), None);
        assert_eq!(month_of_partition("fct_transaction__2024_13"), None);
        assert_eq!(month_of_load_table("fct_transaction__load_2024_12"), Some((2024, 12)));
        assert_eq!(month_of_load_table("fct_transaction__load_audit"), None);
        assert_eq!(month_of_load_table("fct_transaction__load_2024_1x"), None);
    }

    #[test]
    fn index_names_fit_postgres() {
        assert_eq!(
            partition_index_name("fct_transaction__2024_01", "fct_transaction_pkey"),
            "fct_transaction__2024_01_fct_transaction_pkey"
        );
        let long = "an_index_name_an_analyst_chose_that_is_rather_long";
        let a = partition_index_name("fct_transaction__load_2024_01", long);
        let b = partition_index_name("fct_transaction__load_2024_01", &format!("{long}_too"));
        assert!(a.len() <= MAX_IDENTIFIER && b.len() <= MAX_IDENTIFIER);
        // Suffixed names: unchanged when they fit; else distinct, and distinct
        // from the name itself, within 63 bytes, cut between characters.
        assert_eq!(suffixed("dim_user_pkey", "__load"), "dim_user_pkey__load");
        for name in ["x".repeat(63), "é".repeat(31), format!("{}a", "x".repeat(60))] {
            let (load, data) = (suffixed(&name, "__load"), suffixed(&name, "__data"));
            assert!(
                load.len() <= MAX_IDENTIFIER && data.len() <= MAX_IDENTIFIER,
                "{load} {data}"
            );
            assert!(load != data && load != name && data != name);
            assert!(load.ends_with("__load") && data.ends_with("__data"));
        }
        assert_ne!(
            suffixed(&format!("{}a", "x".repeat(60)), "__data"),
            suffixed(&format!("{}b", "x".repeat(60)), "__data")
        );
        assert_ne!(a, b);
    }
}

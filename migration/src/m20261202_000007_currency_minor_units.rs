//! Amounts in each currency's own minor unit (ISO 4217 exponent) instead of
//! hundredths of every currency.
//!
//! Until now every amount was read with two decimals and stored in
//! hundredths: a yen amount of 1500 was stored as 150000, a Kuwaiti dinar
//! amount could not have its third decimal. From now on an amount is stored in
//! its currency's minor unit: 1500 yen as 1500, 12.345 dinars as 12345 fils.
//! This migration converts what is stored:
//!
//! - currencies of exponent 2 (usd, eur, and most others) were already in
//!   their minor unit: nothing changes;
//! - exponent 3 (kwd, bhd, …): every amount ×10, always exact;
//! - exponent 0 (jpy, krw, xof, …): every amount ÷100. That is exact only if
//!   each stored amount is a whole unit; an earlier version accepted `1500.50`
//!   yen, which the currency cannot hold. Rather than round it (and lose the
//!   half yen without a word) the migration then stops before changing
//!   anything and names the transactions: reload a corrected export with the
//!   previous version, then upgrade. A product's share of a month
//!   (`agg_product_month`) was split across plans in hundredths: its whole
//!   units are split again by largest remainder within the month, so every
//!   total stays exact (a share may differ by one unit from a fresh load's);
//! - `dim_product.amount_cents` (products.csv names no currency): hundredths
//!   become thousandths (×10), so a plan may have three decimals;
//! - `etl_run.state_json`'s per-currency bound on sums (`gross_cents`) is
//!   converted like the amounts. The decimal strings in `summary_json` and
//!   `quality_json` are values, not units: they stay, and are served with the
//!   currency's decimals.
//!
//! SQLite runs migrations outside a transaction: the conversion runs in one of
//! its own, with the table `currency_minor_unit` created in it as the mark
//! that it happened, so that an interrupted or repeated run converts exactly
//! once. The table lists the currencies whose amounts are not in hundredths.
//!
//! `down` converts back, and stops (changing nothing) if an amount has a
//! digit that hundredths cannot hold (12.345 dinars, a plan of 1.005); the
//! product shares of 3-decimal currencies, split in fils, are split again in
//! hundredths.

use std::collections::BTreeMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The currencies whose ISO 4217 exponent is not 2, with their exponent, as of
/// this migration (the `iso_currency` table of the currencies a transaction may
/// be paid in; the backend's tests check that the two agree).
pub const MINOR_UNITS: &[(&str, u8)] = &[
    ("bhd", 3),
    ("bif", 0),
    ("clp", 0),
    ("djf", 0),
    ("gnf", 0),
    ("iqd", 3),
    ("isk", 0),
    ("jod", 3),
    ("jpy", 0),
    ("kmf", 0),
    ("krw", 0),
    ("kwd", 3),
    ("lyd", 3),
    ("omr", 3),
    ("pyg", 0),
    ("rwf", 0),
    ("tnd", 3),
    ("ugx", 0),
    ("vnd", 0),
    ("vuv", 0),
    ("xaf", 0),
    ("xof", 0),
    ("xpf", 0),
];

/// Money columns of the row's `currency`, except `agg_product_month`'s (see
/// [`resplit_product_months`]).
const MONEY: &[(&str, &str)] = &[
    ("fct_transaction", "total_cents"),
    ("dim_user", "total_spending_cents"),
    ("agg_monthly", "revenue_cents"),
    ("agg_monthly", "null_subscription_revenue_cents"),
    ("agg_monthly", "unknown_subscription_revenue_cents"),
    ("agg_monthly", "refund_cents"),
    ("agg_customer_spending", "total_spending_cents"),
];

const PRODUCT_MONTHS: (&str, &str) = ("agg_product_month", "total_sales_cents");
const PLAN_AMOUNTS: (&str, &str) = ("dim_product", "amount_cents");

/// The most transactions an error names.
const EXAMPLES: u64 = 5;

fn codes(exponent: u8) -> Vec<&'static str> {
    MINOR_UNITS
        .iter()
        .filter(|(_, e)| *e == exponent)
        .map(|(c, _)| *c)
        .collect()
}

fn failed(message: String) -> DbErr {
    DbErr::Migration(message)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let txn = manager.get_connection().begin().await?;
        if SchemaManager::new(&txn).has_table(Marker::Table.to_string()).await? {
            return Ok(());
        }
        let (whole, thousandths) = (codes(0), codes(3));
        check_whole_units(&txn, &whole).await?;
        for &(table, column) in MONEY.iter().chain([&PRODUCT_MONTHS]) {
            check_fits(&txn, table, column, Some(&thousandths), 10).await?;
        }
        check_fits(&txn, PLAN_AMOUNTS.0, PLAN_AMOUNTS.1, None, 10).await?;
        for &(table, column) in MONEY {
            scale(&txn, table, column, Some(&thousandths), Scale::Times(10)).await?;
            scale(&txn, table, column, Some(&whole), Scale::Divide(100)).await?;
        }
        scale(
            &txn,
            PRODUCT_MONTHS.0,
            PRODUCT_MONTHS.1,
            Some(&thousandths),
            Scale::Times(10),
        )
        .await?;
        resplit_product_months(&txn, &whole, 100).await?;
        scale(&txn, PLAN_AMOUNTS.0, PLAN_AMOUNTS.1, None, Scale::Times(10)).await?;
        convert_state(&txn, Direction::Up).await?;
        let marker = SchemaManager::new(&txn);
        marker
            .create_table(
                Table::create()
                    .table(Marker::Table)
                    .col(ColumnDef::new(Marker::Currency).text().not_null().primary_key())
                    .col(ColumnDef::new(Marker::Exponent).small_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert
            .into_table(Marker::Table)
            .columns([Marker::Currency, Marker::Exponent]);
        for &(code, exponent) in MINOR_UNITS {
            insert.values_panic([code.into(), i16::from(exponent).into()]);
        }
        marker.exec_stmt(insert).await?;
        txn.commit().await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let txn = manager.get_connection().begin().await?;
        if !SchemaManager::new(&txn).has_table(Marker::Table.to_string()).await? {
            return Ok(());
        }
        let (whole, thousandths) = (codes(0), codes(3));
        for &(table, column) in MONEY {
            check_divisible(&txn, table, column, Some(&thousandths), 10).await?;
        }
        for &(table, column) in MONEY.iter().chain([&PRODUCT_MONTHS]) {
            check_fits(&txn, table, column, Some(&whole), 100).await?;
        }
        check_divisible(&txn, PLAN_AMOUNTS.0, PLAN_AMOUNTS.1, None, 10).await?;
        for &(table, column) in MONEY {
            scale(&txn, table, column, Some(&thousandths), Scale::Divide(10)).await?;
        }
        // Split in fils, a month's product shares are split again in hundredths.
        resplit_product_months(&txn, &thousandths, 10).await?;
        for &(table, column) in MONEY.iter().chain([&PRODUCT_MONTHS]) {
            scale(&txn, table, column, Some(&whole), Scale::Times(100)).await?;
        }
        scale(&txn, PLAN_AMOUNTS.0, PLAN_AMOUNTS.1, None, Scale::Divide(10)).await?;
        convert_state(&txn, Direction::Down).await?;
        SchemaManager::new(&txn)
            .drop_table(Table::drop().table(Marker::Table).to_owned())
            .await?;
        txn.commit().await
    }
}

/// The rows of `currencies` (every row when `None`).
fn of_currencies(currencies: Option<&[&str]>) -> Condition {
    match currencies {
        Some(codes) => Condition::all().add(Expr::col(Alias::new("currency")).is_in(codes.iter().copied())),
        None => Condition::all(),
    }
}

/// Every stored amount of a whole-unit currency is a whole unit: else stop,
/// naming the transactions (or the table, if only an aggregate disagrees).
async fn check_whole_units(txn: &DatabaseTransaction, whole: &[&str]) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let fractional = |column: &str| of_currencies(Some(whole)).add(Expr::col(Alias::new(column)).modulo(100).ne(0));
    let facts = txn
        .query_all(
            backend.build(
                Query::select()
                    .columns([
                        Alias::new("transaction_id"),
                        Alias::new("currency"),
                        Alias::new("total_cents"),
                    ])
                    .from(Alias::new("fct_transaction"))
                    .cond_where(fractional("total_cents"))
                    .order_by(Alias::new("transaction_id"), Order::Asc)
                    .limit(EXAMPLES),
            ),
        )
        .await?;
    if !facts.is_empty() {
        let count = count_where(txn, "fct_transaction", fractional("total_cents")).await?;
        let mut examples = Vec::new();
        for row in &facts {
            let id: String = row.try_get_by_index(0)?;
            let currency: String = row.try_get_by_index(1)?;
            let cents: i64 = row.try_get_by_index(2)?;
            examples.push(format!(
                "{id:?} ({}{}.{:02} {currency})",
                if cents < 0 { "-" } else { "" },
                cents.unsigned_abs() / 100,
                cents.unsigned_abs() % 100
            ));
        }
        return Err(failed(format!(
            "cannot convert amounts to minor units: {count} stored transaction(s) have a fraction that \
             their currency does not have (ISO 4217: no decimals), e.g. {}. An earlier version accepted \
             them by mistake; the new one rejects them (too_many_decimals). Nothing was changed: load a \
             corrected export (mode replace) with the previous version, then start this one again.",
            examples.join(", ")
        )));
    }
    for &(table, column) in &MONEY[1..] {
        let count = count_where(txn, table, fractional(column)).await?;
        if count > 0 {
            return Err(failed(format!(
                "cannot convert amounts to minor units: {count} row(s) of {table}.{column} have a fraction \
                 of a whole-unit currency although no transaction has one (the aggregates disagree with \
                 the transactions). Nothing was changed: reload the data (mode replace) with the previous \
                 version, then start this one again."
            )));
        }
    }
    Ok(())
}

/// `column × factor` fits 64 bits for the rows of `currencies`.
async fn check_fits(
    txn: &DatabaseTransaction,
    table: &str,
    column: &str,
    currencies: Option<&[&str]>,
    factor: i64,
) -> Result<(), DbErr> {
    let limit = i64::MAX / factor;
    let cond = of_currencies(currencies).add(
        Condition::any()
            .add(Expr::col(Alias::new(column)).gt(limit))
            .add(Expr::col(Alias::new(column)).lt(-limit)),
    );
    let count = count_where(txn, table, cond).await?;
    if count > 0 {
        return Err(failed(format!(
            "cannot convert {table}.{column}: {count} amount(s) would not fit 64 bits in the new unit \
             (×{factor}). Nothing was changed."
        )));
    }
    Ok(())
}

/// `column` of the rows of `currencies` is a multiple of `divisor` (a `down`
/// to hundredths loses no digit).
async fn check_divisible(
    txn: &DatabaseTransaction,
    table: &str,
    column: &str,
    currencies: Option<&[&str]>,
    divisor: i64,
) -> Result<(), DbErr> {
    let cond = of_currencies(currencies).add(Expr::col(Alias::new(column)).modulo(divisor).ne(0));
    let count = count_where(txn, table, cond).await?;
    if count > 0 {
        return Err(failed(format!(
            "cannot convert {table}.{column} back to hundredths: {count} amount(s) have a digit beyond \
             the second decimal. Nothing was changed."
        )));
    }
    Ok(())
}

async fn count_where(txn: &DatabaseTransaction, table: &str, cond: Condition) -> Result<i64, DbErr> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one(
            backend.build(
                Query::select()
                    .expr(Expr::col(Asterisk).count())
                    .from(Alias::new(table))
                    .cond_where(cond),
            ),
        )
        .await?;
    row.map_or(Ok(0), |r| r.try_get_by_index(0))
}

enum Scale {
    Times(i64),
    /// Exact: the callers checked the rows are multiples.
    Divide(i64),
}

async fn scale(
    txn: &DatabaseTransaction,
    table: &str,
    column: &str,
    currencies: Option<&[&str]>,
    by: Scale,
) -> Result<(), DbErr> {
    let col = Expr::col(Alias::new(column));
    let value = match by {
        Scale::Times(f) => col.mul(f),
        Scale::Divide(d) => col.div(d),
    };
    let backend = txn.get_database_backend();
    txn.execute(
        backend.build(
            Query::update()
                .table(Alias::new(table))
                .value(Alias::new(column), value)
                .cond_where(of_currencies(currencies)),
        ),
    )
    .await?;
    Ok(())
}

/// `agg_product_month` of `currencies`: each month's shares are divided by
/// `divisor` (hundredths to whole yen; fils to hundredths of a dinar for
/// `down`) so that they add up to the month's total divided (itself exact:
/// the sum of the transactions, each checked), the leftover units going to
/// the largest remainders (ties: the product first by name).
async fn resplit_product_months(txn: &DatabaseTransaction, currencies: &[&str], divisor: i64) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let (table, column) = PRODUCT_MONTHS;
    let rows = txn
        .query_all(
            backend.build(
                Query::select()
                    .columns([
                        Alias::new("currency"),
                        Alias::new("month"),
                        Alias::new("product"),
                        Alias::new(column),
                    ])
                    .from(Alias::new(table))
                    .cond_where(of_currencies(Some(currencies)))
                    .order_by(Alias::new("currency"), Order::Asc)
                    .order_by(Alias::new("month"), Order::Asc)
                    .order_by(Alias::new("product"), Order::Asc),
            ),
        )
        .await?;
    let mut months: BTreeMap<(String, String), Vec<(String, i64)>> = BTreeMap::new();
    for row in &rows {
        let key = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        months
            .entry(key)
            .or_default()
            .push((row.try_get_by_index(2)?, row.try_get_by_index(3)?));
    }
    for ((currency, month), shares) in months {
        let values: Vec<i64> = shares.iter().map(|s| s.1).collect();
        for ((product, _), units) in shares.iter().zip(divide_keeping_total(&values, divisor)) {
            txn.execute(
                backend.build(
                    Query::update()
                        .table(Alias::new(table))
                        .value(Alias::new(column), units)
                        .and_where(Expr::col(Alias::new("currency")).eq(currency.as_str()))
                        .and_where(Expr::col(Alias::new("month")).eq(month.as_str()))
                        .and_where(Expr::col(Alias::new("product")).eq(product.as_str())),
                ),
            )
            .await?;
        }
    }
    Ok(())
}

/// `values / divisor` by largest remainder: the parts add up to the total
/// divided (rounded half away from zero if inexact), each within one unit of
/// its exact value.
fn divide_keeping_total(values: &[i64], divisor: i64) -> Vec<i64> {
    let d = i128::from(divisor);
    let total: i128 = values.iter().map(|&v| i128::from(v)).sum();
    let target = {
        let (q, r) = (total.div_euclid(d), total.rem_euclid(d));
        if 2 * r > d || (2 * r == d && total > 0) {
            q + 1
        } else {
            q
        }
    };
    let mut parts: Vec<i128> = values.iter().map(|&v| i128::from(v).div_euclid(d)).collect();
    let mut order: Vec<usize> = (0..values.len()).collect();
    // Largest remainder first; the sort is stable, so ties keep the product order.
    order.sort_by_key(|&i| std::cmp::Reverse(values[i].rem_euclid(divisor)));
    let mut leftover = target - parts.iter().sum::<i128>();
    for &i in order.iter().cycle().take(values.len() * 2) {
        if leftover == 0 {
            break;
        }
        if leftover > 0 {
            parts[i] += 1;
            leftover -= 1;
        } else {
            parts[i] -= 1;
            leftover += 1;
        }
    }
    parts.into_iter().map(|p| p as i64).collect()
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

/// `gross_cents` in every run's `state_json`: the bound on every sum of a
/// currency's amounts, in the new unit (rounded up: it stays a bound).
async fn convert_state(txn: &DatabaseTransaction, direction: Direction) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all(
            backend.build(
                Query::select()
                    .columns([Alias::new("id"), Alias::new("state_json")])
                    .from(Alias::new("etl_run"))
                    .and_where(Expr::col(Alias::new("state_json")).is_not_null()),
            ),
        )
        .await?;
    for row in rows {
        let id: i64 = row.try_get_by_index(0)?;
        let text: String = row.try_get_by_index(1)?;
        // A state that is not JSON is left alone: the next append refuses it as before.
        let Ok(mut state) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(gross) = state.get_mut("gross_cents").and_then(|g| g.as_object_mut()) else {
            continue;
        };
        let mut changed = false;
        for &(code, exponent) in MINOR_UNITS {
            let Some(value) = gross.get_mut(code) else { continue };
            let Some(v) = value.as_i64() else { continue };
            let converted = match (direction, exponent) {
                (Direction::Up, 0) => Some(v.div_euclid(100) + i64::from(v.rem_euclid(100) != 0)),
                (Direction::Up, _) => v.checked_mul(10),
                (Direction::Down, 0) => v.checked_mul(100),
                (Direction::Down, _) => Some(v.div_euclid(10) + i64::from(v.rem_euclid(10) != 0)),
            }
            .ok_or_else(|| {
                failed(format!(
                    "cannot convert run {id}'s bound on {code} sums: it would not fit 64 bits. Nothing was changed."
                ))
            })?;
            *value = converted.into();
            changed = true;
        }
        if changed {
            txn.execute(
                backend.build(
                    Query::update()
                        .table(Alias::new("etl_run"))
                        .value(Alias::new("state_json"), state.to_string())
                        .and_where(Expr::col(Alias::new("id")).eq(id)),
                ),
            )
            .await?;
        }
    }
    Ok(())
}

#[derive(DeriveIden)]
enum Marker {
    #[sea_orm(iden = "currency_minor_unit")]
    Table,
    Currency,
    Exponent,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divisions_keep_the_total() {
        assert_eq!(
            divide_keeping_total(&[33_334, 33_333, 33_333], 100),
            vec![334, 333, 333]
        );
        assert_eq!(divide_keeping_total(&[150_000], 100), vec![1500]);
        assert_eq!(
            divide_keeping_total(&[-33_334, -33_333, -33_333], 100),
            vec![-334, -333, -333]
        );
        assert_eq!(divide_keeping_total(&[50, 50], 100), vec![1, 0]);
        assert_eq!(divide_keeping_total(&[], 100), Vec::<i64>::new());
        assert_eq!(divide_keeping_total(&[125, 125, 50], 100).iter().sum::<i64>(), 3);
        // Fils to hundredths of a dinar (down): 3334 + 3333 + 3333 fils.
        assert_eq!(divide_keeping_total(&[3334, 3333, 3333], 10), vec![334, 333, 333]);
    }

    #[test]
    fn the_list_is_sorted() {
        assert!(MINOR_UNITS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(MINOR_UNITS.iter().all(|(_, e)| *e == 0 || *e == 3));
    }
}

//! The ingest: read → clean → load, one module per step.
//!
//! `products.csv` and `users.csv` are small per distinct key and read into
//! memory; `transactions.csv` is streamed (see [`transactions`]). Everything a
//! run writes — the star schema, the report aggregates, rejected rows, per-file
//! counts and the run record — commits in one transaction, or not at all.

mod counts;
pub mod customers;
mod error;
mod load;
mod products;
pub mod rows;
mod source;
mod transactions;
mod users;

use std::collections::BTreeMap;

use std::path::PathBuf;
use std::sync::Arc;

use api_types::{
    Completeness, CurrencySummary, CustomerChecks, Freshness, Money, Percent, QualityReport, Refunds,
    SubscriptionCheck, SubscriptionChecks, ZeroAmount,
};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend};
use serde::Serialize;

pub use counts::Counts;
pub use error::EtlError;
pub use load::REPLACED as REPLACED_TABLES;
pub use source::normalise;

use crate::domain::Currency;
use crate::entities::etl_run;
use load::{BindValue, Loader};
use rows::{CustomerSpendingRow, MonthlyRow, ProductMonthRow, RunFileRow, UserRow};

/// What to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Folder holding products.csv, transactions.csv and users.csv.
    pub input: PathBuf,
    /// Test hook: fail the run after this many transactions were written, to
    /// prove that a failed load leaves the previous data intact.
    pub fail_after_rows: Option<u64>,
}

/// Counts and checksum of one input file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub file: &'static str,
    pub sha256: String,
    pub bytes: u64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// The result of a successful run, also stored as JSON in `etl_run.summary_json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub files: Vec<FileSummary>,
    pub customers: u64,
    /// Customers with transactions but no row in users.csv (given empty name and e-mail).
    pub customers_only_in_transactions: u64,
    pub customers_without_transactions: u64,
    /// Customers paying in more than one currency (each currency kept apart).
    pub multi_currency_customers: u64,
    pub multi_currency_examples: Vec<String>,
    pub customers_with_conflicting_names: u64,
    pub customers_with_conflicting_emails: u64,
    pub products: u64,
    pub subscriptions: u64,
}

/// Applies pending migrations, then ingests the three files.
pub async fn ingest(db: &DatabaseConnection, options: &IngestOptions) -> Result<RunSummary, EtlError> {
    use migration::MigratorTrait;
    migration::Migrator::up(db, None)
        .await
        .map_err(|e| EtlError::Database {
            during: "applying migrations",
            message: e.to_string(),
        })?;
    let dbe = |during| {
        move |e: sea_orm::DbErr| EtlError::Database {
            during,
            message: e.to_string(),
        }
    };
    // A run still marked running was killed: its transaction rolled back.
    db.execute_unprepared("UPDATE etl_run SET status = 'abandoned' WHERE status = 'running'")
        .await
        .map_err(dbe("marking abandoned runs"))?;
    let run = etl_run::ActiveModel {
        started_at: Set(Utc::now().naive_utc()),
        status: Set("running".to_owned()),
        input_dir: Set(options.input.display().to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(dbe("recording the run"))?;
    tracing::info!(run_id = run.id, input = %options.input.display(), "ingest started");
    match run_inner(db, options, run.id).await {
        Ok(summary) => Ok(summary),
        Err(error) => {
            let mut failed: etl_run::ActiveModel = run.into();
            failed.status = Set("failed".to_owned());
            failed.finished_at = Set(Some(Utc::now().naive_utc()));
            failed.error = Set(Some(error.to_string()));
            if let Err(e) = failed.update(db).await {
                tracing::warn!(error = %e, "could not record the failed run");
            }
            Err(error)
        }
    }
}

/// Resident memory of this process (Linux; 0 elsewhere), for the phase log.
pub(crate) fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1 << 20))
}

fn join_error(e: tokio::task::JoinError) -> EtlError {
    EtlError::Aborted(format!("a worker thread failed: {e}"))
}

async fn run_inner(db: &DatabaseConnection, options: &IngestOptions, run_id: i64) -> Result<RunSummary, EtlError> {
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        tracing::debug!(
            phase = name,
            elapsed_ms = started.elapsed().as_millis() as u64,
            rss_mb = resident_mb(),
            "phase done"
        )
    };
    let dir = options.input.clone();
    // The small files and pass 1 over transactions run side by side.
    let (d1, d2, d3) = (dir.clone(), dir.clone(), dir.clone());
    let products_task = tokio::task::spawn_blocking(move || products::read(&d1, run_id));
    let users_task = tokio::task::spawn_blocking(move || users::read(&d2, run_id));
    let scan_task = tokio::task::spawn_blocking(move || transactions::scan(&d3));
    // Meanwhile the load transaction starts and its tables are created.
    let mut loader = match db.get_database_backend() {
        DbBackend::Postgres => Loader::begin_postgres(db.get_postgres_connection_pool()).await?,
        DbBackend::Sqlite => Loader::begin_sqlite(db.get_sqlite_connection_pool()).await?,
        DbBackend::MySql => return Err(EtlError::Aborted("MySQL is not supported".to_owned())),
    };
    phase("begin the load");
    let products = Arc::new(products_task.await.map_err(join_error)??);
    loader.write(&products.rows).await?;
    let scan = Arc::new(scan_task.await.map_err(join_error)??);
    phase("read products, scan transactions");

    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let (p, s) = (products.clone(), scan.clone());
    let copy = matches!(loader, Loader::Postgres { .. });
    let pass2 = tokio::task::spawn_blocking(move || transactions::load(&dir, &s, &p, run_id, copy, sender));
    let mut written = 0u64;
    while let Some(batch) = receiver.recv().await {
        written += batch.rows();
        loader.write_facts(batch).await?;
        if options.fail_after_rows.is_some_and(|limit| written >= limit) {
            return Err(EtlError::Aborted(format!(
                "forced failure after {written} transactions (test hook)"
            )));
        }
    }
    let tx = pass2.await.map_err(join_error)??;
    loader.facts_complete().await?;
    phase("load transactions");
    let users = users_task.await.map_err(join_error)??;

    // dim_user: every customer of either file; spending in the customer's main currency.
    // Rows are built and written in chunks from the compact per-customer state.
    let conflicting_names = users.customers.iter().filter(|c| c.conflicting_name).count() as u64;
    let conflicting_emails = users.customers.iter().filter(|c| c.conflicting_email).count() as u64;
    // Users-file customers that have transactions.
    let mut matched = vec![false; users.customers.len()];
    let mut user_rows: Vec<UserRow> = Vec::with_capacity(CHUNK);
    let mut spending_rows: Vec<CustomerSpendingRow> = Vec::with_capacity(CHUNK);
    let mut multi_currency = Vec::new();
    let (mut only_in_transactions, mut without_transactions, mut total_customers) = (0u64, 0u64, 0u64);
    let (mut without_name, mut without_email) = (0i64, 0i64);
    for (id, facts) in tx.customer_ids.iter().zip(&tx.customers) {
        let main = facts
            .spending
            .iter()
            .max_by(|a, b| a.transactions.cmp(&b.transactions).then(b.currency.cmp(&a.currency)));
        if facts.spending.len() > 1 && multi_currency.len() < 1000 {
            multi_currency.push(id.to_owned());
        }
        for s in &facts.spending {
            spending_rows.push(CustomerSpendingRow {
                currency: s.currency.as_str(),
                customer_id: id.to_owned(),
                total_spending_cents: s.cents,
                transactions: s.transactions,
            });
        }
        let profile = users.ids.find(id).map(|u| {
            matched[u as usize] = true;
            users.customers[u as usize]
        });
        only_in_transactions += u64::from(profile.is_none());
        user_rows.push(UserRow {
            customer_id: id.to_owned(),
            customer_name: profile.map(|p| users.texts.get(p.name).to_owned()).unwrap_or_default(),
            customer_email: profile.map(|p| users.texts.get(p.email).to_owned()).unwrap_or_default(),
            currency: main.map(|m| m.currency.as_str()),
            total_spending_cents: main.map_or(0, |m| m.cents),
            transactions: main.map_or(0, |m| m.transactions),
            in_users_file: profile.is_some(),
        });
        if user_rows.len() >= CHUNK {
            flush_users(
                &mut loader,
                &mut user_rows,
                &mut without_name,
                &mut without_email,
                &mut total_customers,
            )
            .await?;
        }
        if spending_rows.len() >= CHUNK {
            loader.write(&spending_rows).await?;
            spending_rows.clear();
        }
    }
    let multi_currency_count = tx.customers.iter().filter(|c| c.spending.len() > 1).count() as u64;
    // The rest of the users file has no transaction (in file order).
    for ((id, profile), _) in users
        .ids
        .iter()
        .zip(&users.customers)
        .zip(&matched)
        .filter(|(_, &m)| !m)
    {
        without_transactions += 1;
        user_rows.push(UserRow {
            customer_id: id.to_owned(),
            customer_name: users.texts.get(profile.name).to_owned(),
            customer_email: users.texts.get(profile.email).to_owned(),
            currency: None,
            total_spending_cents: 0,
            transactions: 0,
            in_users_file: true,
        });
        if user_rows.len() >= CHUNK {
            flush_users(
                &mut loader,
                &mut user_rows,
                &mut without_name,
                &mut without_email,
                &mut total_customers,
            )
            .await?;
        }
    }
    flush_users(
        &mut loader,
        &mut user_rows,
        &mut without_name,
        &mut without_email,
        &mut total_customers,
    )
    .await?;
    loader.write(&spending_rows).await?;
    drop((user_rows, spending_rows, matched));
    phase("write customers");

    // Report aggregates.
    let mut monthly_rows: Vec<MonthlyRow> = tx
        .months
        .iter()
        .map(|(&(currency, month), acc)| MonthlyRow {
            currency: currency.as_str(),
            month: month.to_string(),
            transactions: acc.transactions,
            active_customers: acc.active_customers,
            revenue_cents: acc.revenue_cents,
            zero_amount_transactions: acc.zero_amount,
            null_subscription_transactions: acc.null_sub_transactions,
            null_subscription_revenue_cents: acc.null_sub_cents,
            unknown_subscription_transactions: acc.unknown_sub_transactions,
            unknown_subscription_revenue_cents: acc.unknown_sub_cents,
        })
        .collect();
    monthly_rows.sort_by(|a, b| (a.currency, &a.month).cmp(&(b.currency, &b.month)));
    loader.write(&monthly_rows).await?;
    let product_rows: Vec<ProductMonthRow> = tx
        .product_months
        .iter()
        .map(|(&(currency, month, product), &(cents, n))| ProductMonthRow {
            currency: currency.as_str(),
            month: month.to_string(),
            product: products.names[product as usize].clone(),
            total_sales_cents: cents,
            transactions: n,
        })
        .collect();
    loader.write(&product_rows).await?;

    // Audit: rejected rows and per-file counts; the identity must hold for each file.
    let files = vec![
        FileSummary {
            file: products::FILE,
            sha256: products.sha256.clone(),
            bytes: products.bytes,
            counts: products.counts,
        },
        FileSummary {
            file: transactions::FILE,
            sha256: scan.sha256.clone(),
            bytes: scan.bytes,
            counts: tx.counts,
        },
        FileSummary {
            file: users::FILE,
            sha256: users.sha256.clone(),
            bytes: users.bytes,
            counts: users.counts,
        },
    ];
    for f in &files {
        f.counts.check(f.file)?;
    }
    loader.write(&products.rejects).await?;
    loader.write(&users.rejects).await?;
    loader.write(&tx.rejects).await?;
    let file_rows: Vec<RunFileRow> = files
        .iter()
        .map(|f| RunFileRow {
            run_id,
            file: f.file,
            sha256: f.sha256.clone(),
            bytes: f.bytes as i64,
            rows_read: f.counts.read as i64,
            rows_loaded: f.counts.loaded as i64,
            rows_duplicate: f.counts.duplicates as i64,
            rows_rejected: f.counts.rejected as i64,
        })
        .collect();
    loader.write(&file_rows).await?;

    multi_currency.sort();
    let summary = RunSummary {
        run_id,
        files,
        customers: total_customers,
        customers_only_in_transactions: only_in_transactions,
        customers_without_transactions: without_transactions,
        multi_currency_customers: multi_currency_count,
        multi_currency_examples: multi_currency.iter().take(20).cloned().collect(),
        customers_with_conflicting_names: conflicting_names,
        customers_with_conflicting_emails: conflicting_emails,
        products: products.rows.len() as u64,
        subscriptions: products.plans.len() as u64,
    };
    let quality = quality_snapshot(&summary, &tx, &users, (without_name, without_email));
    loader
        .execute(
            "UPDATE etl_run SET status = 'succeeded', finished_at = $1, summary_json = $2, quality_json = $3 WHERE id = $4",
            &[
                BindValue::Ts(Utc::now().naive_utc()),
                BindValue::Text(to_json(&summary)),
                BindValue::Text(to_json(&quality)),
                BindValue::Int(run_id),
            ],
        )
        .await?;
    phase("write aggregates and audit");
    loader.commit().await?;
    phase("swap and commit");
    for f in &summary.files {
        tracing::info!(
            file = f.file,
            read = f.counts.read,
            loaded = f.counts.loaded,
            duplicates = f.counts.duplicates,
            rejected = f.counts.rejected,
            "file ingested"
        );
    }
    tracing::info!(run_id, "ingest succeeded");
    Ok(summary)
}

/// Rows per write when streaming customers to the loader.
const CHUNK: usize = 16_384;

/// Writes and clears a chunk of dim_user rows, counting what `/quality` reports.
async fn flush_users(
    loader: &mut Loader,
    rows: &mut Vec<UserRow>,
    without_name: &mut i64,
    without_email: &mut i64,
    total: &mut u64,
) -> Result<(), EtlError> {
    *without_name += rows.iter().filter(|u| u.customer_name.is_empty()).count() as i64;
    *without_email += rows.iter().filter(|u| u.customer_email.is_empty()).count() as i64;
    *total += rows.len() as u64;
    loader.write(rows).await?;
    rows.clear();
    Ok(())
}

/// Serialises to a JSON string (these plain structs cannot fail to serialise).
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The data-quality figures of this run, served by `/quality`.
fn quality_snapshot(
    summary: &RunSummary,
    tx: &transactions::Transactions,
    users: &users::Users,
    (customers_without_name, customers_without_email): (i64, i64),
) -> QualityReport {
    let mut revenue: BTreeMap<Currency, (i64, i64)> = BTreeMap::new();
    let mut null_sub = SubscriptionCheck::default();
    let mut unknown_sub = SubscriptionCheck::default();
    let mut null_cents: BTreeMap<Currency, i64> = BTreeMap::new();
    let mut unknown_cents: BTreeMap<Currency, i64> = BTreeMap::new();
    let mut zero = 0;
    let mut refunds = Refunds::default();
    for (&(currency, _), acc) in &tx.months {
        let r = revenue.entry(currency).or_default();
        r.0 += acc.transactions;
        r.1 += acc.revenue_cents;
        null_sub.transactions += acc.null_sub_transactions;
        unknown_sub.transactions += acc.unknown_sub_transactions;
        *null_cents.entry(currency).or_default() += acc.null_sub_cents;
        *unknown_cents.entry(currency).or_default() += acc.unknown_sub_cents;
        zero += acc.zero_amount;
        refunds.transactions += acc.refunds;
        if acc.refunds > 0 {
            let e = refunds.amount.entry(currency.to_string()).or_insert(Money::ZERO);
            *e = Money(e.0 + acc.refund_cents);
        }
    }
    null_sub.customers = tx.customers.iter().filter(|c| c.null_subscription).count() as i64;
    unknown_sub.customers = tx.customers.iter().filter(|c| c.unknown_subscription).count() as i64;
    for (check, cents) in [(&mut null_sub, &null_cents), (&mut unknown_sub, &unknown_cents)] {
        for (currency, &c) in cents {
            check.amount.insert(currency.to_string(), Money(c));
            if let Some(p) = Percent::ratio(c, revenue.get(currency).map_or(0, |r| r.1)) {
                check.share_of_revenue_pct.insert(currency.to_string(), p);
            }
        }
    }
    let mut currencies: Vec<CurrencySummary> = revenue
        .iter()
        .map(|(c, &(n, cents))| CurrencySummary {
            currency: c.to_string(),
            transactions: n,
            revenue: Money(cents),
        })
        .collect();
    currencies.sort_by(|a, b| b.transactions.cmp(&a.transactions).then(a.currency.cmp(&b.currency)));
    let rfc = |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    QualityReport {
        customers: CustomerChecks {
            in_transactions_not_in_users: summary.customers_only_in_transactions as i64,
            in_users_without_transactions: summary.customers_without_transactions as i64,
            total: summary.customers as i64,
            multi_currency: summary.multi_currency_customers as i64,
        },
        subscriptions: SubscriptionChecks {
            null_subscription: null_sub,
            unknown_subscription: unknown_sub,
        },
        last_ingest: None,
        completeness: Completeness {
            customers_without_name,
            customers_without_email,
            user_rows_without_name: users.rows_without_name as i64,
            user_rows_without_email: users.rows_without_email as i64,
            customers_with_conflicting_names: summary.customers_with_conflicting_names as i64,
            customers_with_conflicting_emails: summary.customers_with_conflicting_emails as i64,
        },
        zero_amount: ZeroAmount { transactions: zero },
        refunds,
        currencies,
        freshness: Freshness {
            first_transaction_at: tx.first.map(rfc),
            latest_transaction_at: tx.last.map(rfc),
            days_since_latest_transaction: None,
        },
    }
}

//! What the figures are computed from: every transaction of one run, read in
//! one snapshot (from the subscription feed, else from the fact table), put
//! in the computation's reading order once — a `saas::ReadingOrder`, each
//! distinct customer, subscription and currency held once and each
//! transaction as a 40-byte row — and kept for the run so that other
//! parameter sets are computed from memory (about 70 bytes per
//! transaction, see the README). After an append, the previous run's kept
//! transactions catch up instead: only the appended ones are read (from
//! `etl_appended_transaction`) and merged in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::saas::{Catalogue, Interval, Invoice, Parameters, ReadingOrder, SaasError, SaasFigures};
use chrono::NaiveDateTime;
use domain::SharedTexts;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect,
    RuntimeErr, Statement, StreamTrait,
};
use store::entities::{agg_monthly, dim_product, etl_run};

use super::feed;
use crate::ReportError;

/// Every transaction of one run, in the reading order, with the catalogue
/// and the monthly report's revenue, read in one snapshot.
pub(super) struct SaasInput {
    invoices: ReadingOrder,
    catalogue: Catalogue,
    /// Revenue per (currency, month) of the monthly report, for §10's reconciliation.
    revenue: Vec<(String, String, i64)>,
    /// How long reading and sorting took (logged with each computation's time).
    read: Duration,
    /// How many of the invoices were read from the run's appended
    /// transactions, the others kept from the previous run (`None`: every
    /// invoice was read).
    appended: Option<usize>,
    /// Where the invoices came from (logged).
    source: &'static str,
    /// How many of the invoices a full read took from the subscription
    /// feed (kept through catch-ups).
    fed: usize,
}

/// How many transactions are kept for the subscription figures, and where
/// they were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeptCounts {
    pub kept: usize,
    /// Of those, read from the latest append's record (`None`: every
    /// invoice was read in full).
    pub appended: Option<usize>,
    /// Of those, read in full from the subscription feed (the others from
    /// the fact table).
    pub fed: usize,
}

/// Kept invoices of an earlier run, which a later append can catch up.
pub(super) struct Kept {
    /// The run whose data they are.
    pub run: i64,
    pub input: Arc<SaasInput>,
}

impl SaasInput {
    /// Reads the transactions of `run` (the latest run that changed the
    /// data; `None`: no run did), catalogue and monthly revenue from `db` (a
    /// transaction holding the snapshot), then sorts the invoices off the
    /// async workers. The transactions come from the runs' subscription
    /// feed when it holds them all, else from the fact table.
    pub(super) async fn read<C: ConnectionTrait + StreamTrait>(db: &C, run: Option<i64>) -> Result<Self, ReportError> {
        let started = Instant::now();
        let fed = match run {
            Some(run) => feed::read(db, run).await?,
            None => None,
        };
        let (facts, source) = match &fed {
            Some(_) => (Vec::new(), "feed"),
            None => (read_invoices(db, "fct_transaction").await?, "facts"),
        };
        let catalogue = read_catalogue(db).await?;
        let revenue = read_revenue(db).await?;
        let fed_count = fed.as_ref().map_or(0, ReadingOrder::len);
        // Sorted once here, after the snapshot's reads, so that no
        // computation of the run sorts or checks the order again.
        let invoices = match fed {
            Some(invoices) => invoices,
            None => blocking(move || ReadingOrder::new(facts)).await,
        };
        Ok(Self {
            invoices,
            catalogue,
            revenue,
            read: started.elapsed(),
            appended: None,
            source,
            fed: fed_count,
        })
    }

    /// Run `run`'s input from `kept`, when `run` is an append whose previous
    /// run that changed the data is `kept`'s and whose transactions are
    /// recorded: `kept`'s invoices with the appended ones merged in (the
    /// same invoices, in the same order, as a full read of `run`), the
    /// catalogue and revenue read again. `None` otherwise: the caller reads
    /// everything. `db` holds the snapshot in which `run` is the latest.
    pub(super) async fn catch_up<C: ConnectionTrait + StreamTrait>(
        db: &C,
        run: i64,
        kept: Kept,
    ) -> Result<Option<Self>, ReportError> {
        let started = Instant::now();
        if previous_data_run(db, run).await? != Some(kept.run) {
            return Ok(None);
        }
        let from = format!("etl_appended_transaction WHERE run_id = {run}");
        let added = read_invoices(db, &from).await?;
        // None recorded: a run of an earlier version, or one that appended
        // no transactions; a full read is right in either case.
        if added.is_empty() {
            return Ok(None);
        }
        let catalogue = read_catalogue(db).await?;
        let revenue = read_revenue(db).await?;
        let appended = added.len();
        let fed = kept.input.fed;
        let invoices = blocking(move || {
            // Moved out when no other request holds them still, else copied.
            let mut invoices =
                Arc::try_unwrap(kept.input).map_or_else(|shared| shared.invoices.clone(), |own| own.invoices);
            invoices.merge(added);
            invoices
        })
        .await;
        Ok(Some(Self {
            invoices,
            catalogue,
            revenue,
            read: started.elapsed(),
            appended: Some(appended),
            source: "appended",
            fed,
        }))
    }

    pub(super) fn counts(&self) -> KeptCounts {
        KeptCounts {
            kept: self.invoices.len(),
            appended: self.appended,
            fed: self.fed,
        }
    }

    /// The figures with `params`, their §10 reconciliation with the monthly
    /// report checked; computed off the async workers (about a second per 5M).
    pub(super) async fn figures(self: &Arc<Self>, params: Parameters) -> Result<SaasFigures, SaasError> {
        let input = self.clone();
        blocking(move || {
            let started = Instant::now();
            let figures = input.invoices.compute(&input.catalogue, &params)?;
            tracing::info!(
                transactions = input.invoices.len(),
                grace_days = params.grace_days,
                annual_threshold = %params.annual_threshold,
                read = input.source,
                appended = input.appended.unwrap_or(0),
                read_ms = input.read.as_millis() as u64,
                compute_ms = started.elapsed().as_millis() as u64,
                "subscription metrics computed"
            );
            for (currency, month, cents) in &input.revenue {
                // A stored code that is not one cannot have figures either.
                let of_currency = currency.parse().ok().and_then(|c| figures.currency(c));
                if let (Some(c), Some(month)) = (of_currency, domain::Month::parse(month)) {
                    c.check_revenue(month, domain::money_of(currency, *cents))?;
                }
            }
            Ok(figures)
        })
        .await
    }
}

/// Runs `work` on the blocking pool: a panic in it is the caller's panic (a
/// blocking task is never cancelled).
pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Revenue per (currency, month) of the monthly report.
async fn read_revenue<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, String, i64)>, ReportError> {
    Ok(agg_monthly::Entity::find()
        .select_only()
        .column(agg_monthly::Column::Currency)
        .column(agg_monthly::Column::Month)
        .column(agg_monthly::Column::RevenueCents)
        .into_tuple::<(String, String, i64)>()
        .all(db)
        .await?)
}

/// The run that changed the data before `run` when `run` is an append
/// (`None` for a replace, or when there is none).
pub(super) async fn previous_data_run<C: ConnectionTrait>(db: &C, run: i64) -> Result<Option<i64>, ReportError> {
    let mode = etl_run::Entity::find_by_id(run)
        .select_only()
        .column(etl_run::Column::Mode)
        .into_tuple::<String>()
        .one(db)
        .await?;
    if mode.as_deref() != Some("append") {
        return Ok(None);
    }
    Ok(etl_run::Entity::find()
        .select_only()
        .column(etl_run::Column::Id)
        .filter(etl_run::Column::Status.eq("succeeded"))
        .filter(etl_run::Column::DataChanged.eq(true))
        .filter(etl_run::Column::Id.lt(run))
        .order_by_desc(etl_run::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}

async fn read_catalogue<C: ConnectionTrait>(db: &C) -> Result<Catalogue, ReportError> {
    let mut catalogue = Catalogue::new();
    let items = dim_product::Entity::find()
        .select_only()
        .column(dim_product::Column::SubscriptionId)
        .column(dim_product::Column::Interval)
        .column(dim_product::Column::Product)
        .into_tuple::<(String, String, String)>()
        .all(db)
        .await?;
    for (subscription, interval, product) in items {
        catalogue.add_item(&subscription, Interval::parse(&interval), &product);
    }
    Ok(catalogue)
}

/// Every transaction of `from` (a table, and a condition), decoded straight
/// from the driver's rows: the ids are borrowed from the row and looked up
/// among the values seen so far, so a row allocates its transaction id only.
async fn read_invoices<C: ConnectionTrait + StreamTrait>(db: &C, from: &str) -> Result<Vec<Invoice>, ReportError> {
    // SQLite sorts in the crate's reading order (ids bytewise, its
    // default) for less than the crate's own sort costs; PostgreSQL's sort
    // of the whole table spills to disk (1M rows: 3.9 s read sorted against
    // 1.3 s unsorted, and 0.2 s more to sort in the crate), so there the
    // crate sorts: the figures do not depend on the order.
    let order = match db.get_database_backend() {
        DbBackend::Postgres => "",
        _ => " ORDER BY currency, customer_id, subscription_id, date_utc, transaction_id",
    };
    let sql = format!(
        "SELECT transaction_id, date_utc, customer_id, subscription_id, total_cents, currency \
         FROM {from}{order}"
    );
    let mut rows = std::pin::pin!(
        db.stream(Statement::from_string(db.get_database_backend(), sql))
            .await?
    );
    let mut invoices = Invoices::default();
    while let Some(row) = rows.try_next().await? {
        invoices.push(&row)?;
    }
    Ok(invoices.invoices)
}

/// The invoices read so far, and the values they share.
#[derive(Default)]
struct Invoices {
    invoices: Vec<Invoice>,
    /// 156,000 customers per million transactions, each id stored once.
    customers: SharedTexts,
    subscriptions: SharedTexts,
    currencies: SharedTexts,
}

/// One row's columns, borrowed from the driver's row.
struct Fields<'r> {
    transaction_id: &'r str,
    date_utc: NaiveDateTime,
    customer_id: &'r str,
    subscription_id: Option<&'r str>,
    total_cents: i64,
    currency: &'r str,
}

impl Invoices {
    fn push(&mut self, row: &QueryResult) -> Result<(), DbErr> {
        let sqlx_err = |e| DbErr::Query(RuntimeErr::SqlxError(e));
        if let Some(row) = row.try_as_pg_row() {
            self.add(fields(row).map_err(sqlx_err)?);
        } else if let Some(row) = row.try_as_sqlite_row() {
            self.add(fields(row).map_err(sqlx_err)?);
        } else {
            // Another driver (a mock): through SeaORM's own decoding.
            let owned: (String, NaiveDateTime, String, Option<String>, i64, String) = (
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
                row.try_get_by_index(3)?,
                row.try_get_by_index(4)?,
                row.try_get_by_index(5)?,
            );
            self.add(Fields {
                transaction_id: &owned.0,
                date_utc: owned.1,
                customer_id: &owned.2,
                subscription_id: owned.3.as_deref(),
                total_cents: owned.4,
                currency: &owned.5,
            });
        }
        Ok(())
    }

    fn add(&mut self, f: Fields<'_>) {
        self.invoices.push(Invoice {
            timestamp: f.date_utc.and_utc(),
            amount: domain::money_of(f.currency, f.total_cents),
            transaction_id: f.transaction_id.into(),
            customer_id: self.customers.get(f.customer_id),
            subscription_id: self.subscriptions.get(f.subscription_id.unwrap_or_default()),
            currency: self.currencies.get(f.currency),
        });
    }
}

/// The columns of one row of either driver, in the SELECT's order.
fn fields<'r, R>(row: &'r R) -> Result<Fields<'r>, sqlx::Error>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    &'r str: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    NaiveDateTime: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Fields {
        transaction_id: row.try_get(0)?,
        date_utc: row.try_get(1)?,
        customer_id: row.try_get(2)?,
        subscription_id: row.try_get(3)?,
        total_cents: row.try_get(4)?,
        currency: row.try_get(5)?,
    })
}

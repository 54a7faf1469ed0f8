//! Reads of the stored data: what a run needs to know about the data already
//! loaded (the same SQL on both engines; keys go through the lookup table).
//! Everything here costs in proportion to the keys asked for or to small
//! tables (runs, months), never to the number of stored transactions.

use rustc_hash::FxHashMap as HashMap;

use super::Loader;
use crate::error::EtlError;
use crate::months::ActiveMonths;
use crate::read::transactions::StoredLookup;
use crate::rows::{CellReader, FactRow, LookupKey, MonthlyRow, ProductRow};
use crate::state::DataState;
use domain::Currency;

/// The data loaded when the run starts.
pub(crate) struct Current {
    pub state: DataState,
    pub monthly: Vec<MonthlyRow>,
    /// SHA-256 → the run that ingested the file (an append).
    pub ingested: rustc_hash::FxHashMap<String, i64>,
}

/// Reads what the run builds on (inside the load transaction, holding the
/// ingest lock, so nothing changes it meanwhile).
pub(crate) async fn current(loader: &mut Loader, append: bool) -> Result<Current, EtlError> {
    let state = match data_state(loader).await? {
        StoredState::Recorded(s) => s,
        StoredState::Unreadable { run, error } if append => {
            return Err(EtlError::StoredState(format!(
                "the state of the data recorded by run {run} cannot be read ({error}), and an append \
                 builds on it: run a replace of the full history once, then append"
            )))
        }
        StoredState::Unreadable { run, error } if has_data(loader).await? => {
            tracing::error!(run, %error, "the recorded state of the data cannot be read: the replace's guard rails count the stored dimensions instead");
            dimension_state(loader).await?
        }
        _ if append && has_data(loader).await? => {
            return Err(EtlError::StoredState(
                "the data was loaded by an older version that did not record what an append builds on: \
                 run a replace of the full history once, then append"
                    .to_owned(),
            ))
        }
        // A replace is judged on what it would keep (guard rails): without a
        // recorded state, the dimensions are counted from the tables.
        _ if has_data(loader).await? => dimension_state(loader).await?,
        _ => DataState::default(),
    };
    Ok(Current {
        state,
        monthly: monthly(loader).await?,
        ingested: match append {
            true => ingested_files(loader).await?,
            false => Default::default(),
        },
    })
}

/// A customer's spending in one currency, as stored.
#[derive(Debug, Clone)]
pub struct StoredSpending {
    pub currency: Currency,
    pub cents: i64,
    pub transactions: i64,
    pub months: ActiveMonths,
}

/// A customer as stored (`dim_user` and its `agg_customer_spending` rows).
#[derive(Debug, Clone, Default)]
pub struct StoredCustomer {
    pub customer_id: String,
    pub name: String,
    pub email: String,
    pub in_users_file: bool,
    pub conflicting_name: bool,
    pub conflicting_email: bool,
    pub null_subscription: bool,
    pub unknown_subscription: bool,
    pub spending: Vec<StoredSpending>,
}

/// The state recorded by the latest successful run that changed the data.
pub async fn data_state(loader: &mut Loader) -> Result<StoredState, EtlError> {
    let rows = loader
        .fetch(
            "SELECT id, state_json FROM etl_run WHERE status = 'succeeded' AND data_changed \
             ORDER BY id DESC LIMIT 1",
            |r| Ok((r.int(0)?, r.opt_text(1)?)),
        )
        .await?;
    Ok(match rows.into_iter().next() {
        None => StoredState::NoRun,
        Some((_, None)) => StoredState::NotRecorded,
        Some((run, Some(json))) => match serde_json::from_str(&json) {
            Ok(state) => StoredState::Recorded(state),
            Err(e) => StoredState::Unreadable {
                run,
                error: e.to_string(),
            },
        },
    })
}

/// What the latest run that changed the data recorded of it.
#[derive(Debug)]
pub enum StoredState {
    /// No run changed the data yet.
    NoRun,
    /// The run was of an older version that did not record it.
    NotRecorded,
    Recorded(DataState),
    /// Recorded, but it cannot be read (edited by hand, or another version's).
    Unreadable {
        run: i64,
        error: String,
    },
}

/// The dimensions' figures counted from the tables, for data whose state was
/// not recorded (loaded by an older version) or cannot be read: customers,
/// those without a name, those without an e-mail, and products. Costs one
/// pass over the dimensions, not over the transactions.
pub async fn dimension_state(loader: &mut Loader) -> Result<DataState, EtlError> {
    let [customers, without_name, without_email, products] = dimension_counts(loader).await?;
    let mut state = DataState::default();
    state.customers.customers = customers;
    state.customers.without_name = without_name;
    state.customers.without_email = without_email;
    state.products = products;
    Ok(state)
}

async fn dimension_counts(loader: &mut Loader) -> Result<[i64; 4], EtlError> {
    let rows = loader
        .fetch(
            "SELECT (SELECT COUNT(*) FROM dim_user), \
             (SELECT COUNT(*) FROM dim_user WHERE customer_name = ''), \
             (SELECT COUNT(*) FROM dim_user WHERE customer_email = ''), \
             (SELECT COUNT(*) FROM dim_product)",
            |r| Ok([r.int(0)?, r.int(1)?, r.int(2)?, r.int(3)?]),
        )
        .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// Whether the star schema holds any row (cheap: stops at the first).
pub async fn has_data(loader: &mut Loader) -> Result<bool, EtlError> {
    let rows = loader
        .fetch("SELECT COUNT(*) FROM (SELECT 1 FROM dim_user LIMIT 1) one", |r| {
            r.int(0)
        })
        .await?;
    Ok(rows.first().is_some_and(|&n| n > 0))
}

fn currency(r: &dyn CellReader, i: usize) -> Result<Currency, sqlx::Error> {
    let text = r.text(i)?;
    Currency::parse(&text).map_err(|e| sqlx::Error::Decode(e.into()))
}

/// Every row of `agg_monthly` (one per currency and month).
pub async fn monthly(loader: &mut Loader) -> Result<Vec<MonthlyRow>, EtlError> {
    loader
        .fetch(
            "SELECT currency, month, transactions, active_customers, revenue_cents, zero_amount_transactions, \
             null_subscription_transactions, null_subscription_revenue_cents, unknown_subscription_transactions, \
             unknown_subscription_revenue_cents, refund_transactions, refund_cents FROM agg_monthly",
            |r| {
                Ok(MonthlyRow {
                    currency: currency(r, 0)?,
                    month: r.text(1)?,
                    transactions: r.int(2)?,
                    active_customers: r.int(3)?,
                    revenue_cents: r.int(4)?,
                    zero_amount_transactions: r.int(5)?,
                    null_subscription_transactions: r.int(6)?,
                    null_subscription_revenue_cents: r.int(7)?,
                    unknown_subscription_transactions: r.int(8)?,
                    unknown_subscription_revenue_cents: r.int(9)?,
                    refund_transactions: r.int(10)?,
                    refund_cents: r.int(11)?,
                })
            },
        )
        .await
}

/// Files (SHA-256 → the run that ingested it) whose rows the tables hold:
/// those of the successful runs since the latest successful replace, which
/// dropped everything before it.
pub async fn ingested_files(loader: &mut Loader) -> Result<HashMap<String, i64>, EtlError> {
    let rows = loader
        .fetch(
            "SELECT f.sha256, f.run_id FROM etl_run_file f JOIN etl_run r ON r.id = f.run_id \
             WHERE r.status = 'succeeded' AND f.same_as_run IS NULL AND r.id >= COALESCE(\
               (SELECT MAX(id) FROM etl_run WHERE status = 'succeeded' AND mode = 'replace'), 0) \
             ORDER BY f.run_id",
            |r| Ok((r.text(0)?, r.int(1)?)),
        )
        .await?;
    Ok(rows.into_iter().collect())
}

/// The stored customers among `ids` (with their spending in `currencies`, the
/// currencies the data holds), by id.
pub async fn customers(
    loader: &mut Loader,
    ids: &[&str],
    currencies: &[Currency],
) -> Result<HashMap<String, StoredCustomer>, EtlError> {
    let keys: Vec<LookupKey> = ids.iter().map(|id| LookupKey((*id).to_owned())).collect();
    loader.set_lookup_keys(&keys).await?;
    let users = loader
        .fetch(
            "SELECT u.customer_id, u.customer_name, u.customer_email, u.in_users_file, u.conflicting_name, \
             u.conflicting_email, u.null_subscription, u.unknown_subscription \
             FROM etl_lookup_keys k CROSS JOIN dim_user u WHERE u.customer_id = k.k",
            |r| {
                Ok(StoredCustomer {
                    customer_id: r.text(0)?,
                    name: r.text(1)?,
                    email: r.text(2)?,
                    in_users_file: r.boolean(3)?,
                    conflicting_name: r.boolean(4)?,
                    conflicting_email: r.boolean(5)?,
                    null_subscription: r.boolean(6)?,
                    unknown_subscription: r.boolean(7)?,
                    spending: Vec::new(),
                })
            },
        )
        .await?;
    let mut by_id: HashMap<String, StoredCustomer> = users.into_iter().map(|u| (u.customer_id.clone(), u)).collect();
    // The key is (currency, customer_id): probed per key and currency (the
    // currencies are ISO codes, validated, so they can be written inline; a
    // join with a subquery made PostgreSQL scan every customer instead).
    let in_list = currencies
        .iter()
        .map(|c| format!("'{}'", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let spending = if currencies.is_empty() {
        Vec::new()
    } else {
        loader
            .fetch(
                &format!(
                    "SELECT s.customer_id, s.currency, s.total_spending_cents, s.transactions, s.active_months \
                     FROM etl_lookup_keys k CROSS JOIN agg_customer_spending s \
                     WHERE s.customer_id = k.k AND s.currency IN ({in_list})"
                ),
                |r| Ok((r.text(0)?, currency(r, 1)?, r.int(2)?, r.int(3)?, r.opt_bytes(4)?)),
            )
            .await?
    };
    for (id, currency, cents, transactions, months) in spending {
        let months = months.ok_or_else(|| {
            EtlError::StoredState(format!(
                "customer {id:?} was loaded by an older version (no active months stored): \
                 run a replace of the full history once before appending"
            ))
        })?;
        let months =
            ActiveMonths::decode(&months).map_err(|e| EtlError::StoredState(format!("customer {id:?}: {e}")))?;
        if let Some(c) = by_id.get_mut(&id) {
            c.spending.push(StoredSpending {
                currency,
                cents,
                transactions,
                months,
            });
        }
    }
    Ok(by_id)
}

const PRODUCT_COLUMNS: &str = "p.subscription_id, p.plan, p.product, p.interval, p.amount_cents, p.status";

fn product(r: &dyn CellReader) -> Result<ProductRow, sqlx::Error> {
    Ok(ProductRow {
        subscription_id: r.text(0)?.into(),
        plan: r.text(1)?.into(),
        product: r.text(2)?.into(),
        interval: r.text(3)?.into(),
        amount_cents: r.int(4)?,
        status: r.text(5)?.into(),
    })
}

/// The stored `dim_product` rows of `subscriptions`.
pub async fn products(loader: &mut Loader, subscriptions: &[String]) -> Result<Vec<ProductRow>, EtlError> {
    let keys: Vec<LookupKey> = subscriptions.iter().map(|s| LookupKey(s.clone())).collect();
    loader.set_lookup_keys(&keys).await?;
    loader
        .fetch(
            &format!(
                "SELECT {PRODUCT_COLUMNS} FROM etl_lookup_keys k CROSS JOIN dim_product p WHERE p.subscription_id = k.k"
            ),
            product,
        )
        .await
}

const FACT_COLUMNS: &str = "f.transaction_id, f.date_utc, f.customer_id, f.subscription_id, f.total_cents, f.currency";

fn fact(r: &dyn CellReader) -> Result<FactRow, sqlx::Error> {
    Ok(FactRow {
        transaction_id: r.text(0)?,
        date_utc: r.timestamp(1)?,
        customer_id: r.text(2)?,
        subscription_id: r.opt_text(3)?,
        total_cents: r.int(4)?,
        currency: currency(r, 5)?.as_str(),
    })
}

/// [`StoredLookup`] for pass 2 of an append, on a connection of its own (pass
/// 2 runs on a blocking thread while the load transaction receives its rows).
/// It reads the committed data, which is the data the run appends to: the
/// ingest lock keeps other ingests out until this one ends.
pub enum PassLookup {
    Postgres {
        runtime: tokio::runtime::Handle,
        conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
        /// A Citus coordinator (`migration::has_citus`): the facts are
        /// distributed, and Citus cannot push the probing lateral join down.
        citus: bool,
    },
    Sqlite {
        runtime: tokio::runtime::Handle,
        conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    },
}

impl PassLookup {
    pub async fn connect(db: &sea_orm::DatabaseConnection) -> Result<Self, EtlError> {
        use sea_orm::{ConnectionTrait, DbBackend};
        let runtime = tokio::runtime::Handle::current();
        match db.get_database_backend() {
            DbBackend::Postgres => Ok(PassLookup::Postgres {
                runtime,
                citus: migration::has_citus(db)
                    .await
                    .map_err(crate::dbe("asking whether the database is Citus"))?,
                conn: db
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(EtlError::db("connecting for lookups"))?,
            }),
            _ => Ok(PassLookup::Sqlite {
                runtime,
                conn: db
                    .get_sqlite_connection_pool()
                    .acquire()
                    .await
                    .map_err(EtlError::db("connecting for lookups"))?,
            }),
        }
    }

    fn rows<T>(
        &mut self,
        postgres: &str,
        sqlite: &str,
        keys: &[&str],
        decode: fn(&dyn CellReader) -> Result<T, sqlx::Error>,
    ) -> Result<Vec<T>, EtlError> {
        let failed = EtlError::db("looking up stored rows");
        fn decoded<R: CellReader, T>(
            rows: Vec<R>,
            decode: fn(&dyn CellReader) -> Result<T, sqlx::Error>,
        ) -> Result<Vec<T>, EtlError> {
            rows.iter()
                .map(|r| decode(r))
                .collect::<Result<_, _>>()
                .map_err(EtlError::db("decoding stored rows"))
        }
        match self {
            PassLookup::Postgres { runtime, conn, .. } => {
                let rows = runtime
                    .block_on(sqlx::query(postgres).bind(keys).fetch_all(&mut **conn))
                    .map_err(failed)?;
                decoded(rows, decode)
            }
            PassLookup::Sqlite { runtime, conn } => {
                let json = serde_json::to_string(keys).unwrap_or_else(|_| "[]".to_owned());
                let rows = runtime
                    .block_on(sqlx::query(sqlite).bind(json).fetch_all(&mut **conn))
                    .map_err(failed)?;
                decoded(rows, decode)
            }
        }
    }
}

impl StoredLookup for PassLookup {
    fn transactions(&mut self, ids: &[&str]) -> Result<HashMap<String, FactRow>, EtlError> {
        let rows = self.rows(
            // One probe of the primary key per id. Written as
            // `transaction_id = ANY($1)` or a plain join, the planner scanned
            // or hashed the stored transactions whole once they held ~25 times
            // the batch (measured with the fact table split by month: 0.6 s per
            // 4,096 ids at 1M rows, 1.4 s at 5M; probed, 0.2 s and 0.3 s).
            // On Citus, `= ANY($1)` goes to every shard, each probing its
            // index on `transaction_id` (migration 9).
            &if matches!(self, PassLookup::Postgres { citus: true, .. }) {
                format!("SELECT {FACT_COLUMNS} FROM fct_transaction f WHERE f.transaction_id = ANY($1)")
            } else {
                format!(
                    "SELECT {FACT_COLUMNS} FROM unnest($1::text[]) AS k(id) \
                     CROSS JOIN LATERAL (SELECT * FROM fct_transaction f WHERE f.transaction_id = k.id LIMIT 1) f"
                )
            },
            &format!(
                "SELECT {FACT_COLUMNS} FROM fct_transaction f WHERE f.transaction_id IN (SELECT value FROM json_each($1))"
            ),
            ids,
            fact,
        )?;
        Ok(rows.into_iter().map(|f| (f.transaction_id.clone(), f)).collect())
    }

    fn products(&mut self, subscriptions: &[String]) -> Result<Vec<ProductRow>, EtlError> {
        let keys: Vec<&str> = subscriptions.iter().map(String::as_str).collect();
        self.rows(
            &format!("SELECT {PRODUCT_COLUMNS} FROM dim_product p WHERE p.subscription_id = ANY($1)"),
            &format!(
                "SELECT {PRODUCT_COLUMNS} FROM dim_product p WHERE p.subscription_id IN (SELECT value FROM json_each($1))"
            ),
            &keys,
            product,
        )
    }
}

//! The figures of one run: read from the database in one snapshot, computed
//! by the `saas` crate, kept for the run (the defaults, and a few others).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ::saas::{compute, Catalogue, CurrencyFigures, Interval, Invoice, Parameters, SaasError, SaasFigures};
use api_types::SaasMovementsReport;
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
    StreamTrait,
};
use store::entities::{agg_monthly, dim_product, dim_user, fct_transaction};

use super::{parameters, RECENT};
use crate::params::given;
use crate::ReportError;

/// Why subscription figures could not be served: the computation's own
/// error (see [`SaasError::is_bad_request`] for the status).
#[derive(Debug, thiserror::Error)]
#[error("subscription metrics: {0}")]
pub struct SaasFailure(#[from] pub SaasError);

/// The figures of one run, computed when first asked for (the defaults, and a
/// few others), never at load: the other reports do not wait for them, and a
/// server whose users never open them never reads every transaction.
pub struct SaasReports {
    /// The ingest run whose data this is.
    run: Option<i64>,
    /// The data's currencies, most transactions first.
    currencies: Vec<String>,
    /// The default figures and their customers' names, once computed for
    /// this run (a failed computation is kept too: it fails this run's
    /// subscription reports, not the others).
    defaults: tokio::sync::OnceCell<Defaults>,
    /// Other parameter sets, most recently used first.
    recent: Mutex<Vec<(Parameters, Arc<SaasFigures>)>>,
    /// One computation at a time: each reads every transaction.
    computing: tokio::sync::Mutex<()>,
}

struct Defaults {
    figures: Result<Arc<SaasFigures>, SaasError>,
    /// Names of the customers behind the movements ("" when the users file has none).
    names: HashMap<String, String>,
}

impl SaasReports {
    /// Before the first load.
    pub(crate) fn empty() -> Self {
        Self::new(None, Vec::new())
    }

    /// The figures of `run`, whose data holds `currencies` (most transactions
    /// first): nothing is read until a report asks.
    pub(crate) fn new(run: Option<i64>, currencies: Vec<String>) -> Self {
        Self {
            run,
            currencies,
            defaults: tokio::sync::OnceCell::new(),
            recent: Mutex::new(Vec::new()),
            computing: tokio::sync::Mutex::new(()),
        }
    }

    /// The default figures: kept once computed from this run's data.
    async fn defaults(&self, db: &DatabaseConnection) -> Result<Arc<SaasFigures>, ReportError> {
        if let Some(d) = self.defaults.get() {
            return d.figures.clone().map_err(failure);
        }
        let _computing = self.computing.lock().await;
        if let Some(d) = self.defaults.get() {
            return d.figures.clone().map_err(failure);
        }
        let txn = crate::cache::begin(db).await?;
        let run = crate::cache::latest_run(&txn).await?;
        let figures = SaasInput::read(&txn)
            .await?
            .figures(Parameters::default())
            .await
            .map(Arc::new);
        if let Err(e) = &figures {
            log_failure(e);
        }
        let names = match &figures {
            Ok(f) => names(&txn, f).await?,
            Err(_) => HashMap::new(),
        };
        txn.commit().await?;
        let answer = figures.clone().map_err(failure);
        // Figures of a newer run answer this request but are not this run's to keep.
        if run == self.run {
            let _ = self.defaults.set(Defaults { figures, names });
        }
        answer
    }

    /// The figures with `params`: from memory when they are the defaults or
    /// recently asked for, else computed from the database.
    async fn figures(&self, db: &DatabaseConnection, params: Parameters) -> Result<Arc<SaasFigures>, ReportError> {
        if params == Parameters::default() {
            return self.defaults(db).await;
        }
        if let Some(hit) = self.recent_hit(&params) {
            return Ok(hit);
        }
        let _computing = self.computing.lock().await;
        if let Some(hit) = self.recent_hit(&params) {
            return Ok(hit);
        }
        let txn = crate::cache::begin(db).await?;
        let run = crate::cache::latest_run(&txn).await?;
        let input = SaasInput::read(&txn).await?;
        txn.commit().await?;
        let figures = Arc::new(
            input
                .figures(params.clone())
                .await
                .inspect_err(log_failure)
                .map_err(failure)?,
        );
        // Figures of a newer run answer this request but are not this run's to keep.
        if run == self.run {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.insert(0, (params, figures.clone()));
            recent.truncate(RECENT);
        }
        Ok(figures)
    }

    /// The requested currency (any case), or the one with the most
    /// transactions; 400 naming the available ones for another.
    fn currency(&self, raw: Option<&str>) -> Result<String, ReportError> {
        match given(raw, "currency")? {
            None => self.currencies.first().cloned().ok_or(ReportError::NoData),
            Some(_) if self.currencies.is_empty() => Err(ReportError::NoData),
            Some(given) => {
                let lower = given.to_ascii_lowercase();
                match self.currencies.contains(&lower) {
                    true => Ok(lower),
                    false => Err(ReportError::UnknownCurrency {
                        given: given.to_owned(),
                        available: self.currencies.clone(),
                    }),
                }
            }
        }
    }

    /// Resolves the parameters the three reports share (`currency`,
    /// `grace_days`, `annual_threshold`), then `answer`s from the figures of
    /// that currency.
    pub(super) async fn of_currency<T>(
        &self,
        db: &DatabaseConnection,
        [currency, grace_days, annual_threshold]: [Option<&str>; 3],
        answer: impl FnOnce(&CurrencyFigures) -> Result<T, ReportError>,
    ) -> Result<T, ReportError> {
        let parameters = parameters(grace_days, annual_threshold)?;
        let currency = self.currency(currency)?;
        let figures = self.figures(db, parameters).await?;
        match figures.currency(&currency) {
            Some(figures) => answer(figures),
            None => Err(ReportError::UnknownCurrency {
                given: currency,
                available: self.currencies.clone(),
            }),
        }
    }

    /// The names known so far (those of the default figures, once computed).
    fn names(&self) -> &HashMap<String, String> {
        static NONE: std::sync::LazyLock<HashMap<String, String>> = std::sync::LazyLock::new(HashMap::new);
        self.defaults.get().map_or(&NONE, |d| &d.names)
    }

    fn recent_hit(&self, params: &Parameters) -> Option<Arc<SaasFigures>> {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let at = recent.iter().position(|(p, _)| p == params)?;
        let hit = recent.remove(at);
        let figures = hit.1.clone();
        recent.insert(0, hit);
        Some(figures)
    }

    /// Fills the customers' names: from memory, else from `dim_user`.
    pub(super) async fn name(
        &self,
        db: &DatabaseConnection,
        report: &mut SaasMovementsReport,
    ) -> Result<(), ReportError> {
        let missing: Vec<String> = report
            .customers
            .iter()
            .filter(|c| !self.names().contains_key(&c.customer_id))
            .map(|c| c.customer_id.clone())
            .collect();
        let mut found = HashMap::new();
        if !missing.is_empty() {
            // Names only: e-mail addresses never leave the database.
            found = dim_user::Entity::find()
                .select_only()
                .column(dim_user::Column::CustomerId)
                .column(dim_user::Column::CustomerName)
                .filter(dim_user::Column::CustomerId.is_in(missing))
                .into_tuple::<(String, String)>()
                .all(db)
                .await?
                .into_iter()
                .collect();
        }
        for c in &mut report.customers {
            let name = self.names().get(&c.customer_id).or_else(|| found.get(&c.customer_id));
            c.customer_name = name.cloned().unwrap_or_default();
        }
        Ok(())
    }
}

/// The names of the customers of `figures` ("" when the users file has none).
async fn names<C: ConnectionTrait + StreamTrait>(
    db: &C,
    figures: &SaasFigures,
) -> Result<HashMap<String, String>, ReportError> {
    let wanted: HashSet<&str> = figures.currencies().flat_map(|c| c.movement_customer_ids()).collect();
    let mut names = HashMap::with_capacity(wanted.len());
    // Names only: e-mail addresses never leave the database.
    let mut users = dim_user::Entity::find()
        .select_only()
        .column(dim_user::Column::CustomerId)
        .column(dim_user::Column::CustomerName)
        .into_tuple::<(String, String)>()
        .stream(db)
        .await?;
    while let Some((id, name)) = users.try_next().await? {
        if wanted.contains(id.as_str()) {
            names.insert(id, name);
        }
    }
    for id in wanted {
        names.entry(id.to_owned()).or_default();
    }
    Ok(names)
}

fn log_failure(e: &SaasError) {
    match e {
        // The request's fault, answered 400: nothing to log.
        e if e.is_bad_request() => {}
        SaasError::Invariant { month, currency, what } => {
            tracing::error!(%month, %currency, %what, "subscription metrics: invariant violated")
        }
        other => tracing::error!(error = %other, "subscription metrics could not be computed"),
    }
}

fn failure(e: SaasError) -> ReportError {
    if e.is_bad_request() {
        ReportError::BadParameter {
            parameter: "annual_threshold",
            message: format!("parameter `annual_threshold`: {e}"),
        }
    } else {
        ReportError::Saas(SaasFailure(e))
    }
}

/// What the figures are computed from, read in one snapshot.
struct SaasInput {
    invoices: Vec<Invoice>,
    catalogue: Catalogue,
    /// Revenue per (currency, month) of the monthly report, for §10's reconciliation.
    revenue: Vec<(String, String, i64)>,
    /// How long reading took (logged with the computation's time).
    read: std::time::Duration,
}

impl SaasInput {
    async fn read<C: ConnectionTrait + StreamTrait>(db: &C) -> Result<Self, ReportError> {
        let started = std::time::Instant::now();
        // SQLite sorts in the crate's reading order (ids bytewise, its
        // default) for less than the crate's own sort costs; PostgreSQL's
        // sort of the whole table spills to disk (1M rows: 3.9 s read sorted
        // against 1.3 s unsorted, and 0.2 s more to sort in the crate), so
        // there the crate sorts: the figures do not depend on the order.
        let order = match db.get_database_backend() {
            DbBackend::Postgres => "",
            _ => " ORDER BY currency, customer_id, subscription_id, date_utc, transaction_id",
        };
        let sql = format!(
            "SELECT transaction_id, date_utc, customer_id, subscription_id, total_cents, currency \
             FROM fct_transaction{order}"
        );
        let mut rows = fct_transaction::Entity::find()
            .from_raw_sql(Statement::from_string(db.get_database_backend(), sql))
            .stream(db)
            .await?;
        let mut invoices = Vec::new();
        while let Some(t) = rows.try_next().await? {
            invoices.push(Invoice {
                timestamp: t.date_utc.and_utc(),
                amount: domain::money_of(&t.currency, t.total_cents),
                transaction_id: t.transaction_id,
                customer_id: t.customer_id,
                subscription_id: t.subscription_id.unwrap_or_default(),
                currency: t.currency,
            });
        }
        drop(rows);
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
        let revenue = agg_monthly::Entity::find()
            .select_only()
            .column(agg_monthly::Column::Currency)
            .column(agg_monthly::Column::Month)
            .column(agg_monthly::Column::RevenueCents)
            .into_tuple::<(String, String, i64)>()
            .all(db)
            .await?;
        Ok(Self {
            invoices,
            catalogue,
            revenue,
            read: started.elapsed(),
        })
    }

    /// The figures, their §10 reconciliation with the monthly report
    /// checked; computed off the async workers (it takes seconds on millions).
    async fn figures(self, params: Parameters) -> Result<SaasFigures, SaasError> {
        let task = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let figures = compute(&self.invoices, &self.catalogue, &params)?;
            tracing::info!(
                transactions = self.invoices.len(),
                grace_days = params.grace_days,
                annual_threshold = %params.annual_threshold,
                read_ms = self.read.as_millis() as u64,
                compute_ms = started.elapsed().as_millis() as u64,
                "subscription metrics computed"
            );
            for (currency, month, cents) in &self.revenue {
                if let Some(c) = figures.currency(currency) {
                    c.check_revenue(month, domain::money_of(currency, *cents))?;
                }
            }
            Ok(figures)
        });
        match task.await {
            Ok(figures) => figures,
            // A panic in the computation is the caller's panic (a blocking task is never cancelled).
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}

//! Subscription metrics (`/reports/saas/*`): the `saas` crate's figures
//! over the loaded transactions and the products' intervals.
//!
//! The figures are a function of all loaded transactions (an appended month
//! can restate earlier ones, spec §14), so they are computed whole, once per
//! ingest run: with the default parameters when the report snapshot is
//! loaded, with others on demand, keeping the last [`RECENT`] parameter sets
//! of the run. Nothing outlives the run's snapshot.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ::saas::{compute, Catalogue, Interval, Invoice, Parameters, SaasError, SaasFigures};
use api_types::{
    Money, SaasCohortsReport, SaasMovementCustomers, SaasMovementKind, SaasMovements, SaasMovementsReport,
    SaasMrrReport,
};
use futures_util::TryStreamExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
    StreamTrait,
};
use store::entities::{agg_monthly, dim_product, dim_user, fct_transaction};

use super::params::{given, parse_int, parse_month};
use super::ReportError;

/// Parameter sets other than the defaults kept per run (least recently used out).
pub const RECENT: usize = 8;
/// Largest `grace_days`.
pub const MAX_GRACE_DAYS: u32 = 90;
/// Largest page of `/reports/saas/movements`.
pub const MAX_MOVEMENTS_LIMIT: u32 = 1000;

/// Query parameters of `GET /reports/saas/mrr` and `GET /reports/saas/cohorts`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SaasParams {
    /// ISO currency code (default: the currency with the most transactions).
    /// A code the data does not hold answers 400 with the available ones.
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// Days after the end of a service period during which it still counts
    /// at a month close, 0–90 (default 7).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 90)]
    pub grace_days: Option<String>,
    /// An invoice with no evidence of its interval and at least this total
    /// (in its currency's major unit) is annual; a decimal ≥ 0 (default 3000.00).
    #[param(value_type = Option<String>, example = "3000.00", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub annual_threshold: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// Query parameters of `GET /reports/saas/movements`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SaasMovementsParams {
    /// ISO currency code (default: the currency with the most transactions).
    #[param(pattern = "^[A-Za-z]{3}$", example = "usd")]
    pub currency: Option<String>,
    /// A reported month after the first, `YYYY-MM`.
    #[param(required = true, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2024-05")]
    pub month: Option<String>,
    /// The movement.
    #[param(required = true, value_type = Option<Kind>, inline)]
    pub kind: Option<String>,
    /// Customers to skip (default 0).
    #[param(value_type = Option<u32>, minimum = 0)]
    pub offset: Option<String>,
    /// Customers per page, 1–1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// As for `/reports/saas/mrr` (default 7).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 90)]
    pub grace_days: Option<String>,
    /// As for `/reports/saas/mrr` (default 3000.00).
    #[param(value_type = Option<String>, example = "3000.00", pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub annual_threshold: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// The values of the `kind` parameter (api-types' `SaasMovementKind`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Documents the values of the `kind` parameter.
pub enum Kind {
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

/// Why subscription figures could not be served: the computation's own
/// error (see [`SaasError::is_bad_request`] for the status).
#[derive(Debug, thiserror::Error)]
#[error("subscription metrics: {0}")]
pub struct SaasFailure(#[from] pub SaasError);

/// The figures of one run: the defaults computed at load, the others on demand.
pub struct SaasReports {
    /// The ingest run whose data this is.
    run: Option<i64>,
    /// The data's currencies, most transactions first.
    currencies: Vec<String>,
    /// `None` before the first load.
    defaults: Option<Result<Arc<SaasFigures>, SaasError>>,
    /// Names of the customers of the default figures ("" when the users file has none).
    names: HashMap<String, String>,
    /// Other parameter sets, most recently used first.
    recent: Mutex<Vec<(Parameters, Arc<SaasFigures>)>>,
    /// One on-demand computation at a time: each reads every transaction.
    computing: tokio::sync::Mutex<()>,
}

impl SaasReports {
    /// Before the first load.
    pub(crate) fn empty() -> Self {
        Self {
            run: None,
            currencies: Vec::new(),
            defaults: None,
            names: HashMap::new(),
            recent: Mutex::new(Vec::new()),
            computing: tokio::sync::Mutex::new(()),
        }
    }

    /// The default figures of the data `db` shows (the report snapshot's
    /// transaction, the data of `run`). A failed computation is kept (and
    /// logged): it fails the subscription reports of this run, not the others.
    pub(crate) async fn load<C: ConnectionTrait + StreamTrait>(db: &C, run: Option<i64>) -> Result<Self, ReportError> {
        let input = SaasInput::read(db).await?;
        let currencies = input.currencies();
        let defaults = input.figures(Parameters::default()).await;
        if let Err(e) = &defaults {
            log_failure(e);
        }
        let names = match &defaults {
            Ok(figures) => names(db, figures).await?,
            Err(_) => HashMap::new(),
        };
        Ok(Self {
            run,
            currencies,
            defaults: Some(defaults.map(Arc::new)),
            names,
            recent: Mutex::new(Vec::new()),
            computing: tokio::sync::Mutex::new(()),
        })
    }

    /// The figures with `params`: from memory when they are the defaults or
    /// recently asked for, else computed from the database.
    async fn figures(&self, db: &DatabaseConnection, params: Parameters) -> Result<Arc<SaasFigures>, ReportError> {
        if params == Parameters::default() {
            return self.defaults.clone().ok_or(ReportError::NoData)?.map_err(failure);
        }
        if let Some(hit) = self.recent_hit(&params) {
            return Ok(hit);
        }
        let _computing = self.computing.lock().await;
        if let Some(hit) = self.recent_hit(&params) {
            return Ok(hit);
        }
        let txn = super::cache::begin(db).await?;
        let run = super::cache::latest_run(&txn).await?;
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

    /// Resolves the parameters shared by the three reports, then the figures of the currency.
    async fn of_currency(
        &self,
        db: &DatabaseConnection,
        currency: Option<&str>,
        grace_days: Option<&str>,
        annual_threshold: Option<&str>,
    ) -> Result<(Arc<SaasFigures>, String), ReportError> {
        let parameters = parameters(grace_days, annual_threshold)?;
        let currency = self.currency(currency)?;
        let figures = self.figures(db, parameters).await?;
        match figures.currency(&currency) {
            Some(_) => Ok((figures, currency)),
            None => Err(ReportError::UnknownCurrency {
                given: currency,
                available: self.currencies.clone(),
            }),
        }
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
    async fn name(&self, db: &DatabaseConnection, report: &mut SaasMovementsReport) -> Result<(), ReportError> {
        let missing: Vec<String> = report
            .customers
            .iter()
            .filter(|c| !self.names.contains_key(&c.customer_id))
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
            let name = self.names.get(&c.customer_id).or_else(|| found.get(&c.customer_id));
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
}

impl SaasInput {
    /// The currencies, most transactions first (then by code), as the other reports order them.
    fn currencies(&self) -> Vec<String> {
        let mut counts: Vec<(String, u64)> = Vec::new();
        for i in &self.invoices {
            // Read by currency: a currency's invoices are consecutive.
            match counts.last_mut() {
                Some((c, n)) if *c == i.currency => *n += 1,
                _ => counts.push((i.currency.clone(), 1)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts.into_iter().map(|(c, _)| c).collect()
    }

    async fn read<C: ConnectionTrait + StreamTrait>(db: &C) -> Result<Self, ReportError> {
        // The crate's reading order, so that it need not sort: ids compared
        // bytewise (SQLite's default; PostgreSQL's collation is the locale's).
        let collate = match db.get_database_backend() {
            DbBackend::Postgres => " COLLATE \"C\"",
            _ => "",
        };
        let sql = format!(
            "SELECT transaction_id, date_utc, customer_id, subscription_id, total_cents, currency \
             FROM fct_transaction ORDER BY currency{collate}, customer_id{collate}, \
             subscription_id{collate}, date_utc, transaction_id{collate}"
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
        })
    }

    /// The figures, their §10 reconciliation with the monthly report
    /// checked; computed off the async workers (it takes seconds on millions).
    async fn figures(self, params: Parameters) -> Result<SaasFigures, SaasError> {
        let task = tokio::task::spawn_blocking(move || {
            let figures = compute(&self.invoices, &self.catalogue, &params)?;
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

/// `grace_days` and `annual_threshold`, validated; absent ones are the defaults.
pub fn parameters(grace_days: Option<&str>, annual_threshold: Option<&str>) -> Result<Parameters, ReportError> {
    let defaults = Parameters::default();
    let grace_days = parse_int(grace_days, "grace_days", defaults.grace_days, 0, MAX_GRACE_DAYS)?;
    let annual_threshold = match given(annual_threshold, "annual_threshold")? {
        None => defaults.annual_threshold,
        Some(raw) => match raw.parse::<Money>() {
            Ok(m) if m.minor() >= 0 && !raw.starts_with(['+', '-']) => m,
            _ => {
                return Err(ReportError::BadParameter {
                    parameter: "annual_threshold",
                    message: format!(
                        "parameter `annual_threshold` must be a decimal number ≥ 0 in the currency's major unit \
                         (e.g. 3000.00), got {raw:?}"
                    ),
                })
            }
        },
    };
    Ok(Parameters {
        grace_days,
        annual_threshold,
    })
}

/// `GET /reports/saas/mrr`.
pub async fn saas_mrr(
    saas: &SaasReports,
    db: &DatabaseConnection,
    params: &SaasParams,
) -> Result<SaasMrrReport, ReportError> {
    let (figures, currency) = saas
        .of_currency(
            db,
            params.currency.as_deref(),
            params.grace_days.as_deref(),
            params.annual_threshold.as_deref(),
        )
        .await?;
    figures.currency(&currency).map(|c| c.mrr()).ok_or(ReportError::NoData)
}

/// `GET /reports/saas/cohorts`.
pub async fn saas_cohorts(
    saas: &SaasReports,
    db: &DatabaseConnection,
    params: &SaasParams,
) -> Result<SaasCohortsReport, ReportError> {
    let (figures, currency) = saas
        .of_currency(
            db,
            params.currency.as_deref(),
            params.grace_days.as_deref(),
            params.annual_threshold.as_deref(),
        )
        .await?;
    figures
        .currency(&currency)
        .map(|c| c.cohorts())
        .ok_or(ReportError::NoData)
}

/// `GET /reports/saas/movements`: one page of the customers behind a movement.
pub async fn saas_movements(
    saas: &SaasReports,
    db: &DatabaseConnection,
    params: &SaasMovementsParams,
) -> Result<SaasMovementsReport, ReportError> {
    // Every parameter is checked before anything is computed.
    parameters(params.grace_days.as_deref(), params.annual_threshold.as_deref())?;
    let required = |parameter: &'static str, what: &str| ReportError::BadParameter {
        parameter,
        message: format!("parameter `{parameter}` is required: {what}"),
    };
    let month = parse_month(params.month.as_deref(), "month")?
        .ok_or_else(|| required("month", "a month as YYYY-MM (e.g. 2024-05)"))?;
    let kind = match given(params.kind.as_deref(), "kind")? {
        None => return Err(required("kind", "new, expansion, contraction, churn or reactivation")),
        Some(raw) => raw.parse::<SaasMovementKind>().map_err(|e| ReportError::BadParameter {
            parameter: "kind",
            message: format!("parameter `kind`: {e}"),
        })?,
    };
    let offset = parse_int(params.offset.as_deref(), "offset", 0, 0, u32::MAX)?;
    let limit = parse_int(params.limit.as_deref(), "limit", 100, 1, MAX_MOVEMENTS_LIMIT)?;
    let (figures, currency) = saas
        .of_currency(
            db,
            params.currency.as_deref(),
            params.grace_days.as_deref(),
            params.annual_threshold.as_deref(),
        )
        .await?;
    let currency = figures.currency(&currency).ok_or(ReportError::NoData)?;
    let Some(list) = currency.movements(&month.to_string(), kind) else {
        let months = currency.months();
        let range = match (months.get(1), months.last()) {
            (Some(first), Some(last)) => format!("{} to {}", first.month, last.month),
            _ => "none (fewer than two closed months)".to_owned(),
        };
        return Err(ReportError::NotFound(format!(
            "{month} has no movements in {}: movements exist for the reported months after the first, {range}",
            currency.currency()
        )));
    };
    let mut report = list.page(u64::from(offset), u64::from(limit));
    saas.name(db, &mut report).await?;
    Ok(report)
}

/// The MRR report's CSV: one row per month close, the splits flattened.
impl super::ToCsv for SaasMrrReport {
    fn header(&self) -> Vec<&'static str> {
        MRR_COLUMNS.to_vec()
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.months
            .iter()
            .map(|m| {
                let opt = |v: Option<String>| v.unwrap_or_default();
                let mv = m.movements.as_ref();
                let n = m.movement_customers.as_ref();
                let s = &m.mrr_by_interval_source;
                let mut row = vec![
                    self.currency.clone(),
                    m.month.clone(),
                    m.warm_up.to_string(),
                    m.opening_complete_up_to_months.to_string(),
                    m.mrr.to_string(),
                    m.arr.to_string(),
                    m.customers.to_string(),
                    opt(m.arpa.map(|v| v.to_string())),
                ];
                let amounts: [fn(&SaasMovements) -> Money; 7] = [
                    |v| v.new,
                    |v| v.expansion,
                    |v| v.contraction,
                    |v| v.churn,
                    |v| v.reactivation,
                    |v| v.net_new,
                    |v| v.new_left_censored,
                ];
                for f in amounts {
                    row.push(opt(mv.map(|v| f(v).to_string())));
                }
                let counts: [fn(&SaasMovementCustomers) -> u64; 6] = [
                    |v| v.new,
                    |v| v.expansion,
                    |v| v.contraction,
                    |v| v.churn,
                    |v| v.reactivation,
                    |v| v.new_left_censored,
                ];
                for f in counts {
                    row.push(opt(n.map(|v| f(v).to_string())));
                }
                for p in [
                    m.logo_churn_rate_pct,
                    m.gross_mrr_churn_rate_pct,
                    m.net_mrr_churn_rate_pct,
                    m.nrr_pct,
                    m.grr_pct,
                    m.nrr_3m_pct,
                    m.grr_3m_pct,
                    m.nrr_6m_pct,
                    m.grr_6m_pct,
                    m.nrr_12m_pct,
                    m.grr_12m_pct,
                ] {
                    row.push(opt(p.map(|v| v.to_string())));
                }
                row.push(opt(m.quick_ratio.map(|v| v.to_string())));
                row.push(opt(m.mrr_growth_pct.map(|v| v.to_string())));
                row.push(
                    m.mrr_by_interval_months
                        .iter()
                        .map(|(k, v)| format!("{k}:{v}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                for v in [
                    s.observed_next,
                    s.catalogue_year,
                    s.observed_previous,
                    s.catalogue_month,
                    s.assumed_annual,
                    s.assumed_monthly,
                ] {
                    row.push(v.to_string());
                }
                let b = &m.billed;
                row.extend([
                    b.recurring.amount.to_string(),
                    b.recurring.count.to_string(),
                    b.one_off.amount.to_string(),
                    b.one_off.count.to_string(),
                    b.zero_invoices.count.to_string(),
                    b.refunds.amount.to_string(),
                    b.refunds.count.to_string(),
                    b.total.to_string(),
                    b.invoices.to_string(),
                ]);
                row
            })
            .collect()
    }
}

const MRR_COLUMNS: &[&str] = &[
    "currency",
    "month",
    "warm_up",
    "opening_complete_up_to_months",
    "mrr",
    "arr",
    "customers",
    "arpa",
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "net_new",
    "new_left_censored",
    "new_customers",
    "expansion_customers",
    "contraction_customers",
    "churned_customers",
    "reactivated_customers",
    "new_left_censored_customers",
    "logo_churn_rate_pct",
    "gross_mrr_churn_rate_pct",
    "net_mrr_churn_rate_pct",
    "nrr_pct",
    "grr_pct",
    "nrr_3m_pct",
    "grr_3m_pct",
    "nrr_6m_pct",
    "grr_6m_pct",
    "nrr_12m_pct",
    "grr_12m_pct",
    "quick_ratio",
    "mrr_growth_pct",
    "mrr_by_interval_months",
    "mrr_observed_next",
    "mrr_catalogue_year",
    "mrr_observed_previous",
    "mrr_catalogue_month",
    "mrr_assumed_annual",
    "mrr_assumed_monthly",
    "billed_recurring",
    "billed_recurring_count",
    "billed_one_off",
    "billed_one_off_count",
    "zero_invoices",
    "refunds",
    "refunds_count",
    "billed_total",
    "invoices",
];

/// The cohort table's CSV: one row per cohort and later month.
impl super::ToCsv for SaasCohortsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "cohort",
            "opening",
            "cohort_customers",
            "cohort_mrr",
            "month",
            "months_since",
            "active_customers",
            "mrr",
            "customer_retention_pct",
            "mrr_retention_pct",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        let opt = |v: Option<api_types::Percent>| v.map(|p| p.to_string()).unwrap_or_default();
        self.cohorts
            .iter()
            .flat_map(|c| {
                c.cells.iter().map(move |cell| {
                    vec![
                        self.currency.clone(),
                        c.cohort.clone(),
                        c.opening.to_string(),
                        c.customers.to_string(),
                        c.mrr.to_string(),
                        cell.month.clone(),
                        cell.months_since.to_string(),
                        cell.active_customers.to_string(),
                        cell.mrr.to_string(),
                        opt(cell.customer_retention_pct),
                        opt(cell.mrr_retention_pct),
                    ]
                })
            })
            .collect()
    }
}

/// The drill-down's CSV: the page's customers.
impl super::ToCsv for SaasMovementsReport {
    fn header(&self) -> Vec<&'static str> {
        vec![
            "currency",
            "month",
            "kind",
            "customer_id",
            "customer_name",
            "previous_mrr",
            "current_mrr",
            "change",
            "left_censored",
        ]
    }
    fn records(&self) -> Vec<Vec<String>> {
        self.customers
            .iter()
            .map(|c| {
                vec![
                    self.currency.clone(),
                    self.month.clone(),
                    self.kind.to_string(),
                    c.customer_id.clone(),
                    c.customer_name.clone(),
                    c.previous_mrr.to_string(),
                    c.current_mrr.to_string(),
                    c.change.to_string(),
                    c.left_censored.to_string(),
                ]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_default_and_refuse_with_the_parameter_named() {
        assert_eq!(parameters(None, None).unwrap(), Parameters::default());
        let p = parameters(Some("0"), Some("2500.5")).unwrap();
        assert_eq!((p.grace_days, p.annual_threshold), (0, Money::new(25005, 1)));
        for (grace, threshold, named) in [
            (Some("91"), None, "grace_days"),
            (Some("-1"), None, "grace_days"),
            (Some("7.5"), None, "grace_days"),
            (Some(""), None, "grace_days"),
            (None, Some("-1"), "annual_threshold"),
            (None, Some("abc"), "annual_threshold"),
            (None, Some("1e3"), "annual_threshold"),
            (None, Some(""), "annual_threshold"),
        ] {
            match parameters(grace, threshold) {
                Err(ReportError::BadParameter { parameter, message }) => {
                    assert_eq!(parameter, named);
                    assert!(message.contains(named), "{message}");
                }
                other => panic!("{grace:?} {threshold:?}: {other:?}"),
            }
        }
    }
}

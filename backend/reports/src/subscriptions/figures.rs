//! The figures of one run: read from the database in one snapshot, computed
//! by the `saas` crate, kept for the run (the defaults, and a few others).

use std::sync::{Arc, Mutex};

use ::saas::{CurrencyFigures, MovementList, Parameters, SaasError, SaasFigures};
use api_types::{Currency, Month, SaasMovementKind, SaasMovementsReport};
use sea_orm::DatabaseConnection;

use super::input::{previous_data_run, Kept, KeptCounts, SaasInput};
use super::{parameters, LISTS, RECENT};
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
    currencies: Vec<Currency>,
    /// The default figures, once computed for this run (a failed
    /// computation is kept too: it fails this run's subscription reports,
    /// not the others).
    defaults: tokio::sync::OnceCell<Result<Arc<SaasFigures>, SaasError>>,
    /// Other parameter sets, most recently used first.
    recent: Mutex<Vec<(Parameters, Arc<SaasFigures>)>>,
    /// Movement lists, most recently used first: each is a scan of every
    /// customer's closes (780,000 customers at 5M transactions), too slow
    /// to repeat for every page.
    lists: Mutex<Vec<(ListKey, Arc<MovementList>)>>,
    /// This run's transactions once read: other parameter sets are computed
    /// from them without reading the database again.
    input: Mutex<Option<Arc<SaasInput>>>,
    /// An earlier run's transactions, which this run's can catch up from
    /// when this run appended to that one's data (taken by the first read).
    earlier: Mutex<Option<Kept>>,
    /// One computation at a time: each takes seconds of CPU on millions.
    computing: tokio::sync::Mutex<()>,
}

/// Which movement list: of which figures, currency, month and movement.
#[derive(PartialEq)]
struct ListKey {
    parameters: Parameters,
    currency: Currency,
    month: Month,
    kind: SaasMovementKind,
}

impl SaasReports {
    /// Before the first load.
    pub(crate) fn empty() -> Self {
        Self::new(None, Vec::new())
    }

    /// The figures of `run`, whose data holds `currencies` (most transactions
    /// first): nothing is read until a report asks.
    pub(crate) fn new(run: Option<i64>, currencies: Vec<Currency>) -> Self {
        Self {
            run,
            currencies,
            defaults: tokio::sync::OnceCell::new(),
            recent: Mutex::new(Vec::new()),
            lists: Mutex::new(Vec::new()),
            input: Mutex::new(None),
            earlier: Mutex::new(None),
            computing: tokio::sync::Mutex::new(()),
        }
    }

    /// Lets this run's first read catch up from the transactions `earlier`
    /// (the figures of the run served before) keeps, if it keeps them and
    /// this run appended to that one's data. Otherwise they are not held:
    /// they would only take memory until this run's first read.
    pub(crate) async fn follow(&self, earlier: &SaasReports, db: &DatabaseConnection) {
        let kept = earlier.input.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let from = match (earlier.run, kept) {
            (Some(run), Some(input)) => Some(Kept { run, input }),
            _ => earlier.earlier.lock().unwrap_or_else(|p| p.into_inner()).take(),
        };
        let (Some(kept), Some(run)) = (from, self.run) else {
            return;
        };
        // A hint only (outside the snapshot): the catch-up checks again in
        // its own. Unanswered, it costs a full read, not the refresh.
        if let Ok(Some(previous)) = previous_data_run(db, run).await {
            if previous == kept.run {
                *self.earlier.lock().unwrap_or_else(|p| p.into_inner()) = Some(kept);
            }
        }
    }

    /// How many transactions this run keeps in memory and where they were
    /// read from; `None` before they are read.
    pub fn kept_transactions(&self) -> Option<KeptCounts> {
        let input = self.input.lock().unwrap_or_else(|p| p.into_inner());
        input.as_ref().map(|i| i.counts())
    }

    /// The default figures: kept once computed from this run's data.
    async fn defaults(&self, db: &DatabaseConnection) -> Result<Arc<SaasFigures>, ReportError> {
        if let Some(figures) = self.defaults.get() {
            return figures.clone().map_err(failure);
        }
        let _computing = self.computing.lock().await;
        if let Some(figures) = self.defaults.get() {
            return figures.clone().map_err(failure);
        }
        let (input, ours) = self.input(db).await?;
        let figures = input.figures(Parameters::default()).await.map(Arc::new);
        if let Err(e) = &figures {
            log_failure(e);
        }
        let answer = figures.clone().map_err(failure);
        if ours {
            let _ = self.defaults.set(figures);
        }
        answer
    }

    /// This run's transactions: from memory, else read in one snapshot and
    /// kept if they are still this run's (`true` then). The caller holds
    /// `computing`.
    async fn input(&self, db: &DatabaseConnection) -> Result<(Arc<SaasInput>, bool), ReportError> {
        if let Some(input) = self.input.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Ok((input, true));
        }
        let earlier = self.earlier.lock().unwrap_or_else(|p| p.into_inner()).take();
        let txn = crate::cache::begin(db).await?;
        let run = crate::cache::latest_run(&txn).await?;
        let caught_up = match (run, earlier) {
            (Some(latest), Some(kept)) if run == self.run => SaasInput::catch_up(&txn, latest, kept).await?,
            _ => None,
        };
        let input = match caught_up {
            Some(input) => Arc::new(input),
            None => Arc::new(SaasInput::read(&txn, run).await?),
        };
        txn.commit().await?;
        // A newer run's transactions answer this request but are not this run's to keep.
        let ours = run == self.run;
        if ours {
            *self.input.lock().unwrap_or_else(|p| p.into_inner()) = Some(input.clone());
        }
        Ok((input, ours))
    }

    /// The figures with `params`: from memory when they are the defaults or
    /// recently asked for, else computed from this run's transactions.
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
        let (input, ours) = self.input(db).await?;
        let figures = Arc::new(
            input
                .figures(params.clone())
                .await
                .inspect_err(log_failure)
                .map_err(failure)?,
        );
        if ours {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.insert(0, (params, figures.clone()));
            recent.truncate(RECENT);
        }
        Ok(figures)
    }

    /// The requested currency (any case), or the one with the most
    /// transactions; 400 naming the available ones for another.
    fn currency(&self, raw: Option<&str>) -> Result<Currency, ReportError> {
        match given(raw, "currency")? {
            None => self.currencies.first().copied().ok_or(ReportError::NoData),
            Some(_) if self.currencies.is_empty() => Err(ReportError::NoData),
            Some(given) => {
                let lower = given.to_ascii_lowercase();
                match self.currencies.iter().find(|c| **c == lower.as_str()) {
                    Some(&currency) => Ok(currency),
                    None => Err(ReportError::UnknownCurrency {
                        given: given.to_owned(),
                        available: self.available(),
                    }),
                }
            }
        }
    }

    /// The data's currencies, as an unknown currency's error lists them.
    fn available(&self) -> Vec<String> {
        self.currencies.iter().map(Currency::to_string).collect()
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
        match figures.currency(currency) {
            Some(figures) => answer(figures),
            None => Err(ReportError::UnknownCurrency {
                given: currency.to_string(),
                available: self.available(),
            }),
        }
    }

    /// The customers behind one movement of `month`, from the figures the
    /// shared parameters select (as [`Self::of_currency`]); `missing` is the
    /// error when the figures have no such month. Kept: the last [`LISTS`].
    pub(super) async fn movements(
        &self,
        db: &DatabaseConnection,
        [currency, grace_days, annual_threshold]: [Option<&str>; 3],
        (month, kind): (Month, SaasMovementKind),
        missing: impl FnOnce(&CurrencyFigures) -> ReportError,
    ) -> Result<Arc<MovementList>, ReportError> {
        let key = ListKey {
            parameters: parameters(grace_days, annual_threshold)?,
            currency: self.currency(currency)?,
            month,
            kind,
        };
        if let Some(hit) = lru_hit(&self.lists, &key) {
            return Ok(hit);
        }
        let figures = self.figures(db, key.parameters.clone()).await?;
        let Some(figures) = figures.currency(key.currency) else {
            return Err(ReportError::UnknownCurrency {
                given: key.currency.to_string(),
                available: self.available(),
            });
        };
        let list = Arc::new(figures.movements(month, kind).ok_or_else(|| missing(figures))?);
        let mut lists = self.lists.lock().unwrap_or_else(|p| p.into_inner());
        lists.insert(0, (key, list.clone()));
        lists.truncate(LISTS);
        Ok(list)
    }

    fn recent_hit(&self, params: &Parameters) -> Option<Arc<SaasFigures>> {
        lru_hit(&self.recent, params)
    }

    /// Fills the customers' names from `dim_user`: only those of the page
    /// (reading every customer's name once took 1.2 s at 5M transactions,
    /// inside the first request after each ingest).
    pub(super) async fn name(
        &self,
        db: &DatabaseConnection,
        report: &mut SaasMovementsReport,
    ) -> Result<(), ReportError> {
        let ids = report.customers.iter().map(|c| c.customer_id.clone());
        let names = crate::names::names_of(db, ids).await?;
        for c in &mut report.customers {
            c.customer_name = names.get(&c.customer_id).cloned().unwrap_or_default();
        }
        Ok(())
    }
}

/// The value of `key` in a most-recently-used-first list, moved to the front.
fn lru_hit<K: PartialEq, V: Clone>(list: &Mutex<Vec<(K, V)>>, key: &K) -> Option<V> {
    let mut list = list.lock().unwrap_or_else(|p| p.into_inner());
    let at = list.iter().position(|(k, _)| k == key)?;
    let hit = list.remove(at);
    let value = hit.1.clone();
    list.insert(0, hit);
    Some(value)
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

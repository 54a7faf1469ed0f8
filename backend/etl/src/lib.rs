//! The ingest. [`run`] reads as its phases:
//!
//! 1. **read** ([`read`]) the three files, side by side, while the load starts;
//! 2. **reconcile** ([`reconcile`]) products and customers with the stored ones;
//! 3. **build aggregates** ([`aggregate`]) for the months the run touches;
//! 4. **audit** ([`audit`]): account for every row, store rejections and counts,
//!    derive the data's state and quality, check the guard rails ([`guard`]);
//! 5. **load** ([`load`]): commit atomically — or, for a dry or refused run,
//!    roll back and keep only the run's record.
//!
//! A **replace** swaps the whole star schema for the files' content; an
//! **append** merges the files into what is stored. Either way everything a run
//! writes commits in one transaction, or not at all.

mod aggregate;
mod audit;
mod counts;
pub mod customers;
mod encode;
mod error;
pub mod generate;
pub mod guard;
pub mod kpi;
mod load;
mod months;
pub mod progress;
mod read;
mod reconcile;
pub mod record;
mod render;
pub mod rows;
pub mod settings;
mod state;
pub use store::tables;

use std::path::PathBuf;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde::Serialize;

pub use audit::{FileSummary, ReasonCount, Totals};
pub use counts::Counts;
pub use error::EtlError;
pub use guard::{GuardRails, Pct, Refusal};
pub use read::source::{normalise, Limits};
/// The names of the input files, the only ones a run records.
pub use read::FILES;
pub use record::{FailedRun, FailureRecording};
pub use state::DataState;

pub use load::lock::flock;
pub use load::lock::IngestLock;
use load::{stored, BindValue, LoadMode, Loader};
use progress::Progress;
use read::transactions::{self, Pass2Options, StoredLookup, Transactions};
use read::{products, users};
use store::entities::etl_run;

/// How a run treats the data already loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The files replace everything (the default).
    Replace,
    /// The files are merged into what is loaded.
    Append,
}

impl Mode {
    /// Every mode (what a run records is one of these).
    pub const ALL: [Mode; 2] = [Mode::Replace, Mode::Append];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Replace => "replace",
            Mode::Append => "append",
        }
    }
}

/// What became of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Committed.
    Succeeded,
    /// Stopped by an error; nothing changed.
    Failed,
    /// Stopped by a guard rail; nothing changed.
    Refused,
    /// Ran in full with `--dry-run`; nothing changed.
    DryRun,
    /// Every file had been ingested before; nothing to do.
    Skipped,
    /// Killed while running (found by the next run); nothing changed.
    Abandoned,
}

impl RunStatus {
    /// Every status (what a run records is one of these).
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Refused,
        RunStatus::DryRun,
        RunStatus::Skipped,
        RunStatus::Abandoned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Refused => "refused",
            RunStatus::DryRun => "dry_run",
            RunStatus::Skipped => "skipped",
            RunStatus::Abandoned => "abandoned",
        }
    }
}

/// What to ingest, and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Folder holding products.csv, transactions.csv and users.csv.
    pub input: PathBuf,
    pub mode: Mode,
    /// Overrides the guard rails, and loads files ingested before (an append).
    pub force: bool,
    /// Runs everything, commits nothing.
    pub dry_run: bool,
    pub guard: GuardRails,
    /// Size limits of the input files.
    pub limits: Limits,
    /// Transaction dates before this day are rejected (`implausible_date`).
    pub earliest_date: chrono::NaiveDate,
    /// … and so are dates more than this many days after the run started.
    pub max_days_ahead: u32,
    /// The minimum of each quality dimension: below it, a warning and an alert.
    pub quality: kpi::QualityThresholds,
    /// A quality alert refuses the run like a guard rail.
    pub strict_quality: bool,
    /// The freshness target of the timeliness dimension, in days.
    pub freshness_sla_days: u32,
    /// Test hook: fail the run after this many transactions were written, to
    /// prove that a failed load leaves the previous data intact.
    pub fail_after_rows: Option<u64>,
    /// Test hook: panic there instead, to prove that a run that panics still
    /// ends recorded.
    pub panic_after_rows: Option<u64>,
    /// Recorded with the run: `cli`, or who uploaded the files.
    pub requested_by: String,
    /// What a failed run does when the database refuses its record.
    pub recording: FailureRecording,
    /// How a run's recorded error names the input folder; `None`: by its
    /// path. An upload's folder is the server's business: its files are
    /// named by themselves.
    pub input_label: Option<String>,
}

impl IngestOptions {
    /// `message` with the input folder named as [`Self::input_label`] says.
    pub fn shown(&self, message: &str) -> String {
        let Some(label) = &self.input_label else {
            return message.to_owned();
        };
        let folder = self.input.display().to_string();
        message
            .replace(&format!("{folder}{}", std::path::MAIN_SEPARATOR), "")
            .replace(&folder, label)
    }

    /// A replace of `input` with the default guard rails.
    pub fn replace(input: impl Into<PathBuf>) -> Self {
        Self {
            input: input.into(),
            mode: Mode::Replace,
            force: false,
            dry_run: false,
            guard: GuardRails::default(),
            limits: Limits::default(),
            earliest_date: DEFAULT_EARLIEST_DATE,
            max_days_ahead: 1,
            quality: kpi::QualityThresholds::default(),
            strict_quality: false,
            freshness_sla_days: 2,
            fail_after_rows: None,
            panic_after_rows: None,
            requested_by: "cli".to_owned(),
            recording: FailureRecording::default(),
            input_label: None,
        }
    }

    /// An append of `input` with the default guard rails.
    pub fn append(input: impl Into<PathBuf>) -> Self {
        Self {
            mode: Mode::Append,
            ..Self::replace(input)
        }
    }
}

/// The earliest transaction date accepted by default.
pub const DEFAULT_EARLIEST_DATE: chrono::NaiveDate = match chrono::NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => chrono::NaiveDate::MIN,
};

/// The options as recorded with the run.
#[derive(Serialize)]
struct RecordedOptions<'a> {
    force: bool,
    dry_run: bool,
    guard: &'a GuardRails,
    limits: &'a Limits,
    earliest_date: chrono::NaiveDate,
    max_days_ahead: u32,
    quality: &'a kpi::QualityThresholds,
    strict_quality: bool,
    freshness_sla_days: u32,
}

/// The result of a run, also stored as JSON in `etl_run.summary_json`.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub mode: Mode,
    pub status: RunStatus,
    pub files: Vec<FileSummary>,
    /// Rejection reasons per file, most frequent first.
    pub reasons: Vec<ReasonCount>,
    /// The guard rails the run broke (a refused run; or overridden by `--force`).
    pub refusals: Vec<Refusal>,
    /// Why nothing was done (a skipped run).
    pub message: Option<String>,
    /// The run's quality dimensions and the ones below their thresholds
    /// (none for a skipped run).
    pub quality: Option<api_types::QualityScore>,
    pub quality_alerts: Vec<api_types::QualityAlert>,
    /// Whether the run changed the data (a succeeded run that found nothing
    /// new changes nothing: the reports and `/quality` stay as they were).
    pub data_changed: bool,
    /// The loaded data before the run and after it (as a dry or refused run would have left it).
    pub before: Totals,
    pub after: Totals,
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

fn dbe(during: &'static str) -> impl Fn(sea_orm::DbErr) -> EtlError {
    move |e| EtlError::Database {
        during,
        message: e.to_string(),
    }
}

/// Applies pending migrations, then ingests the three files. Returns the
/// summary of a run that succeeded, was refused, ran dry or had nothing to do
/// (see [`RunSummary::status`]); an error for a run that failed. Every run is
/// recorded in `etl_run`.
pub async fn ingest(db: &DatabaseConnection, options: &IngestOptions) -> Result<RunSummary, EtlError> {
    use migration::MigratorTrait;
    // Said plainly, before anything else refuses to write for its own reason.
    if let store::db::Writes::Unavailable(why) = store::db::writes::writes(db)
        .await
        .map_err(dbe("checking that the database takes writes"))?
    {
        return Err(EtlError::ReadOnly(why));
    }
    migration::Migrator::up(db, None)
        .await
        .map_err(dbe("applying migrations"))?;
    // Held until the run is recorded: a second ingest waits here.
    let lock = IngestLock::acquire(db).await?;
    // Failures of earlier runs that their database refused to record.
    if let Some(dir) = &options.recording.pending_dir {
        record::apply_pending(db, dir)
            .await
            .map_err(dbe("recording the failures of earlier runs"))?;
    }
    StartedRun::record(db, options, lock)
        .await?
        .execute(db, options, &Progress::for_stderr())
        .await
}

/// A run recorded as `running`, holding the ingest lock: [`ingest`] in two
/// steps, for a server that answers with the run's id before it ends.
pub struct StartedRun {
    run: etl_run::Model,
    lock: IngestLock,
}

impl StartedRun {
    /// Records a run of `options` (the database migrated, `lock` taken).
    pub async fn record(db: &DatabaseConnection, options: &IngestOptions, lock: IngestLock) -> Result<Self, EtlError> {
        // A run still marked running was killed (no other ingest runs now): its
        // transaction rolled back. Said so where readers look for why.
        abandoned(db).await?;
        let recorded = RecordedOptions {
            force: options.force,
            dry_run: options.dry_run,
            guard: &options.guard,
            limits: &options.limits,
            earliest_date: options.earliest_date,
            max_days_ahead: options.max_days_ahead,
            quality: &options.quality,
            strict_quality: options.strict_quality,
            freshness_sla_days: options.freshness_sla_days,
        };
        let run = etl_run::ActiveModel {
            started_at: Set(Utc::now().naive_utc()),
            status: Set(RunStatus::Running.as_str().to_owned()),
            input_dir: Set(options.input.display().to_string()),
            mode: Set(options.mode.as_str().to_owned()),
            options_json: Set(Some(to_json(&recorded))),
            requested_by: Set(Some(options.requested_by.clone())),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(dbe("recording the run"))?;
        tracing::info!(run_id = run.id, mode = options.mode.as_str(), input = %options.input.display(), requested_by = %options.requested_by, "ingest started");
        Ok(Self { run, lock })
    }

    pub fn id(&self) -> i64 {
        self.run.id
    }

    /// The record of this run failing now with `error` (for a run that
    /// cannot even be started: see [`record`]).
    pub fn failure(&self, error: String) -> FailedRun {
        FailedRun::now(self.run.id, self.run.started_at, error)
    }

    /// Runs the phases; the lock is released when it returns. A run that
    /// fails ends recorded as failed, with its error, as
    /// `options.recording` says (see [`record`]).
    pub async fn execute(
        self,
        db: &DatabaseConnection,
        options: &IngestOptions,
        progress: &Progress,
    ) -> Result<RunSummary, EtlError> {
        use futures_util::FutureExt;
        let (run, lock) = (self.run, self.lock);
        // A panic (a bug) ends the run like an error: recorded, the lock
        // released. What the run held is dropped on the way (its load
        // transaction rolls back), so nothing half-done is used afterwards.
        let result = std::panic::AssertUnwindSafe(run_phases(db, options, run.id, progress))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(EtlError::Aborted(format!(
                    "internal error (a bug, please report it): {what}"
                )))
            });
        match result {
            Ok(summary) => {
                tracing::info!(run_id = run.id, "ingest {}", summary.status.as_str());
                lock.release().await;
                Ok(summary)
            }
            Err(error) => {
                let failed = FailedRun::now(run.id, run.started_at, options.shown(&error.to_string()));
                // Recorded before the lock is released when the database takes
                // it; tried again after, so no other ingest waits for that.
                let refused = record::try_once(db, &failed).await.err();
                lock.release().await;
                if let Some(first) = refused {
                    record::after_refusal(db, failed, first, &options.recording).await;
                }
                Err(error)
            }
        }
    }
}

/// What `abandoned` runs say in their `error`.
pub const ABANDONED: &str = "the run stopped without recording its end (its process was killed, or lost its \
     database and could not record why): nothing it wrote was committed";

/// Marks the runs left `running` as abandoned (the caller holds the ingest lock).
async fn abandoned(db: &DatabaseConnection) -> Result<(), EtlError> {
    use sea_orm::sea_query::{Expr, Func};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let running = etl_run::Column::Status.eq(RunStatus::Running.as_str());
    etl_run::Entity::update_many()
        .col_expr(etl_run::Column::Status, Expr::value(RunStatus::Abandoned.as_str()))
        .col_expr(
            etl_run::Column::Error,
            Func::coalesce([Expr::col(etl_run::Column::Error).into(), Expr::val(ABANDONED).into()]).into(),
        )
        .filter(running)
        .exec(db)
        .await
        .map_err(dbe("marking abandoned runs"))?;
    Ok(())
}

/// Resident memory of this process (Linux; 0 elsewhere), for the phase log.
pub(crate) fn resident_mb() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096 / (1 << 20))
}

/// The data loaded when the run starts.
struct Current {
    state: DataState,
    monthly: Vec<rows::MonthlyRow>,
    /// SHA-256 → the run that ingested the file (an append).
    ingested: rustc_hash::FxHashMap<String, i64>,
}

/// Reads what the run builds on (inside the load transaction, holding the
/// ingest lock, so nothing changes it meanwhile).
async fn current(loader: &mut Loader, mode: Mode) -> Result<Current, EtlError> {
    let state = match stored::data_state(loader).await? {
        Some(Some(s)) => s,
        _ if mode == Mode::Append && stored::has_data(loader).await? => {
            return Err(EtlError::Aborted(
                "the data was loaded by an older version that did not record what an append builds on: \
                 run a replace of the full history once, then append"
                    .to_owned(),
            ))
        }
        // A replace is judged on what it would keep (guard rails): without a
        // recorded state, the dimensions are counted from the tables.
        _ if stored::has_data(loader).await? => {
            let [customers, without_name, without_email, products] = stored::dimension_counts(loader).await?;
            let mut state = DataState::default();
            state.customers.customers = customers;
            state.customers.without_name = without_name;
            state.customers.without_email = without_email;
            state.products = products;
            state
        }
        _ => DataState::default(),
    };
    Ok(Current {
        state,
        monthly: stored::monthly(loader).await?,
        ingested: match mode {
            Mode::Append => stored::ingested_files(loader).await?,
            Mode::Replace => Default::default(),
        },
    })
}

/// An append skips a file already ingested (same SHA-256) unless forced:
/// the run that ingested the file of this checksum, if any.
fn already_ingested(sha256: &str, current: &Current, options: &IngestOptions) -> Option<i64> {
    if options.mode != Mode::Append || options.force {
        return None;
    }
    current.ingested.get(sha256).copied()
}

async fn run_phases(
    db: &DatabaseConnection,
    options: &IngestOptions,
    run_id: i64,
    progress: &Progress,
) -> Result<RunSummary, EtlError> {
    let append = options.mode == Mode::Append;
    // 1. Read: the files are read while the load transaction starts (waiting
    // for any other ingest to finish) and the current data is looked at.
    let given = read::Given::find(&options.input, append)?;
    let reading = read::start(&options.input, given, run_id, options.limits, progress);
    let mut loader = Loader::begin(db, if append { LoadMode::Append } else { LoadMode::Replace }).await?;
    let current = current(&mut loader, options.mode).await?;
    let (mut products_file, scan, mut users_file) = reading.products_and_scan().await?;
    let seen_products = already_ingested(&products_file.sha256, &current, options);
    let seen_transactions = already_ingested(&scan.sha256, &current, options);
    // A file absent (an append given some of the three) is skipped like one seen before.
    let skip_products = seen_products.is_some() || !given.products();
    let skip_transactions = seen_transactions.is_some() || !given.transactions();
    if skip_products && skip_transactions {
        let users = users_file.get().await?;
        let seen_users = already_ingested(&users.sha256, &current, options);
        if seen_users.is_some() || !given.users() {
            loader.rollback().await?;
            let seen = [seen_products, seen_transactions, seen_users];
            return record_skipped(
                db,
                run_id,
                options,
                (&products_file, &scan, users),
                given,
                seen,
                &current,
            )
            .await;
        }
    }
    if skip_products {
        products_file.skip();
    }

    // 2. Reconcile the products, then read the transactions (pass 2) into the
    // load, attributed with the reconciled catalog; then reconcile the customers.
    let (mut product_changes, catalog) = reconcile::products(&mut loader, &mut products_file, append).await?;
    loader.write(&product_changes.rows).await?;
    // Written: the catalog is all the run needs of them (18 MB at 5M transactions).
    product_changes.rows = Vec::new();
    let (tx_sha, tx_bytes) = (scan.sha256.clone(), scan.bytes);
    let tx = match skip_transactions {
        true => Transactions::empty(catalog),
        false => load_transactions(db, &mut loader, options, run_id, scan, catalog, progress).await?,
    };
    let users = users_file.get().await?;
    let seen_users = already_ingested(&users.sha256, &current, options);
    if seen_users.is_some() || !given.users() {
        users.skip();
    }
    let seen = [seen_products, seen_transactions, seen_users];
    let mut stored_currencies: Vec<domain::Currency> = current
        .monthly
        .iter()
        .filter_map(|r| domain::Currency::parse(r.currency).ok())
        .collect();
    stored_currencies.sort_unstable();
    stored_currencies.dedup();
    let customers = reconcile::customers(&mut loader, &tx, users, append, &stored_currencies, progress).await?;

    // 3. Build aggregates.
    let phase = progress.phase("build aggregates", None);
    let stored_monthly = if append { current.monthly.clone() } else { Vec::new() };
    let aggregates = aggregate::build(&tx, &customers.new_active, stored_monthly)?;
    loader.write(&aggregates.monthly).await?;
    loader.write(&aggregates.product_months).await?;
    drop(phase);

    // 4. Audit (of the files given).
    let files: Vec<FileSummary> = [
        FileSummary {
            file: products::FILE,
            sha256: products_file.sha256.clone(),
            bytes: products_file.bytes,
            counts: products_file.counts,
            same_as_run: seen[0],
        },
        FileSummary {
            file: transactions::FILE,
            sha256: tx_sha,
            bytes: tx_bytes,
            counts: tx.counts,
            same_as_run: seen[1],
        },
        FileSummary {
            file: users::FILE,
            sha256: users.sha256.clone(),
            bytes: users.bytes,
            counts: users.counts,
            same_as_run: seen[2],
        },
    ]
    .into_iter()
    .zip(given.0)
    .filter_map(|(file, given)| given.then_some(file))
    .collect();
    audit::check(&files)?;
    let mut state = if append {
        current.state.clone()
    } else {
        DataState::default()
    };
    state.customers.add(&customers.totals);
    state.user_rows_without_name += users.rows_without_name as i64;
    state.user_rows_without_email += users.rows_without_email as i64;
    state.products += product_changes.new_products;
    state.subscriptions += product_changes.new_subscriptions;
    state.cover(tx.first, tx.last);
    for (&(currency, _), acc) in &tx.months {
        state
            .add_gross(currency.as_str(), acc.gross_cents)
            .map_err(|e| EtlError::Aborted(format!("{}: {e}", transactions::FILE)))?;
    }
    let rejects: [&[rows::RejectedRow]; 3] = [&products_file.rejects, &tx.rejects, &users.rejects];
    let kpis = kpi::KpiCounts {
        rows_read: files.iter().map(|f| f.counts.read).sum(),
        rows_rejected: files.iter().map(|f| f.counts.rejected).sum(),
        tx_read: tx.counts.read,
        tx_duplicates: tx.counts.duplicates,
        tx_id_conflicts: tx
            .rejects
            .iter()
            .filter(|r| matches!(r.reason_code, "conflicting_duplicate" | "conflicts_with_loaded"))
            .count() as u64,
        customers: state.customers.customers.max(0) as u64,
        customers_incomplete: state.customers.incomplete.max(0) as u64,
        users_customers: (state.customers.customers - state.customers.only_in_transactions).max(0) as u64,
        users_conflicting: state.customers.conflicting.max(0) as u64,
        tx_loaded: tx.counts.loaded,
        tx_unreferenced: customers.tx_unreferenced,
        age_seconds: state
            .latest_transaction_at
            .map(|t| (Utc::now().naive_utc() - t).num_seconds()),
        sla_seconds: i64::from(options.freshness_sla_days) * 86_400,
    };
    let mut quality = audit::quality(&state, &aggregates.monthly_after);
    let score = kpi::score(&kpis);
    quality.alerts = kpi::alerts(&score, &options.quality);
    quality.thresholds = Some(kpi::thresholds(&options.quality));
    quality.rows = Some(kpi::rows(&kpis));
    quality.score = Some(score);
    for a in &quality.alerts {
        tracing::warn!(run_id, dimension = %a.dimension, value = %a.value, threshold = %a.threshold, "quality below its threshold");
    }
    let before = audit::totals(&current.state, &current.monthly);
    let after = audit::totals(&state, &aggregates.monthly_after);
    // A replace is judged on every figure of the data it would leave; an
    // append only adds (see guard::check).
    let figures_before = guard::Figures::of(&current.state, &current.monthly);
    let figures_after = guard::Figures::of(&state, &aggregates.monthly_after);
    let mut refusals = guard::check(
        &files,
        (!append).then_some((&figures_before, &figures_after)),
        &options.guard,
    );
    if options.strict_quality {
        refusals.extend(quality.alerts.iter().map(|a| Refusal::QualityBelowThreshold {
            dimension: a.dimension,
            value: a.value.to_string(),
            threshold: a.threshold.to_string(),
        }));
    }
    let status = if !refusals.is_empty() && !options.force {
        RunStatus::Refused
    } else if options.dry_run {
        RunStatus::DryRun
    } else {
        RunStatus::Succeeded
    };
    for r in &refusals {
        match status {
            RunStatus::Refused => tracing::error!(run_id, "refused: {r}"),
            _ => tracing::warn!(run_id, "guard rail overridden by --force: {r}"),
        }
    }
    let summary = RunSummary {
        run_id,
        mode: options.mode,
        status,
        reasons: audit::reasons(&rejects),
        refusals,
        message: None,
        quality: quality.score,
        quality_alerts: quality.alerts.clone(),
        data_changed: !append || files.iter().any(|f| f.counts.loaded > 0),
        before,
        after,
        customers: state.customers.customers as u64,
        customers_only_in_transactions: state.customers.only_in_transactions as u64,
        customers_without_transactions: state.customers.without_transactions as u64,
        multi_currency_customers: state.customers.multi_currency as u64,
        multi_currency_examples: customers.multi_currency_examples,
        customers_with_conflicting_names: state.customers.conflicting_names as u64,
        customers_with_conflicting_emails: state.customers.conflicting_emails as u64,
        products: state.products as u64,
        subscriptions: state.subscriptions as u64,
        files,
    };

    // 5. Load: commit, or keep only the run's record.
    let phase = progress.phase("commit", None);
    if status == RunStatus::Succeeded {
        audit::record(&mut loader, run_id, &summary.files, &rejects).await?;
        record_run(&mut loader, &summary, Some((&quality, &state))).await?;
        loader.commit().await?;
    } else {
        loader.rollback().await?;
        let mut audit_only = Loader::begin(db, LoadMode::Audit).await?;
        audit::record(&mut audit_only, run_id, &summary.files, &rejects).await?;
        record_run(&mut audit_only, &summary, None).await?;
        audit_only.commit().await?;
    }
    drop(phase);
    for f in &summary.files {
        tracing::info!(
            file = f.file,
            read = f.counts.read,
            loaded = f.counts.loaded,
            already_loaded = f.counts.already_loaded,
            duplicates = f.counts.duplicates,
            rejected = f.counts.rejected,
            skipped = f.same_as_run.is_some(),
            "file ingested"
        );
    }
    Ok(summary)
}

/// Pass 2 over transactions.csv on a blocking thread, its batches written
/// into the load as they come.
async fn load_transactions(
    db: &DatabaseConnection,
    loader: &mut Loader,
    options: &IngestOptions,
    run_id: i64,
    scan: transactions::Scan,
    catalog: read::products::Catalog,
    progress: &Progress,
) -> Result<Transactions, EtlError> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
    let copy = loader.wants_copy();
    let mut lookup = match options.mode {
        Mode::Append => Some(stored::PassLookup::connect(db).await?),
        Mode::Replace => None,
    };
    let (dir, progress) = (options.input.clone(), progress.clone());
    let dates = domain::DateBounds::new(options.earliest_date, options.max_days_ahead, Utc::now().naive_utc());
    let pass2 = tokio::task::spawn_blocking(move || {
        let stored = lookup.as_mut().map(|l| l as &mut dyn StoredLookup);
        let options = Pass2Options {
            run_id,
            copy,
            stored,
            progress: &progress,
            dates,
        };
        transactions::load(&dir, &scan, catalog, options, sender)
    });
    let mut written = 0u64;
    while let Some(batch) = receiver.recv().await {
        written += batch.rows();
        loader.write_facts(batch).await?;
        if options.fail_after_rows.is_some_and(|limit| written >= limit) {
            return Err(EtlError::Aborted(format!(
                "forced failure after {written} transactions (test hook)"
            )));
        }
        if options.panic_after_rows.is_some_and(|limit| written >= limit) {
            panic!("forced panic after {written} transactions (test hook)");
        }
    }
    let tx = pass2.await.map_err(error::join_error)??;
    loader.facts_complete().await?;
    Ok(tx)
}

/// Records the end of a run in `etl_run`; `data` (the run's quality figures
/// and the data's state) for a run that commits.
async fn record_run(
    loader: &mut Loader,
    summary: &RunSummary,
    data: Option<(&api_types::QualityReport, &DataState)>,
) -> Result<(), EtlError> {
    let error = match summary.status {
        RunStatus::Refused => Some(
            summary
                .refusals
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => summary.message.clone(),
    };
    let text = |v: Option<String>| v.map_or(BindValue::Null, BindValue::Text);
    loader
        .execute(
            "UPDATE etl_run SET status = $1, finished_at = $2, summary_json = $3, quality_json = $4,              state_json = $5, data_changed = $6, error = $7 WHERE id = $8",
            &[
                BindValue::Text(summary.status.as_str().to_owned()),
                BindValue::Ts(Utc::now().naive_utc()),
                BindValue::Text(to_json(summary)),
                text(data.map(|(q, _)| to_json(q))),
                text(data.map(|(_, s)| to_json(s))),
                BindValue::Bool(data.is_some() && summary.data_changed),
                text(error),
                BindValue::Int(summary.run_id),
            ],
        )
        .await
}

/// Every file was ingested before: the run records that and ends.
async fn record_skipped(
    db: &DatabaseConnection,
    run_id: i64,
    options: &IngestOptions,
    (products_file, scan, users): (&products::ProductsFile, &transactions::Scan, &users::Users),
    given: read::Given,
    seen: [Option<i64>; 3],
    current: &Current,
) -> Result<RunSummary, EtlError> {
    let mut runs: Vec<i64> = seen.iter().flatten().copied().collect();
    runs.sort_unstable();
    runs.dedup();
    let runs: Vec<String> = runs.iter().map(ToString::to_string).collect();
    let what = match given.0.iter().filter(|g| **g).count() {
        3 => "the three files were",
        1 => "the file was",
        _ => "the files were",
    };
    let message = format!(
        "nothing to do: {what} ingested before (run {}) and their rows are loaded; \
         --force reads them again (rows already loaded are counted, not loaded twice)",
        runs.join(", ")
    );
    tracing::info!(run_id, "{message}");
    let file = |file, sha256: &str, bytes, same_as_run| FileSummary {
        file,
        sha256: sha256.to_owned(),
        bytes,
        counts: Counts::default(),
        same_as_run,
    };
    let totals = audit::totals(&current.state, &current.monthly);
    let c = &current.state.customers;
    let summary = RunSummary {
        run_id,
        mode: options.mode,
        status: RunStatus::Skipped,
        files: [
            file(products::FILE, &products_file.sha256, products_file.bytes, seen[0]),
            file(transactions::FILE, &scan.sha256, scan.bytes, seen[1]),
            file(users::FILE, &users.sha256, users.bytes, seen[2]),
        ]
        .into_iter()
        .zip(given.0)
        .filter_map(|(file, given)| given.then_some(file))
        .collect(),
        reasons: Vec::new(),
        refusals: Vec::new(),
        message: Some(message),
        quality: None,
        quality_alerts: Vec::new(),
        data_changed: false,
        before: totals.clone(),
        after: totals,
        customers: c.customers as u64,
        customers_only_in_transactions: c.only_in_transactions as u64,
        customers_without_transactions: c.without_transactions as u64,
        multi_currency_customers: c.multi_currency as u64,
        multi_currency_examples: Vec::new(),
        customers_with_conflicting_names: c.conflicting_names as u64,
        customers_with_conflicting_emails: c.conflicting_emails as u64,
        products: current.state.products as u64,
        subscriptions: current.state.subscriptions as u64,
    };
    let mut audit_only = Loader::begin(db, LoadMode::Audit).await?;
    audit::record(&mut audit_only, run_id, &summary.files, &[]).await?;
    record_run(&mut audit_only, &summary, None).await?;
    audit_only.commit().await?;
    Ok(summary)
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

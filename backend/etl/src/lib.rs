//! The ingest. [`run`] reads as its phases:
//!
//! 1. **read** ([`read`]) the three files, side by side, while the load starts;
//! 2. **reconcile** ([`reconcile`]) products and customers with the stored ones;
//! 3. **build aggregates** ([`aggregates`]) for the months the run touches;
//! 4. **audit** ([`audit`]): account for every row, store rejections and counts,
//!    derive the data's state and quality, check the guard rails ([`guard`]);
//! 5. **load** ([`load`]): commit atomically — or, for a dry or refused run,
//!    roll back and keep only the run's record.
//!
//! A **replace** swaps the whole star schema for the files' content; an
//! **append** merges the files into what is stored. Either way everything a run
//! writes commits in one transaction, or not at all.

pub mod aggregates;
mod assess;
mod audit;
mod counts;
pub mod customers;
mod encode;
mod error;
mod facts;
mod feed;
pub mod generate;
pub mod guard;
pub mod interner;
pub mod kpi;
mod load;
mod months;
mod phases;
pub mod progress;
mod read;
mod reconcile;
pub mod record;
mod rejects;
mod render;
pub mod rows;
mod state;
pub use store::tables;

use std::path::PathBuf;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};
use serde::Serialize;

pub use audit::{FileSummary, ReasonCount, Totals};
pub use counts::Counts;
pub use error::EtlError;
pub use guard::{Audience, GuardRails, Pct, Refusal};
pub use read::source::{normalise, Limits};
/// The names of the input files, the only ones a run records.
pub use read::FILES;
pub use reconcile::restate::RestatedCounts;
pub use record::{FailedRun, FailureRecording};
pub use state::DataState;

pub use load::lock::flock;
pub use load::lock::IngestLock;
use progress::Progress;
use store::entities::etl_run;

/// How a run treats the data already loaded, and what became of it: the
/// contract's words, recorded in `etl_run` as the API serves them.
pub use api_types::{IngestMode as Mode, RunStatus};

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
    /// Who reads the run's refusals: how they name what would let it through.
    pub audience: Audience,
    /// What a failed run does when the database refuses its record.
    pub recording: FailureRecording,
    /// How often the run logs its progress when it draws no progress bars.
    pub progress_interval: std::time::Duration,
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
            max_days_ahead: DEFAULT_MAX_DAYS_AHEAD,
            quality: kpi::QualityThresholds::default(),
            strict_quality: false,
            freshness_sla_days: DEFAULT_FRESHNESS_SLA_DAYS,
            fail_after_rows: None,
            panic_after_rows: None,
            requested_by: "cli".to_owned(),
            audience: Audience::Cli,
            recording: FailureRecording::default(),
            progress_interval: std::time::Duration::from_millis(progress::DEFAULT_INTERVAL_MS),
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

/// How many days after the run a transaction may be dated, by default.
pub const DEFAULT_MAX_DAYS_AHEAD: u32 = 1;

/// The freshness target of the timeliness dimension by default, in days.
pub const DEFAULT_FRESHNESS_SLA_DAYS: u32 = 2;

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
    /// The stored transactions an append attributed again because its
    /// products.csv changed their subscriptions' plans, and those subscriptions.
    pub restated: RestatedCounts,
}

fn dbe(during: &'static str) -> impl Fn(sea_orm::DbErr) -> EtlError {
    move |e| EtlError::Database {
        during,
        source: Box::new(e),
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
        .execute(db, options, &Progress::for_stderr(options.progress_interval))
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
        let result = std::panic::AssertUnwindSafe(phases::run_phases(db, options, run.id, progress))
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(EtlError::Internal(format!(
                    "internal error (a bug, please report it): {what}"
                )))
            });
        match result {
            Ok(summary) => {
                stamp_finished(db, run.id).await;
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

/// Moves a recorded run's `finished_at` to now, after its transaction
/// committed: the record is written inside that transaction, so its time
/// (and `duration_ms`) would otherwise leave the commit out. The run stays
/// recorded if this fails: only its end time is then early, said in the log.
async fn stamp_finished(db: &DatabaseConnection, run_id: i64) {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let stamped = etl_run::Entity::update_many()
        .col_expr(etl_run::Column::FinishedAt, Expr::value(Utc::now().naive_utc()))
        .filter(etl_run::Column::Id.eq(run_id))
        .exec(db)
        .await;
    if let Err(e) = stamped {
        tracing::warn!(run_id, error = %e, "the run's end time could not be moved past its commit: it leaves the commit out");
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

pub(crate) fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

//! `backend`: ingest billing exports, serve the API and dashboard, generate sample data.

use std::path::PathBuf;
use std::process::ExitCode;

use backend::configuration::DatabaseSettings;
use backend::etl::kpi::QualityThresholds;
use backend::etl::{self, GuardRails, IngestOptions, Limits, Mode, Pct, RunStatus};
use backend::generate::{generate, GenerateOptions};
use backend::startup::{Application, ServeSettings};
use backend::{db, telemetry};
use clap::{Parser, Subcommand};

/// Revenue analytics over SaaS billing exports.
///
/// The database is `DATABASE_URL` (postgres://… or sqlite://…), or the URL in the
/// file named by `DATABASE_URL_FILE`; with neither, the embedded SQLite file
/// data/revenue.db (created on demand).
#[derive(Parser)]
#[command(name = "backend", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then load products.csv, transactions.csv and
    /// users.csv into the star schema, atomically: replacing the data loaded
    /// before (the default) or appending to it.
    ///
    /// Exit codes: 0 loaded (or a dry run, or nothing new); 1 failed; 2 bad
    /// arguments; 3 refused by a guard rail. A run that does not exit 0 changed nothing.
    Ingest {
        /// Folder holding the three export files.
        #[arg(long, default_value = "input")]
        input: PathBuf,
        /// replace: the files are the whole history. append: the files are new
        /// exports, merged into the data loaded (rows already loaded are counted,
        /// not loaded twice; files ingested before are skipped).
        #[arg(long, value_enum, default_value = "replace")]
        mode: ModeArg,
        /// Load even when a guard rail objects, and (append) read files that were
        /// ingested before.
        #[arg(long)]
        force: bool,
        /// Run everything, report what would change, commit nothing.
        #[arg(long)]
        dry_run: bool,
        /// Refuse the run when more than this share of a file's rows is rejected.
        #[arg(long, env = "MAX_REJECT_PCT", default_value = "5", value_name = "PCT")]
        max_reject_pct: Pct,
        /// Refuse a replace that would keep fewer transactions than this share of
        /// those loaded now.
        #[arg(long, env = "MIN_KEEP_PCT", default_value = "50", value_name = "PCT")]
        min_keep_pct: Pct,
        /// Longest header line read, in bytes (a longer first line is not an export).
        #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = Limits::default().max_header_bytes)]
        max_header_bytes: usize,
        /// Longest data line, in bytes (a longer line is rejected, not held in memory).
        #[arg(long, env = "MAX_LINE_BYTES", default_value_t = Limits::default().max_line_bytes)]
        max_line_bytes: usize,
        /// Reject transactions dated before this day (YYYY-MM-DD).
        #[arg(long, env = "EARLIEST_DATE", default_value_t = etl::DEFAULT_EARLIEST_DATE)]
        earliest_date: chrono::NaiveDate,
        /// Reject transactions dated more than this many days after the run.
        #[arg(long, env = "MAX_DAYS_AHEAD", default_value_t = 1)]
        max_days_ahead: u32,
        #[command(flatten)]
        quality: QualityArgs,
    },
    /// Serve the JSON API (and the built dashboard, if present) until SIGINT/SIGTERM.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Origins allowed to call the API cross-origin (repeat or comma-separate;
        /// `*` for any). Default: same origin only.
        #[arg(long = "cors-origin", env = "CORS_ORIGINS", value_delimiter = ',')]
        cors_origins: Vec<String>,
        /// The built dashboard to serve at `/` (output of `trunk build --release`).
        #[arg(long, env = "STATIC_DIR", default_value = "frontend/dist")]
        static_dir: PathBuf,
        /// HTTP worker threads (default: one per CPU core).
        #[arg(long, env = "WORKERS")]
        workers: Option<usize>,
        /// How often the report cache asks the database for a newer run, in
        /// milliseconds (a new ingest shows in the API within this time).
        #[arg(long, env = "REPORT_CACHE_RECHECK_MS", default_value_t = 1000)]
        cache_recheck_ms: u64,
        /// Ingest this folder before serving if the database holds no data yet.
        #[arg(long)]
        ingest_if_empty: Option<PathBuf>,
    },
    /// Show the ingest history, or one run: its files, rejection reasons and
    /// first rejected rows (e-mail addresses masked). Also served at /ingests.
    History {
        /// A run id (see the list).
        run: Option<i64>,
        /// Runs to list, newest first.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
        limit: u32,
        /// Rejected rows to show for a run.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=1000))]
        rows: u32,
    },
    /// Write deterministic sample exports in the real export's format and quirks.
    Generate {
        /// Number of transactions (users.csv gets one row per transaction).
        #[arg(long, default_value_t = 5000)]
        transactions: u64,
        /// Random seed: the same seed writes the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output folder (created if missing).
        #[arg(long, default_value = "input")]
        out: PathBuf,
    },
}

/// The quality thresholds of `ingest` (each a percentage, two decimals at most).
#[derive(clap::Args)]
struct QualityArgs {
    /// Minimum overall quality score: below it, a warning and an alert.
    #[arg(long, env = "MIN_QUALITY_SCORE", default_value = "80", value_name = "PCT")]
    min_quality_score: Pct,
    /// Minimum completeness (customers with a name and an e-mail).
    #[arg(long, env = "MIN_COMPLETENESS", default_value = "90", value_name = "PCT")]
    min_completeness: Pct,
    /// Minimum validity (rows not rejected).
    #[arg(long, env = "MIN_VALIDITY", default_value = "95", value_name = "PCT")]
    min_validity: Pct,
    /// Minimum uniqueness (transaction rows not repeated).
    #[arg(long, env = "MIN_UNIQUENESS", default_value = "99", value_name = "PCT")]
    min_uniqueness: Pct,
    /// Minimum consistency (customers without conflicting names or e-mails).
    #[arg(long, env = "MIN_CONSISTENCY", default_value = "95", value_name = "PCT")]
    min_consistency: Pct,
    /// Minimum referential integrity (transactions with a known subscription and customer).
    #[arg(long, env = "MIN_INTEGRITY", default_value = "90", value_name = "PCT")]
    min_integrity: Pct,
    /// Minimum timeliness (freshness of the latest transaction).
    #[arg(long, env = "MIN_TIMELINESS", default_value = "50", value_name = "PCT")]
    min_timeliness: Pct,
    /// Refuse the run (nothing committed, exit 3) when a dimension is below its minimum.
    #[arg(long, env = "STRICT_QUALITY")]
    strict_quality: bool,
    /// The freshness target of the timeliness dimension, in days.
    #[arg(long, env = "FRESHNESS_SLA_DAYS", default_value_t = 2)]
    freshness_sla_days: u32,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Replace,
    Append,
}

/// Exit code of a run refused by a guard rail.
const EXIT_REFUSED: u8 = 3;

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    backend::memory::return_large_blocks_to_the_system();
    let cli = Cli::parse();
    if let Command::Generate {
        transactions,
        seed,
        out,
    } = &cli.command
    {
        return match generate(
            out,
            GenerateOptions {
                transactions: *transactions,
                seed: *seed,
            },
        ) {
            Ok(()) => {
                println!("wrote {transactions} transactions to {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("cannot write to {}: {e}", out.display())),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(cli.command, started)) {
        Ok(code) => code,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn run(command: Command, started: std::time::Instant) -> Result<ExitCode, String> {
    telemetry::init("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn");
    let settings = DatabaseSettings::from_env().map_err(|e| e.to_string())?;
    tracing::info!(database = %settings.redacted(), "using database");
    let db = db::connect(&settings).await.map_err(|e| e.to_string())?;
    match command {
        Command::Ingest {
            input,
            mode,
            force,
            dry_run,
            max_reject_pct,
            min_keep_pct,
            max_header_bytes,
            max_line_bytes,
            earliest_date,
            max_days_ahead,
            quality,
        } => {
            let options = IngestOptions {
                input,
                mode: match mode {
                    ModeArg::Replace => Mode::Replace,
                    ModeArg::Append => Mode::Append,
                },
                force,
                dry_run,
                guard: GuardRails {
                    max_reject_pct,
                    min_keep_pct,
                },
                limits: Limits {
                    max_header_bytes,
                    max_line_bytes,
                },
                earliest_date,
                max_days_ahead,
                quality: QualityThresholds {
                    overall: quality.min_quality_score,
                    completeness: quality.min_completeness,
                    validity: quality.min_validity,
                    uniqueness: quality.min_uniqueness,
                    consistency: quality.min_consistency,
                    integrity: quality.min_integrity,
                    timeliness: quality.min_timeliness,
                },
                strict_quality: quality.strict_quality,
                freshness_sla_days: quality.freshness_sla_days,
                fail_after_rows: None,
            };
            let summary = etl::ingest(&db, &options)
                .await
                .map_err(|e| backend::configuration::scrub(&e.to_string(), &settings))?;
            print!("{}", summary.render());
            Ok(match summary.status {
                RunStatus::Refused => ExitCode::from(EXIT_REFUSED),
                _ => ExitCode::SUCCESS,
            })
        }
        Command::Serve {
            bind,
            cors_origins,
            static_dir,
            workers,
            cache_recheck_ms,
            ingest_if_empty,
        } => {
            // A database never loaded (or never migrated) serves 404 no_data, not errors.
            {
                use migration::MigratorTrait;
                migration::Migrator::up(&db, None)
                    .await
                    .map_err(|e| backend::configuration::scrub(&e.to_string(), &settings))?;
            }
            if let Some(input) = ingest_if_empty {
                use sea_orm::{EntityTrait, PaginatorTrait};
                let runs = backend::entities::etl_run::Entity::find()
                    .count(&db)
                    .await
                    .map_err(|e| e.to_string())?;
                if runs == 0 {
                    let summary = etl::ingest(&db, &IngestOptions::replace(input))
                        .await
                        .map_err(|e| backend::configuration::scrub(&e.to_string(), &settings))?;
                    if summary.status != RunStatus::Succeeded {
                        return Err(format!("the initial ingest did not load:\n{}", summary.render()));
                    }
                }
            }
            let settings = ServeSettings {
                bind,
                cors_origins,
                static_dir: Some(static_dir),
                workers,
                cache_recheck: std::time::Duration::from_millis(cache_recheck_ms),
            };
            let app =
                Application::build(&settings, db).map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
            let host = settings.bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
            // startup_ms: from main() to accepting connections (database connected,
            // and any --ingest-if-empty load done).
            tracing::info!(
                startup_ms = started.elapsed().as_millis() as u64,
                "listening on http://{host}:{}",
                app.port()
            );
            app.run_until_stopped().await.map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History { run, limit, rows } => {
            {
                use migration::MigratorTrait;
                migration::Migrator::up(&db, None).await.map_err(|e| e.to_string())?;
            }
            print!("{}", backend::cli::history(&db, run, limit, rows).await?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate { .. } => Ok(ExitCode::SUCCESS),
    }
}

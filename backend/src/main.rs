//! `backend`: ingest billing exports, serve the API and dashboard, generate sample data.

use std::path::PathBuf;
use std::process::ExitCode;

use backend::auth::{tokens, AuthSettings, Role};
use backend::configuration::DatabaseSettings;
use backend::etl::{self, FailureRecording, GuardRails, IngestOptions, Limits, Mode, Pct, RunStatus};
use backend::generate::{generate, GenerateOptions};
use backend::quality_thresholds::ThresholdArgs;
use backend::startup::{Application, ServeSettings};
use backend::uploads::UploadSettings;
use backend::{db, telemetry};
use clap::{Parser, Subcommand};
use std::num::NonZeroU32;

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

// Parsed once at start-up: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations, then load products.csv, transactions.csv and
    /// users.csv into the star schema, atomically: replacing the data loaded
    /// before (the default) or appending to it.
    ///
    /// Exit codes: 0 loaded (or a dry run, or nothing new); 1 failed; 2 bad
    /// arguments; 3 refused by a guard rail. A run that does not exit 0 changed nothing.
    Ingest {
        /// Folder holding the export files: all three for a replace, any of them
        /// for an append.
        #[arg(long, default_value = "input")]
        input: PathBuf,
        /// replace: the files are the whole history. append: the files are new
        /// exports, merged into the data loaded (rows already loaded are counted,
        /// not loaded twice; files ingested before are skipped; a file absent
        /// from the folder is not read).
        #[arg(long, value_enum, default_value = "replace")]
        mode: ModeArg,
        /// Load even when a guard rail objects, and (append) read files that were
        /// ingested before.
        #[arg(long)]
        force: bool,
        /// Run everything, report what would change, commit nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        rules: IngestRules,
    },
    /// Serve the JSON API (and the built dashboard, if present) until SIGINT/SIGTERM.
    ///
    /// Requests need an API token (see `token`) once one exists; with none, the
    /// API is open, which is allowed on a loopback address only (or with
    /// --allow-anonymous). Uploads (`POST /ingests`) run with the ingest rules
    /// below, as `ingest` does.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Origins allowed to call the API cross-origin (repeat or comma-separate;
        /// `*` for any). Default: same origin only.
        #[arg(long = "cors-origin", env = "CORS_ORIGINS", value_delimiter = ',')]
        cors_origins: Vec<String>,
        /// A host name the server answers for besides its own addresses and
        /// localhost (repeat or comma-separate; `*.example.com` for every name
        /// below example.com; `*` for any). Requests naming another host in
        /// `Host` are refused with 421 (DNS rebinding).
        #[arg(long = "allowed-host", env = "ALLOWED_HOSTS", value_delimiter = ',')]
        allowed_hosts: Vec<String>,
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
        /// Serve without tokens on a non-loopback address: anyone who reaches it
        /// reads everything and uploads.
        #[arg(long, env = "ALLOW_ANONYMOUS")]
        allow_anonymous: bool,
        /// How long a dashboard sign-in lasts, in hours.
        #[arg(long, env = "SESSION_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=720))]
        session_hours: u64,
        /// Failed sign-in attempts allowed per client address and minute (then 429).
        #[arg(long, env = "AUTH_FAILURES_PER_MINUTE", default_value_t = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN))]
        auth_failures_per_minute: NonZeroU32,
        /// A reverse proxy (address or network, repeatable, or comma-separated
        /// in the variable) whose X-Forwarded-For names the client: failed
        /// sign-ins are then limited per client, not per proxy.
        #[arg(long = "trusted-proxy", env = "TRUSTED_PROXIES", value_delimiter = ',',
              value_parser = backend::auth::guard::parse_proxy)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// Largest upload (`POST /ingests`, the files together), in MiB.
        #[arg(long, env = "MAX_UPLOAD_MB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
        max_upload_mb: u64,
        /// Where uploads are stored while their run lasts (default: the system's temporary folder).
        #[arg(long, env = "UPLOAD_DIR")]
        upload_dir: Option<PathBuf>,
        /// Serve the Prometheus metrics on this address, without access control
        /// (a monitoring network's), instead of at /metrics of the main address
        /// (where they need a reader token).
        #[arg(long, env = "METRICS_BIND")]
        metrics_bind: Option<String>,
        /// Read the reports from this database (a PostgreSQL streaming-replication
        /// standby of DATABASE_URL), e.g. to spread readers over replicas.
        /// Ingests, uploads, sign-ins and migrations still go to DATABASE_URL.
        #[arg(long, env = "READ_DATABASE_URL", hide_env_values = true)]
        read_database_url: Option<String>,
        #[command(flatten)]
        rules: IngestRules,
    },
    /// Create, list or revoke the API's tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
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
    /// Ask a running server whether it is ready (`GET /health/ready`): exit 0
    /// if it answers 200, else 1 with why. For container health checks (no
    /// curl needed in the image); reads no database.
    Healthcheck {
        /// The server's address, as given to `serve --bind` (0.0.0.0 and :: are
        /// asked on the loopback address).
        #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
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
        /// The first day of the transactions (YYYY-MM-DD).
        #[arg(long, default_value = "2024-01-01")]
        from: chrono::NaiveDate,
        /// The days they spread over.
        #[arg(long, default_value_t = 304)]
        days: u32,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token and print it (only this once; the database keeps its hash).
    Create {
        /// A name to tell it apart (letters, digits, '.', '-', '_', '@').
        #[arg(long)]
        name: String,
        /// reader: reports, quality, run history. admin: also uploads.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List the tokens (never the tokens themselves).
    List,
    /// Revoke a token by name: it stops working, and so do its sessions.
    Revoke { name: String },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Reader,
    Admin,
}

/// The rules of every ingest, by `ingest` or by an upload to `serve`.
#[derive(clap::Args)]
struct IngestRules {
    /// Refuse the run when more than this share of a file's rows is rejected
    /// (each file; its rows counted once repeated rows are set aside).
    #[arg(long, env = "MAX_REJECT_PCT", default_value = "5", value_name = "PCT")]
    max_reject_pct: Pct,
    /// Refuse a replace that would keep less than this share of the
    /// transactions, customers with a name or an e-mail, products, or any
    /// currency's revenue loaded now (0: off).
    #[arg(long, env = "MIN_KEEP_PCT", default_value = "50", value_name = "PCT")]
    min_keep_pct: Pct,
    /// Longest header line read, in bytes (a longer first line is not an export).
    #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = Limits::default().max_header_bytes)]
    max_header_bytes: usize,
    /// Longest data line, in bytes (a longer line is rejected, not held in memory).
    #[arg(long, env = "MAX_LINE_BYTES", default_value_t = Limits::default().max_line_bytes)]
    max_line_bytes: usize,
    /// Reject transactions dated before this day (YYYY-MM-DD).
    #[arg(long, env = "EARLIEST_DATE", default_value_t = etl::DEFAULT_EARLIEST_DATE,
          value_parser = backend::domain::parse_earliest_date)]
    earliest_date: chrono::NaiveDate,
    /// Reject transactions dated more than this many days after the run (at
    /// most 36500).
    #[arg(long, env = "MAX_DAYS_AHEAD", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(backend::domain::MAX_DAYS_AHEAD)))]
    max_days_ahead: u32,
    #[command(flatten)]
    quality: QualityArgs,
}

impl IngestRules {
    /// The options of a run of `input` in `mode` under these rules.
    fn options(&self, input: PathBuf, mode: Mode, force: bool, dry_run: bool) -> IngestOptions {
        let q = &self.quality;
        IngestOptions {
            input,
            mode,
            force,
            dry_run,
            guard: GuardRails {
                max_reject_pct: self.max_reject_pct,
                min_keep_pct: self.min_keep_pct,
            },
            limits: Limits {
                max_header_bytes: self.max_header_bytes,
                max_line_bytes: self.max_line_bytes,
            },
            earliest_date: self.earliest_date,
            max_days_ahead: self.max_days_ahead,
            quality: q.thresholds.0,
            strict_quality: q.strict_quality,
            freshness_sla_days: q.freshness_sla_days,
            fail_after_rows: None,
            panic_after_rows: None,
            requested_by: "cli".to_owned(),
            recording: recording(),
            input_label: None,
        }
    }
}

/// Where a failed run keeps its record while the database refuses it, and
/// how long the CLI tries (a server's uploads try in the background instead).
fn recording() -> FailureRecording {
    FailureRecording {
        pending_dir: Some(backend::configuration::pending_runs_dir()),
        wait: Some(backend::configuration::record_wait()),
    }
}

/// The quality thresholds of `ingest` (each a percentage, two decimals at most).
#[derive(clap::Args)]
struct QualityArgs {
    /// `--min-quality-score` and one `--min-<dimension>` per dimension.
    #[command(flatten)]
    thresholds: ThresholdArgs,
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

impl From<ModeArg> for Mode {
    fn from(mode: ModeArg) -> Self {
        match mode {
            ModeArg::Replace => Mode::Replace,
            ModeArg::Append => Mode::Append,
        }
    }
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
        from,
        days,
    } = &cli.command
    {
        return match generate(
            out,
            GenerateOptions {
                transactions: *transactions,
                seed: *seed,
                from: *from,
                days: *days,
            },
        ) {
            Ok(()) => {
                println!("wrote {transactions} transactions to {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&format!("cannot write to {}: {e}", out.display())),
        };
    }
    if let Command::Healthcheck { bind, timeout } = &cli.command {
        return match backend::health_probe::ready(bind, std::time::Duration::from_secs(*timeout)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e.to_string()),
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
    let database = DatabaseSettings::from_env().map_err(|e| e.to_string())?;
    tracing::info!(database = %database.redacted(), "using database");
    // The server starts without its database and waits for it; the other
    // commands need it at once.
    let db = match command {
        Command::Serve { .. } => db::connect_lazy(&database).await,
        _ => db::connect(&database).await,
    }
    .map_err(|e| e.to_string())?;
    match command {
        Command::Ingest {
            input,
            mode,
            force,
            dry_run,
            rules,
        } => {
            let options = rules.options(input, mode.into(), force, dry_run);
            let summary = etl::ingest(&db, &options)
                .await
                .map_err(|e| backend::configuration::scrub(&e.to_string(), &database))?;
            print!("{}", summary.render());
            Ok(match summary.status {
                RunStatus::Refused => ExitCode::from(EXIT_REFUSED),
                _ => ExitCode::SUCCESS,
            })
        }
        Command::Serve {
            bind,
            cors_origins,
            allowed_hosts,
            static_dir,
            workers,
            cache_recheck_ms,
            ingest_if_empty,
            allow_anonymous,
            session_hours,
            auth_failures_per_minute,
            trusted_proxies,
            max_upload_mb,
            upload_dir,
            metrics_bind,
            read_database_url,
            rules,
        } => {
            let reads = match read_database_url {
                Some(url) => {
                    let replica = DatabaseSettings::from_url(url.into()).map_err(|e| e.to_string())?;
                    tracing::info!(database = %replica.redacted(), "reading the reports from");
                    Some(db::connect_lazy(&replica).await.map_err(|e| e.to_string())?)
                }
                None => None,
            };
            let allowed_hosts = backend::auth::site::AllowedHosts::from_names(&allowed_hosts)?;
            let settings = ServeSettings {
                bind,
                cors_origins,
                allowed_hosts,
                static_dir: Some(static_dir),
                workers,
                cache_recheck: std::time::Duration::from_millis(cache_recheck_ms),
                auth: AuthSettings {
                    allow_anonymous,
                    session_ttl: std::time::Duration::from_secs(session_hours * 3600),
                    failures_per_minute: auth_failures_per_minute,
                    trusted_proxies,
                    ..AuthSettings::default()
                },
                upload: UploadSettings {
                    max_bytes: max_upload_mb << 20,
                    dir: upload_dir.unwrap_or_else(std::env::temp_dir),
                    defaults: rules.options(PathBuf::new(), Mode::Replace, false, false),
                },
                // A database never loaded (or never migrated) serves 404 no_data, not errors.
                migrate: true,
                ingest_if_empty: ingest_if_empty.map(|dir| IngestOptions {
                    recording: recording(),
                    ..IngestOptions::replace(dir)
                }),
                metrics_bind,
            };
            let app = Application::build_with_reads(&settings, db, reads)
                .await
                .map_err(|e| backend::configuration::scrub(&e.to_string(), &database))?;
            let host = settings.bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
            // startup_ms: from main() to accepting connections (database connected,
            // and any --ingest-if-empty load done).
            tracing::info!(
                startup_ms = started.elapsed().as_millis() as u64,
                "listening on http://{host}:{}",
                app.port()
            );
            app.run_until_stopped()
                .await
                .map_err(|e| backend::configuration::scrub(&e.to_string(), &database))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { action } => {
            {
                use migration::MigratorTrait;
                migration::Migrator::up(&db, None).await.map_err(|e| e.to_string())?;
            }
            match action {
                TokenAction::Create { name, role } => {
                    let role = match role {
                        RoleArg::Reader => Role::Reader,
                        RoleArg::Admin => Role::Admin,
                    };
                    let new = tokens::create(&db, &name, role).await.map_err(|e| e.to_string())?;
                    print!("{}", tokens::render_new(&new));
                }
                TokenAction::List => {
                    print!(
                        "{}",
                        tokens::render_list(&tokens::list(&db).await.map_err(|e| e.to_string())?)
                    );
                }
                TokenAction::Revoke { name } => {
                    tokens::revoke(&db, &name).await.map_err(|e| e.to_string())?;
                    println!("revoked the token {name:?}: it and its sessions stop working within a second");
                }
            }
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
        Command::Generate { .. } | Command::Healthcheck { .. } => Ok(ExitCode::SUCCESS),
    }
}

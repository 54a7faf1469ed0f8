//! The command line: every command, flag and environment variable the
//! binary reads, with its default, and how they become the crates' settings.

use std::num::NonZeroU32;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::auth::guard::{DEFAULT_FAILURES_PER_MINUTE, DEFAULT_SESSION_HOURS};
use crate::auth::AuthSettings;
use crate::etl::kpi::QualityThresholds;
use crate::etl::{self, FailureRecording, GuardRails, IngestOptions, Limits, Mode, Pct};
use crate::generate::GenerateOptions;
use crate::startup::{ServeSettings, DEFAULT_BIND, DEFAULT_STATIC_DIR};
use crate::telemetry::RequestLogLevel;
use crate::uploads::UploadSettings;
use crate::uploads::DEFAULT_MAX_UPLOAD_MB;

/// Revenue analytics over SaaS billing exports.
///
/// The database is `DATABASE_URL` (postgres://… or sqlite://…), or the URL in the
/// file named by `DATABASE_URL_FILE`; with neither, the embedded SQLite file
/// data/revenue.db (created on demand).
#[derive(Parser)]
#[command(name = "backend", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once at start-up: the size of its largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Command {
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
    Serve(ServeArgs),
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
        #[arg(long, env = "BIND", default_value = DEFAULT_BIND)]
        bind: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 5)]
        timeout: u64,
    },
    /// Write deterministic sample exports in the real export's format and quirks.
    Generate {
        /// Number of transactions (users.csv gets one row per transaction).
        #[arg(long, default_value_t = GenerateOptions::default().transactions)]
        transactions: u64,
        /// Random seed: the same seed writes the same files.
        #[arg(long, default_value_t = GenerateOptions::default().seed)]
        seed: u64,
        /// Output folder (created if missing).
        #[arg(long, default_value = "input")]
        out: PathBuf,
        /// The first day of the transactions (YYYY-MM-DD).
        #[arg(long, default_value_t = GenerateOptions::default().from)]
        from: chrono::NaiveDate,
        /// The days they spread over.
        #[arg(long, default_value_t = GenerateOptions::default().days)]
        days: u32,
    },
}

/// The flags of `serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = DEFAULT_BIND)]
    pub bind: String,
    /// Origins allowed to call the API cross-origin (repeat or comma-separate;
    /// `*` for any). Default: same origin only.
    #[arg(long = "cors-origin", env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// A host name the server answers for besides its own addresses and
    /// localhost (repeat or comma-separate; `*.example.com` for every name
    /// below example.com; `*` for any). Requests naming another host in
    /// `Host` are refused with 421 (DNS rebinding).
    #[arg(long = "allowed-host", env = "ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,
    /// The built dashboard to serve at `/` (output of `trunk build --release`).
    #[arg(long, env = "STATIC_DIR", default_value = DEFAULT_STATIC_DIR)]
    pub static_dir: PathBuf,
    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "WORKERS")]
    pub workers: Option<usize>,
    /// How often the report cache asks the database for a newer run, in
    /// milliseconds (a new ingest shows in the API within this time).
    #[arg(long, env = "REPORT_CACHE_RECHECK_MS", default_value_t = crate::reports::RECHECK_MS)]
    pub cache_recheck_ms: u64,
    /// Ingest this folder before serving if the database holds no data yet.
    #[arg(long)]
    pub ingest_if_empty: Option<PathBuf>,
    /// Serve without tokens on a non-loopback address: anyone who reaches it
    /// reads everything and uploads.
    #[arg(long, env = "ALLOW_ANONYMOUS")]
    pub allow_anonymous: bool,
    /// How long a dashboard sign-in lasts, in hours.
    #[arg(long, env = "SESSION_HOURS", default_value_t = DEFAULT_SESSION_HOURS, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub session_hours: u64,
    /// Failed sign-in attempts allowed per client address and minute (then 429).
    #[arg(long, env = "AUTH_FAILURES_PER_MINUTE", default_value_t = DEFAULT_FAILURES_PER_MINUTE)]
    pub auth_failures_per_minute: NonZeroU32,
    /// A reverse proxy (address or network, repeatable, or comma-separated
    /// in the variable) whose X-Forwarded-For names the client: failed
    /// sign-ins are then limited per client, not per proxy.
    #[arg(long = "trusted-proxy", env = "TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = crate::auth::guard::parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Largest upload (`POST /ingests`, the files together), in MiB.
    #[arg(long, env = "MAX_UPLOAD_MB", default_value_t = DEFAULT_MAX_UPLOAD_MB, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub max_upload_mb: u64,
    /// Where uploads are stored while their run lasts (default: the system's temporary folder).
    #[arg(long, env = "UPLOAD_DIR")]
    pub upload_dir: Option<PathBuf>,
    /// Serve the Prometheus metrics on this address, without access control
    /// (a monitoring network's), instead of at /metrics of the main address
    /// (where they need a reader token).
    #[arg(long, env = "METRICS_BIND")]
    pub metrics_bind: Option<String>,
    /// Read the reports from this database (a PostgreSQL streaming-replication
    /// standby of DATABASE_URL), e.g. to spread readers over replicas.
    /// Ingests, uploads, sign-ins and migrations still go to DATABASE_URL.
    #[arg(long, env = "READ_DATABASE_URL", hide_env_values = true)]
    pub read_database_url: Option<String>,
    /// The level of a successful request's log line: info, debug or off
    /// (client errors log at info, server errors always).
    #[arg(long, env = "REQUEST_LOG", value_name = "LEVEL",
          default_value_t = RequestLogLevel::default(),
          value_parser = OrDefault(RequestLogLevel::default()))]
    pub request_log: RequestLogLevel,
    #[command(flatten)]
    pub rules: IngestRules,
}

impl ServeArgs {
    /// The server's settings (all but the read replica, which `serve`
    /// connects to itself).
    pub fn settings(&self) -> Result<ServeSettings, String> {
        Ok(ServeSettings {
            bind: self.bind.clone(),
            cors_origins: self.cors_origins.clone(),
            allowed_hosts: crate::auth::site::AllowedHosts::from_names(&self.allowed_hosts)?,
            static_dir: Some(self.static_dir.clone()),
            workers: self.workers,
            cache_recheck: std::time::Duration::from_millis(self.cache_recheck_ms),
            auth: AuthSettings {
                allow_anonymous: self.allow_anonymous,
                session_ttl: std::time::Duration::from_secs(self.session_hours * 3600),
                failures_per_minute: self.auth_failures_per_minute,
                trusted_proxies: self.trusted_proxies.clone(),
                ..AuthSettings::default()
            },
            upload: UploadSettings {
                max_bytes: self.max_upload_mb << 20,
                dir: self.upload_dir.clone().unwrap_or_else(std::env::temp_dir),
                defaults: self.rules.options(PathBuf::new(), Mode::Replace, false, false),
            },
            // A database never loaded (or never migrated) serves 404 no_data, not errors.
            migrate: true,
            ingest_if_empty: self.ingest_if_empty.clone().map(|dir| IngestOptions {
                recording: self.rules.recording(),
                progress_interval: self.rules.progress_interval(),
                ..IngestOptions::replace(dir)
            }),
            metrics_bind: self.metrics_bind.clone(),
            request_log: self.request_log,
        })
    }
}

#[derive(Subcommand)]
pub enum TokenAction {
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
pub enum RoleArg {
    Reader,
    Admin,
}

/// The rules of every ingest, by `ingest` or by an upload to `serve`.
#[derive(clap::Args)]
pub struct IngestRules {
    /// Refuse the run when more than this share of a file's rows is rejected
    /// (each file; its rows counted once repeated rows are set aside).
    #[arg(long, env = "MAX_REJECT_PCT", default_value_t = GuardRails::default().max_reject_pct, value_name = "PCT")]
    pub max_reject_pct: Pct,
    /// Refuse a replace that would keep less than this share of the
    /// transactions, customers with a name or an e-mail, products, or any
    /// currency's revenue loaded now (0: off).
    #[arg(long, env = "MIN_KEEP_PCT", default_value_t = GuardRails::default().min_keep_pct, value_name = "PCT")]
    pub min_keep_pct: Pct,
    /// Longest header line read, in bytes (a longer first line is not an export).
    #[arg(long, env = "MAX_HEADER_BYTES", default_value_t = Limits::default().max_header_bytes)]
    pub max_header_bytes: usize,
    /// Longest data line, in bytes (a longer line is rejected, not held in memory).
    #[arg(long, env = "MAX_LINE_BYTES", default_value_t = Limits::default().max_line_bytes)]
    pub max_line_bytes: usize,
    /// Reject transactions dated before this day (YYYY-MM-DD).
    #[arg(long, env = "EARLIEST_DATE", default_value_t = etl::DEFAULT_EARLIEST_DATE,
          value_parser = crate::domain::parse_earliest_date)]
    pub earliest_date: chrono::NaiveDate,
    /// Reject transactions dated more than this many days after the run (at
    /// most 36500).
    #[arg(long, env = "MAX_DAYS_AHEAD", default_value_t = etl::DEFAULT_MAX_DAYS_AHEAD,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(crate::domain::MAX_DAYS_AHEAD)))]
    pub max_days_ahead: u32,
    /// How often a run logs its progress when stderr is not a terminal, in
    /// milliseconds.
    #[arg(long, env = "PROGRESS_INTERVAL_MS", value_name = "MS",
          default_value_t = etl::progress::DEFAULT_INTERVAL_MS,
          value_parser = OrDefault(etl::progress::DEFAULT_INTERVAL_MS))]
    pub progress_interval_ms: u64,
    /// Where a failed run keeps the record of its failure while the database
    /// refuses it (relative: to the working directory); `ingest` and `serve`
    /// record the files they find there.
    #[arg(long, env = "PENDING_RUNS_DIR", value_name = "DIR",
          default_value = etl::record::DEFAULT_PENDING_DIR,
          value_parser = PathOrDefault(etl::record::DEFAULT_PENDING_DIR))]
    pub pending_runs_dir: PathBuf,
    /// How long `ingest` (and `serve --ingest-if-empty`) goes on trying to
    /// record its failure before it gives up, in seconds (an upload's run
    /// tries in the background).
    #[arg(long, env = "RUN_RECORD_WAIT_SECS", value_name = "SECS",
          default_value_t = etl::record::DEFAULT_WAIT_SECS,
          value_parser = OrDefault(etl::record::DEFAULT_WAIT_SECS))]
    pub run_record_wait_secs: u64,
    #[command(flatten)]
    pub quality: QualityArgs,
}

impl IngestRules {
    /// The options of a run of `input` in `mode` under these rules.
    pub fn options(&self, input: PathBuf, mode: Mode, force: bool, dry_run: bool) -> IngestOptions {
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
            quality: QualityThresholds {
                overall: q.min_quality_score,
                completeness: q.min_completeness,
                validity: q.min_validity,
                uniqueness: q.min_uniqueness,
                consistency: q.min_consistency,
                integrity: q.min_integrity,
                timeliness: q.min_timeliness,
            },
            strict_quality: q.strict_quality,
            freshness_sla_days: q.freshness_sla_days,
            fail_after_rows: None,
            panic_after_rows: None,
            requested_by: "cli".to_owned(),
            recording: self.recording(),
            progress_interval: self.progress_interval(),
            input_label: None,
        }
    }

    /// Where a failed run keeps its record while the database refuses it, and
    /// how long the CLI tries (a server's uploads try in the background instead).
    pub fn recording(&self) -> FailureRecording {
        FailureRecording {
            pending_dir: Some(self.pending_runs_dir.clone()),
            wait: Some(std::time::Duration::from_secs(self.run_record_wait_secs)),
        }
    }

    /// How often a run logs its progress (at least every millisecond).
    pub fn progress_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.progress_interval_ms.max(1))
    }
}

/// The quality thresholds of `ingest` (each a percentage, two decimals at most).
#[derive(clap::Args)]
pub struct QualityArgs {
    /// Minimum overall quality score: below it, a warning and an alert.
    #[arg(long, env = "MIN_QUALITY_SCORE", default_value_t = QualityThresholds::default().overall, value_name = "PCT")]
    pub min_quality_score: Pct,
    /// Minimum completeness (customers with a name and an e-mail).
    #[arg(long, env = "MIN_COMPLETENESS", default_value_t = QualityThresholds::default().completeness, value_name = "PCT")]
    pub min_completeness: Pct,
    /// Minimum validity (rows not rejected).
    #[arg(long, env = "MIN_VALIDITY", default_value_t = QualityThresholds::default().validity, value_name = "PCT")]
    pub min_validity: Pct,
    /// Minimum uniqueness (transaction rows not repeated).
    #[arg(long, env = "MIN_UNIQUENESS", default_value_t = QualityThresholds::default().uniqueness, value_name = "PCT")]
    pub min_uniqueness: Pct,
    /// Minimum consistency (customers without conflicting names or e-mails).
    #[arg(long, env = "MIN_CONSISTENCY", default_value_t = QualityThresholds::default().consistency, value_name = "PCT")]
    pub min_consistency: Pct,
    /// Minimum referential integrity (transactions with a known subscription and customer).
    #[arg(long, env = "MIN_INTEGRITY", default_value_t = QualityThresholds::default().integrity, value_name = "PCT")]
    pub min_integrity: Pct,
    /// Minimum timeliness (freshness of the latest transaction).
    #[arg(long, env = "MIN_TIMELINESS", default_value_t = QualityThresholds::default().timeliness, value_name = "PCT")]
    pub min_timeliness: Pct,
    /// Refuse the run (nothing committed, exit 3) when a dimension is below its minimum.
    #[arg(long, env = "STRICT_QUALITY")]
    pub strict_quality: bool,
    /// The freshness target of the timeliness dimension, in days.
    #[arg(long, env = "FRESHNESS_SLA_DAYS", default_value_t = etl::DEFAULT_FRESHNESS_SLA_DAYS)]
    pub freshness_sla_days: u32,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
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

/// A number read as these variables always were, before clap read them:
/// trimmed, and the default when it is empty or not a number (a typo in a
/// tuning variable never stopped a run).
#[derive(Clone)]
struct OrDefault<T>(T);

impl<T> clap::builder::TypedValueParser for OrDefault<T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
{
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        Ok(value
            .to_str()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| self.0.clone()))
    }
}

/// A folder read as these variables always were: any path, the default when empty.
#[derive(Clone)]
struct PathOrDefault(&'static str);

impl clap::builder::TypedValueParser for PathOrDefault {
    type Value = PathBuf;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<PathBuf, clap::Error> {
        Ok(PathBuf::from(if value.is_empty() {
            std::ffi::OsStr::new(self.0)
        } else {
            value
        }))
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    /// `backend ARGS…` parsed as if no variable were set: the defaults alone.
    fn parse(args: &[&str]) -> Command {
        let cli = Cli::command().mut_subcommands(|sub| sub.mut_args(|arg| arg.env(None::<&str>)));
        let matches = cli
            .try_get_matches_from(std::iter::once("backend").chain(args.iter().copied()))
            .unwrap();
        Cli::from_arg_matches(&matches).unwrap().command
    }

    #[test]
    fn serve_defaults_are_the_servers() {
        let Command::Serve(args) = parse(&["serve"]) else {
            panic!("not serve")
        };
        assert_eq!(
            format!("{:?}", args.settings().unwrap()),
            format!("{:?}", ServeSettings::default())
        );
    }

    #[test]
    fn ingest_defaults_are_the_etls() {
        let Command::Ingest {
            input,
            mode,
            force,
            dry_run,
            rules,
        } = parse(&["ingest"])
        else {
            panic!("not ingest")
        };
        assert_eq!(
            format!("{:?}", rules.options(input, mode.into(), force, dry_run)),
            format!("{:?}", IngestOptions::replace("input"))
        );
    }

    #[test]
    fn generate_defaults_are_the_generators() {
        let Command::Generate {
            transactions,
            seed,
            from,
            days,
            ..
        } = parse(&["generate"])
        else {
            panic!("not generate")
        };
        let defaults = GenerateOptions::default();
        assert_eq!(
            (transactions, seed, from, days),
            (defaults.transactions, defaults.seed, defaults.from, defaults.days)
        );
    }

    /// The variables parse as they did before clap read them: trimmed, the
    /// default when empty or unparsable.
    #[test]
    fn tuning_variables_fall_back_to_their_defaults() {
        use clap::builder::TypedValueParser;
        let cmd = Cli::command();
        let number = OrDefault(5000u64);
        let parse = |v: &str| number.parse_ref(&cmd, None, std::ffi::OsStr::new(v)).unwrap();
        assert_eq!((parse(" 7 "), parse(""), parse("x")), (7, 5000, 5000));
        let level = OrDefault(RequestLogLevel::default());
        let level = |v: &str| level.parse_ref(&cmd, None, std::ffi::OsStr::new(v)).unwrap();
        assert_eq!(
            (level(" debug"), level("off"), level("DEBUG")),
            (RequestLogLevel::Debug, RequestLogLevel::Off, RequestLogLevel::Info)
        );
        let dir = PathOrDefault("data/pending-runs");
        let dir = |v: &str| dir.parse_ref(&cmd, None, std::ffi::OsStr::new(v)).unwrap();
        assert_eq!(
            (dir(""), dir(" x")),
            (PathBuf::from("data/pending-runs"), PathBuf::from(" x"))
        );
    }
}

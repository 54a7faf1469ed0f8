//! The flags of `serve`, and the server's settings they make.

use std::num::NonZeroU32;
use std::path::PathBuf;

use super::ingest::IngestRules;
use super::lenient::OrDefault;
use crate::auth::guard::{DEFAULT_FAILURES_PER_MINUTE, DEFAULT_SESSION_HOURS};
use crate::auth::AuthSettings;
use crate::drill_downs::{DrillDownSettings, DEFAULT_LIMIT as DEFAULT_DRILL_DOWN_LIMIT};
use crate::etl::{IngestOptions, Mode};
use crate::startup::{ServeSettings, DEFAULT_BIND, DEFAULT_STATIC_DIR};
use crate::telemetry::RequestLogLevel;
use crate::uploads::{UploadSettings, DEFAULT_MAX_UPLOAD_MB};

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
          value_parser = crate::auth::client::parse_proxy)]
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
    /// How many month and customer pages (the drill-downs, which read the
    /// facts on every request) read the database at once; more wait up to a
    /// second, then answer 503 `busy`. Below the database pool's size, so
    /// that the other reports, the ingest history and sign-in always find a
    /// connection.
    #[arg(long, env = "DRILL_DOWN_LIMIT", default_value_t = DEFAULT_DRILL_DOWN_LIMIT,
          value_parser = clap::value_parser!(u32).range(1..i64::from(crate::db::POOL_SIZE)))]
    pub drill_down_limit: u32,
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
            drill_downs: DrillDownSettings {
                limit: self.drill_down_limit,
                ..DrillDownSettings::default()
            },
        })
    }
}

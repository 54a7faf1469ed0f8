//! The rules of every ingest (flags of `ingest` and `serve`), and the run
//! options they make.

use std::path::PathBuf;

use super::lenient::{OrDefault, PathOrDefault};
use crate::etl::{self, FailureRecording, GuardRails, IngestOptions, Limits, Mode, Pct};
use crate::quality_thresholds::ThresholdArgs;

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
            quality: q.thresholds.0,
            strict_quality: q.strict_quality,
            freshness_sla_days: q.freshness_sla_days,
            fail_after_rows: None,
            panic_after_rows: None,
            requested_by: "cli".to_owned(),
            audience: etl::Audience::Cli,
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
    /// `--min-quality-score` and one `--min-<dimension>` per dimension.
    #[command(flatten)]
    pub thresholds: ThresholdArgs,
    /// Refuse the run (nothing committed, exit 3) when a dimension is below its minimum.
    #[arg(long, env = "STRICT_QUALITY")]
    pub strict_quality: bool,
    /// The freshness target of the timeliness dimension, in days.
    #[arg(long, env = "FRESHNESS_SLA_DAYS", default_value_t = etl::DEFAULT_FRESHNESS_SLA_DAYS)]
    pub freshness_sla_days: u32,
}

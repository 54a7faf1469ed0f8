//! The command line: every command, flag and environment variable the
//! binary reads, with its default, and how they become the crates' settings
//! ([`ServeArgs::settings`], [`IngestRules::options`]). Each default is the
//! crate's own constant or `Default`, never a second copy.

mod ingest;
mod lenient;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::etl::Mode;
use crate::generate::GenerateOptions;
use crate::startup::DEFAULT_BIND;

pub use ingest::{IngestRules, QualityArgs};
pub use serve::ServeArgs;

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

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::lenient::{OrDefault, PathOrDefault};
    use super::*;
    use crate::etl::IngestOptions;
    use crate::startup::ServeSettings;
    use crate::telemetry::RequestLogLevel;

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

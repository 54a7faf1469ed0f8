//! `backend`: ingest billing exports, serve the API and dashboard, generate sample data.

use std::path::PathBuf;
use std::process::ExitCode;

use backend::configuration::DatabaseSettings;
use backend::etl::{self, IngestOptions};
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
    /// users.csv into the star schema, replacing the previous data atomically.
    Ingest {
        /// Folder holding the three export files.
        #[arg(long, default_value = "input")]
        input: PathBuf,
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
        /// Ingest this folder before serving if the database holds no data yet.
        #[arg(long)]
        ingest_if_empty: Option<PathBuf>,
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
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn run(command: Command, started: std::time::Instant) -> Result<(), String> {
    telemetry::init("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn");
    let settings = DatabaseSettings::from_env().map_err(|e| e.to_string())?;
    tracing::info!(database = %settings.redacted(), "using database");
    let db = db::connect(&settings).await.map_err(|e| e.to_string())?;
    match command {
        Command::Ingest { input } => {
            let summary = etl::ingest(
                &db,
                &IngestOptions {
                    input,
                    fail_after_rows: None,
                },
            )
            .await
            .map_err(|e| backend::configuration::scrub(&e.to_string(), &settings))?;
            println!(
                "{:<18} {:>10} {:>10} {:>10} {:>10}",
                "file", "read", "loaded", "duplicate", "rejected"
            );
            for f in &summary.files {
                println!(
                    "{:<18} {:>10} {:>10} {:>10} {:>10}",
                    f.file, f.counts.read, f.counts.loaded, f.counts.duplicates, f.counts.rejected
                );
            }
            println!(
                "run {}: {} customers ({} only in transactions, {} without transactions, {} multi-currency), {} products on {} subscriptions",
                summary.run_id,
                summary.customers,
                summary.customers_only_in_transactions,
                summary.customers_without_transactions,
                summary.multi_currency_customers,
                summary.products,
                summary.subscriptions
            );
            Ok(())
        }
        Command::Serve {
            bind,
            cors_origins,
            static_dir,
            workers,
            ingest_if_empty,
        } => {
            if let Some(input) = ingest_if_empty {
                use migration::MigratorTrait;
                use sea_orm::{EntityTrait, PaginatorTrait};
                migration::Migrator::up(&db, None).await.map_err(|e| e.to_string())?;
                let runs = backend::entities::etl_run::Entity::find()
                    .count(&db)
                    .await
                    .map_err(|e| e.to_string())?;
                if runs == 0 {
                    etl::ingest(
                        &db,
                        &IngestOptions {
                            input,
                            fail_after_rows: None,
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                }
            }
            let settings = ServeSettings {
                bind,
                cors_origins,
                static_dir: Some(static_dir),
                workers,
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
            app.run_until_stopped().await.map_err(|e| e.to_string())
        }
        Command::Generate { .. } => Ok(()),
    }
}

//! `backend`: ingest billing exports, serve the API and dashboard, generate sample data.

use std::process::ExitCode;

use backend::auth::{tokens, Role};
use backend::command_error::CliError;
use backend::configuration::DatabaseSettings;
use backend::etl::{self, RunStatus};
use backend::generate::{generate, GenerateOptions};
use backend::settings::{Cli, Command, RoleArg, ServeArgs, TokenAction};
use backend::startup::Application;
use backend::{db, telemetry};
use clap::Parser;
use sea_orm::DatabaseConnection;

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
    let database = match DatabaseSettings::from_env() {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    // Before the runtime's threads: it sets a variable of the environment.
    let replica = match &cli.command {
        Command::Serve(args) => args.read_database_url.as_deref(),
        _ => None,
    };
    db::trust_roots::skip_unread_trust_roots(&database, replica);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match runtime.block_on(run(cli.command, &database, started)) {
        Ok(code) => code,
        // Any message may quote the URL: never print its password.
        Err(e) => fail(&backend::configuration::scrub(&e.to_string(), &database)),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

async fn run(command: Command, database: &DatabaseSettings, started: std::time::Instant) -> Result<ExitCode, CliError> {
    telemetry::init("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn");
    tracing::info!(database = %database.redacted(), "using database");
    // The server starts without its database and waits for it; the other
    // commands need it at once.
    let db = match command {
        Command::Serve(_) => db::connect_lazy(database).await,
        _ => db::connect(database).await,
    }?;
    match command {
        Command::Ingest {
            input,
            mode,
            force,
            dry_run,
            rules,
        } => ingest(&db, &rules.options(input, mode.into(), force, dry_run)).await,
        Command::Serve(args) => serve(db, &args, started).await,
        Command::Token { action } => token(&db, action).await,
        Command::History { run, limit, rows } => history(&db, run, limit, rows).await,
        Command::Generate { .. } | Command::Healthcheck { .. } => Ok(ExitCode::SUCCESS),
    }
}

/// `backend ingest`: the run's summary on stdout; a refused run exits 3.
async fn ingest(db: &DatabaseConnection, options: &etl::IngestOptions) -> Result<ExitCode, CliError> {
    let summary = etl::ingest(db, options).await?;
    print!("{}", summary.render());
    Ok(match summary.status {
        RunStatus::Refused => ExitCode::from(EXIT_REFUSED),
        _ => ExitCode::SUCCESS,
    })
}

/// `backend serve`: until stopped (SIGTERM or Ctrl-C).
async fn serve(db: DatabaseConnection, args: &ServeArgs, started: std::time::Instant) -> Result<ExitCode, CliError> {
    let reads = match &args.read_database_url {
        Some(url) => {
            let replica = DatabaseSettings::from_url(url.clone().into())?;
            tracing::info!(database = %replica.redacted(), "reading the reports from");
            Some(db::connect_lazy(&replica).await?)
        }
        None => None,
    };
    let settings = args.settings().map_err(CliError::Settings)?;
    let app = Application::build_with_reads(&settings, db, reads).await?;
    let host = settings.bind.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
    // startup_ms: from main() to accepting connections (database connected,
    // and any --ingest-if-empty load done).
    tracing::info!(
        startup_ms = started.elapsed().as_millis() as u64,
        "listening on http://{host}:{}",
        app.port()
    );
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// `backend token create|list|revoke`.
async fn token(db: &DatabaseConnection, action: TokenAction) -> Result<ExitCode, CliError> {
    migrate(db).await?;
    match action {
        TokenAction::Create { name, role } => {
            let role = match role {
                RoleArg::Reader => Role::Reader,
                RoleArg::Admin => Role::Admin,
            };
            let new = tokens::create(db, &name, role).await?;
            print!("{}", tokens::render_new(&new));
        }
        TokenAction::List => print!("{}", tokens::render_list(&tokens::list(db).await?)),
        TokenAction::Revoke { name } => {
            tokens::revoke(db, &name).await?;
            println!("revoked the token {name:?}: it and its sessions stop working within a second");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `backend history [run]`: the run list, or one run with its rejected rows.
async fn history(db: &DatabaseConnection, run: Option<i64>, limit: u32, rows: u32) -> Result<ExitCode, CliError> {
    migrate(db).await?;
    let text = backend::cli::history(db, run, limit, rows)
        .await
        .map_err(CliError::History)?;
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The commands that read the audit tables bring the schema up to date first
/// (as `ingest` and `serve` do), so they work on a database never ingested into.
async fn migrate(db: &DatabaseConnection) -> Result<(), CliError> {
    use migration::MigratorTrait;
    Ok(migration::Migrator::up(db, None).await?)
}

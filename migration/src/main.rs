//! `cargo run -p migration -- up | down | fresh | status` against `DATABASE_URL`.
//!
//! Like the backend, an unset `DATABASE_URL` means the embedded SQLite file
//! `data/revenue.db` (created on demand), and `DATABASE_URL_FILE` may name a file
//! holding the URL (container secret mounts).
//!
//! A connection that fails ends the process with a message naming the server
//! and the cause (exit status 1), never a panic: sea-orm-migration's own
//! `run_cli` panics there, so the connection is made here.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectOptions, Database, DbConn, DbErr};

#[tokio::main]
async fn main() {
    if let Err(message) = migration::resolve_database_url_env() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
    cli::run_cli_with_connection(migration::Migrator, connect_or_exit).await;
}

async fn connect_or_exit(options: ConnectOptions) -> Result<DbConn, DbErr> {
    let url = options.get_url().to_owned();
    let connected = match migration::connect::try_once(&url).await {
        Ok(()) => Database::connect(options).await,
        Err(e) => Err(e),
    };
    match connected {
        Ok(db) => {
            // `status` says what the migrations chose (SQLite, PostgreSQL, Citus).
            if std::env::args().skip(1).any(|a| a == "status") {
                match migration::mode(&db).await {
                    Ok(mode) => println!("Mode: {mode}"),
                    Err(e) => println!("Mode: unknown ({e})"),
                }
            }
            Ok(db)
        }
        Err(e) => {
            eprintln!("error: {}", migration::connect::describe(&url, &e));
            std::process::exit(1);
        }
    }
}

//! `cargo run -p migration -- up | down | fresh | status` against `DATABASE_URL`.
//!
//! Like the backend, an unset `DATABASE_URL` means the embedded SQLite file
//! `data/revenue.db` (created on demand), and `DATABASE_URL_FILE` may name a file
//! holding the URL (container secret mounts).

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    if let Err(message) = migration::resolve_database_url_env() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
    cli::run_cli(migration::Migrator).await;
}

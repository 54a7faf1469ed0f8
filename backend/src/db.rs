//! Connecting to the configured database.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use secrecy::ExposeSecret;

use crate::configuration::{scrub, DatabaseSettings};

/// Why the database could not be reached; the message never holds the password.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {url}: {message}")]
pub struct ConnectError {
    pub url: String,
    pub message: String,
}

/// Opens a pool. SQLite files get WAL, so readers keep reading during an ingest.
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, ConnectError> {
    let mut options = ConnectOptions::new(settings.url().expose_secret().to_owned());
    options
        .max_connections(16)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let fail = |e: sea_orm::DbErr| ConnectError {
        url: settings.redacted(),
        message: scrub(&e.to_string(), settings),
    };
    let db = Database::connect(options).await.map_err(fail)?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL").await.map_err(fail)?;
    }
    Ok(db)
}

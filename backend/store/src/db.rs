//! Connecting to the configured database, and what a process must know
//! about it: whether it is reachable, whether it takes writes ([`writes`]),
//! and whether a SQLite file is still the one opened ([`file`]).

pub mod file;
pub mod trust_roots;
pub mod writes;

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use secrecy::ExposeSecret;

use crate::settings::{scrub, DatabaseSettings};

/// Why the database could not be reached; the message never holds the password.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to {url}: {message}")]
pub struct ConnectError {
    pub url: String,
    pub message: String,
}

/// Connections the pool of one process holds at most.
pub const POOL_SIZE: u32 = 16;

fn options(settings: &DatabaseSettings) -> ConnectOptions {
    let url = settings.url().expose_secret();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(POOL_SIZE)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if existing_sqlite_file(url) {
        // Never created again by this process: a connection opened after the
        // file was deleted fails, instead of starting an empty database at
        // its path that would then be served (or loaded into) as the data.
        options.map_sqlx_sqlite_opts(|o| o.create_if_missing(false));
    }
    options
}

/// Whether `url` names a SQLite file that exists.
fn existing_sqlite_file(url: &str) -> bool {
    use std::str::FromStr;
    if !url.starts_with("sqlite:") {
        return false;
    }
    sqlx::sqlite::SqliteConnectOptions::from_str(url).is_ok_and(|o| o.get_filename().is_file())
}

/// The cause in the words every command uses (`migration::connect::cause`:
/// the TLS, network or server error without the drivers' wrappers).
fn failed(settings: &DatabaseSettings) -> impl Fn(sea_orm::DbErr) -> ConnectError + '_ {
    |e| ConnectError {
        url: settings.redacted(),
        message: scrub(&migration::connect::cause(&e), settings),
    }
}

/// Opens a pool, connecting now (the commands: they need the database at once).
/// One attempt comes first, so that a server that refuses or fails the
/// connection says why at once (`migration::connect::try_once`).
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, ConnectError> {
    migration::connect::try_once(settings.url().expose_secret())
        .await
        .map_err(failed(settings))?;
    let db = Database::connect(options(settings)).await.map_err(failed(settings))?;
    prepare(&db).await.map_err(failed(settings))?;
    Ok(db)
}

/// A pool that connects on first use and again after the database went away
/// (the server: it starts, and goes on, without its database). Fails only on
/// a URL it cannot use.
pub async fn connect_lazy(settings: &DatabaseSettings) -> Result<DatabaseConnection, ConnectError> {
    let mut options = options(settings);
    options.connect_lazy(true);
    Database::connect(options).await.map_err(failed(settings))
}

/// A pool, and a connection beside it for asking whether its database
/// answers. Asked through the pool itself, the question would wait for one
/// of its connections, which slow requests may all hold: a busy database
/// would pass for one that is down.
pub struct Probe {
    pool: DatabaseConnection,
    /// A pool of one connection, to the same database with the same options
    /// (a SQLite file is still never created): connects on first use, and
    /// again after the connection was lost.
    own: DatabaseConnection,
}

impl Probe {
    /// A probe of `pool`, waiting at most `timeout` for its own connection.
    pub fn new(pool: &DatabaseConnection, timeout: Duration) -> Self {
        use sea_orm::{SqlxPostgresConnector, SqlxSqliteConnector};
        let own = match pool {
            DatabaseConnection::SqlxPostgresPoolConnection(_) => {
                let options = pool.get_postgres_connection_pool().connect_options();
                let own = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .min_connections(0)
                    .acquire_timeout(timeout)
                    .connect_lazy_with((*options).clone());
                SqlxPostgresConnector::from_sqlx_postgres_pool(own)
            }
            DatabaseConnection::SqlxSqlitePoolConnection(_) => {
                let options = pool.get_sqlite_connection_pool().connect_options();
                let own = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(0)
                    .acquire_timeout(timeout)
                    .connect_lazy_with((*options).clone());
                SqlxSqliteConnector::from_sqlx_sqlite_pool(own)
            }
            // Not a pool of its own (a mock, or disconnected): asked as it is.
            other => other.clone(),
        };
        Self {
            pool: pool.clone(),
            own,
        }
    }

    /// The connection to ask over; an error when the pool itself was closed
    /// (it serves nothing, whatever the database answers).
    pub fn connection(&self) -> Result<&DatabaseConnection, sea_orm::DbErr> {
        let closed = match &self.pool {
            DatabaseConnection::SqlxPostgresPoolConnection(_) => self.pool.get_postgres_connection_pool().is_closed(),
            DatabaseConnection::SqlxSqlitePoolConnection(_) => self.pool.get_sqlite_connection_pool().is_closed(),
            _ => false,
        };
        match closed {
            true => Err(sea_orm::DbErr::ConnectionAcquire(
                sea_orm::error::ConnAcquireErr::ConnectionClosed,
            )),
            false => Ok(&self.own),
        }
    }
}

pub use writes::{is_read_only, Writes};

/// What a database needs once per process: SQLite files get WAL, so readers
/// keep reading during an ingest (it is stored in the file: idempotent). A
/// read-only file keeps its journal mode: it is served for reads as it is.
pub async fn prepare(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        match db.execute_unprepared("PRAGMA journal_mode = WAL").await {
            Ok(_) => {}
            Err(e) if is_read_only(&e) => {
                tracing::info!("the SQLite database is read-only: its journal mode stays as it is");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Whether `e` is a statement cancelled by a conflict with other work, which
/// the same statement later would not meet: a serialization failure (what a
/// hot standby raises when it cancels a read that holds up its replay) or a
/// deadlock.
pub fn is_conflict(e: &sea_orm::DbErr) -> bool {
    matches!(sqlx_error(e), Some(sqlx::Error::Database(db)) if db.code().is_some_and(|c| c == "40001" || c == "40P01"))
}

/// The driver's error under a statement's failure, if that is what `e` is.
fn sqlx_error(e: &sea_orm::DbErr) -> Option<&sqlx::Error> {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// Whether `e` says the database could not be reached (down, starting,
/// refusing connections, the connection lost), rather than that it refused
/// a statement: worth retrying later, and a 503, not a 500.
pub fn is_unreachable(e: &sea_orm::DbErr) -> bool {
    use sea_orm::DbErr;
    if matches!(e, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)) {
        return true;
    }
    let Some(sqlx) = sqlx_error(e) else {
        return false;
    };
    match sqlx {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // Class 57: the server is shutting down, starting, or ended the session;
        // 08: connection exceptions.
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")),
        _ => false,
    }
}

//! The database the writes go to, and how an unreachable one is retried.

use std::time::Duration;

use sea_orm::DatabaseConnection;

/// The first pause before trying an unreachable database again.
pub const FIRST_RETRY: Duration = Duration::from_millis(250);
/// The longest pause between two tries (also the `Retry-After` of a 503).
pub const LAST_RETRY: Duration = Duration::from_secs(5);

/// The database ingests (and uploads, sign-outs, the session key) write to.
/// The reports read the pool registered as `web::Data<DatabaseConnection>`:
/// the same database, or a streaming-replication standby of it
/// (`--read-database-url`).
pub struct Primary(pub DatabaseConnection);

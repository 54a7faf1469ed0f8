//! One ingest at a time per database, held for the whole run — from marking
//! the runs that a kill left `running` as abandoned, to the run's last record
//! — so that a second ingest waits (and says so) instead of failing or
//! taking the first one for dead.
//!
//! PostgreSQL: a session advisory lock on a connection of its own, closed
//! (never returned to the pool) when the ingest ends, so a crash releases it.
//! SQLite: an exclusive `flock` on `<database file>.ingest-lock` (beside the
//! file its path resolves to, whatever name a process gives it), released by
//! the operating system when the process ends, however it ends.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::error::EtlError;

/// Serializes ingests into one PostgreSQL database (any constant; "revenue").
const INGEST_LOCK: i64 = 0x0072_6576_656e_7565;

/// Held while an ingest runs.
pub enum IngestLock {
    Postgres(#[allow(dead_code)] sqlx::pool::PoolConnection<sqlx::Postgres>),
    /// `None` for an in-memory database (no other process can reach it).
    Sqlite(#[allow(dead_code)] Option<std::fs::File>),
}

const WAITING: &str = "another ingest is running on this database: waiting for it to finish";

impl IngestLock {
    /// Waits for any other ingest to finish.
    pub async fn acquire(db: &DatabaseConnection) -> Result<Self, EtlError> {
        Self::take(db, true)
            .await?
            .ok_or_else(|| EtlError::Internal("the ingest lock was not taken".to_owned()))
    }

    /// The lock, or `None` when another ingest (of any process) holds it.
    pub async fn try_acquire(db: &DatabaseConnection) -> Result<Option<Self>, EtlError> {
        Self::take(db, false).await
    }

    /// [`Self::try_acquire`], tried again for up to `patience`: a run that
    /// has just recorded its end releases the lock a moment later, and a
    /// client that saw the end and starts the next run must not get a 409.
    pub async fn try_acquire_within(
        db: &DatabaseConnection,
        patience: std::time::Duration,
    ) -> Result<Option<Self>, EtlError> {
        let started = std::time::Instant::now();
        loop {
            if let Some(lock) = Self::try_acquire(db).await? {
                return Ok(Some(lock));
            }
            if started.elapsed() >= patience {
                return Ok(None);
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    async fn take(db: &DatabaseConnection, wait: bool) -> Result<Option<Self>, EtlError> {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let mut conn = db
                    .get_postgres_connection_pool()
                    .acquire()
                    .await
                    .map_err(EtlError::db("connecting for the ingest lock"))?;
                conn.close_on_drop();
                let (free,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                    .bind(INGEST_LOCK)
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(EtlError::db("taking the ingest lock"))?;
                if !free && !wait {
                    return Ok(None);
                }
                if !free {
                    tracing::info!("{WAITING}");
                    let started = std::time::Instant::now();
                    sqlx::query("SELECT pg_advisory_lock($1)")
                        .bind(INGEST_LOCK)
                        .execute(&mut *conn)
                        .await
                        .map_err(EtlError::db("waiting for another ingest to finish"))?;
                    tracing::info!(
                        waited_ms = started.elapsed().as_millis() as u64,
                        "the other ingest ended"
                    );
                }
                Ok(Some(IngestLock::Postgres(conn)))
            }
            _ => {
                let Some(file) = store::db::file::sqlite_path(db) else {
                    return Ok(Some(IngestLock::Sqlite(None)));
                };
                // The same database reached by another name (a symbolic link,
                // a relative path from elsewhere) must take the same lock: the
                // lock file goes beside the file the name resolves to.
                let file = std::fs::canonicalize(&file).unwrap_or(file);
                let mut path = file.into_os_string();
                path.push(".ingest-lock");
                let lock = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|source| EtlError::Lock {
                        path: path.clone().into(),
                        source,
                    })?;
                if !flock(&lock, false) {
                    if !wait {
                        return Ok(None);
                    }
                    tracing::info!("{WAITING}");
                    let started = std::time::Instant::now();
                    let lock = tokio::task::spawn_blocking(move || flock(&lock, true).then_some(lock))
                        .await
                        .map_err(crate::error::join_error)?
                        .ok_or_else(|| EtlError::Internal(format!("cannot lock {}", path.to_string_lossy())))?;
                    tracing::info!(
                        waited_ms = started.elapsed().as_millis() as u64,
                        "the other ingest ended"
                    );
                    return Ok(Some(IngestLock::Sqlite(Some(lock))));
                }
                Ok(Some(IngestLock::Sqlite(Some(lock))))
            }
        }
    }
}

impl IngestLock {
    /// Releases the lock now. Dropping it also releases it, but on
    /// PostgreSQL only once the closing connection's session ends — a moment
    /// later, when an upload right after this ingest would find it still held.
    pub async fn release(self) {
        if let IngestLock::Postgres(mut conn) = self {
            if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(INGEST_LOCK)
                .execute(&mut *conn)
                .await
            {
                // Closing the connection (on drop) releases it anyway.
                tracing::debug!(error = %e, "could not release the ingest lock at once");
            }
        }
    }
}

/// An exclusive `flock`; `wait`: block until it is free. False when it is
/// held elsewhere (and not waiting), or on error.
#[allow(unsafe_code)]
pub fn flock(file: &std::fs::File, wait: bool) -> bool {
    use std::os::fd::AsRawFd;
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    // SAFETY: flock on a file descriptor this `File` owns for the call's duration.
    unsafe { libc::flock(file.as_raw_fd(), op) == 0 }
}

//! The share of the database pool the drill-downs may take.
//!
//! A drill-down (`/reports/month/{month}`, `/customers*`: answered through
//! [`crate::routes::kept::uncached`]) reads the facts on every request, for
//! seconds on millions of rows. Left alone, a few analysts opening month
//! pages take every connection of the pool: the kept reports, the ingest
//! history and sign-in then wait for one. So they share a limit below the
//! pool's size, and a drill-down that cannot start within a short wait is
//! refused at once with 503 `busy` and `Retry-After: 1`, which says what
//! happened — the database answers, this server is busy — rather than
//! waiting for a connection until it times out.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;

/// Drill-downs running at once by default: half the pool, so that the
/// other half is there for everything else.
pub const DEFAULT_LIMIT: u32 = store::db::POOL_SIZE / 2;

/// How long a drill-down waits for its turn before it is refused: long
/// enough to ride out a short burst, short enough that a client is told
/// (and retries) instead of hanging.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(1);

/// How many drill-downs run at once, and how long one waits to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrillDownSettings {
    /// At most this many at once; below the pool's size
    /// ([`store::db::POOL_SIZE`]), or the limit protects nothing.
    pub limit: u32,
    pub wait: Duration,
}

impl Default for DrillDownSettings {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            wait: DEFAULT_WAIT,
        }
    }
}

/// The drill-downs running now (app data, shared by the workers).
pub struct DrillDowns {
    running: Semaphore,
    wait: Duration,
}

impl DrillDowns {
    pub fn new(settings: DrillDownSettings) -> Self {
        let limit = usize::try_from(settings.limit).unwrap_or(usize::MAX);
        Self {
            running: Semaphore::new(limit.min(Semaphore::MAX_PERMITS)),
            wait: settings.wait,
        }
    }

    /// A turn to read the database, held until the answer is built; 503
    /// `busy` when none comes free within the wait.
    pub async fn start(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        match tokio::time::timeout(self.wait, self.running.acquire()).await {
            Ok(Ok(turn)) => Ok(turn),
            // Never closed: `Err` cannot happen, and is a refusal all the same.
            Ok(Err(_)) | Err(_) => Err(ApiError::Busy),
        }
    }
}

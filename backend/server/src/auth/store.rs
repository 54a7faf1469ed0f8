//! The tokens and signed-out sessions as the servers see them: read from the
//! database at most once per recheck interval, so that a request costs no
//! query, while a token created or revoked by `backend token` (another
//! process) takes effect within that interval on every server.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use subtle::ConstantTimeEq;

use super::Role;
use store::entities::{api_session_revoked, api_token};

/// One token, as a request is checked against it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub revoked: bool,
    hash: [u8; 32],
}

/// The tokens and signed-out sessions at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Rows of `api_token`, usable or not.
    rows: usize,
    tokens: Vec<Entry>,
    revoked_sessions: HashSet<String>,
}

impl Snapshot {
    /// No token was ever created: the API is open (see [`super`]).
    pub fn open_mode(&self) -> bool {
        self.rows == 0
    }

    /// The active token `token` is, if any. Every stored hash is compared, in
    /// constant time, whatever matches: the time taken tells nothing about
    /// which bytes of a guess were right.
    pub fn by_token(&self, token: &str) -> Option<&Entry> {
        let hash = super::sha256(token);
        let mut found = None;
        for entry in &self.tokens {
            if bool::from(entry.hash.ct_eq(&hash)) {
                found = Some(entry);
            }
        }
        found.filter(|e| !e.revoked)
    }

    /// The token of id `id` (a session's), if still active.
    pub fn active(&self, id: i64) -> Option<&Entry> {
        self.tokens.iter().find(|e| e.id == id && !e.revoked)
    }

    pub fn session_revoked(&self, session_id: &str) -> bool {
        self.revoked_sessions.contains(session_id)
    }
}

/// A snapshot and when it was read.
type Read = Option<(Instant, Arc<Snapshot>)>;

/// The cached [`Snapshot`].
pub struct TokenStore {
    db: DatabaseConnection,
    recheck: Duration,
    /// Read by every request that needs access control, without waiting:
    /// a lock held only to copy or replace the `Arc` (an asynchronous mutex
    /// here made the workers wake each other on every request).
    cached: std::sync::RwLock<Read>,
    /// Held by the request that reads the tokens again; the others that find
    /// the snapshot stale wait for it, then use what it read.
    reading: tokio::sync::Mutex<()>,
}

impl TokenStore {
    pub fn new(db: DatabaseConnection, recheck: Duration) -> Self {
        Self {
            db,
            recheck,
            cached: std::sync::RwLock::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The cached snapshot, when read within the recheck interval.
    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let cached = self.cached.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        cached
            .as_ref()
            .filter(|(at, _)| at.elapsed() < self.recheck)
            .map(|(_, snapshot)| snapshot.clone())
    }

    /// The snapshot, read again when older than the recheck interval (a
    /// stale snapshot is never used while the database can be read, so a
    /// revocation takes effect within the interval). When the database
    /// cannot be read, the last snapshot goes on serving (a warning is
    /// logged); with none, the error.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, DbErr> {
        if let Some(snapshot) = self.fresh() {
            return Ok(snapshot);
        }
        let _reading = self.reading.lock().await;
        // Read meanwhile by the request this one waited for.
        if let Some(snapshot) = self.fresh() {
            return Ok(snapshot);
        }
        let loaded = load(&self.db).await;
        let mut cached = self.cached.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        match loaded {
            Ok(snapshot) => {
                let snapshot = Arc::new(snapshot);
                *cached = Some((Instant::now(), snapshot.clone()));
                Ok(snapshot)
            }
            Err(e) => match cached.as_ref() {
                Some((_, old)) => {
                    tracing::warn!(error = %e, "cannot read the API tokens: using those read before");
                    Ok(old.clone())
                }
                None => Err(e),
            },
        }
    }

    /// Reads the database on the next request (after a change made here).
    pub async fn invalidate(&self) {
        let _reading = self.reading.lock().await;
        *self.cached.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }
}

async fn load(db: &DatabaseConnection) -> Result<Snapshot, DbErr> {
    let rows = api_token::Entity::find().all(db).await?;
    let count = rows.len();
    let tokens = rows
        .into_iter()
        .filter_map(|t| {
            let mut hash = [0u8; 32];
            // A row not written by `backend token` (a bad hash or role) never matches.
            hex::decode_to_slice(&t.token_hash, &mut hash).ok()?;
            Some(Entry {
                id: t.id,
                name: t.name,
                role: t.role.parse().ok()?,
                revoked: t.revoked_at.is_some(),
                hash,
            })
        })
        .collect();
    let revoked_sessions = api_session_revoked::Entity::find()
        .filter(api_session_revoked::Column::ExpiresAt.gt(Utc::now().naive_utc()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.session_id)
        .collect();
    Ok(Snapshot {
        rows: count,
        tokens,
        revoked_sessions,
    })
}

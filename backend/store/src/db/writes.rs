//! Whether a database takes writes. A read-only database (a SQLite file the
//! process may not write, a read-only folder, `?mode=ro`; a PostgreSQL
//! standby or `default_transaction_read_only`) is still served, for reads:
//! uploads and other writes are refused with a clear answer instead.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, RuntimeErr, Statement};

/// Whether the database takes writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writes {
    Available,
    /// Why not, in a sentence.
    Unavailable(String),
}

/// SQLite's `SQLITE_READONLY` (every extended code of it has this low byte).
const SQLITE_READONLY: i64 = 8;
/// PostgreSQL's `read_only_sql_transaction`.
const PG_READ_ONLY: &str = "25006";

/// The primary result code of a SQLite error (`None`: not a SQLite error).
fn sqlite_code(e: &sqlx::Error) -> Option<i64> {
    let db = e.as_database_error()?;
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()?;
    db.code()?.parse::<i64>().ok().map(|c| c & 0xff)
}

/// Whether `e` is the database refusing a write because it is read-only.
pub fn is_read_only(e: &DbErr) -> bool {
    super::sqlx_error(e).is_some_and(is_read_only_sqlx)
}

fn is_read_only_sqlx(e: &sqlx::Error) -> bool {
    if sqlite_code(e) == Some(SQLITE_READONLY) {
        return true;
    }
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == PG_READ_ONLY)
}

fn exec(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(e))
}

/// Tries whether `db` takes writes, without writing anything.
///
/// SQLite: a write transaction that changes one header field to the value it
/// has, then rolls back — the write is what meets a read-only file or a folder
/// where the journal cannot be created (`BEGIN IMMEDIATE` alone succeeds on
/// both). A write lock held by another connection (an ingest) means writes
/// work: the probe does not wait for it. PostgreSQL: `transaction_read_only`.
pub async fn writes(db: &DatabaseConnection) -> Result<Writes, DbErr> {
    match db.get_database_backend() {
        DbBackend::Sqlite => sqlite_writes(db.get_sqlite_connection_pool()).await,
        _ => {
            let row = db
                .query_one(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT current_setting('transaction_read_only') AS ro",
                ))
                .await?;
            let read_only = row.and_then(|r| r.try_get::<String>("", "ro").ok());
            Ok(match read_only.as_deref() {
                Some("on") => Writes::Unavailable(
                    "the database is read-only (PostgreSQL: transaction_read_only is on — a standby, \
                     or default_transaction_read_only)"
                        .to_owned(),
                ),
                _ => Writes::Available,
            })
        }
    }
}

async fn sqlite_writes(pool: &sqlx::SqlitePool) -> Result<Writes, DbErr> {
    let mut pooled = pool.acquire().await.map_err(exec)?;
    // Its busy timeout changes for the probe: never back into the pool.
    pooled.close_on_drop();
    let mut handle = pooled.lock_handle().await.map_err(exec)?;
    // Plain calls on the handle, no `await` while it is held: sqlx's futures
    // over a borrowed connection are not `Send`, which the server's watch needs.
    probe(&mut handle)
}

/// The probe of [`sqlite_writes`] on the raw handle of a connection.
#[allow(unsafe_code)]
fn probe(handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>) -> Result<Writes, DbErr> {
    // SAFETY: while `handle` lives, sqlx's worker thread makes no calls on this
    // connection; `from_handle` borrows it and does not close it when dropped.
    let conn = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }
        .map_err(|e| DbErr::Custom(format!("cannot use the SQLite connection: {e}")))?;
    if let Err(e) = conn.busy_timeout(std::time::Duration::ZERO) {
        return refusal(e);
    }
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        return refusal(e);
    }
    let write = conn
        .pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
        .and_then(|version| conn.execute_batch(&format!("PRAGMA user_version = {version}")));
    // Nothing to keep (and the connection closes anyway).
    let _ = conn.execute_batch("ROLLBACK");
    match write {
        Ok(()) => Ok(Writes::Available),
        Err(e) => refusal(e),
    }
}

/// What a SQLite error of the probe says about writes.
fn refusal(e: rusqlite::Error) -> Result<Writes, DbErr> {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        // Another connection writes now: writes work.
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Ok(Writes::Available),
        Some(ErrorCode::CannotOpen) => Ok(Writes::Unavailable(format!(
            "the database is read-only (SQLite cannot create its journal beside the file: \
             is its folder read-only?): {e}"
        ))),
        Some(ErrorCode::ReadOnly) => Ok(Writes::Unavailable(format!("the database is read-only (SQLite: {e})"))),
        _ => Err(DbErr::Custom(format!(
            "cannot tell whether the SQLite database takes writes: {e}"
        ))),
    }
}

/// The migrations not applied to `db`, found without writing (SeaORM's own
/// look creates its table first, which a read-only database refuses).
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<Vec<String>, DbErr> {
    use migration::MigratorTrait;
    let applied: Vec<String> = match db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT version FROM seaql_migrations",
        ))
        .await
    {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "version").ok())
            .collect(),
        Err(e) if super::is_unreachable(&e) => return Err(e),
        // No such table: a database never migrated.
        Err(_) => Vec::new(),
    };
    Ok(migration::Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .filter(|name| !applied.contains(name))
        .collect())
}

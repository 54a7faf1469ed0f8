//! The load's connections: a transaction with room to build keys, plain
//! statements, and exclusive locks taken without queueing the readers.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::error::EtlError;

/// A transaction with room for building keys: their sorts, and the join that
/// validates a foreign key, stay in memory.
pub(super) async fn begin_keyed(pool: &PgPool) -> Result<Transaction<'static, Postgres>, EtlError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(EtlError::db("starting the load transaction"))?;
    for setting in [
        "SET LOCAL maintenance_work_mem = '256MB'",
        "SET LOCAL work_mem = '128MB'",
        // Each of the load's reads runs once: compiling one cost more than it
        // saved (a pass over 5M facts: 334 ms with JIT, 190 ms without).
        "SET LOCAL jit = off",
        // "table … does not exist, skipping" and the like are not news.
        "SET LOCAL client_min_messages = warning",
    ] {
        ddl(&mut tx, setting)
            .await
            .map_err(EtlError::db("configuring the load transaction"))?;
    }
    Ok(tx)
}

/// One statement, not prepared for reuse. (`sqlx::raw_sql` would do, but its
/// future cannot be spawned: sqlx issue #3150.)
pub(super) async fn ddl(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).persistent(false).execute(conn).await.map(|_| ())
}

/// How long one try to lock tables exclusively waits for the sessions using them.
pub(super) const LOCK_TRY: &str = "1s";
/// The pause between two tries, in which the readers that queued behind a try run.
pub(super) const LOCK_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// Locks `tables` (with their partitions) in ACCESS EXCLUSIVE mode, the lock
/// the DDL that follows takes anyway, without making readers queue behind the
/// wait. A lock request waits for the sessions using a table, and every
/// reader that comes after it waits behind it: one analyst's long query would
/// stall every report until it ended. So each try waits at most [`LOCK_TRY`];
/// a try that times out is rolled back to its savepoint (giving up its place
/// in the queue), and after [`LOCK_PAUSE`] the next one starts. It tries
/// until it has the locks, as long as the sessions in the way keep them.
pub(super) async fn lock_exclusively(conn: &mut PgConnection, tables: &[&str]) -> Result<(), EtlError> {
    const DURING: &str = "locking tables exclusively";
    let (previous,): (String,) = sqlx::query_as("SELECT current_setting('lock_timeout')")
        .fetch_one(&mut *conn)
        .await
        .map_err(EtlError::db(DURING))?;
    let list = tables.join(", ");
    let started = std::time::Instant::now();
    let mut next_warning = std::time::Duration::from_secs(10);
    loop {
        ddl(conn, "SAVEPOINT lock_try").await.map_err(EtlError::db(DURING))?;
        ddl(conn, &format!("SET LOCAL lock_timeout = '{LOCK_TRY}'"))
            .await
            .map_err(EtlError::db(DURING))?;
        match ddl(conn, &format!("LOCK TABLE {list} IN ACCESS EXCLUSIVE MODE")).await {
            Ok(()) => {
                ddl(conn, "RELEASE SAVEPOINT lock_try")
                    .await
                    .map_err(EtlError::db(DURING))?;
                sqlx::query("SELECT set_config('lock_timeout', $1, true)")
                    .bind(&previous)
                    .execute(&mut *conn)
                    .await
                    .map_err(EtlError::db(DURING))?;
                return Ok(());
            }
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => {
                // Also undoes the SET LOCAL. Released too: savepoints left
                // open would nest one level deeper per try, and past 64
                // subtransactions every snapshot of the server slows down.
                for sql in ["ROLLBACK TO SAVEPOINT lock_try", "RELEASE SAVEPOINT lock_try"] {
                    ddl(conn, sql).await.map_err(EtlError::db(DURING))?;
                }
                if started.elapsed() >= next_warning {
                    tracing::warn!(
                        tables = %list,
                        waited_s = started.elapsed().as_secs(),
                        "other sessions are using the tables to lock; trying again (their readers are not held up)"
                    );
                    next_warning += std::time::Duration::from_secs(30);
                }
                tokio::time::sleep(LOCK_PAUSE).await;
            }
            Err(e) => return Err(EtlError::db(DURING)(e)),
        }
    }
}

/// One statement, logged with its duration at debug level; the rows it affected.
pub(super) async fn timed(conn: &mut PgConnection, sql: &str, during: &'static str) -> Result<u64, EtlError> {
    let started = std::time::Instant::now();
    let done = sqlx::query(sql)
        .persistent(false)
        .execute(conn)
        .await
        .map_err(EtlError::db(during))?;
    tracing::debug!(statement = %sql, elapsed_ms = started.elapsed().as_millis() as u64, "{during}");
    Ok(done.rows_affected())
}

//! Errors that stop an ingest. Bad *rows* never do: they are rejected and stored.

use std::path::PathBuf;

/// A fatal ingest error, printed as one human line.
#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    #[error("{path}: cannot open input file: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{path}: read error at line {line}: {message}")]
    Read { path: PathBuf, line: u64, message: String },
    #[error("{path}: the file is empty (expected a header row with columns {expected})")]
    Empty { path: PathBuf, expected: String },
    #[error("{path}: the header row is {found}; save the export as UTF-8 text")]
    HeaderEncoding { path: PathBuf, found: String },
    #[error("{path}: the first line is longer than {limit} bytes, so this is not an export with a header row (it starts: {start:?}); --max-header-bytes raises the limit")]
    HeaderTooLong { path: PathBuf, limit: usize, start: String },
    #[error("{path}: refused: it is {what}; give the path of a regular file")]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("{path}: missing column {column:?} in the header (found: {found})")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: String,
    },
    #[error(
        "{path}: cannot create the ingest lock file beside the SQLite database (is its folder read-only?): {source}"
    )]
    Lock { path: PathBuf, source: std::io::Error },
    #[error("the database is read-only, and an ingest writes (even a dry run records its run): {0}")]
    ReadOnly(String),
    #[error("the SQLite database file was deleted, moved or replaced while the run ran: nothing was committed (it would have gone into a file no one reads any more)")]
    DatabaseFileMoved,
    #[error("database error while {during}: {source}")]
    Database {
        during: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("accounting check failed for {file}: {read} rows read but {loaded} loaded + {already_loaded} already loaded + {duplicates} duplicates + {rejected} rejected")]
    Accounting {
        file: &'static str,
        read: u64,
        loaded: u64,
        already_loaded: u64,
        duplicates: u64,
        rejected: u64,
    },
    /// A sum beyond 64-bit minor units (what, and of which figure).
    #[error("ingest aborted: {0}")]
    Overflow(String),
    /// What is stored cannot be built on (loaded by an older version, or unreadable).
    #[error("ingest aborted: {0}")]
    StoredState(String),
    /// The file changed between the run's two passes over it.
    #[error("ingest aborted: {file} changed while it was read ({before} data lines, then {after}): ingest a file that is no longer being written")]
    FileChanged {
        file: &'static str,
        before: u64,
        after: u64,
    },
    /// A line read again (a row held back for its repeated id) is not what
    /// the first read found.
    #[error("ingest aborted: {file} changed while it was read (line {line} is not what it was): ingest a file that is no longer being written")]
    LineChanged { file: &'static str, line: u64 },
    /// An append was given a folder without any of the three files.
    #[error("ingest aborted: {dir} holds none of {files}: an append needs at least one of them")]
    NothingToAppend { dir: String, files: String },
    /// Loaded rows that break a foreign key (found before the commit).
    #[error("ingest aborted: {0}")]
    ForeignKey(String),
    /// The PostgreSQL fact table's COPY, on its own connection, failed or stopped early.
    #[error("ingest aborted: {0}")]
    FactLoad(String),
    /// A database this build does not load into.
    #[error("ingest aborted: {0} is not supported")]
    UnsupportedDatabase(&'static str),
    /// A failure forced by a test hook (`fail_after_rows`).
    #[error("ingest aborted: forced failure after {0} transactions (test hook)")]
    TestHook(u64),
    /// A broken invariant of the code itself: a bug, never the data's fault.
    #[error("ingest aborted: {0}")]
    Internal(String),
}

impl EtlError {
    pub(crate) fn file_changed(file: &'static str, before: u64, after: u64) -> EtlError {
        EtlError::FileChanged { file, before, after }
    }

    pub(crate) fn db(during: &'static str) -> impl FnOnce(sqlx::Error) -> EtlError {
        move |e| EtlError::Database {
            during,
            source: Box::new(e),
        }
    }
}

/// A worker thread of the run that panicked or was cancelled.
pub(crate) fn join_error(e: tokio::task::JoinError) -> EtlError {
    EtlError::Internal(format!("a worker thread failed: {e}"))
}

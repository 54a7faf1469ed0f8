//! The SQLite file behind a pool, watched for being deleted or replaced.
//!
//! An open SQLite connection keeps the file it opened, whatever happens to
//! its path: after `rm revenue.db` it goes on reading (and committing to) the
//! unlinked file, which no one will ever read again, while new connections
//! (`mode=rwc`) create an empty database at the path. A server therefore pins
//! the file's identity (device and inode) once it has prepared it, and stops
//! serving when the path no longer leads to that file.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

/// The path of the SQLite file of `db`; `None` for PostgreSQL and for an
/// in-memory database.
pub fn sqlite_path(db: &DatabaseConnection) -> Option<PathBuf> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let path = db
        .get_sqlite_connection_pool()
        .connect_options()
        .get_filename()
        .to_owned();
    let memory = path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:");
    (!memory).then_some(path)
}

/// What became of a pinned file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileChange {
    /// Nothing is at the path any more (deleted, or moved away).
    Gone,
    /// Another file is at the path (a copy or a restore moved in place).
    Replaced,
}

/// A database file as it was when pinned.
#[derive(Debug, Clone)]
pub struct PinnedFile {
    path: PathBuf,
    device: u64,
    inode: u64,
}

impl PinnedFile {
    /// The file at `path` now.
    pub fn pin(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            path: path.to_owned(),
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the path still leads to the pinned file.
    pub fn check(&self) -> Result<(), FileChange> {
        match std::fs::metadata(&self.path) {
            Ok(meta) if meta.dev() == self.device && meta.ino() == self.inode => Ok(()),
            Ok(_) => Err(FileChange::Replaced),
            // Any error to stat it (not found, a directory on the way removed
            // or made unreadable) means the server cannot vouch for it.
            Err(_) => Err(FileChange::Gone),
        }
    }
}

impl FileChange {
    /// What happened and what to do, for the log and for a 503 (without the
    /// path: the server's files are not the clients' business; the log names it).
    pub fn explain(self) -> String {
        let what = match self {
            FileChange::Gone => "was deleted or moved away",
            FileChange::Replaced => "was replaced by another file",
        };
        format!(
            "the server's SQLite database file {what} while the server ran: it no longer serves or \
             writes anything from the file it had opened; restart the server to serve the file now at that path"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_a_file_deleted_replaced_or_moved_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        std::fs::write(&path, "a").unwrap();
        let pinned = PinnedFile::pin(&path).unwrap();
        assert_eq!(pinned.check(), Ok(()));
        // Written in place: the same file.
        std::fs::write(&path, "b").unwrap();
        assert_eq!(pinned.check(), Ok(()));
        let aside = dir.path().join("aside.db");
        std::fs::rename(&path, &aside).unwrap();
        assert_eq!(pinned.check(), Err(FileChange::Gone));
        std::fs::write(&path, "c").unwrap();
        assert_eq!(pinned.check(), Err(FileChange::Replaced));
        std::fs::rename(&aside, &path).unwrap();
        assert_eq!(pinned.check(), Ok(()));
        assert!(FileChange::Gone.explain().contains("file was deleted"));
    }
}

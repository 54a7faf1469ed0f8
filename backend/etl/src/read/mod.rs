//! Phase 1, read: the three input files. products.csv and users.csv are small
//! per distinct key and read into memory; transactions.csv is scanned here
//! (pass 1) and streamed to the loader later (pass 2, [`transactions::load`]).
//! The three are read side by side while the load transaction starts.

pub mod customer_ids;
mod header;
pub mod products;
mod record;
pub mod source;
pub mod transactions;
pub mod users;

use std::path::Path;

use tokio::task::JoinHandle;

use super::error::{join_error, EtlError};
use super::progress::Progress;

/// The files being read.
pub struct Reading {
    products: JoinHandle<Result<products::ProductsFile, EtlError>>,
    users: JoinHandle<Result<users::Users, EtlError>>,
    scan: JoinHandle<Result<transactions::Scan, EtlError>>,
}

/// users.csv, being read or read: the run waits for it when it needs it.
pub enum UsersFile {
    Reading(JoinHandle<Result<users::Users, EtlError>>),
    Read(Box<users::Users>),
}

impl UsersFile {
    /// The file, once read.
    pub async fn get(&mut self) -> Result<&mut users::Users, EtlError> {
        if let UsersFile::Reading(handle) = self {
            let users = handle.await.map_err(join_error)??;
            *self = UsersFile::Read(Box::new(users));
        }
        match self {
            UsersFile::Read(users) => Ok(users),
            UsersFile::Reading(..) => Err(EtlError::Internal("users.csv was not read".to_owned())),
        }
    }
}

/// The three files, in the order of [`Given`]'s flags.
pub const FILES: [&str; 3] = [products::FILE, transactions::FILE, users::FILE];

/// Which of the three files a run was given: all three for a replace; any of
/// them (at least one) for an append. An absent file is read as empty and
/// not listed among the run's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Given(pub [bool; 3]);

impl Given {
    /// Looks at `dir`: a replace needs all three files (a missing one fails
    /// when opened, with its path); an append takes those present.
    pub fn find(dir: &Path, optional: bool) -> Result<Self, EtlError> {
        if !optional {
            return Ok(Given([true; 3]));
        }
        let present = FILES.map(|f| match std::fs::symlink_metadata(dir.join(f)) {
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
            Ok(_) => true,
        });
        if present.iter().any(|p| *p) {
            return Ok(Given(present));
        }
        if !dir.is_dir() {
            return Err(EtlError::Open {
                path: dir.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            });
        }
        Err(EtlError::NothingToAppend {
            dir: dir.display().to_string(),
            files: FILES.join(", "),
        })
    }

    pub fn products(self) -> bool {
        self.0[0]
    }

    pub fn transactions(self) -> bool {
        self.0[1]
    }

    pub fn users(self) -> bool {
        self.0[2]
    }
}

/// Starts reading the files given on blocking threads.
pub fn start(dir: &Path, given: Given, run_id: i64, limits: source::Limits, progress: &Progress) -> Reading {
    let (d1, d2, d3) = (dir.to_owned(), dir.to_owned(), dir.to_owned());
    let (p1, p2, p3) = (progress.clone(), progress.clone(), progress.clone());
    Reading {
        products: tokio::task::spawn_blocking(move || {
            if !given.products() {
                return Ok(products::ProductsFile::default());
            }
            let phase = p1.phase("read products", None);
            let file = products::read(&d1, run_id, limits)?;
            phase.done(file.counts.read);
            Ok(file)
        }),
        users: tokio::task::spawn_blocking(move || {
            if !given.users() {
                return Ok(users::Users::default());
            }
            let phase = p2.phase("read users", None);
            let users = users::read(&d2, run_id, limits)?;
            phase.done(users.counts.read);
            Ok(users)
        }),
        scan: tokio::task::spawn_blocking(move || {
            if !given.transactions() {
                return Ok(transactions::Scan::absent(limits));
            }
            transactions::scan(&d3, limits, &p3)
        }),
    }
}

/// The files still being read once products.csv is: pass 1 over
/// transactions.csv and users.csv.
pub struct Scanning {
    users: JoinHandle<Result<users::Users, EtlError>>,
    scan: JoinHandle<Result<transactions::Scan, EtlError>>,
}

impl Reading {
    /// Waits for products.csv; the other two go on being read meanwhile.
    pub async fn products(self) -> Result<(products::ProductsFile, Scanning), EtlError> {
        let products = self.products.await.map_err(join_error)??;
        let scanning = Scanning {
            users: self.users,
            scan: self.scan,
        };
        Ok((products, scanning))
    }
}

impl Scanning {
    /// Waits for pass 1 over transactions.csv; users.csv goes on being read
    /// meanwhile.
    pub async fn scan(self) -> Result<(transactions::Scan, UsersFile), EtlError> {
        Ok((self.scan.await.map_err(join_error)??, UsersFile::Reading(self.users)))
    }
}

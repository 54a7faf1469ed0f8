//! transactions.csv → `fct_transaction`, streamed, plus every aggregate the reports need.
//!
//! Two passes keep memory proportional to distinct keys: pass 1 hashes each
//! row's id to find ids that occur more than once; pass 2 parses, validates
//! and streams rows to the loader, holding back the rows of repeated ids (as
//! where they are in the file, 32 bytes each) until it can tell exact
//! duplicates (dropped, counted) from conflicts (all rejected), then reading
//! those it keeps or rejects again.
//! In an append, pass 2 also looks its rows up among the stored transactions,
//! a batch at a time: identical ones are `already_loaded`, differing ones are
//! rejected (`conflicts_with_loaded`). Each accepted row is shown to the
//! aggregates ([`crate::aggregates`]) and sent to the loader as it is: the
//! loader encodes it for its database.

mod customers;
mod parse;
mod pass2;
mod seen;
#[cfg(test)]
mod tests;

// Fx hashing: the keys come from the operator's own export files, and SipHash was a hot spot.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDateTime;
use tokio::sync::mpsc;

use crate::aggregates::Observed;
use crate::counts::Counts;
use crate::error::EtlError;
use crate::interner::Interner;
use crate::progress::{Progress, TICK_ROWS};
use crate::read::customer_ids::CustomerIds;
use crate::read::products::Catalog;
use crate::read::source::{for_each_row, trimmed, Column, Digested, Limits, Source};
use crate::rejects::Rejects;
use crate::rows::{FactBatch, FactRow, ProductRow};
pub use customers::CustomerFacts;
use domain::DateBounds;
use parse::parse;
use pass2::{Pass2, Repeats};

pub const FILE: &str = "transactions.csv";

const COLUMNS: &[Column] = &[
    Column {
        name: "Date (UTC)",
        aliases: &["dateutc", "date", "datetime", "timestamp", "createdutc"],
    },
    Column {
        name: "Transaction ID",
        aliases: &["transactionid", "id"],
    },
    Column {
        name: "Customer ID",
        aliases: &["customerid", "customer"],
    },
    Column {
        name: "Subscription ID",
        aliases: &["subscriptionid", "subscription"],
    },
    Column {
        name: "Total",
        aliases: &["total", "amount"],
    },
    Column {
        name: "Currency",
        aliases: &["currency"],
    },
];

/// Rows per batch sent to the loader (small under test, so that tests see several).
pub const BATCH: usize = if cfg!(test) { 64 } else { 8192 };

/// What pass 1 found.
pub struct Scan {
    /// The keys ([`seen::key`], 48 bits of a hash) of transaction ids seen
    /// on more than one row. A collision only makes pass 2 hold a row back,
    /// read it again and accept it alone, but with 32-bit hashes 50M
    /// distinct ids collide in about 290,000 pairs, and the rows held for
    /// them (then 900 bytes each; 32 now) were 550 MB of the load's 2.6 GB
    /// peak (BENCHMARKS.md, "Load memory, third look"); 48 bits: about 4
    /// pairs, 9 rows held (see [`seen`]).
    repeated: HashSet<u64>,
    pub rows: u64,
    pub sha256: String,
    pub bytes: u64,
    limits: Limits,
    /// users.csv's ids, for pass 2 to keep its customers' ids there (set
    /// before pass 2 by the reconcile phase; empty: pass 2 keeps them all).
    pub users_ids: Arc<Interner>,
}

impl Scan {
    /// An append given no transactions.csv: nothing to read.
    pub fn absent(limits: Limits) -> Self {
        Self {
            repeated: HashSet::default(),
            rows: 0,
            sha256: String::new(),
            bytes: 0,
            limits,
            users_ids: Arc::default(),
        }
    }
}

/// Pass 1: which transaction ids repeat. Memory: 4 bytes per row, freed after.
pub fn scan(dir: &Path, limits: Limits, progress: &Progress) -> Result<Scan, EtlError> {
    let phase = progress.phase("read transactions (pass 1)", None);
    let digest = Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()), limits)?;
    let id_pos = source.positions[1];
    let mut ids = seen::Seen::default();
    let rows = for_each_row(&mut source, |row| {
        if row.line % TICK_ROWS == 0 {
            phase.at(row.line);
        }
        if let Some(id) = row.record.get(id_pos).map(trimmed).filter(|id| !id.is_empty()) {
            ids.push(seen::key(id));
        }
        Ok(())
    })?;
    let repeated = ids.repeated();
    phase.done(rows);
    tracing::debug!(rows, rss_mb = crate::resident_mb(), "transactions scanned");
    let (sha256, bytes) = digest.finish();
    Ok(Scan {
        repeated,
        rows,
        sha256,
        bytes,
        limits,
        users_ids: Arc::default(),
    })
}

/// The result of pass 2: the new transactions, aggregated.
pub struct Transactions {
    pub counts: Counts,
    pub rejects: Rejects,
    /// Customer ids in first-seen order; number `i` is `customers`' customer `i`.
    pub customer_ids: CustomerIds,
    pub customers: CustomerFacts,
    /// What every aggregate table observed of the accepted rows.
    pub aggregates: Observed,
    pub first: Option<NaiveDateTime>,
    pub last: Option<NaiveDateTime>,
    /// The catalog that attributed the revenue (an append merges stored rows into it).
    pub catalog: Catalog,
}

impl Transactions {
    /// No transactions (transactions.csv was ingested before).
    pub fn empty(catalog: Catalog) -> Self {
        Self {
            counts: Counts::default(),
            rejects: Rejects::default(),
            customer_ids: CustomerIds::default(),
            customers: CustomerFacts::default(),
            aggregates: Observed::default(),
            first: None,
            last: None,
            catalog,
        }
    }
}

/// The stored data an append checks its rows against, read from the blocking
/// thread of pass 2.
pub trait StoredLookup: Send {
    /// The stored transactions among `ids`, by id.
    fn transactions(&mut self, ids: &[&str]) -> Result<HashMap<String, FactRow>, EtlError>;
    /// The stored `dim_product` rows of `subscriptions`.
    fn products(&mut self, subscriptions: &[String]) -> Result<Vec<ProductRow>, EtlError>;
}

/// How pass 2 runs.
pub struct Pass2Options<'a, 'p> {
    pub run_id: i64,
    /// Append: the stored data to check against. Replace: `None`.
    pub stored: Option<&'a mut dyn StoredLookup>,
    pub progress: &'p Progress,
    /// The transaction dates accepted.
    pub dates: DateBounds,
}

/// Pass 2: parse, validate, de-duplicate and aggregate, streaming accepted rows
/// to `sender` in batches. Runs on a blocking thread.
pub fn load(
    dir: &Path,
    scan: &Scan,
    catalog: Catalog,
    options: Pass2Options<'_, '_>,
    sender: mpsc::Sender<FactBatch>,
) -> Result<Transactions, EtlError> {
    let mut source = Source::open(&dir.join(FILE), COLUMNS, None, scan.limits)?;
    let p = source.positions.clone();
    let dates = options.dates;
    let phase = options.progress.phase("read transactions (pass 2)", Some(scan.rows));
    let mut pass = Pass2 {
        run_id: options.run_id,
        out: Transactions {
            customer_ids: CustomerIds::new(scan.users_ids.clone()),
            ..Transactions::empty(catalog)
        },
        stored: options.stored,
        pending: Vec::new(),
        batch: FactBatch::with_capacity(BATCH),
        observed: Vec::with_capacity(BATCH),
        sender,
    };
    let mut repeats = Repeats::default();
    let read = for_each_row(&mut source, |row| {
        if row.line % TICK_ROWS == 0 {
            phase.at(row.line);
        }
        let id = row.record.get(p[1]).map(trimmed).unwrap_or_default();
        if !id.is_empty() && scan.repeated.contains(&seen::key(id)) {
            return repeats.hold(id, &row);
        }
        match parse(&row, &p, &dates) {
            Ok(parsed) => pass.submit(&row, parsed),
            Err(reject) => {
                pass.reject(row.line, reject, row.raw_line());
                Ok(())
            }
        }
    })?;
    if read != scan.rows {
        // Pass 1 counted other lines: the file changed while the run read it.
        return Err(EtlError::file_changed(FILE, scan.rows, read));
    }
    pass.out.counts.read = read;
    repeats.settle(&mut pass, &source, &p, &dates)?;
    pass.resolve()?;
    pass.flush()?;
    phase.done(read);
    Ok(pass.out)
}

//! Response bodies of `/ingests*`: the run history and rejected rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Currency, IngestMode, Money, Month, RunStatus, Timestamp};

/// One input file of a run: read = loaded + already_loaded + duplicates + rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestFile {
    /// `products.csv`, `transactions.csv` or `users.csv`.
    pub file: String,
    pub sha256: String,
    pub bytes: i64,
    /// Data rows read (the header excluded).
    pub read: i64,
    /// Rows that added or changed data.
    pub loaded: i64,
    /// Rows whose data was loaded before, unchanged (an append).
    pub already_loaded: i64,
    /// Repeats within the file (identical transactions, further rows of a customer or product).
    pub duplicates: i64,
    pub rejected: i64,
    /// The file was skipped: the same file (SHA-256) was ingested by this run.
    pub same_as_run: Option<i64>,
}

/// The loaded data in totals, before or after a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataTotals {
    pub transactions: i64,
    pub customers: i64,
    pub products: i64,
    /// Revenue per currency (never added across currencies).
    // Keys described as strings in the document, as before (see `SubscriptionCheck`).
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, Money>))]
    pub revenue: BTreeMap<Currency, Money>,
    /// `YYYY-MM` of the first and the latest month with transactions.
    pub first_month: Option<Month>,
    pub latest_month: Option<Month>,
}

impl DataTotals {
    /// Each amount with its currency's exponent (see [`crate::rescale_per_currency`]).
    pub fn rescale_money(&mut self, exponent_of: &dyn Fn(&str) -> u8) {
        crate::rescale_per_currency(&mut self.revenue, exponent_of);
    }
}

/// One ingest run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestRun {
    pub id: i64,
    pub mode: IngestMode,
    /// Only `succeeded` changes data; `refused` is a guard rail, `skipped`
    /// a run whose every file was ingested before, `abandoned` a killed one.
    pub status: RunStatus,
    /// False for a succeeded run that found nothing new to load.
    pub data_changed: bool,
    /// The guard rails were overridden (`--force`).
    pub forced: bool,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    pub files: Vec<IngestFile>,
    /// Why the run failed or was refused, or why it had nothing to do.
    pub error: Option<String>,
    /// `cli`, or who uploaded the files: `token:<name>` (the token's name) or
    /// `anonymous` (open mode). Absent for runs recorded before this existed.
    #[serde(default)]
    pub requested_by: Option<String>,
    /// While the run is `running` on the server answering (an upload): what it
    /// is doing now. Absent otherwise.
    #[serde(default)]
    pub progress: Option<IngestProgress>,
}

/// What a running ingest is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestProgress {
    /// The phase started last, e.g. `read transactions (pass 2)`, `commit`.
    pub phase: String,
    /// Rows the phase has processed so far (0 for a phase that does not count rows).
    pub rows: u64,
    /// Since the run started.
    pub elapsed_ms: u64,
}

/// `POST /ingests`: the upload was accepted and its run started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestAccepted {
    pub run_id: i64,
    /// `running`.
    pub status: RunStatus,
    /// Where to follow the run: `/ingests/{run_id}` (also the `Location` header).
    pub href: String,
}

/// `GET /ingests`: runs, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestList {
    pub runs: Vec<IngestRun>,
    /// Runs in all.
    pub total: i64,
    pub limit: u32,
    pub offset: u64,
}

/// How many rows of one file one reason rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectionReason {
    pub file: String,
    /// A stable code such as `invalid_date`, `invalid_amount`, `unknown_currency`,
    /// `conflicting_duplicate` or `conflicts_with_loaded`.
    pub reason: String,
    pub rows: i64,
    /// The first rejected line (1 = the header) and its explanation.
    pub first_line: i64,
    pub example: String,
}

/// `GET /ingests/{id}`: a run, its rejection reasons and what it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestDetail {
    #[serde(flatten)]
    pub run: IngestRun,
    /// Per file, most frequent first.
    pub reasons: Vec<RejectionReason>,
    /// The data before the run and after it (for a dry or refused run: after it,
    /// had it committed). Null for runs that stopped early.
    pub before: Option<DataTotals>,
    pub after: Option<DataTotals>,
}

/// One rejected input row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rejection {
    pub file: String,
    /// Physical line in the file (1 = the header).
    pub line: i64,
    pub reason: String,
    pub message: String,
    /// The row as read, e-mail addresses masked.
    pub raw_line: String,
}

/// `GET /ingests/{id}/rejections`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectionList {
    pub run_id: i64,
    /// Matching rows in all.
    pub total: i64,
    pub limit: u32,
    pub offset: u64,
    pub rejections: Vec<Rejection>,
}

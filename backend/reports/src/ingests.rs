//! The run history and rejected rows (`/ingests*`), read from the audit tables.
//! Rejected rows are the input as it was, so e-mail addresses in them are
//! masked before they are served (they stay intact in the database).

use api_types::{
    DataTotals, IngestDetail, IngestFile, IngestList, IngestRun, Rejection, RejectionList, RejectionReason, Timestamp,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::params::parse_int;
use super::ReportError;
use domain::mask_emails;
use store::entities::{etl_rejected_row, etl_run, etl_run_file};

/// The most rejected rows one CSV download holds.
pub const MAX_CSV_ROWS: u32 = 1_000_000;

/// The input files, as `file=` accepts them.
pub const FILES: [&str; 3] = ["products.csv", "transactions.csv", "users.csv"];

/// Query parameters of `GET /ingests`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestListParams {
    /// Runs per page, 1–200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Runs to skip, newest first (default 0).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2147483647)]
    pub offset: Option<String>,
}

/// Query parameters of `GET /ingests/{id}/rejections`.
#[derive(Debug, Default, Clone, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RejectionParams {
    /// Only this file.
    #[param(value_type = Option<InputFile>, inline)]
    pub file: Option<String>,
    /// Only this reason code, e.g. `invalid_date` (see the run's `reasons`).
    #[param(pattern = "^[a-z_]{1,64}$", example = "invalid_date")]
    pub reason: Option<String>,
    /// Rows per page, 1–1000 (default 100). With `format=csv` up to 1000000,
    /// and by default every matching row (up to 1000000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// Rows to skip (default 0).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 2147483647)]
    pub offset: Option<String>,
    /// `json` (default) or `csv`.
    #[param(value_type = Option<super::params::Format>, inline)]
    pub format: Option<String>,
}

/// An input file of an ingest.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Documents the values of the `file` parameter.
pub enum InputFile {
    #[schema(rename = "products.csv")]
    Products,
    #[schema(rename = "transactions.csv")]
    Transactions,
    #[schema(rename = "users.csv")]
    Users,
}

fn offset(raw: Option<&str>) -> Result<u64, ReportError> {
    parse_int(raw, "offset", 0, 0, MAX_OFFSET).map(u64::from)
}

/// The largest `offset` (the contract's 32-bit integer).
const MAX_OFFSET: u32 = i32::MAX as u32;

/// What a run's stored summary tells beyond its columns.
#[derive(Default, serde::Deserialize)]
struct StoredSummary {
    #[serde(default)]
    reasons: Vec<RejectionReason>,
    before: Option<DataTotals>,
    after: Option<DataTotals>,
}

#[derive(Default, serde::Deserialize)]
struct StoredOptions {
    #[serde(default)]
    force: bool,
}

fn run(model: etl_run::Model, files: Vec<IngestFile>) -> Result<IngestRun, ReportError> {
    let unreadable = |cause| ReportError::UnreadableRun {
        run_id: model.id,
        cause,
    };
    let mode = model.mode.parse().map_err(unreadable)?;
    let status = model.status.parse().map_err(unreadable)?;
    let forced = model
        .options_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<StoredOptions>(j).ok())
        .is_some_and(|o| o.force);
    Ok(IngestRun {
        id: model.id,
        mode,
        status,
        data_changed: model.data_changed,
        forced,
        started_at: Timestamp::from_naive_utc(model.started_at),
        finished_at: model.finished_at.map(Timestamp::from_naive_utc),
        duration_ms: model.finished_at.map(|f| (f - model.started_at).num_milliseconds()),
        files,
        error: model.error,
        requested_by: model.requested_by,
        progress: None,
    })
}

fn file(f: etl_run_file::Model) -> IngestFile {
    IngestFile {
        file: f.file,
        sha256: f.sha256,
        bytes: f.bytes,
        read: f.rows_read,
        loaded: f.rows_loaded,
        already_loaded: f.rows_already_loaded,
        duplicates: f.rows_duplicate,
        rejected: f.rows_rejected,
        same_as_run: f.same_as_run,
    }
}

/// The files of `runs`, by run.
async fn files_of(db: &DatabaseConnection, runs: &[i64]) -> Result<Vec<(i64, IngestFile)>, ReportError> {
    Ok(etl_run_file::Entity::find()
        .filter(etl_run_file::Column::RunId.is_in(runs.iter().copied()))
        .order_by_asc(etl_run_file::Column::RunId)
        .order_by_asc(etl_run_file::Column::File)
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.run_id, file(f)))
        .collect())
}

/// `GET /ingests`.
pub async fn list(db: &DatabaseConnection, params: &IngestListParams) -> Result<IngestList, ReportError> {
    let limit = parse_int(params.limit.as_deref(), "limit", 50, 1, 200)?;
    let offset = offset(params.offset.as_deref())?;
    let total = etl_run::Entity::find().count(db).await? as i64;
    let runs = etl_run::Entity::find()
        .order_by_desc(etl_run::Column::Id)
        .offset(offset)
        .limit(u64::from(limit))
        .all(db)
        .await?;
    let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
    let mut files: std::collections::HashMap<i64, Vec<IngestFile>> = std::collections::HashMap::new();
    for (id, f) in files_of(db, &ids).await? {
        files.entry(id).or_default().push(f);
    }
    let runs = runs
        .into_iter()
        .map(|r| {
            let mine = files.remove(&r.id).unwrap_or_default();
            run(r, mine)
        })
        .collect::<Result<_, _>>()?;
    Ok(IngestList {
        runs,
        total,
        limit,
        offset,
    })
}

async fn find_run(db: &DatabaseConnection, id: i64) -> Result<etl_run::Model, ReportError> {
    etl_run::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ReportError::NotFound(format!("no ingest run {id}")))
}

/// `GET /ingests/{id}`.
pub async fn detail(db: &DatabaseConnection, id: i64) -> Result<IngestDetail, ReportError> {
    let model = find_run(db, id).await?;
    let summary: StoredSummary = model
        .summary_json
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    let files = files_of(db, &[id]).await?.into_iter().map(|(_, f)| f).collect();
    Ok(IngestDetail {
        run: run(model, files)?,
        reasons: summary
            .reasons
            .into_iter()
            .map(|r| RejectionReason {
                example: mask_emails(&r.example),
                ..r
            })
            .collect(),
        // Runs of earlier versions stored two decimals for every currency.
        before: summary.before.map(|mut t| {
            t.rescale_money(&domain::exponent_of);
            t
        }),
        after: summary.after.map(|mut t| {
            t.rescale_money(&domain::exponent_of);
            t
        }),
    })
}

/// `GET /ingests/{id}/rejections`.
pub async fn rejections(
    db: &DatabaseConnection,
    id: i64,
    params: &RejectionParams,
) -> Result<RejectionList, ReportError> {
    let csv = params.format.as_deref() == Some("csv");
    let limit = match csv {
        true => parse_int(params.limit.as_deref(), "limit", MAX_CSV_ROWS, 1, MAX_CSV_ROWS)?,
        false => parse_int(params.limit.as_deref(), "limit", 100, 1, 1000)?,
    };
    let offset = offset(params.offset.as_deref())?;
    let file = super::params::given(params.file.as_deref(), "file")?;
    if let Some(f) = file {
        if !FILES.contains(&f) {
            return Err(ReportError::BadParameter {
                parameter: "file",
                message: format!("parameter `file` must be one of {}, got {f:?}", FILES.join(", ")),
            });
        }
    }
    let reason = super::params::given(params.reason.as_deref(), "reason")?;
    if let Some(r) = reason {
        if r.len() > 64 || !r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(ReportError::BadParameter {
                parameter: "reason",
                message: format!("parameter `reason` must be a reason code such as invalid_date, got {r:?}"),
            });
        }
    }
    find_run(db, id).await?;
    let mut filter = Condition::all().add(etl_rejected_row::Column::RunId.eq(id));
    if let Some(f) = file {
        filter = filter.add(etl_rejected_row::Column::File.eq(f));
    }
    if let Some(r) = reason {
        filter = filter.add(etl_rejected_row::Column::ReasonCode.eq(r));
    }
    let total = etl_rejected_row::Entity::find()
        .filter(filter.clone())
        .count(db)
        .await? as i64;
    let rows = etl_rejected_row::Entity::find()
        .filter(filter)
        .order_by_asc(etl_rejected_row::Column::File)
        .order_by_asc(etl_rejected_row::Column::LineNumber)
        .order_by_asc(etl_rejected_row::Column::Id)
        .offset(offset)
        .limit(u64::from(limit))
        .all(db)
        .await?;
    Ok(RejectionList {
        run_id: id,
        total,
        limit,
        offset,
        rejections: rows
            .into_iter()
            .map(|r| Rejection {
                file: r.file,
                line: r.line_number,
                reason: r.reason_code,
                message: mask_emails(&r.reason),
                raw_line: mask_emails(&r.raw_line),
            })
            .collect(),
    })
}

//! `POST /ingests`: upload exports (multipart) and start an ingest.

use std::path::Path;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::auth::Principal;
use crate::error::ApiError;
use crate::uploads::Uploads;
use etl::{self, IngestLock, Mode, StartedRun};

/// The file parts, in the order of `etl`'s `Given` flags.
const FILE_PARTS: [&str; 3] = ["products", "transactions", "users"];
/// The other parts.
const VALUE_PARTS: [&str; 3] = ["mode", "dry_run", "force"];
/// Longest value of a non-file part.
const MAX_VALUE: usize = 64;

/// The form of `POST /ingests` (for the contract).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// products.csv. A replace needs all three files; an append any of them.
    #[schema(value_type = Option<String>, format = Binary)]
    products: Option<Vec<u8>>,
    /// transactions.csv.
    #[schema(value_type = Option<String>, format = Binary)]
    transactions: Option<Vec<u8>>,
    /// users.csv.
    #[schema(value_type = Option<String>, format = Binary)]
    users: Option<Vec<u8>>,
    /// `replace` (the default: the files are the whole history) or `append`.
    #[schema(pattern = "^(replace|append)$")]
    mode: Option<String>,
    /// `true`: run everything, report, change nothing (also `1`/`on`; `false`, `0`, `off`).
    #[schema(value_type = Option<String>, pattern = "^(true|false|1|0|on|off)$")]
    dry_run: Option<String>,
    /// `true`: load even when a guard rail objects (and re-read files ingested before).
    #[schema(value_type = Option<String>, pattern = "^(true|false|1|0|on|off)$")]
    force: Option<String>,
}

/// Uploads exports and starts an ingest with them (admin). The run's id is
/// answered at once; follow it at `/ingests/{id}` (its `progress` while it
/// runs, then its result). One ingest at a time: another one running answers
/// 409. The uploaded files are deleted when the run ends.
#[utoipa::path(post, path = "/ingests", tag = "ingests",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
    (status = 202, description = "The run started", body = api_types::IngestAccepted,
        headers(("Location" = String, description = "/ingests/{id}"))),
    (status = 400, description = "A part missing, unknown or repeated, or an invalid value", body = api_types::ApiError),
    (status = 401, description = "Not signed in", body = api_types::ApiError),
    (status = 403, description = "Not an admin (or a cross-site request)", body = api_types::ApiError),
    (status = 409, description = "Another ingest is running", body = api_types::ApiError),
    (status = 413, description = "The body is larger than the server's limit", body = api_types::ApiError),
    (status = 415, description = "The body is compressed (`Content-Encoding`): send it as it is", body = api_types::ApiError),
    (status = 429, description = "Too many failed attempts from this address", body = api_types::ApiError),
    (status = 507, description = "The server's upload storage is full: nothing was kept", body = api_types::ApiError),
    (status = 503, description = "The database is unreachable (`database_unavailable`), takes no writes (`database_read_only`), or its SQLite file was deleted or replaced (`database_file_changed`)", body = api_types::ApiError)),
    security(("bearer" = []), ("session" = [])))]
pub async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    primary: web::Data<crate::database::Primary>,
    uploads: web::Data<Uploads>,
    cache: web::Data<reports::ReportCache>,
    principal: web::ReqData<Principal>,
    readiness: web::Data<crate::readiness::Readiness>,
) -> Result<HttpResponse, ApiError> {
    let max = uploads.settings.max_bytes;
    refuse_unreadable_body(&req, max)?;
    // Ingests write to the primary (the reports may be read from a standby).
    let db = &primary.0;
    // Before reading anything: a database that cannot take the run says so
    // at once (its file gone, or read-only), rather than accepting the upload.
    readiness.check_file()?;
    let writes = store::db::writes::writes(db).await?;
    readiness.set_writes(&writes);
    if let store::db::Writes::Unavailable(why) = writes {
        return Err(ApiError::ReadOnly(why));
    }
    let lock = lock_or_conflict(db).await?;
    let folder = uploads
        .folder()
        .map_err(|e| io_error("creating the upload folder", e))?;
    let form = receive(&req, payload, folder.path(), max).await?;

    let mut options = uploads.settings.defaults.clone();
    options.input = folder.path().to_owned();
    options.mode = form.mode;
    options.dry_run = form.dry_run;
    options.force = form.force;
    options.requested_by = principal.requested_by();
    // Its refusals name the server's settings, which the caller cannot pass,
    // and the upload's force (an admin's "load anyway").
    options.audience = etl::Audience::Upload;
    // Readers of the run see its files by their part's name, never the
    // server's folder.
    options.input_label = Some("the upload".to_owned());
    let started = StartedRun::record(db, &options, lock).await.map_err(ingest_error)?;
    let id = started.id();
    Arc::clone(&uploads)
        .spawn(db.clone(), started, options, folder, cache.into_inner())
        .map_err(|e| io_error("starting the ingest", e))?;
    let href = format!("/ingests/{id}");
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, href.clone()))
        .json(api_types::IngestAccepted {
            run_id: id,
            status: etl::RunStatus::Running,
            href,
        }))
}

/// Before reading the body: one declared too large, or compressed, is
/// refused at once. A compressed body would look like a broken form; exports
/// compress well, but a bomb must not fill the disk either, so none is
/// decoded: said plainly instead.
fn refuse_unreadable_body(req: &HttpRequest, max: u64) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    if let Some(encoding) = req.headers().get(header::CONTENT_ENCODING) {
        let encoding = encoding.to_str().unwrap_or("?").trim();
        if !encoding.eq_ignore_ascii_case("identity") {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the upload is sent with Content-Encoding {:?}, which this server does not decode: \
                 send the form uncompressed",
                truncate(encoding)
            )));
        }
    }
    Ok(())
}

/// The ingest lock, or a 409 naming the run that holds it: a second upload
/// is told at once.
async fn lock_or_conflict(db: &sea_orm::DatabaseConnection) -> Result<IngestLock, ApiError> {
    let patience = std::time::Duration::from_secs(1);
    match IngestLock::try_acquire_within(db, patience)
        .await
        .map_err(ingest_error)?
    {
        Some(lock) => Ok(lock),
        None => {
            let which = crate::uploads::running_run(db)
                .await
                .map_or(String::new(), |id| format!(" (run {id})"));
            Err(ApiError::Conflict(format!(
                "another ingest is running{which}: upload again when it has ended"
            )))
        }
    }
}

/// What the form asked for.
struct Form {
    mode: Mode,
    dry_run: bool,
    force: bool,
}

/// Streams the parts: files into `dir` (`<part>.csv`), values checked.
async fn receive(req: &HttpRequest, payload: web::Payload, dir: &Path, max: u64) -> Result<Form, ApiError> {
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut total: u64 = 0;
    let mut files = [false; 3];
    let mut values: [Option<String>; 3] = [None, None, None];
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field
            .name()
            .ok_or_else(|| bad("invalid_upload", "a part has no name".to_owned()))?
            .to_owned();
        if let Some(i) = FILE_PARTS.iter().position(|p| *p == name) {
            if std::mem::replace(&mut files[i], true) {
                return Err(bad("invalid_upload", format!("the part `{name}` is given twice")));
            }
            store_file(&mut field, &name, &dir.join(format!("{name}.csv")), &mut total, max).await?;
        } else if let Some(i) = VALUE_PARTS.iter().position(|p| *p == name) {
            if values[i].is_some() {
                return Err(bad("invalid_upload", format!("the part `{name}` is given twice")));
            }
            values[i] = Some(read_value(&mut field, &name, &mut total).await?);
        } else {
            return Err(bad(
                "invalid_upload",
                format!(
                    "unknown part `{}`: the parts are {}, {}",
                    truncate(&name),
                    FILE_PARTS.join(", "),
                    VALUE_PARTS.join(", ")
                ),
            ));
        }
    }
    form(files, values)
}

/// Writes a file part to `path`, counting its bytes into `total` (at most `max`).
async fn store_file(
    field: &mut actix_multipart::Field,
    name: &str,
    path: &Path,
    total: &mut u64,
    max: u64,
) -> Result<(), ApiError> {
    // A file, as browsers and `curl -F name=@file` send it: a text value
    // under this name is a mistake, not an export.
    if field.content_disposition().and_then(|cd| cd.get_filename()).is_none() {
        return Err(bad(
            "invalid_upload",
            format!("the part `{name}` must be a file (with a filename, e.g. curl -F {name}=@{name}.csv)"),
        ));
    }
    let storing = |e| io_error("storing an uploaded file", e);
    let file = tokio::fs::File::create(path).await.map_err(storing)?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        *total += chunk.len() as u64;
        if *total > max {
            return Err(too_large(max));
        }
        out.write_all(&chunk).await.map_err(storing)?;
    }
    out.flush().await.map_err(storing)
}

/// A value part (`mode`, `dry_run`, `force`) as trimmed text.
async fn read_value(field: &mut actix_multipart::Field, name: &str, total: &mut u64) -> Result<String, ApiError> {
    let mut value = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(malformed)?;
        *total += chunk.len() as u64;
        value.extend_from_slice(&chunk);
        if value.len() > MAX_VALUE {
            return Err(bad("invalid_parameter", format!("the part `{name}` is too long")));
        }
    }
    let value =
        String::from_utf8(value).map_err(|_| bad("invalid_parameter", format!("the part `{name}` is not text")))?;
    Ok(value.trim().to_owned())
}

/// The upload's options, once every part is read: the mode, and the files it needs.
fn form(files: [bool; 3], values: [Option<String>; 3]) -> Result<Form, ApiError> {
    let [mode, dry_run, force] = values;
    let mode = match mode.as_deref() {
        None => Mode::Replace,
        Some(given) => given.parse().map_err(|_| {
            bad(
                "invalid_parameter",
                format!("`mode` must be replace or append, got {:?}", truncate(given)),
            )
        })?,
    };
    let missing: Vec<&str> = FILE_PARTS
        .iter()
        .zip(files)
        .filter_map(|(p, given)| (!given).then_some(*p))
        .collect();
    match mode {
        Mode::Replace if !missing.is_empty() => {
            return Err(bad(
                "invalid_upload",
                format!(
                    "a replace needs the three files: missing {} (an append takes any of them)",
                    missing.join(", ")
                ),
            ))
        }
        Mode::Append if missing.len() == FILE_PARTS.len() => {
            return Err(bad(
                "invalid_upload",
                format!("an append needs at least one of the parts {}", FILE_PARTS.join(", ")),
            ))
        }
        _ => {}
    }
    Ok(Form {
        mode,
        dry_run: flag("dry_run", dry_run.as_deref())?,
        force: flag("force", force.as_deref())?,
    })
}

/// `true`/`false` (also `1`/`0`, and `on`, what an HTML checkbox sends).
fn flag(name: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value {
        None | Some("false") | Some("0") | Some("off") => Ok(false),
        Some("true") | Some("1") | Some("on") => Ok(true),
        Some(other) => Err(bad(
            "invalid_parameter",
            format!("`{name}` must be true or false, got {:?}", truncate(other)),
        )),
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn bad(code: &'static str, message: String) -> ApiError {
    ApiError::BadRequest { code, message }
}

fn malformed(e: actix_multipart::MultipartError) -> ApiError {
    bad(
        "invalid_upload",
        format!("the body is not a complete multipart/form-data upload: {e}"),
    )
}

fn too_large(max: u64) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the upload is larger than this server's limit of {} MiB (--max-upload-mb)",
        max >> 20
    ))
}

/// A failure of the server's own files: 507 when its storage is full (the
/// upload's folder is removed on the way out), else an opaque 500.
fn io_error(during: &'static str, e: std::io::Error) -> ApiError {
    let full = matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    );
    if full {
        tracing::error!(error = %e, "upload refused while {during}: the upload folder's storage is full");
        return ApiError::InsufficientStorage(
            "the server's upload storage is full: nothing of this upload was kept. Ask its operator to free space \
             where uploads are stored (--upload-dir / UPLOAD_DIR)"
                .to_owned(),
        );
    }
    ApiError::Io { during, source: e }
}

fn ingest_error(e: etl::EtlError) -> ApiError {
    match e {
        etl::EtlError::ReadOnly(why) => ApiError::ReadOnly(why),
        // The lock file's path is the server's business: logged, not answered.
        e @ etl::EtlError::Lock { .. } => {
            tracing::error!(error = %e, "cannot take the ingest lock");
            ApiError::ReadOnly(
                "the ingest lock file cannot be created beside the SQLite database (is its folder read-only?)"
                    .to_owned(),
            )
        }
        e => ApiError::Ingest(e.to_string()),
    }
}

//! Prometheus metrics (`GET /metrics`, text format), through the `metrics`
//! facade and its Prometheus exporter.
//!
//! Two kinds:
//! - what this process sees, recorded as it happens: HTTP requests by route
//!   template (never the raw path: the label set stays bounded), method and
//!   status, and their durations;
//! - what the database holds, read at each scrape into a recorder of that
//!   scrape only (so that every server reports its own database, and nothing
//!   stale lingers): the ingest runs by mode and status, the rows of their
//!   files by outcome, their durations, the last successful ingest, the
//!   latest transaction, the report cache's age, the connection pool.
//!
//! Every name is listed in the README ("Metrics").

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QuerySelect};

use crate::entities::{etl_run, etl_run_file};
use crate::readiness::Readiness;
use crate::reports::ReportCache;

/// Upper bounds of the request-duration buckets, in seconds: the API answers
/// in well under a millisecond from its cache; an upload takes seconds.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How often the histograms' samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// The process's recorder (installed once, shared by every server of the process).
fn process() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = builder()
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), REQUEST_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| builder().build_recorder());
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, describe_process);
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: HTTP metrics are not recorded");
        }
        upkeep(handle.clone());
        handle
    })
}

/// Runs the exporter's upkeep every [`UPKEEP_EVERY`]. Its histograms keep
/// each sample until upkeep moves it into the buckets, and `build_recorder`
/// leaves running it to the caller (the crate's "Upkeep and maintenance"):
/// a render runs it, so without a scrape every request kept ~16 bytes. On a
/// thread of its own: the recorder is the process's, shared by its servers
/// and their runtimes, and lives as long as the process.
fn upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_EVERY);
            handle.run_upkeep();
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the metrics upkeep: memory grows until /metrics is scraped");
    }
}

fn builder() -> PrometheusBuilder {
    PrometheusBuilder::new()
}

fn describe_process() {
    metrics::describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by route template, method and status"
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer HTTP requests, by route template and method"
    );
}

fn describe_scrape() {
    use metrics::{describe_counter, describe_gauge, Unit};
    describe_gauge!(
        "revenue_database_up",
        "1 when the database answers, else 0 (the server answers 503)"
    );
    describe_gauge!("revenue_db_pool_max_connections", "Connections the pool may open");
    describe_gauge!(
        "revenue_db_pool_connections",
        "Open connections of the pool, idle or in use"
    );
    describe_counter!(
        "revenue_ingest_runs_total",
        "Ingest runs recorded in the database, by mode and status"
    );
    describe_gauge!(
        "revenue_ingest_runs_duration_seconds",
        Unit::Seconds,
        "Total duration of the ingest runs, by mode and status (divided by revenue_ingest_runs_total: the mean)"
    );
    describe_gauge!(
        "revenue_ingest_last_duration_seconds",
        Unit::Seconds,
        "Duration of the latest finished run, by mode"
    );
    describe_gauge!(
        "revenue_last_successful_ingest_timestamp_seconds",
        Unit::Seconds,
        "When the latest successful ingest ended (Unix time)"
    );
    describe_counter!(
        "revenue_ingest_rows_total",
        "Rows of the files of successful runs, by file and outcome (read = loaded + already_loaded + duplicate + rejected)"
    );
    describe_gauge!(
        "revenue_report_cache_age_seconds",
        Unit::Seconds,
        "Since the served aggregates were last confirmed the latest"
    );
    describe_gauge!(
        "revenue_report_cache_run",
        "The ingest run whose data the reports serve"
    );
    describe_gauge!(
        "revenue_latest_transaction_timestamp_seconds",
        Unit::Seconds,
        "The latest transaction in the served data (Unix time)"
    );
}

/// The route label of a request: the template it matched (`/ingests/{id}`),
/// `static` for the dashboard's files, `unmatched` for anything else.
fn route(req: &actix_web::HttpRequest) -> String {
    match req.match_pattern() {
        Some(p) if crate::routes::is_api_path(&p) => p,
        Some(_) if req.path() != "/metrics" => "static".to_owned(),
        _ if crate::routes::is_api_path(req.path()) => "unmatched".to_owned(),
        _ => "static".to_owned(),
    }
}

/// The middleware: counts every request and records its duration.
pub async fn record<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    process();
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let res = next.call(req).await?;
    let route = route(res.request());
    let status = res.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// What the database says at one scrape.
struct Stored {
    /// mode, status, started, finished.
    runs: Vec<(String, String, NaiveDateTime, Option<NaiveDateTime>)>,
    /// file, read, loaded, already loaded, duplicates, rejected — of succeeded runs.
    rows: Vec<(String, i64, i64, i64, i64, i64)>,
}

async fn stored(db: &DatabaseConnection) -> Result<Stored, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, RelationTrait};
    let runs = etl_run::Entity::find()
        .select_only()
        .columns([
            etl_run::Column::Mode,
            etl_run::Column::Status,
            etl_run::Column::StartedAt,
            etl_run::Column::FinishedAt,
        ])
        .into_tuple()
        .all(db)
        .await?;
    // SUM of a bigint is a numeric on PostgreSQL: back to bigint.
    let sum = |c: etl_run_file::Column| {
        sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::sum(sea_orm::sea_query::Expr::col(c)))
            .cast_as(sea_orm::sea_query::Alias::new("bigint"))
    };
    let rows = etl_run_file::Entity::find()
        .select_only()
        .column(etl_run_file::Column::File)
        .column_as(sum(etl_run_file::Column::RowsRead), "read")
        .column_as(sum(etl_run_file::Column::RowsLoaded), "loaded")
        .column_as(sum(etl_run_file::Column::RowsAlreadyLoaded), "already")
        .column_as(sum(etl_run_file::Column::RowsDuplicate), "duplicates")
        .column_as(sum(etl_run_file::Column::RowsRejected), "rejected")
        .join(sea_orm::JoinType::InnerJoin, etl_run_file::Relation::Run.def())
        .filter(etl_run::Column::Status.eq("succeeded"))
        .group_by(etl_run_file::Column::File)
        .into_tuple::<(String, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(f, a, b, c, d, e)| {
            let n = |v: Option<i64>| v.unwrap_or(0);
            (f, n(a), n(b), n(c), n(d), n(e))
        })
        .collect();
    Ok(Stored { runs, rows })
}

fn seconds(t: NaiveDateTime) -> f64 {
    t.and_utc().timestamp_millis() as f64 / 1000.0
}

/// Records what the database holds (into the scrape's own recorder).
fn record_stored(stored: &Stored) {
    use std::collections::BTreeMap;
    let mut runs: BTreeMap<(&str, &str), (u64, f64)> = BTreeMap::new();
    let mut last_success: Option<NaiveDateTime> = None;
    let mut last_duration: BTreeMap<&str, (NaiveDateTime, f64)> = BTreeMap::new();
    for (mode, status, started, finished) in &stored.runs {
        let duration = finished.map_or(0.0, |f| (f - *started).num_milliseconds().max(0) as f64 / 1000.0);
        let entry = runs.entry((mode, status)).or_default();
        entry.0 += 1;
        entry.1 += duration;
        if let Some(f) = finished {
            if status == "succeeded" {
                last_success = last_success.max(Some(*f));
            }
            if last_duration.get(mode.as_str()).is_none_or(|(t, _)| f > t) {
                last_duration.insert(mode, (*f, duration));
            }
        }
    }
    for ((mode, status), (count, duration)) in runs {
        let (mode, status) = (mode.to_owned(), status.to_owned());
        metrics::counter!("revenue_ingest_runs_total", "mode" => mode.clone(), "status" => status.clone())
            .absolute(count);
        metrics::gauge!("revenue_ingest_runs_duration_seconds", "mode" => mode, "status" => status).set(duration);
    }
    for (mode, (_, duration)) in last_duration {
        metrics::gauge!("revenue_ingest_last_duration_seconds", "mode" => mode.to_owned()).set(duration);
    }
    if let Some(t) = last_success {
        metrics::gauge!("revenue_last_successful_ingest_timestamp_seconds").set(seconds(t));
    }
    for (file, read, loaded, already, duplicates, rejected) in &stored.rows {
        for (outcome, n) in [
            ("read", read),
            ("loaded", loaded),
            ("already_loaded", already),
            ("duplicate", duplicates),
            ("rejected", rejected),
        ] {
            metrics::counter!("revenue_ingest_rows_total", "file" => file.clone(), "outcome" => outcome)
                .absolute((*n).max(0) as u64);
        }
    }
}

/// The pool's connections: (open, idle).
fn pool(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    }
}

/// `GET /metrics`: the metrics in the Prometheus text format (names in the README).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus text format (0.0.4)", content_type = "text/plain", body = String)))]
pub async fn metrics(
    db: web::Data<DatabaseConnection>,
    cache: web::Data<ReportCache>,
    readiness: web::Data<Readiness>,
) -> HttpResponse {
    let process = process();
    process.run_upkeep();
    let scrape = builder().build_recorder();
    let scrape_handle = scrape.handle();
    let up = readiness.is_ready();
    // Read first: the scrape's recorder is entered for synchronous code only.
    let stored = match up {
        true => match stored(&db).await {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "metrics: cannot read the ingest runs");
                None
            }
        },
        false => None,
    };
    let cached = cache.peek().await;
    let (open, idle) = pool(&db);
    metrics::with_local_recorder(&scrape, || {
        describe_scrape();
        metrics::gauge!("revenue_database_up").set(f64::from(u8::from(up)));
        metrics::gauge!("revenue_db_pool_max_connections").set(f64::from(crate::db::POOL_SIZE));
        metrics::gauge!("revenue_db_pool_connections", "state" => "idle").set(idle as f64);
        metrics::gauge!("revenue_db_pool_connections", "state" => "in_use")
            .set(f64::from(open).max(idle as f64) - idle as f64);
        if let Some(stored) = &stored {
            record_stored(stored);
        }
        if let Some((run, age, ctx)) = &cached {
            metrics::gauge!("revenue_report_cache_age_seconds").set(age.as_secs_f64());
            if let Some(run) = run {
                metrics::gauge!("revenue_report_cache_run").set(*run as f64);
            }
            let latest = ctx
                .quality
                .as_ref()
                .and_then(|q| q.freshness.latest_transaction_at.as_deref())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            if let Some(t) = latest {
                metrics::gauge!("revenue_latest_transaction_timestamp_seconds")
                    .set(t.timestamp_millis() as f64 / 1000.0);
            }
        }
    });
    let mut body = process.render();
    body.push_str(&scrape_handle.render());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

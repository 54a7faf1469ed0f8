//! Prometheus metrics (`GET /metrics`, text format), through the `metrics`
//! facade and its Prometheus exporter.
//!
//! Two kinds:
//! - what this process sees, recorded as it happens: HTTP requests by route
//!   template, method and status, and their durations;
//! - what the database holds, read at each scrape into a recorder of that
//!   scrape only (so that every server reports its own database, and nothing
//!   stale lingers): the ingest runs by mode and status, the rows of their
//!   files by outcome, their durations, the last successful ingest, the
//!   latest transaction, the report cache's age, the connection pool.
//!
//! Every label takes its values from a closed set, whatever clients send or
//! the database holds (a made-up method is `other`, an unknown path
//! `unmatched`): the number of series is bounded by this code, not by the
//! requests. Every name and label value is listed in the README ("Metrics").

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QuerySelect};

use crate::readiness::Readiness;
use etl::{Mode, RunStatus};
use reports::ReportCache;
use store::entities::{etl_run, etl_run_file};

/// Upper bounds of the request-duration buckets, in seconds: the API answers
/// in well under a millisecond from its cache; an upload takes seconds.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How often the histograms' samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(1);

/// The `method` label's values besides [`OTHER`]: the methods HTTP defines
/// (a client may send any token as a method).
pub const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

/// The value of a label for what is not one of its known values.
pub const OTHER: &str = "other";

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
        "revenue_saas_kept_transactions",
        "Transactions the server keeps in memory for the subscription figures of the served run"
    );
    describe_gauge!(
        "revenue_saas_caught_up_transactions",
        "Of those, the ones read from the run's appended transactions (0: every transaction was read)"
    );
    describe_gauge!(
        "revenue_saas_fed_transactions",
        "Of those, the ones a full read took from the subscription feed the loads write (0: from the fact table)"
    );
    describe_gauge!(
        "revenue_latest_transaction_timestamp_seconds",
        Unit::Seconds,
        "The latest transaction in the served data (Unix time)"
    );
}

/// The route label of a request: the template it matched (`/ingests/{id}`),
/// `static` for the dashboard's files, `unmatched` for anything else. A
/// template is a pattern registered by this code, never the request's path.
fn route(req: &actix_web::HttpRequest) -> String {
    match req.match_pattern() {
        Some(p) if crate::endpoints::is_api_path(&p) => p,
        Some(_) if req.path() != "/metrics" => "static".to_owned(),
        _ if crate::endpoints::is_api_path(req.path()) => "unmatched".to_owned(),
        _ => "static".to_owned(),
    }
}

/// The method label: one of [`METHODS`], else [`OTHER`].
fn method(method: &Method) -> &'static str {
    METHODS.into_iter().find(|m| *m == method.as_str()).unwrap_or(OTHER)
}

/// The status label: the code when HTTP names it (`404`: what dashboards
/// query, `status=~"5.."`), else its class (`5xx`). The server chooses the
/// status, but the set stays closed whatever a handler or proxy layer does.
fn status(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(_) => status.as_str().to_owned(),
        None => format!("{}xx", status.as_u16() / 100),
    }
}

/// The middleware: counts every request and records its duration.
pub async fn record<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    process();
    let started = Instant::now();
    let method = method(req.method());
    let res = next.call(req).await?;
    let route = route(res.request());
    let status = status(res.status());
    metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// `value` if it is one of `known`, else [`OTHER`]: the labels read from the
/// database stay within what this code writes, whatever a row says.
fn known(value: &str, known: impl IntoIterator<Item = &'static str>) -> &'static str {
    known.into_iter().find(|k| *k == value).unwrap_or(OTHER)
}

fn mode_label(mode: &str) -> &'static str {
    known(mode, Mode::ALL.iter().map(|m| m.as_str()))
}

fn status_label(status: &str) -> &'static str {
    known(status, RunStatus::ALL.iter().map(|s| s.as_str()))
}

fn file_label(file: &str) -> &'static str {
    known(file, etl::FILES)
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
        .filter(etl_run::Column::Status.eq(RunStatus::Succeeded.as_str()))
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

/// Records what the database holds (into the scrape's own recorder), its
/// values mapped to their labels first (several unknown ones add up in
/// `other`).
fn record_stored(stored: &Stored) {
    use std::collections::BTreeMap;
    let mut runs: BTreeMap<(&str, &str), (u64, f64)> = BTreeMap::new();
    let mut last_success: Option<NaiveDateTime> = None;
    let mut last_duration: BTreeMap<&str, (NaiveDateTime, f64)> = BTreeMap::new();
    for (mode, status, started, finished) in &stored.runs {
        let duration = finished.map_or(0.0, |f| (f - *started).num_milliseconds().max(0) as f64 / 1000.0);
        let (mode, succeeded) = (mode_label(mode), status == RunStatus::Succeeded.as_str());
        let entry = runs.entry((mode, status_label(status))).or_default();
        entry.0 += 1;
        entry.1 += duration;
        if let Some(f) = finished {
            if succeeded {
                last_success = last_success.max(Some(*f));
            }
            if last_duration.get(mode).is_none_or(|(t, _)| f > t) {
                last_duration.insert(mode, (*f, duration));
            }
        }
    }
    for ((mode, status), (count, duration)) in runs {
        metrics::counter!("revenue_ingest_runs_total", "mode" => mode, "status" => status).absolute(count);
        metrics::gauge!("revenue_ingest_runs_duration_seconds", "mode" => mode, "status" => status).set(duration);
    }
    for (mode, (_, duration)) in last_duration {
        metrics::gauge!("revenue_ingest_last_duration_seconds", "mode" => mode).set(duration);
    }
    if let Some(t) = last_success {
        metrics::gauge!("revenue_last_successful_ingest_timestamp_seconds").set(seconds(t));
    }
    let mut rows: BTreeMap<&str, [u64; 5]> = BTreeMap::new();
    for (file, read, loaded, already, duplicates, rejected) in &stored.rows {
        let sums = rows.entry(file_label(file)).or_default();
        for (sum, n) in sums.iter_mut().zip([read, loaded, already, duplicates, rejected]) {
            *sum = sum.saturating_add((*n).max(0) as u64);
        }
    }
    for (file, sums) in rows {
        let outcomes = ["read", "loaded", "already_loaded", "duplicate", "rejected"];
        for (outcome, n) in outcomes.into_iter().zip(sums) {
            metrics::counter!("revenue_ingest_rows_total", "file" => file, "outcome" => outcome).absolute(n);
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
        metrics::gauge!("revenue_db_pool_max_connections").set(f64::from(store::db::POOL_SIZE));
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
            if let Some(counts) = ctx.saas.kept_transactions() {
                metrics::gauge!("revenue_saas_kept_transactions").set(counts.kept as f64);
                metrics::gauge!("revenue_saas_caught_up_transactions").set(counts.appended.unwrap_or(0) as f64);
                metrics::gauge!("revenue_saas_fed_transactions").set(counts.fed as f64);
            }
            let latest = ctx.quality.as_ref().and_then(|q| q.freshness.latest_transaction_at);
            if let Some(t) = latest {
                metrics::gauge!("revenue_latest_transaction_timestamp_seconds")
                    .set(t.utc().timestamp_millis() as f64 / 1000.0);
            }
        }
    });
    let mut body = process.render();
    body.push_str(&scrape_handle.render());
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_their_values_from_closed_sets() {
        assert_eq!(method(&Method::GET), "GET");
        assert_eq!(method(&Method::PATCH), "PATCH");
        assert_eq!(method(&Method::from_bytes(b"GET2").unwrap()), "other");
        assert_eq!(method(&Method::from_bytes(b"get").unwrap()), "other");
        assert_eq!(status(StatusCode::OK), "200");
        assert_eq!(status(StatusCode::SERVICE_UNAVAILABLE), "503");
        assert_eq!(status(StatusCode::from_u16(599).unwrap()), "5xx");
        assert_eq!(status(StatusCode::from_u16(299).unwrap()), "2xx");
        for m in Mode::ALL {
            assert_eq!(mode_label(m.as_str()), m.as_str());
        }
        for s in RunStatus::ALL {
            assert_eq!(status_label(s.as_str()), s.as_str());
        }
        for f in etl::FILES {
            assert_eq!(file_label(f), f);
        }
        assert_eq!(mode_label("REPLACE"), "other");
        assert_eq!(status_label("exploded"), "other");
        assert_eq!(file_label("../etc/passwd"), "other");
    }

    /// Unknown values read from the database add up in one `other` series.
    #[test]
    fn unknown_stored_values_add_up_in_other() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap().naive_utc();
        let stored = Stored {
            runs: vec![
                ("replace".into(), "succeeded".into(), at, Some(at)),
                ("sideways".into(), "weird".into(), at, Some(at)),
                ("upside".into(), "odd".into(), at, None),
            ],
            rows: vec![
                ("users.csv".into(), 3, 3, 0, 0, 0),
                ("a.csv".into(), 2, 1, 0, 0, 1),
                ("b.csv".into(), 5, 5, 0, 0, 0),
            ],
        };
        let recorder = builder().build_recorder();
        metrics::with_local_recorder(&recorder, || record_stored(&stored));
        let text = recorder.handle().render();
        assert!(
            text.contains(r#"revenue_ingest_runs_total{mode="other",status="other"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"revenue_ingest_rows_total{file="other",outcome="read"} 7"#),
            "{text}"
        );
        assert!(
            text.contains(r#"revenue_ingest_rows_total{file="users.csv",outcome="read"} 3"#),
            "{text}"
        );
        for bad in ["sideways", "weird", "upside", "odd", "a.csv", "b.csv"] {
            assert!(!text.contains(bad), "{bad} became a label: {text}");
        }
    }
}

//! Building and running the HTTP server; `main` and the tests start it the same way.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::{web, App, HttpResponse, HttpServer};
use sea_orm::DatabaseConnection;
use tracing_actix_web::TracingLogger;

use crate::auth::{Auth, AuthSettings};
use crate::readiness::{Preparation, Readiness};
use crate::routes;
use crate::uploads::{UploadSettings, Uploads};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0: any free port).
    pub bind: String,
    /// Origins allowed to call the API from another origin; empty: same origin only.
    pub cors_origins: Vec<String>,
    /// Host names answered besides the server's addresses and `localhost`.
    pub allowed_hosts: crate::auth::site::AllowedHosts,
    /// The built dashboard (`trunk build --release` output), served at `/` when present.
    pub static_dir: Option<PathBuf>,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// How often the report cache asks the database for a newer run.
    pub cache_recheck: std::time::Duration,
    pub auth: AuthSettings,
    pub upload: UploadSettings,
    /// Apply pending migrations once the database answers.
    pub migrate: bool,
    /// Ingest this when the database holds no run yet.
    pub ingest_if_empty: Option<etl::IngestOptions>,
    /// Serve `/metrics` on this address (without access control: a private
    /// network's) instead of on the main listener (with it).
    pub metrics_bind: Option<String>,
    /// The level of successful requests' log lines.
    pub request_log: crate::telemetry::RequestLogLevel,
    /// How many drill-downs read the database at once (see [`crate::drill_downs`]).
    pub drill_downs: crate::drill_downs::DrillDownSettings,
}

/// Where `serve` listens by default (and where `healthcheck` asks).
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The built dashboard's folder by default, relative to the working directory.
pub const DEFAULT_STATIC_DIR: &str = "frontend/dist";

impl Default for ServeSettings {
    /// `serve`'s defaults: the command line takes its own from here.
    fn default() -> Self {
        Self {
            bind: DEFAULT_BIND.to_owned(),
            cors_origins: Vec::new(),
            allowed_hosts: crate::auth::site::AllowedHosts::Own,
            static_dir: Some(PathBuf::from(DEFAULT_STATIC_DIR)),
            workers: None,
            cache_recheck: reports::RECHECK,
            auth: AuthSettings::default(),
            upload: UploadSettings::default(),
            migrate: true,
            ingest_if_empty: None,
            metrics_bind: None,
            request_log: crate::telemetry::RequestLogLevel::default(),
            drill_downs: crate::drill_downs::DrillDownSettings::default(),
        }
    }
}

impl ServeSettings {
    /// The defaults, listening on `bind`.
    pub fn new(bind: impl Into<String>) -> Self {
        Self {
            bind: bind.into(),
            ..Self::default()
        }
    }
}

pub use crate::database::Primary;

pub use crate::readiness::StartError;

/// Whether every address `bind` resolves to is a loopback address.
fn is_loopback(bind: &str) -> bool {
    use std::net::ToSocketAddrs;
    match bind.to_socket_addrs() {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// The watch over the database (see [`crate::readiness`]).
    watch: tokio::task::JoinHandle<()>,
    fatal: crate::readiness::Fatal,
    /// The `--metrics-bind` listener, and its port.
    metrics: Option<(Server, u16)>,
}

impl Application {
    /// Binds, and prepares the database if it answers (migrations, the
    /// access check, `ingest_if_empty`): a failure there that waiting does
    /// not cure (open mode on a non-loopback address, a failed migration) is
    /// returned before anything listens. A database that does not answer is
    /// waited for: the server starts, answering 503 where it needs it.
    pub async fn build(settings: &ServeSettings, db: DatabaseConnection) -> Result<Self, StartError> {
        Self::build_with_reads(settings, db, None).await
    }

    /// [`Application::build`], the reports read from `reads` (a standby of
    /// `db`) when given; `db` is still written to, and still needed.
    pub async fn build_with_reads(
        settings: &ServeSettings,
        db: DatabaseConnection,
        reads: Option<DatabaseConnection>,
    ) -> Result<Self, StartError> {
        let (site, auth) = access(settings, &db);
        let preparation = preparation(settings, auth.clone());
        let pools: Vec<DatabaseConnection> = std::iter::once(db.clone()).chain(reads.clone()).collect();
        let readiness = std::sync::Arc::new(Readiness::new(&pools));
        let prepared = prepare(&preparation, &db, &readiness).await?;
        let listen = listen_error(&settings.bind);
        let (listener, port) = bind(&settings.bind)?;
        let ready = web::Data::from(readiness.clone());
        let uploads = web::Data::new(Uploads::new(settings.upload.clone()).map_err(&listen)?);
        let primary = web::Data::new(Primary(db.clone()));
        let db = web::Data::new(reads.unwrap_or(db));
        let cache = web::Data::new(reports::ReportCache::with_recheck(settings.cache_recheck));
        let metrics = (settings.metrics_bind.as_deref())
            .map(|bind| metrics_server(settings, bind, db.get_ref().clone(), cache.clone(), ready.clone()))
            .transpose()?;
        let (static_dir, precompressed) = dashboard(settings);
        let parts = AppParts {
            db,
            primary,
            cache,
            auth,
            uploads,
            ready,
            drill_downs: web::Data::new(crate::drill_downs::DrillDowns::new(settings.drill_downs)),
            site: web::Data::new(site),
            request_log: settings.request_log,
            openapi: crate::openapi::document(),
            metrics_here: settings.metrics_bind.is_none(),
            precompressed,
            static_dir,
        };
        let origins = settings.cors_origins.clone();
        let mut server = HttpServer::new(move || {
            let parts = parts.clone();
            App::new()
                // Innermost: CORS answers preflight requests before access control.
                .wrap(actix_web::middleware::from_fn(crate::auth::guard::middleware))
                // Before access control, which reads the tokens from the database.
                .wrap(actix_web::middleware::from_fn(crate::readiness::gate))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(cors(&origins))
                // Before CORS and everything else: a rebound name gets nothing.
                .wrap(actix_web::middleware::from_fn(crate::auth::site::check_host))
                .wrap(actix_web::middleware::from_fn(crate::telemetry::request_id_header))
                .wrap(actix_web::middleware::from_fn(crate::monitoring::record))
                .wrap(TracingLogger::<crate::telemetry::RequestLog>::new())
                .configure(move |cfg| parts.configure(cfg))
                .default_service(web::to(routes::not_found))
        })
        .listen(listener)
        .map_err(listen)?
        .shutdown_timeout(10);
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        // SIGINT/SIGTERM trigger a graceful shutdown (actix-web's default signal handling).
        let server = server.run();
        let fatal = crate::readiness::Fatal::default();
        let watch = tokio::spawn(crate::readiness::watch(
            readiness,
            pools,
            preparation,
            prepared,
            server.handle(),
            fatal.clone(),
        ));
        Ok(Self {
            port,
            server,
            watch,
            fatal,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `--metrics-bind` listener.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// Serves until SIGINT/SIGTERM, or until the database's preparation
    /// fails for a reason that waiting does not cure (that reason is the error).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(server, _)| {
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let served = self.server.await;
        if let Some((task, handle)) = metrics {
            handle.stop(true).await;
            let _ = task.await;
        }
        self.watch.abort();
        let fatal = self.fatal.lock().ok().and_then(|mut f| f.take());
        match fatal {
            Some(reason) => Err(std::io::Error::other(reason)),
            None => served,
        }
    }
}

/// What every worker's app holds and serves besides its middleware.
#[derive(Clone)]
struct AppParts {
    db: web::Data<DatabaseConnection>,
    primary: web::Data<Primary>,
    cache: web::Data<reports::ReportCache>,
    auth: web::Data<Auth>,
    uploads: web::Data<Uploads>,
    ready: web::Data<Readiness>,
    drill_downs: web::Data<crate::drill_downs::DrillDowns>,
    site: web::Data<crate::auth::site::Site>,
    request_log: crate::telemetry::RequestLogLevel,
    openapi: utoipa::openapi::OpenApi,
    /// `/metrics` here (no `--metrics-bind`).
    metrics_here: bool,
    /// The built dashboard, when there is one.
    static_dir: Option<PathBuf>,
    precompressed: Option<web::Data<crate::assets::Precompressed>>,
}

impl AppParts {
    /// The app's data, the API's routes, its contract and documentation,
    /// `/metrics`, and the dashboard's files (in that order of matching).
    fn configure(self, cfg: &mut web::ServiceConfig) {
        cfg.app_data(self.db)
            .app_data(self.primary)
            .app_data(self.cache)
            .app_data(self.auth)
            .app_data(self.uploads)
            .app_data(self.ready)
            .app_data(self.drill_downs)
            .app_data(self.site)
            .app_data(self.request_log)
            .app_data(query_config())
            .configure(routes::configure);
        let openapi = self.openapi;
        cfg.service(routes::resource("/openapi.json").route(routes::get().to(move || {
            let doc = openapi.clone();
            async move { HttpResponse::Ok().json(doc) }
        })))
        .service(routes::resource("/docs").route(routes::get().to(routes::docs::root)))
        .service(routes::resource("/docs/{file:.*}").route(routes::get().to(routes::docs::file)));
        if self.metrics_here {
            cfg.service(routes::resource("/metrics").route(routes::get().to(crate::monitoring::metrics)));
        }
        if let Some(dir) = &self.static_dir {
            if let Some(p) = self.precompressed {
                cfg.app_data(p).service(
                    web::resource("/{file}")
                        .guard(actix_web::guard::fn_guard(crate::assets::Precompressed::applies))
                        .route(routes::get().to(precompressed_file)),
                );
            }
            cfg.service(
                actix_files::Files::new("/", dir)
                    .index_file("index.html")
                    .default_handler(dashboard_fallback(dir.join("index.html"))),
            );
        }
    }
}

/// A listener on `addr`, and its port (the one the system chose for `:0`).
fn bind(addr: &str) -> Result<(TcpListener, u16), StartError> {
    let listen = listen_error(addr);
    let listener = TcpListener::bind(addr).map_err(&listen)?;
    let port = listener.local_addr().map_err(&listen)?.port();
    Ok((listener, port))
}

/// Why the server cannot listen on `addr`.
fn listen_error(addr: &str) -> impl Fn(std::io::Error) -> StartError + '_ {
    move |source| StartError::Listen {
        bind: addr.to_owned(),
        source,
    }
}

/// The names the server answers for, and access control over `db`.
fn access(settings: &ServeSettings, db: &DatabaseConnection) -> (crate::auth::site::Site, web::Data<Auth>) {
    let site = crate::auth::site::Site::new(
        &settings.bind,
        settings.allowed_hosts.clone(),
        settings.auth.trusted_proxies.clone(),
        &settings.cors_origins,
    );
    let auth = web::Data::new(Auth::new(
        db.clone(),
        settings.auth.clone(),
        &settings.bind,
        is_loopback(&settings.bind),
        site.clone(),
    ));
    (site, auth)
}

/// The built dashboard to serve, if `static_dir` holds one, and its
/// precompressed files (warmed in the background).
fn dashboard(settings: &ServeSettings) -> (Option<PathBuf>, Option<web::Data<crate::assets::Precompressed>>) {
    let dir = settings.static_dir.clone().filter(|d| d.join("index.html").is_file());
    let precompressed = dir.as_ref().map(|dir| {
        tracing::info!(dir = %dir.display(), "serving the dashboard at /");
        let p = std::sync::Arc::new(crate::assets::Precompressed::new(dir.clone()));
        tokio::spawn(p.clone().warm());
        web::Data::from(p)
    });
    (dir, precompressed)
}

/// What readying the database takes (see [`Preparation`]).
fn preparation(settings: &ServeSettings, auth: web::Data<Auth>) -> Preparation {
    Preparation {
        migrate: settings.migrate,
        ingest_if_empty: settings.ingest_if_empty.clone(),
        auth,
        pending_runs: settings.upload.defaults.recording.pending_dir.clone(),
    }
}

/// Prepares the database if it answers (migrations, the access check,
/// `ingest_if_empty`): whether it is ready. A database that does not answer
/// is waited for; a failure that waiting does not cure is returned.
async fn prepare(
    preparation: &Preparation,
    db: &DatabaseConnection,
    readiness: &Readiness,
) -> Result<bool, StartError> {
    let prepared = match readiness.ping().await {
        Ok(()) => match preparation.run(db).await {
            Ok(writes) => {
                readiness.set_writes(&writes);
                true
            }
            Err(e) if e.is_unreachable() => false,
            Err(e) => return Err(e),
        },
        Err(e) => {
            tracing::warn!(error = %e, "the database does not answer: starting anyway, waiting for it");
            false
        }
    };
    if prepared {
        // Ready from the first request (not only once the watch has run).
        readiness.up();
    }
    Ok(prepared)
}

/// Cross-origin callers authenticate with a bearer token (the session
/// cookie is SameSite=Strict: never sent cross-site).
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(crate::endpoints::cors_methods())
        .allowed_headers([
            actix_web::http::header::AUTHORIZATION,
            actix_web::http::header::CONTENT_TYPE,
        ])
        .expose_headers([actix_web::http::header::LOCATION])
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

/// A query string that does not parse is a 400 naming it.
fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        let message = format!("invalid query string: {err}");
        crate::error::ApiError::BadRequest {
            code: "invalid_parameter",
            message,
        }
        .into()
    })
}

/// Unknown paths outside the API fall back to the dashboard's index page;
/// under the API they are its JSON 404 (or 405).
fn dashboard_fallback(
    index: PathBuf,
) -> impl actix_web::dev::ServiceFactory<
    actix_web::dev::ServiceRequest,
    Config = (),
    Response = actix_web::dev::ServiceResponse,
    Error = actix_web::Error,
    InitError = (),
> {
    actix_web::dev::fn_service(move |req: actix_web::dev::ServiceRequest| {
        let index = index.clone();
        async move {
            let (req, _) = req.into_parts();
            // A file that is not there (`/favicon.ico`, `/robots.txt` of an
            // older build) is a 404, not the dashboard's page: the page is
            // only for the dashboard's own routes, which never name a file.
            let names_a_file = req.path().rsplit('/').next().is_some_and(|last| last.contains('.'));
            if routes::is_api_path(req.path()) || names_a_file {
                let res = actix_web::ResponseError::error_response(&routes::unknown_endpoint(&req));
                return Ok(actix_web::dev::ServiceResponse::new(req, res));
            }
            let file = actix_files::NamedFile::open_async(&index).await?;
            let res = file.into_response(&req);
            Ok(actix_web::dev::ServiceResponse::new(req, res))
        }
    })
}

/// A dashboard file compressed ahead (see [`crate::assets`]).
async fn precompressed_file(
    req: actix_web::HttpRequest,
    files: web::Data<crate::assets::Precompressed>,
) -> Result<HttpResponse, crate::error::ApiError> {
    match files.respond(&req).await {
        Some(res) => Ok(res),
        None => Err(routes::unknown_endpoint(&req)),
    }
}

/// The `--metrics-bind` listener: `/metrics` only, without access control.
fn metrics_server(
    settings: &ServeSettings,
    bind: &str,
    db: DatabaseConnection,
    cache: web::Data<reports::ReportCache>,
    ready: web::Data<Readiness>,
) -> Result<(Server, u16), StartError> {
    let listen = listen_error(bind);
    let (listener, port) = self::bind(bind)?;
    let db = web::Data::new(db);
    let site = web::Data::new(crate::auth::site::Site::new(
        bind,
        settings.allowed_hosts.clone(),
        settings.auth.trusted_proxies.clone(),
        &[],
    ));
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(crate::auth::site::check_host))
            .app_data(site.clone())
            .app_data(db.clone())
            .app_data(cache.clone())
            .app_data(ready.clone())
            .route("/metrics", routes::get().to(crate::monitoring::metrics))
            .default_service(web::to(routes::not_found))
    })
    .workers(1)
    .listen(listener)
    .map_err(listen)?
    .shutdown_timeout(5)
    .run();
    tracing::info!("metrics on http://{bind}/metrics");
    Ok((server, port))
}

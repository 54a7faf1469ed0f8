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
        let preparation = Preparation {
            migrate: settings.migrate,
            ingest_if_empty: settings.ingest_if_empty.clone(),
            auth: auth.clone(),
            pending_runs: settings.upload.defaults.recording.pending_dir.clone(),
        };
        let readiness = std::sync::Arc::new(Readiness::default());
        let pools: Vec<DatabaseConnection> = std::iter::once(db.clone()).chain(reads.clone()).collect();
        let prepared = match crate::readiness::ping_all(&pools).await {
            Ok(()) => match preparation.run(&db).await {
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
        let listen = |source| StartError::Listen {
            bind: settings.bind.clone(),
            source,
        };
        let listener = TcpListener::bind(&settings.bind).map_err(listen)?;
        let port = listener.local_addr().map_err(listen)?.port();
        let ready = web::Data::from(readiness.clone());
        let uploads = web::Data::new(Uploads::new(settings.upload.clone()).map_err(listen)?);
        let primary = web::Data::new(Primary(db.clone()));
        let db = reads.unwrap_or(db);
        let pool = db.clone();
        let db = web::Data::new(db);
        let cache = web::Data::new(reports::ReportCache::with_recheck(settings.cache_recheck));
        let metrics = match &settings.metrics_bind {
            Some(bind) => {
                let site = crate::auth::site::Site::new(
                    bind,
                    settings.allowed_hosts.clone(),
                    settings.auth.trusted_proxies.clone(),
                    &[],
                );
                Some(metrics_server(bind, site, pool.clone(), cache.clone(), ready.clone())?)
            }
            None => None,
        };
        let site = web::Data::new(site);
        let openapi = crate::openapi::document();
        let origins = settings.cors_origins.clone();
        let static_dir = settings.static_dir.clone().filter(|d| d.join("index.html").is_file());
        let metrics_here = settings.metrics_bind.is_none();
        let request_log = settings.request_log;
        let precompressed = static_dir.as_ref().map(|dir| {
            tracing::info!(dir = %dir.display(), "serving the dashboard at /");
            let p = std::sync::Arc::new(crate::assets::Precompressed::new(dir.clone()));
            tokio::spawn(p.clone().warm());
            web::Data::from(p)
        });
        let mut server = HttpServer::new(move || {
            // Cross-origin callers authenticate with a bearer token (the
            // session cookie is SameSite=Strict: never sent cross-site).
            let mut cors = Cors::default()
                .allowed_methods(crate::endpoints::cors_methods())
                .allowed_headers([
                    actix_web::http::header::AUTHORIZATION,
                    actix_web::http::header::CONTENT_TYPE,
                ])
                .expose_headers([actix_web::http::header::LOCATION])
                .max_age(3600);
            for origin in &origins {
                cors = if origin == "*" {
                    cors.allow_any_origin()
                } else {
                    cors.allowed_origin(origin)
                };
            }
            let openapi = openapi.clone();
            let mut app = App::new()
                // Innermost: CORS answers preflight requests before access control.
                .wrap(actix_web::middleware::from_fn(crate::auth::guard::middleware))
                // Before access control, which reads the tokens from the database.
                .wrap(actix_web::middleware::from_fn(crate::readiness::gate))
                .wrap(actix_web::middleware::Compress::default())
                .wrap(cors)
                // Before CORS and everything else: a rebound name gets nothing.
                .wrap(actix_web::middleware::from_fn(crate::auth::site::check_host))
                .wrap(actix_web::middleware::from_fn(crate::telemetry::request_id_header))
                .wrap(actix_web::middleware::from_fn(crate::monitoring::record))
                .wrap(TracingLogger::<crate::telemetry::RequestLog>::new())
                .app_data(db.clone())
                .app_data(primary.clone())
                .app_data(cache.clone())
                .app_data(auth.clone())
                .app_data(uploads.clone())
                .app_data(ready.clone())
                .app_data(site.clone())
                .app_data(request_log)
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    let message = format!("invalid query string: {err}");
                    crate::error::ApiError::BadRequest {
                        code: "invalid_parameter",
                        message,
                    }
                    .into()
                }))
                .configure(routes::configure)
                .service(routes::resource("/openapi.json").route(routes::get().to(move || {
                    let doc = openapi.clone();
                    async move { HttpResponse::Ok().json(doc) }
                })))
                .service(routes::resource("/docs").route(routes::get().to(routes::docs::root)))
                .service(routes::resource("/docs/{file:.*}").route(routes::get().to(routes::docs::file)));
            if metrics_here {
                app = app.service(routes::resource("/metrics").route(routes::get().to(crate::monitoring::metrics)));
            }
            if let Some(dir) = &static_dir {
                let index = dir.join("index.html");
                // Unknown paths outside the API fall back to the dashboard's index page.
                let fallback = actix_web::dev::fn_service(move |req: actix_web::dev::ServiceRequest| {
                    let index = index.clone();
                    async move {
                        let (req, _) = req.into_parts();
                        if routes::is_api_path(req.path()) {
                            let res = actix_web::ResponseError::error_response(&routes::unknown_endpoint(&req));
                            return Ok(actix_web::dev::ServiceResponse::new(req, res));
                        }
                        let file = actix_files::NamedFile::open_async(&index).await?;
                        let res = file.into_response(&req);
                        Ok(actix_web::dev::ServiceResponse::new(req, res))
                    }
                });
                if let Some(p) = &precompressed {
                    app = app.app_data(p.clone()).service(
                        web::resource("/{file}")
                            .guard(actix_web::guard::fn_guard(crate::assets::Precompressed::applies))
                            .route(routes::get().to(precompressed_file)),
                    );
                }
                app = app.service(
                    actix_files::Files::new("/", dir)
                        .index_file("index.html")
                        .default_handler(fallback),
                );
            }
            app.default_service(web::to(routes::not_found))
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
    bind: &str,
    site: crate::auth::site::Site,
    db: DatabaseConnection,
    cache: web::Data<reports::ReportCache>,
    ready: web::Data<Readiness>,
) -> Result<(Server, u16), StartError> {
    let listen = |source| StartError::Listen {
        bind: bind.to_owned(),
        source,
    };
    let listener = TcpListener::bind(bind).map_err(listen)?;
    let port = listener.local_addr().map_err(listen)?.port();
    let db = web::Data::new(db);
    let site = web::Data::new(site);
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

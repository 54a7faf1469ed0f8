//! The facts about the API's paths that every layer needs — which paths the
//! API owns, which methods each answers, which need the database — kept
//! below the routes so that access control, readiness and metrics can ask
//! without reaching up into the routes.

/// The paths the API owns: the dashboard's routes never shadow them, and an
/// unknown path under them is a JSON 404, never the dashboard's page.
pub const API_PATHS: &[&str] = &[
    "/reports",
    "/quality",
    "/ingests",
    "/session",
    "/health",
    "/openapi.json",
    "/docs",
    "/metrics",
];

/// The methods an API path answers (its 405's `Allow` header): reads
/// everywhere, plus the upload and the sign-in and sign-out.
pub fn allowed_methods(path: &str) -> &'static str {
    match path.trim_end_matches('/') {
        "/ingests" => "GET, HEAD, POST",
        "/session" => "GET, HEAD, POST, DELETE",
        _ => "GET, HEAD",
    }
}

/// Whether `path` belongs to the API (one of [`API_PATHS`] or below it).
pub fn is_api_path(path: &str) -> bool {
    API_PATHS.iter().any(|p| under(path, p))
}

/// API paths answered without the database: the process's liveness, the
/// contract and its documentation, the metrics.
const WITHOUT_DATABASE: &[&str] = &["/health/live", "/openapi.json", "/docs", "/metrics"];

/// Whether answering `path` needs the database (while it does not answer,
/// such a path answers 503 at once: see [`crate::readiness`]).
pub fn needs_database(path: &str) -> bool {
    is_api_path(path) && !WITHOUT_DATABASE.iter().any(|p| under(path, p))
}

/// `path` is `prefix` or below it.
pub fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

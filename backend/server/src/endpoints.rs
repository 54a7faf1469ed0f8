//! The endpoints of the API, written once: each one's method, path, who may
//! call it and whether it needs the database. Everything else is derived
//! from this table: the access policy ([`access`]), the methods a path
//! answers and its 405 (`Allow`, [`allowed_methods`]), the paths that answer
//! 503 while the database is away ([`needs_database`]), the methods CORS
//! allows ([`cors_methods`]) and the security of each operation in the
//! OpenAPI document. A route is registered through [`endpoint`], which
//! refuses a path the table does not hold, and tests check that every entry
//! is routed and documented — so an endpoint is never served unprotected or
//! undocumented.
//!
//! It sits below the routes (it names no handler) so that access control,
//! readiness and metrics can read it without reaching up into them.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::Method;

pub use domain::Role;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A caller with at least this role.
    Role(Role),
}

/// A method the API answers (GET answers HEAD too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Delete => Method::DELETE,
        }
    }

    fn of(method: &Method) -> Option<Verb> {
        match *method {
            Method::GET | Method::HEAD => Some(Verb::Get),
            Method::POST => Some(Verb::Post),
            Method::DELETE => Some(Verb::Delete),
            _ => None,
        }
    }
}

/// One endpoint of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub verb: Verb,
    /// The route template, as registered (`/ingests/{id}`).
    pub path: &'static str,
    pub access: Access,
    /// Answered from the database (or its cache, which a dead database
    /// makes stale): while it does not answer, the endpoint answers 503.
    pub database: bool,
}

const READER: Access = Access::Role(Role::Reader);
const ADMIN: Access = Access::Role(Role::Admin);
const PUBLIC: Access = Access::Public;

const fn get(path: &'static str, access: Access, database: bool) -> Endpoint {
    Endpoint {
        verb: Verb::Get,
        path,
        access,
        database,
    }
}

/// Every endpoint of the API.
pub const ENDPOINTS: &[Endpoint] = &[
    get("/reports/meta", READER, true),
    get("/reports/monthly-transactions", READER, true),
    get("/reports/revenue-growth", READER, true),
    get("/reports/top-products", READER, true),
    get("/reports/top-users", READER, true),
    get("/reports/month/{month}", READER, true),
    get("/reports/saas/mrr", READER, true),
    get("/reports/saas/cohorts", READER, true),
    get("/reports/saas/movements", READER, true),
    get("/quality", READER, true),
    get("/quality/history", READER, true),
    get("/customers", READER, true),
    get("/customers/{id}", READER, true),
    get("/ingests", READER, true),
    // Uploading starts an ingest.
    Endpoint {
        verb: Verb::Post,
        path: "/ingests",
        access: ADMIN,
        database: true,
    },
    get("/ingests/{id}", READER, true),
    get("/ingests/{id}/rejections", READER, true),
    // Signing in and out is open to anyone: the credentials are the check.
    get("/session", PUBLIC, true),
    Endpoint {
        verb: Verb::Post,
        path: "/session",
        access: PUBLIC,
        database: true,
    },
    Endpoint {
        verb: Verb::Delete,
        path: "/session",
        access: PUBLIC,
        database: true,
    },
    // For load balancers: the process (live) and its database (ready).
    get("/health/live", PUBLIC, false),
    get("/health/ready", PUBLIC, true),
    // The contract and its page.
    get("/openapi.json", PUBLIC, false),
    get("/docs", PUBLIC, false),
    get("/docs/{file:.*}", PUBLIC, false),
    get("/metrics", READER, false),
];

/// Endpoints that are not operations of the API the OpenAPI document
/// describes: the document itself and its page.
pub const UNDOCUMENTED: &[&str] = &["/openapi.json", "/docs", "/docs/{file:.*}"];

/// The paths the API owns: the dashboard's routes never shadow them, and an
/// unknown path under them is a JSON 404, never the dashboard's page.
pub const API_PATHS: &[&str] = &[
    "/reports",
    "/quality",
    "/customers",
    "/ingests",
    "/session",
    "/health",
    "/openapi.json",
    "/docs",
    "/metrics",
];

/// The entry registered at `path` for `verb`, if any.
pub fn find(verb: Verb, template: &str) -> Option<&'static Endpoint> {
    ENDPOINTS.iter().find(|e| e.verb == verb && e.path == template)
}

/// The entries whose template `path` matches, in the table's order. Asked
/// for several times a request (readiness, access, metrics), so a path
/// equal to a literal entry's is looked up in one step instead of being
/// split and compared with every template (5–9% of a kept report's cost
/// on the server: BENCHMARKS.md, "Goal 1: what a kept report costs the
/// server beyond `/health/live`"); only other paths are compared, with
/// the templates alone.
fn matching(path: &str) -> impl Iterator<Item = &'static Endpoint> + '_ {
    let literal = LITERAL.get(path.trim_end_matches('/'));
    let templates: &[&Endpoint] = match literal {
        Some(_) => &[],
        None => &TEMPLATES,
    };
    let templated = templates.iter().copied().filter(move |e| matches(e.path, path));
    literal.into_iter().flatten().copied().chain(templated)
}

/// For each literal path of the table, every entry it matches (templates
/// too), in the table's order. A path matches a literal template only when
/// it is that template (a trailing slash aside).
static LITERAL: LazyLock<HashMap<&'static str, Vec<&'static Endpoint>>> = LazyLock::new(|| {
    ENDPOINTS
        .iter()
        .filter(|e| !is_template(e.path))
        .map(|e| (e.path, ENDPOINTS.iter().filter(|t| matches(t.path, e.path)).collect()))
        .collect()
});

/// The entries whose path has a `{parameter}`.
static TEMPLATES: LazyLock<Vec<&'static Endpoint>> =
    LazyLock::new(|| ENDPOINTS.iter().filter(|e| is_template(e.path)).collect());

fn is_template(path: &str) -> bool {
    path.contains('{')
}

/// What `method path` needs. Paths outside the API (the dashboard's files)
/// are public; a method an API path does not answer needs what the path's
/// strongest entry needs (at least a reader), so that probing is never
/// cheaper than calling.
pub fn access(method: &Method, path: &str) -> Access {
    if !is_api_path(path) {
        return PUBLIC;
    }
    let verb = Verb::of(method);
    if let Some(e) = matching(path).find(|e| Some(e.verb) == verb) {
        return e.access;
    }
    matching(path)
        .filter_map(|e| match e.access {
            Access::Role(r) => Some(r),
            Access::Public => None,
        })
        .max()
        .map_or(READER, Access::Role)
}

/// The methods `path` answers, as an `Allow` header (its 405's).
pub fn allowed_methods(path: &str) -> String {
    let mut verbs: Vec<Verb> = Vec::new();
    for e in matching(path) {
        if !verbs.contains(&e.verb) {
            verbs.push(e.verb);
        }
    }
    if verbs.is_empty() {
        verbs.push(Verb::Get);
    }
    let mut allow: Vec<&str> = Vec::new();
    for verb in [Verb::Get, Verb::Post, Verb::Delete] {
        if verbs.contains(&verb) {
            match verb {
                Verb::Get => allow.extend(["GET", "HEAD"]),
                Verb::Post => allow.push("POST"),
                Verb::Delete => allow.push("DELETE"),
            }
        }
    }
    allow.join(", ")
}

/// Whether answering `path` needs the database (while it does not answer,
/// such a path answers 503 at once: see `readiness::gate`). An unknown path
/// of the API counts as needing it, as the reports do.
pub fn needs_database(path: &str) -> bool {
    if !is_api_path(path) {
        return false;
    }
    let mut entries = matching(path).peekable();
    entries.peek().is_none() || entries.any(|e| e.database)
}

/// The methods CORS lets other origins use: those of the table.
pub fn cors_methods() -> Vec<Method> {
    let mut methods = vec![Method::GET, Method::HEAD];
    for e in ENDPOINTS {
        let m = e.verb.method();
        if !methods.contains(&m) {
            methods.push(m);
        }
    }
    methods
}

/// Whether `path` belongs to the API (one of [`API_PATHS`] or below it).
pub fn is_api_path(path: &str) -> bool {
    API_PATHS.iter().any(|p| under(path, p))
}

/// `path` is `prefix` or below it.
pub fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether the route template `template` matches `path`: `{name}` is one
/// segment, `{name:.*}` the rest of the path; a trailing slash is ignored.
pub fn matches(template: &str, path: &str) -> bool {
    let mut wanted = template.trim_end_matches('/').split('/');
    let mut given = path.trim_end_matches('/').split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), _) if w.starts_with('{') && w.ends_with(":.*}") => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// The resource of an endpoint's path: the only way routes are registered,
/// so a path missing from [`ENDPOINTS`] is never served. Another method than
/// its routes' answers the JSON 405 of [`not_found`].
///
/// # Panics
/// When no entry of [`ENDPOINTS`] has this path: a programming error that
/// every test starting the server shows at once.
pub fn resource(path: &'static str) -> actix_web::Resource {
    assert!(
        ENDPOINTS.iter().any(|e| e.path == path),
        "the route {path} is not in endpoints::ENDPOINTS: add it there (with its access)"
    );
    actix_web::web::resource(path).default_service(actix_web::web::to(not_found))
}

/// The JSON 404 (or 405) of a path no route answers.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, crate::error::ApiError> {
    Err(unknown_endpoint(&req))
}

/// 405 (with `Allow`) for a method a path of the API does not answer, else 404.
pub fn unknown_endpoint(req: &actix_web::HttpRequest) -> crate::error::ApiError {
    // A token pasted into a URL is not echoed back.
    let path = crate::telemetry::redact_tokens(req.path());
    if is_api_path(req.path()) {
        let allow = allowed_methods(req.path());
        let method = req.method().as_str();
        if !allow.split(", ").any(|m| m == method) {
            return crate::error::ApiError::MethodNotAllowed {
                message: format!("{method} is not allowed on {path}: it answers {allow}"),
                allow,
            };
        }
    }
    crate::error::ApiError::NotFound(format!("no such endpoint: {} {path}", req.method()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_path_is_protected_unless_public() {
        for (method, path, want) in [
            (Method::GET, "/reports/meta", READER),
            (Method::HEAD, "/reports/top-users", READER),
            (Method::GET, "/reports/no-such-report", READER),
            (Method::POST, "/reports/meta", READER),
            (Method::GET, "/quality", READER),
            (Method::GET, "/quality/history", READER),
            (Method::GET, "/customers", READER),
            (Method::GET, "/customers/cus_1", READER),
            (Method::GET, "/reports/month/2024-05", READER),
            (Method::GET, "/ingests", READER),
            (Method::GET, "/ingests/3/rejections", READER),
            (Method::POST, "/ingests", ADMIN),
            (Method::DELETE, "/ingests", ADMIN),
            (Method::DELETE, "/ingests/3", READER),
            (Method::GET, "/metrics", READER),
            (Method::GET, "/health/ready", PUBLIC),
            (Method::GET, "/openapi.json", PUBLIC),
            (Method::GET, "/docs", PUBLIC),
            (Method::GET, "/docs/swagger-ui.css", PUBLIC),
            (Method::POST, "/session", PUBLIC),
            (Method::DELETE, "/session", PUBLIC),
            (Method::GET, "/", PUBLIC),
            (Method::GET, "/runs/3", PUBLIC),
            (Method::GET, "/index.html", PUBLIC),
        ] {
            assert_eq!(access(&method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn allowed_methods_come_from_the_table() {
        assert_eq!(allowed_methods("/ingests"), "GET, HEAD, POST");
        assert_eq!(allowed_methods("/ingests/"), "GET, HEAD, POST");
        assert_eq!(allowed_methods("/session"), "GET, HEAD, POST, DELETE");
        assert_eq!(allowed_methods("/ingests/7"), "GET, HEAD");
        assert_eq!(allowed_methods("/reports/meta"), "GET, HEAD");
        assert_eq!(allowed_methods("/reports/nothing"), "GET, HEAD");
    }

    #[test]
    fn the_database_is_needed_by_all_but_a_few() {
        for path in [
            "/health/live",
            "/openapi.json",
            "/docs",
            "/docs/index.css",
            "/metrics",
            "/",
            "/runs/1",
        ] {
            assert!(!needs_database(path), "{path}");
        }
        for path in [
            "/reports/meta",
            "/reports/unknown",
            "/ingests/3",
            "/session",
            "/health/ready",
            "/quality",
        ] {
            assert!(needs_database(path), "{path}");
        }
    }

    #[test]
    fn templates_match_as_actix_does() {
        assert!(matches("/ingests/{id}", "/ingests/12"));
        assert!(!matches("/ingests/{id}", "/ingests"));
        assert!(!matches("/ingests/{id}", "/ingests/12/rejections"));
        assert!(matches("/ingests/{id}/rejections", "/ingests/12/rejections"));
        assert!(matches("/docs/{file:.*}", "/docs/a/b.css"));
        assert!(matches("/quality", "/quality/"));
        assert!(!matches("/quality", "/quality/history"));
    }

    #[test]
    fn the_lookup_finds_what_matching_every_template_finds() {
        let mut paths: Vec<String> = [
            "",
            "/",
            "//",
            "/reports",
            "/reports/",
            "/reports//meta",
            "/docs/a/b.css",
        ]
        .map(str::to_owned)
        .to_vec();
        for e in ENDPOINTS {
            let concrete = e
                .path
                .replace("{id}", "12")
                .replace("{month}", "2024-05")
                .replace("{file:.*}", "x.js");
            paths.extend([
                e.path.to_owned(),
                format!("{}/", e.path),
                concrete.clone(),
                format!("{concrete}/"),
                format!("{concrete}/more"),
                format!("{concrete}x"),
            ]);
        }
        for path in &paths {
            let found: Vec<&Endpoint> = matching(path).collect();
            let every: Vec<&Endpoint> = ENDPOINTS.iter().filter(|e| matches(e.path, path)).collect();
            assert_eq!(found, every, "{path:?}");
        }
        // The lookup is what the checks use: a literal path finds its entries.
        assert_eq!(matching("/reports/top-users/").count(), 1);
        assert_eq!(matching("/session").count(), 3);
        assert_eq!(matching("/docs").count(), 2);
    }

    #[test]
    fn every_endpoint_is_under_an_api_path_and_listed_once() {
        for (i, e) in ENDPOINTS.iter().enumerate() {
            assert!(is_api_path(e.path), "{} is outside API_PATHS", e.path);
            assert!(
                !ENDPOINTS[..i].iter().any(|o| o.verb == e.verb && o.path == e.path),
                "{:?} {} is listed twice",
                e.verb,
                e.path
            );
        }
    }
}

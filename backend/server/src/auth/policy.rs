//! Which role each endpoint needs: one table, read by the middleware for
//! every request. An API path not listed here as public needs a reader, so a
//! new endpoint is protected unless it is opened on purpose.

use actix_web::http::Method;

use super::Role;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A caller with at least this role.
    Role(Role),
}

/// API paths anyone may call: health checks (for load balancers), the
/// contract and its page, and the sign-in itself.
const PUBLIC_PATHS: &[&str] = &["/health", "/openapi.json", "/docs", "/session"];

/// What `method path` needs. Paths outside the API (the dashboard's files) are public.
pub fn access(method: &Method, path: &str) -> Access {
    if !crate::endpoints::is_api_path(path) || under_any(path, PUBLIC_PATHS) {
        return Access::Public;
    }
    let reads = [Method::GET, Method::HEAD].contains(method);
    if !reads && under_any(path, &["/ingests"]) {
        // Uploading starts an ingest.
        return Access::Role(Role::Admin);
    }
    Access::Role(Role::Reader)
}

fn under_any(path: &str, prefixes: &[&str]) -> bool {
    prefixes.iter().any(|p| crate::endpoints::under(path, p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_path_is_protected_unless_public() {
        let reader = Access::Role(Role::Reader);
        let admin = Access::Role(Role::Admin);
        for (method, path, want) in [
            (Method::GET, "/reports/meta", reader),
            (Method::HEAD, "/reports/top-users", reader),
            (Method::GET, "/reports/no-such-report", reader),
            (Method::POST, "/reports/meta", reader),
            (Method::GET, "/quality", reader),
            (Method::GET, "/quality/history", reader),
            (Method::GET, "/ingests", reader),
            (Method::GET, "/ingests/3/rejections", reader),
            (Method::POST, "/ingests", admin),
            (Method::DELETE, "/ingests/3", admin),
            (Method::GET, "/metrics", reader),
            (Method::GET, "/health/ready", Access::Public),
            (Method::GET, "/openapi.json", Access::Public),
            (Method::GET, "/docs", Access::Public),
            (Method::POST, "/session", Access::Public),
            (Method::DELETE, "/session", Access::Public),
            (Method::GET, "/", Access::Public),
            (Method::GET, "/runs/3", Access::Public),
            (Method::GET, "/index.html", Access::Public),
        ] {
            assert_eq!(access(&method, path), want, "{method} {path}");
        }
    }
}

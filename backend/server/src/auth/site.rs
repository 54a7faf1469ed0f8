//! Where a request was addressed and which page sent it: the defences against
//! DNS rebinding (a foreign name in `Host`) and against other sites' pages
//! (cross-site requests riding on ambient credentials: the session cookie, or
//! the network position that open mode trusts).
//!
//! Forwarding headers (`Forwarded`, `X-Forwarded-Host`, `X-Forwarded-Proto`)
//! are believed only from a declared trusted proxy: from anyone else they are
//! text the client wrote.

use std::net::IpAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest};

use crate::error::ApiError;

/// The host names (besides IP addresses of this server and `localhost`) that
/// a server answers for, as `--allowed-host` gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowedHosts {
    /// The server's own addresses and `localhost` only.
    #[default]
    Own,
    /// Also these names (lower case); `*.example.com` stands for every name
    /// below `example.com`.
    Names(Vec<String>),
    /// Any name (`--allowed-host '*'`): DNS rebinding is the operator's
    /// concern (e.g. a reverse proxy that checks names itself).
    Any,
}

impl AllowedHosts {
    /// From the values of `--allowed-host` (`*` anywhere means any).
    pub fn from_names(names: &[String]) -> Result<Self, String> {
        let mut out = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if name == "*" {
                return Ok(AllowedHosts::Any);
            }
            let bare = name.strip_prefix("*.").unwrap_or(name);
            let valid = !bare.is_empty()
                && bare
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !valid {
                return Err(format!(
                    "{name:?} is not a host name (letters, digits, '-', '.'; `*.example.com` for every name below \
                     example.com, `*` for any; without a port)"
                ));
            }
            out.push(name.to_ascii_lowercase());
        }
        Ok(match out.is_empty() {
            true => AllowedHosts::Own,
            false => AllowedHosts::Names(out),
        })
    }

    fn names(&self) -> &[String] {
        match self {
            AllowedHosts::Names(names) => names,
            _ => &[],
        }
    }
}

/// What the server knows about its own address and its proxies.
#[derive(Debug, Clone)]
pub struct Site {
    /// The address `serve` listens on, as given (`127.0.0.1:8080`, `0.0.0.0:8080`, `myhost:80`).
    bind_host: String,
    allowed: AllowedHosts,
    trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins allowed by `--cors-origin` (besides the server's own) to make
    /// changes with ambient credentials; `*` is not one of them.
    trusted_origins: Vec<String>,
}

/// What a request says about the page that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A page of this server (or of an origin allowed by `--cors-origin`).
    SameOrigin,
    /// A page of another origin.
    OtherSite,
    /// No `Origin`, `Sec-Fetch-Site` or `Referer`: not a browser's request
    /// (browsers send `Origin` with every state-changing request), or a
    /// browser's top-level navigation.
    Unknown,
}

impl Site {
    pub fn new(bind: &str, allowed: AllowedHosts, trusted_proxies: Vec<ipnet::IpNet>, cors_origins: &[String]) -> Self {
        Self {
            bind_host: split_host(bind).0.to_ascii_lowercase(),
            allowed,
            trusted_proxies,
            trusted_origins: cors_origins.iter().filter(|o| *o != "*").cloned().collect(),
        }
    }

    /// The reverse proxies whose forwarding headers are believed.
    pub fn trusted_proxies(&self) -> &[ipnet::IpNet] {
        &self.trusted_proxies
    }

    /// Whether the TCP peer of `req` is a declared trusted proxy.
    pub fn from_trusted_proxy(&self, req: &HttpRequest) -> bool {
        req.peer_addr().is_some_and(|peer| {
            let ip = peer.ip().to_canonical();
            self.trusted_proxies.iter().any(|net| net.contains(&ip))
        })
    }

    /// The scheme and `host[:port]` the client addressed: from a trusted
    /// proxy's forwarding headers, else the `Host` header over plain HTTP
    /// (this server does not terminate TLS itself).
    pub fn addressed(&self, req: &HttpRequest) -> (String, Option<String>) {
        if self.from_trusted_proxy(req) {
            let info = req.connection_info();
            return (info.scheme().to_owned(), Some(info.host().to_owned()));
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| req.uri().authority().map(|a| a.to_string()));
        ("http".to_owned(), host)
    }

    /// Whether the request was sent over HTTPS as the client sees it (the
    /// session cookie's `Secure`).
    pub fn is_https(&self, req: &HttpRequest) -> bool {
        self.addressed(req).0 == "https"
    }

    /// Whether this server answers for `host` (`name[:port]`): an address of
    /// its own (a loopback address, the bound one, or any when bound to every
    /// address — an address in `Host` cannot be rebound to another server),
    /// `localhost`, the bound name, or an `--allowed-host`.
    pub fn answers_for(&self, host: &str) -> bool {
        if self.allowed == AllowedHosts::Any {
            return true;
        }
        let name = split_host(host).0.to_ascii_lowercase();
        if let Ok(ip) = name.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            let bound = self
                .bind_host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok();
            return ip.to_canonical().is_loopback()
                || bound.is_some_and(|b| b.is_unspecified() || b.to_canonical() == ip.to_canonical());
        }
        let name = name.trim_end_matches('.');
        name == "localhost"
            || name == self.bind_host
            || self
                .allowed
                .names()
                .iter()
                .any(|allowed| match allowed.strip_prefix("*.") {
                    Some(parent) => name
                        .strip_suffix(parent)
                        .is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
                    None => name == allowed,
                })
    }

    /// Which page sent `req`: its `Origin`, else `Sec-Fetch-Site`, else `Referer`.
    pub fn sender(&self, req: &HttpRequest) -> Sender {
        let text = |name: &str| req.headers().get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
        if let Some(origin) = text(header::ORIGIN.as_str()) {
            return match self.is_own_origin(req, origin) {
                true => Sender::SameOrigin,
                false => Sender::OtherSite,
            };
        }
        if let Some(site) = text("sec-fetch-site") {
            // `none`: the user's own navigation (a bookmark, the address bar).
            return match site.trim() {
                "same-origin" => Sender::SameOrigin,
                "none" => Sender::Unknown,
                _ => Sender::OtherSite,
            };
        }
        if let Some(referer) = text(header::REFERER.as_str()) {
            let origin = url::Url::parse(referer).map(|u| u.origin().ascii_serialization());
            return match origin {
                Ok(origin) if self.is_own_origin(req, &origin) => Sender::SameOrigin,
                _ => Sender::OtherSite,
            };
        }
        Sender::Unknown
    }

    fn is_own_origin(&self, req: &HttpRequest, origin: &str) -> bool {
        let origin = origin.trim();
        if let (scheme, Some(host)) = self.addressed(req) {
            if origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")) {
                return true;
            }
        }
        self.trusted_origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }
}

/// `host[:port]` (or `[v6]:port`) → (host, port).
fn split_host(text: &str) -> (&str, Option<&str>) {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((ip, port)) => (&text[..ip.len() + 2], port.strip_prefix(':')),
            None => (text, None),
        };
    }
    match text.rsplit_once(':') {
        // More than one colon: an IPv6 address without brackets.
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (text, None),
    }
}

/// The middleware, outermost but for logging and metrics: a request whose
/// host this server does not answer for is refused (421) before routing, in
/// every mode — a page that rebinds its own name to this server's address
/// must not read or change anything.
pub async fn check_host<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(site) = req.app_data::<web::Data<Site>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    };
    let refusal = match site.addressed(req.request()).1 {
        Some(host) if site.answers_for(&host) => None,
        Some(host) => Some(ApiError::MisdirectedRequest(format!(
            "this server does not answer for the host {:?}: use its address or `localhost`, or allow the name with \
             --allowed-host (ALLOWED_HOSTS)",
            host.chars().take(100).collect::<String>()
        ))),
        None => Some(ApiError::BadRequest {
            code: "missing_host",
            message: "the request has no Host header".to_owned(),
        }),
    };
    match refusal {
        Some(e) => Ok(req.error_response(e).map_into_right_body()),
        None => next.call(req).await.map(ServiceResponse::map_into_left_body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn site(bind: &str, allowed: &[&str]) -> Site {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        Site::new(bind, AllowedHosts::from_names(&allowed).unwrap(), Vec::new(), &[])
    }

    #[test]
    fn hosts_answered_for() {
        let local = site("127.0.0.1:8080", &[]);
        for host in [
            "127.0.0.1:8080",
            "localhost:8080",
            "LOCALHOST",
            "[::1]:8080",
            "127.0.0.2",
            "localhost.",
        ] {
            assert!(local.answers_for(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "10.0.0.5:8080",
            "localhost.evil.example",
            "",
        ] {
            assert!(!local.answers_for(host), "{host}");
        }
        // Bound to every address: any address, still no foreign name.
        let all = site("0.0.0.0:8080", &["revenue.example.com", "*.corp.example"]);
        for host in [
            "10.0.0.5:8080",
            "[2001:db8::1]:8080",
            "revenue.example.com",
            "a.corp.example",
            "b.a.corp.example",
        ] {
            assert!(all.answers_for(host), "{host}");
        }
        for host in [
            "evil.example",
            "corp.example",
            "xcorp.example",
            "revenue.example.com.evil.example",
        ] {
            assert!(!all.answers_for(host), "{host}");
        }
        // Bound to a name or one address.
        assert!(site("myhost:80", &[]).answers_for("MyHost"));
        assert!(site("10.0.0.5:80", &[]).answers_for("10.0.0.5"));
        assert!(!site("10.0.0.5:80", &[]).answers_for("10.0.0.6"));
        assert!(site("127.0.0.1:80", &["*"]).answers_for("anything.example"));
        assert!(AllowedHosts::from_names(&["bad host".into()]).is_err());
        assert!(AllowedHosts::from_names(&["host:80".into()]).is_err());
    }

    #[test]
    fn the_sender_comes_from_origin_then_fetch_metadata_then_referer() {
        let s = site("127.0.0.1:8080", &[]);
        let req = |headers: &[(&str, &str)]| {
            let mut r = TestRequest::post()
                .uri("/ingests")
                .insert_header(("host", "127.0.0.1:8080"));
            for h in headers {
                r = r.insert_header(*h);
            }
            r.to_http_request()
        };
        assert_eq!(
            s.sender(&req(&[("origin", "http://127.0.0.1:8080")])),
            Sender::SameOrigin
        );
        assert_eq!(s.sender(&req(&[("origin", "https://evil.example")])), Sender::OtherSite);
        assert_eq!(s.sender(&req(&[("origin", "null")])), Sender::OtherSite);
        // Another port of the same host is another origin.
        assert_eq!(
            s.sender(&req(&[("origin", "http://127.0.0.1:3000")])),
            Sender::OtherSite
        );
        assert_eq!(s.sender(&req(&[("sec-fetch-site", "same-origin")])), Sender::SameOrigin);
        assert_eq!(s.sender(&req(&[("sec-fetch-site", "same-site")])), Sender::OtherSite);
        assert_eq!(s.sender(&req(&[("sec-fetch-site", "cross-site")])), Sender::OtherSite);
        assert_eq!(
            s.sender(&req(&[("referer", "http://127.0.0.1:8080/ingests")])),
            Sender::SameOrigin
        );
        assert_eq!(
            s.sender(&req(&[("referer", "https://evil.example/x")])),
            Sender::OtherSite
        );
        assert_eq!(s.sender(&req(&[("referer", "not a url")])), Sender::OtherSite);
        assert_eq!(s.sender(&req(&[])), Sender::Unknown);
        // Forwarding headers from an untrusted peer do not make another site's page ours.
        let forged = req(&[
            ("origin", "https://evil.example"),
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(s.sender(&forged), Sender::OtherSite);
        let forged = req(&[
            ("origin", "https://evil.example"),
            ("forwarded", "host=evil.example;proto=https"),
        ]);
        assert_eq!(s.sender(&forged), Sender::OtherSite);
    }

    #[test]
    fn forwarding_headers_count_from_trusted_proxies_only() {
        let proxy: std::net::SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let trusted = Site::new(
            "0.0.0.0:8080",
            AllowedHosts::from_names(&["revenue.example.com".into()]).unwrap(),
            vec!["10.0.0.0/8".parse().unwrap()],
            &[],
        );
        let req = |peer: std::net::SocketAddr| {
            TestRequest::post()
                .peer_addr(peer)
                .insert_header(("host", "backend:8080"))
                .insert_header(("x-forwarded-host", "revenue.example.com"))
                .insert_header(("x-forwarded-proto", "https"))
                .insert_header(("origin", "https://revenue.example.com"))
                .to_http_request()
        };
        let via_proxy = req(proxy);
        assert_eq!(
            trusted.addressed(&via_proxy),
            ("https".to_owned(), Some("revenue.example.com".to_owned()))
        );
        assert_eq!(trusted.sender(&via_proxy), Sender::SameOrigin);
        assert!(trusted.is_https(&via_proxy));
        let direct = req("198.51.100.9:5000".parse().unwrap());
        assert_eq!(
            trusted.addressed(&direct),
            ("http".to_owned(), Some("backend:8080".to_owned()))
        );
        assert_eq!(trusted.sender(&direct), Sender::OtherSite);
        assert!(!trusted.is_https(&direct));
    }
}

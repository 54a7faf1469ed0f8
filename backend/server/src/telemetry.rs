//! Tracing subscriber setup: human-readable logs on a terminal, JSON with `LOG_FORMAT=json`.

use std::io::IsTerminal;

use actix_web::HttpMessage;

use tracing_subscriber::{fmt, EnvFilter};

/// The variables the logs read from the environment themselves, once, in
/// [`init`], rather than from the command line: `RUST_LOG` is
/// tracing-subscriber's own filter (its name and syntax are that crate's),
/// `NO_COLOR` a convention of all programs (set, even empty, it turns
/// colours off: a flag's value could not say that), and `LOG_FORMAT`
/// (`json`) sets up the same logs for every command, the tests' processes
/// included. Listed for the check of the README's configuration table.
pub const ENVIRONMENT: [&str; 3] = ["RUST_LOG", "LOG_FORMAT", "NO_COLOR"];

/// Installs the global subscriber (once; later calls are ignored). Logs go to stderr
/// so that stdout stays free for command output.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    // Colours only on a terminal: logs redirected to a file or a collector stay plain text.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// When a request started (in its extensions), for its duration.
struct Started(std::time::Instant);

/// The id of a request: the client's `X-Request-Id` when it is a reasonable
/// one (1–64 characters: letters, digits, `.`, `_`, `-`, `:`), else 16 random
/// hex digits. It is in every log line of the request (its span) and in the
/// response's `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The header carrying it both ways.
pub const REQUEST_ID: &str = "x-request-id";

impl RequestId {
    fn of(request: &actix_web::dev::ServiceRequest) -> Self {
        let given = request
            .headers()
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                (1..=64).contains(&v.len())
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b':'))
            });
        match given {
            Some(id) => Self(id.to_owned()),
            // A correlation id, not a secret: the thread's fast generator
            // (seeded once), not a system call per request (getrandom was
            // 4% of the server's time under load).
            None => Self(format!("{:016x}", fastrand::u64(..))),
        }
    }
}

/// Returns the request's id in `X-Request-Id` (every response, errors included).
pub async fn request_id_header<B: actix_web::body::MessageBody + 'static>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<B>,
) -> Result<actix_web::dev::ServiceResponse<B>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().cloned();
    let mut res = next.call(req).await?;
    if let Some(value) = id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id.0).ok()) {
        res.headers_mut()
            .insert(actix_web::http::header::HeaderName::from_static(REQUEST_ID), value);
    }
    Ok(res)
}

/// The root span of every request — its id, so that every line a handler
/// logs carries it — and one compact line when it ends: method, path (no
/// query string), status, duration. Successful requests log at the
/// server's [`RequestLogLevel`], client errors at info, server errors
/// always, with their cause (a 503 `busy` as a warning: it is no fault).
pub struct RequestLog;

impl tracing_actix_web::RootSpanBuilder for RequestLog {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        request.extensions_mut().insert(Started(std::time::Instant::now()));
        let id = RequestId::of(request);
        let span = tracing::info_span!("req", id = %id.0);
        request.extensions_mut().insert(id);
        span
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        let Ok(res) = outcome else {
            if let Err(e) = outcome {
                span.in_scope(|| tracing::error!(error = %e, "request failed"));
            }
            return;
        };
        let req = res.request();
        let status = res.response().status().as_u16();
        let ms = req
            .extensions()
            .get::<Started>()
            .map_or(0.0, |s| (s.0.elapsed().as_micros() as f64 / 100.0).round() / 10.0);
        let path: String = redact_tokens(req.path()).chars().take(120).collect();
        let method = req.method().as_str();
        // The server's setting, in its app data (absent: a response made before the app).
        let level = req.app_data::<RequestLogLevel>().copied().unwrap_or_default();
        let held_back = res.response().extensions().contains::<crate::error::HeldBack>();
        span.in_scope(|| match (status, level) {
            (500.., _) if held_back => tracing::warn!(method = %method, path = %path, status, ms, "request"),
            (500.., _) => tracing::error!(method = %method, path = %path, status, ms, "request"),
            (400..=499, _) => tracing::info!(method = %method, path = %path, status, ms, "request"),
            (_, RequestLogLevel::Info) => tracing::info!(method = %method, path = %path, status, ms, "request"),
            (_, RequestLogLevel::Debug) => tracing::debug!(method = %method, path = %path, status, ms, "request"),
            (_, RequestLogLevel::Off) => {}
        });
    }
}

/// `path` with anything shaped like an API token (`rak_` and hex digits)
/// masked: a client that puts its token in a URL does not get it logged.
pub fn redact_tokens(path: &str) -> std::borrow::Cow<'_, str> {
    let prefix = domain::TOKEN_PREFIX;
    if !path.contains(prefix) {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i + prefix.len()]);
        rest = &rest[i + prefix.len()..];
        let secret = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        if secret > 0 {
            out.push_str("***");
        }
        rest = &rest[secret..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The level of successful requests' log lines (`serve --request-log`,
/// `REQUEST_LOG`): `info` (the default), `debug` or `off`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RequestLogLevel {
    #[default]
    Info,
    Debug,
    Off,
}

impl std::str::FromStr for RequestLogLevel {
    type Err = String;

    /// `info`, `debug` or `off` (surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "info" => Ok(Self::Info),
            "debug" => Ok(Self::Debug),
            "off" => Ok(Self::Off),
            other => Err(format!("{other:?} is not info, debug or off")),
        }
    }
}

impl std::fmt::Display for RequestLogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Off => "off",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::redact_tokens;

    #[test]
    fn tokens_in_paths_are_masked() {
        assert_eq!(redact_tokens("/reports/meta"), "/reports/meta");
        assert_eq!(redact_tokens("/x/rak_0123abcd/y"), "/x/rak_***/y");
        assert_eq!(redact_tokens("/rak_ab/rak_cd"), "/rak_***/rak_***");
        assert_eq!(redact_tokens("/rak_"), "/rak_");
    }
}

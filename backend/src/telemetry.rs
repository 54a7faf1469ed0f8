//! Tracing subscriber setup: human-readable logs on a terminal, JSON with `LOG_FORMAT=json`.

use std::io::IsTerminal;

use actix_web::HttpMessage;

use tracing_subscriber::{fmt, EnvFilter};

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

/// The root span of every request — just a short request id, so that what a
/// handler logs can be tied to its request — and one compact line when it
/// ends: method, path (no query string), status, duration. Successful
/// requests log at the level of `REQUEST_LOG` (`info`, `debug` or `off`),
/// client errors at info, server errors always, with their cause.
pub struct RequestLog;

impl tracing_actix_web::RootSpanBuilder for RequestLog {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        request.extensions_mut().insert(Started(std::time::Instant::now()));
        let id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(|id| id.to_string().chars().take(8).collect::<String>())
            .unwrap_or_default();
        tracing::info_span!("req", id = %id)
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
        span.in_scope(|| match (status, crate::configuration::request_log()) {
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
    let prefix = crate::auth::tokens::PREFIX;
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

/// The level of successful requests' log lines (`REQUEST_LOG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLogLevel {
    Info,
    Debug,
    Off,
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

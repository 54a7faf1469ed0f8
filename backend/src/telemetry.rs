//! Tracing subscriber setup: human-readable logs on a terminal, JSON with `LOG_FORMAT=json`.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber (once; later calls are ignored). Logs go to stderr
/// so that stdout stays free for command output.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

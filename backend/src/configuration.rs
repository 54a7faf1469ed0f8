//! Settings read from the environment outside the command line: the
//! database's, resolved with the store ([`store::settings`]), and the logs'
//! ([`crate::telemetry::ENVIRONMENT`]). Every other setting is a flag of
//! [`crate::settings`], with its variable beside it.

pub use store::settings::*;

/// Every variable read from the environment but not through a flag.
pub fn environment_outside_the_command_line() -> Vec<&'static str> {
    store::settings::ENVIRONMENT
        .into_iter()
        .chain(crate::telemetry::ENVIRONMENT)
        .collect()
}

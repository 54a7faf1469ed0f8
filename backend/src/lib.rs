//! Revenue analytics: the command line over the crates that do the work —
//! [`domain`], [`store`], [`etl`], [`reports`] and [`server`].

pub mod cli;
pub mod command_error;
pub mod configuration;
pub mod health_probe;
pub mod memory;
pub mod quality_thresholds;
pub mod settings;

// The crates below the application, under the paths they had as modules.
pub use domain;
pub use etl;
pub use etl::generate;
pub use reports;
pub use server::{
    assets, auth, drill_downs, endpoints, error, monitoring, openapi, readiness, routes, startup, telemetry, uploads,
};
pub use store::{db, entities};

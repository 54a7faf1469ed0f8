//! Revenue analytics: the ETL that loads billing exports into a star schema, and
//! the JSON API that serves reports from it.

pub mod assets;
pub mod auth;
pub mod cli;
pub mod configuration;
pub mod error;
pub mod health_probe;
pub mod memory;
pub mod monitoring;
pub mod openapi;
pub mod readiness;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod uploads;

// The crates below the application, under the paths they had as modules.
pub use domain;
pub use etl;
pub use etl::generate;
pub use reports;
pub use store::{db, entities};

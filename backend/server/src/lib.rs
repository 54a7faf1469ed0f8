//! The HTTP service over the reports and the ETL: routes, access control,
//! uploads, metrics, readiness, static assets and the OpenAPI document.

pub mod assets;
pub mod auth;
pub mod database;
pub mod drill_downs;
pub mod endpoints;
pub mod error;
pub mod monitoring;
pub mod openapi;
pub mod readiness;
pub mod routes;
pub mod startup;
pub mod telemetry;
pub mod uploads;

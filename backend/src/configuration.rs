//! Settings read from the environment: the database's live with the store
//! ([`store::settings`]), the ingest's with the ETL ([`etl::settings`]).

pub use etl::settings::*;
pub use store::settings::*;

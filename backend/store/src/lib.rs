//! The store: the SeaORM entities of the star schema and the audit tables,
//! connecting to the configured database (its one resolution of
//! `DATABASE_URL` / `DATABASE_URL_FILE`), and the registry of star tables.

pub mod db;
pub mod entities;
pub mod saas_feed;
pub mod settings;
pub mod tables;

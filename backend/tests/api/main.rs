//! Integration tests: the real ETL and the real HTTP server against a real
//! SQLite file and a real PostgreSQL (one fresh database per test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod api_errors;
mod architecture;
mod atomicity;
mod bounded;
mod catalog_restatement;
mod citus;
mod consistent_reads;
mod containers;
mod corpus;
mod cross_site;
mod csv_injection;
mod database_faults;
mod drill_down;
mod endpoints;
mod etl_fixtures;
mod etl_seed;
mod fact_table;
mod guard_rails;
mod head_requests;
mod ingests_api;
mod kept_answers;
mod logs;
mod minor_units;
mod not_an_export;
mod operations;
mod pg_objects;
mod quality_data_score;
mod quality_kpis;
mod recurring;
mod replica;
mod reports;
mod run_records;
mod run_records_commit;
mod saas;
mod saas_catch_up;
mod saas_generated;
mod schema;
mod secrets;
mod settings;
mod upload;
mod upload_refusals;

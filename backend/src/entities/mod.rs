//! SeaORM entities of the star schema, the report aggregates and the ETL audit
//! trail. They mirror the migrations; `tests/api/schema.rs` checks them against
//! the live schema on both engines. Money columns are integer cents.

pub mod agg_customer_spending;
pub mod agg_monthly;
pub mod agg_product_month;
pub mod api_session_revoked;
pub mod api_signing_key;
pub mod api_token;
pub mod dim_product;
pub mod dim_user;
pub mod etl_rejected_row;
pub mod etl_run;
pub mod etl_run_file;
pub mod fct_transaction;

//! SeaORM entities of the star schema, the report aggregates and the ETL audit
//! trail. They mirror the migrations; `tests/api/schema.rs` checks them against
//! the live schema on both engines. Money columns (`*_cents`, a name kept from
//! when every currency had cents) hold integer minor units of the row's
//! currency: cents of usd, whole yen, thousandths of a Kuwaiti dinar (ISO 4217
//! exponents); `dim_product.amount_cents` holds thousandths of any currency.

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

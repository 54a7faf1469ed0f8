//! `etl_appended_transaction`: the transactions appended by the latest run
//! that changed the data (none after a replace), written in that run's
//! transaction, so that the report cache can add them to the transactions
//! it keeps instead of reading every one again.

use sea_orm::entity::prelude::*;

/// The statement (the same on both engines) that records the transactions
/// staged in `stage` as run `$1`'s, after emptying the table. The stage
/// holds exactly the transactions the append inserts (their ids are new by
/// construction, see `fct_transaction`'s `Append::Insert`).
pub fn record_sql(stage: &str) -> [String; 2] {
    [
        "DELETE FROM etl_appended_transaction".to_owned(),
        format!(
            "INSERT INTO etl_appended_transaction \
             (run_id, transaction_id, date_utc, customer_id, subscription_id, total_cents, currency) \
             SELECT $1, transaction_id, date_utc, customer_id, subscription_id, total_cents, currency FROM {stage}"
        ),
    ]
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "etl_appended_transaction")]
pub struct Model {
    /// The append that loaded the transaction.
    #[sea_orm(primary_key, auto_increment = false)]
    pub run_id: i64,
    #[sea_orm(primary_key, auto_increment = false, column_type = "Text")]
    pub transaction_id: String,
    /// UTC.
    pub date_utc: DateTime,
    #[sea_orm(column_type = "Text")]
    pub customer_id: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub subscription_id: Option<String>,
    pub total_cents: i64,
    #[sea_orm(column_type = "Text")]
    pub currency: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

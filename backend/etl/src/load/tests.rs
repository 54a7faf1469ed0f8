//! The loader's own guards, on a real SQLite file.

use migration::MigratorTrait;

use super::{LoadMode, Loader};
use crate::error::EtlError;
use crate::rows::{FactBatch, FactRef};

/// A replace whose facts name a customer it did not write is refused when
/// it is published: SQLite's load checks the facts' foreign key itself
/// (its per-row checks are off), once, on the staged facts.
#[tokio::test]
async fn sqlite_refuses_facts_whose_customer_is_missing() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let path = std::env::temp_dir().join(format!("etl-foreign-key-{}-{nanos}.db", std::process::id()));
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    migration::Migrator::up(&db, None).await.unwrap();
    let mut loader = Loader::begin(&db, LoadMode::Replace).await.unwrap();
    let mut batch = FactBatch::with_capacity(2);
    for (id, customer) in [("tx_1", "cus_ghost"), ("tx_2", "cus_ghost")] {
        batch.push(&FactRef {
            transaction_id: id,
            date_utc: chrono::NaiveDate::from_ymd_opt(2024, 5, 1)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap(),
            customer_id: customer,
            subscription_id: None,
            total_cents: 100,
            currency: "usd",
        });
    }
    loader.write_facts(&batch).await.unwrap();
    let refused = loader.commit(1).await;
    db.close().await.unwrap();
    for suffix in ["", "-wal", "-shm", ".ingest-lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    match refused {
        Err(EtlError::ForeignKey(message)) => assert!(message.contains("cus_ghost"), "{message}"),
        other => panic!("expected a foreign-key refusal, got {other:?}"),
    }
}

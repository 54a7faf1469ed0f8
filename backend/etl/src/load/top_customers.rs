//! The ranking of each currency's best customers (`agg_top_customer`), from
//! the data a run leaves, in the run's own transaction: the report cache
//! reads it instead of the customer tables, which Citus distributes (see
//! migration `m20261204_000010_top_customers`).

use super::{BindValue, Loader, Step};
use crate::error::EtlError;
use migration::{RANK_TOP_CUSTOMERS, TOP_CUSTOMER_CURRENCIES};

/// Empties the table and ranks every currency again.
pub(super) async fn rank(loader: &mut Loader) -> Result<(), EtlError> {
    let step = Step::start("rank the top customers");
    loader.execute("DELETE FROM agg_top_customer", &[]).await?;
    let currencies = loader.fetch(TOP_CUSTOMER_CURRENCIES, |row| row.text(0)).await?;
    for currency in currencies {
        loader.execute(RANK_TOP_CUSTOMERS, &[BindValue::Text(currency)]).await?;
    }
    step.done(None);
    Ok(())
}

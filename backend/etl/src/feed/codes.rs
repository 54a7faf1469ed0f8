//! The feed's records: each loaded transaction numbered and encoded, a
//! batch at a time (on the feed's own thread, [`super::Encoder`]).

use store::saas_feed::{Block, Record, NO_SUBSCRIPTION};

use crate::customers::Interner;
use crate::error::EtlError;
use crate::rows::{FactBatch, FactRef};

/// Numbers the subscriptions and currencies of the records (the customers
/// are numbered by pass 2 already, beside each batch's rows).
#[derive(Default)]
pub struct FeedCodes {
    pub subscriptions: Interner,
    pub currencies: Vec<&'static str>,
}

impl FeedCodes {
    /// The records of `batch`'s transactions.
    pub fn encode_batch(&mut self, batch: &FactBatch) -> Result<Vec<u8>, EtlError> {
        let mut block = Block::with_capacity(batch.len());
        for (fact, &customer) in batch.iter().zip(batch.customers()) {
            self.encode(&fact, customer, &mut block)?;
        }
        block.finish().map_err(feed_error)
    }

    /// Appends `fact`'s record (its customer numbered `customer`) to `block`.
    fn encode(&mut self, fact: &FactRef<'_>, customer: u32, block: &mut Block) -> Result<(), EtlError> {
        let overflow = |what: &str| EtlError::Overflow(format!("the subscription feed: more than {what}"));
        let subscription = match fact.subscription_id {
            None => NO_SUBSCRIPTION,
            Some(s) => match self.subscriptions.intern(s) {
                Ok((i, _)) if i != NO_SUBSCRIPTION => i,
                _ => return Err(overflow("2^32 - 1 subscriptions")),
            },
        };
        let currency = match self.currencies.iter().position(|c| *c == fact.currency) {
            Some(i) => i,
            None => {
                self.currencies.push(fact.currency);
                self.currencies.len() - 1
            }
        };
        let record = Record {
            customer,
            subscription,
            currency: u16::try_from(currency).map_err(|_| overflow("65,536 currencies"))?,
            seconds: fact.date_utc.and_utc().timestamp(),
            nanos: fact.date_utc.and_utc().timestamp_subsec_nanos(),
            total: fact.total_cents,
            transaction_id: fact.transaction_id,
        };
        // Ids are checked at most 255 bytes when read.
        block.push(&record).map_err(feed_error)
    }
}

fn feed_error(e: store::saas_feed::EncodeError) -> EtlError {
    EtlError::Internal(format!("the subscription feed: {e}"))
}

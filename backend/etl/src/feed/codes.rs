//! The feed's records: each loaded transaction numbered and encoded, a
//! batch at a time (on the feed's own thread, [`super::Encoder`]).

use store::saas_feed::{Block, Record, NO_SUBSCRIPTION};

use crate::error::EtlError;
use crate::interner::Interner;
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
        // The batch's subscriptions numbered together, their lookups overlapping.
        let ids: Vec<&str> = batch.iter().filter_map(|fact| fact.subscription_id).collect();
        let mut numbers = Vec::with_capacity(ids.len());
        self.subscriptions
            .intern_all(&ids, &mut numbers)
            .map_err(|_| overflow("2^32 - 1 subscriptions"))?;
        let mut numbers = numbers.into_iter();
        let customers = batch
            .customers()
            .ok_or_else(|| EtlError::Internal("a batch sent with its customers unnumbered".to_owned()))?;
        let mut block = Block::with_capacity(batch.len());
        for (fact, &customer) in batch.iter().zip(customers) {
            let subscription = match fact.subscription_id {
                None => NO_SUBSCRIPTION,
                Some(_) => match numbers.next() {
                    Some(NO_SUBSCRIPTION) => return Err(overflow("2^32 - 1 subscriptions")),
                    Some(i) => i,
                    None => return Err(EtlError::Internal("a subscription left unnumbered".to_owned())),
                },
            };
            self.encode(&fact, customer, subscription, &mut block)?;
        }
        block.finish().map_err(feed_error)
    }

    /// Appends `fact`'s record (its customer and subscription numbered) to `block`.
    fn encode(
        &mut self,
        fact: &FactRef<'_>,
        customer: u32,
        subscription: u32,
        block: &mut Block,
    ) -> Result<(), EtlError> {
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

fn overflow(what: &str) -> EtlError {
    EtlError::Overflow(format!("the subscription feed: more than {what}"))
}

fn feed_error(e: store::saas_feed::EncodeError) -> EtlError {
    EtlError::Internal(format!("the subscription feed: {e}"))
}

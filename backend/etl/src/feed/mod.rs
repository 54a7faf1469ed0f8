//! The run's subscription feed (`etl_saas_feed`, format
//! `store::saas_feed`): every transaction the run loads, each batch encoded
//! on the feed's own thread ([`encoder`], numbering in [`codes`]) once the
//! loader has written it, written into the load transaction in parts as the
//! batches come ([`FeedWriter`]), then the dictionaries and the end part. A
//! run that does not commit leaves no feed.

mod codes;
mod encoder;

use store::entities::etl_saas_feed;
use store::saas_feed::{self, Counts, Kind, PART_BYTES};

use crate::error::EtlError;
use crate::load::{BindValue, Loader};
use crate::read::transactions::Transactions;
use crate::rows::FactBatch;
use codes::FeedCodes;
use encoder::Encoder;

/// Writes the run's feed into its load transaction.
pub struct FeedWriter {
    run: i64,
    /// Started by the first batch (a run that loads no transaction has none).
    encoder: Option<Encoder>,
    /// The part being filled (records).
    part: Vec<u8>,
    /// Parts written so far.
    written: u32,
    records: u64,
}

impl FeedWriter {
    pub fn new(run: i64) -> Self {
        Self {
            run,
            encoder: None,
            part: Vec::new(),
            written: 0,
            records: 0,
        }
    }

    /// The run whose feed this is.
    pub fn run(&self) -> i64 {
        self.run
    }

    /// Adds a batch of transactions the loader has written (encoded on the
    /// feed's thread; written as parts fill).
    pub async fn add_batch(&mut self, loader: &mut Loader, batch: FactBatch) -> Result<(), EtlError> {
        let ready = self.encoder.get_or_insert_with(Encoder::start).send(batch).await?;
        for encoded in ready {
            self.add(loader, &encoded.bytes, encoded.records).await?;
        }
        Ok(())
    }

    /// Adds `records` records (their bytes), writing a part when it is full.
    async fn add(&mut self, loader: &mut Loader, bytes: &[u8], records: usize) -> Result<(), EtlError> {
        if self.part.is_empty() {
            self.part.extend_from_slice(&saas_feed::part_header(Kind::Records));
        }
        self.part.extend_from_slice(bytes);
        self.records += records as u64;
        if self.part.len() >= PART_BYTES {
            self.flush(loader).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, loader: &mut Loader) -> Result<(), EtlError> {
        if self.part.is_empty() {
            return Ok(());
        }
        let part = std::mem::take(&mut self.part);
        self.write(loader, part).await
    }

    async fn write(&mut self, loader: &mut Loader, bytes: Vec<u8>) -> Result<(), EtlError> {
        loader.write_feed_part(self.run, self.written, bytes).await?;
        self.written += 1;
        Ok(())
    }

    /// Writes the last records, the dictionaries and the end part. A replace
    /// first deletes every other run's feed (the data is this run's alone),
    /// an append the feeds of runs that did not change the data.
    pub async fn finish(mut self, loader: &mut Loader, tx: &Transactions, replace: bool) -> Result<(), EtlError> {
        let others = match replace {
            true => etl_saas_feed::KEEP_ONLY_RUN,
            false => etl_saas_feed::DROP_ORPHANS,
        };
        loader.execute(others, &[BindValue::Int(self.run)]).await?;
        let codes = match self.encoder.take() {
            None => FeedCodes::default(),
            Some(encoder) => {
                let (rest, codes) = encoder.finish().await?;
                for encoded in rest {
                    self.add(loader, &encoded.bytes, encoded.records).await?;
                }
                codes
            }
        };
        self.flush(loader).await?;
        let subscriptions = self
            .texts(loader, Kind::Subscriptions, codes.subscriptions.iter())
            .await?;
        let currencies = self
            .texts(loader, Kind::Currencies, codes.currencies.iter().copied())
            .await?;
        // The subscriptions' table (300 MB at 50M transactions) freed before
        // the customers are read out, which needs memory of its own.
        drop(codes);
        let customers = self.texts(loader, Kind::Customers, tx.customer_ids.iter()).await?;
        if self.records != tx.counts.loaded {
            return Err(EtlError::Internal(format!(
                "the subscription feed holds {} transactions, the load {}",
                self.records, tx.counts.loaded
            )));
        }
        let end = Counts {
            records: self.records,
            customers,
            subscriptions,
            currencies,
            parts: self.written,
        };
        self.write(loader, end.end_part()).await
    }

    /// Writes a dictionary's texts in parts; how many.
    async fn texts<'a>(
        &mut self,
        loader: &mut Loader,
        kind: Kind,
        texts: impl Iterator<Item = &'a str>,
    ) -> Result<u32, EtlError> {
        let mut count = 0u32;
        let mut part = Vec::new();
        for text in texts {
            if part.is_empty() {
                part.extend_from_slice(&saas_feed::part_header(kind));
            }
            saas_feed::push_text(&mut part, text)
                .map_err(|e| EtlError::Internal(format!("the subscription feed: {e}")))?;
            count += 1;
            if part.len() >= PART_BYTES {
                self.write(loader, std::mem::take(&mut part)).await?;
            }
        }
        if !part.is_empty() {
            self.write(loader, part).await?;
        }
        Ok(count)
    }
}

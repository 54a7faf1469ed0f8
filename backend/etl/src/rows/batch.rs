//! [`FactBatch`]: accepted transactions on their way to the loader.

use chrono::NaiveDateTime;

use super::FactRef;

/// Accepted transactions on their way to the loader, packed: the text of a
/// batch in one buffer and a fixed-size record per row, so that a batch costs
/// two allocations rather than three per row, and stays about as compact as
/// the COPY data the read phase used to encode. Each loader encodes it (binary
/// COPY for PostgreSQL, bound parameters for SQLite).
#[derive(Debug, Default)]
pub struct FactBatch {
    text: String,
    rows: Vec<PackedFact>,
    /// Each row's customer, as pass 2 numbered it (`crate::feed`'s numbers):
    /// set for the whole batch at once, before it is sent.
    customers: Vec<u32>,
}

/// One transaction of a [`FactBatch`]: where its texts end in the batch's
/// buffer (id, customer, subscription, in that order), and its other cells.
#[derive(Debug, Clone, Copy)]
struct PackedFact {
    ends: [u32; 3],
    has_subscription: bool,
    date_utc: NaiveDateTime,
    total_cents: i64,
    currency: &'static str,
}

impl FactBatch {
    /// An empty batch with room for `rows` transactions.
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            // About 64 bytes of ids per row in the exports seen.
            text: String::with_capacity(rows * 64),
            rows: Vec::with_capacity(rows),
            customers: Vec::new(),
        }
    }

    /// Appends one transaction (its customer numbered later, with the
    /// batch's others: [`FactBatch::set_customers`]).
    pub fn push(&mut self, fact: &FactRef<'_>) {
        let mut end = |text: &str| {
            self.text.push_str(text);
            // Ids are at most `domain::MAX_ID_BYTES`, a batch a few thousand rows:
            // offsets fit 32 bits with room to spare.
            self.text.len() as u32
        };
        let ends = [
            end(fact.transaction_id),
            end(fact.customer_id),
            end(fact.subscription_id.unwrap_or_default()),
        ];
        self.rows.push(PackedFact {
            ends,
            has_subscription: fact.subscription_id.is_some(),
            date_utc: fact.date_utc,
            total_cents: fact.total_cents,
            currency: fact.currency,
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The transactions, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = FactRef<'_>> + '_ {
        let mut start = 0usize;
        self.rows.iter().map(move |r| {
            let [id, customer, subscription] = r.ends.map(|e| e as usize);
            let row = FactRef {
                transaction_id: &self.text[start..id],
                date_utc: r.date_utc,
                customer_id: &self.text[id..customer],
                subscription_id: r.has_subscription.then(|| &self.text[customer..subscription]),
                total_cents: r.total_cents,
                currency: r.currency,
            };
            start = subscription;
            row
        })
    }

    /// Numbers the batch's customers: one number per transaction, in the
    /// order pushed; `None` (and nothing set) for another count.
    pub fn set_customers(&mut self, customers: Vec<u32>) -> Option<()> {
        (customers.len() == self.rows.len()).then(|| self.customers = customers)
    }

    /// Each transaction's customer number, in the order pushed; `None` until
    /// they are set.
    pub fn customers(&self) -> Option<&[u32]> {
        (self.customers.len() == self.rows.len()).then_some(self.customers.as_slice())
    }
}

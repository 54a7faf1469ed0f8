//! Pass 2's bookkeeping: what becomes of each parsed row. A row of a unique
//! id is accepted at once (a replace) or after its lookup among the stored
//! transactions (an append); rows of a repeated id are held until the end of
//! the file, then kept once (identical) or all rejected (conflicting).

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::mpsc;
use xxhash_rust::xxh3::Xxh3;

use super::customers::Catalogued;
use super::parse::Parsed;
use super::{StoredLookup, Transactions, BATCH, FILE};
use crate::aggregates::{Accepted, Attribution};
use crate::error::EtlError;
use crate::read::source::RawRow;
use crate::rows::{FactBatch, FactRow, Reject, RejectedRow};
use domain::{Currency, Month};

/// How many rows ahead a customer's facts are asked for.
const AHEAD: usize = 16;

/// Rows an append looks up among the stored transactions at a time.
const LOOKUP_BATCH: usize = 4096;

/// A parsed row owned by pass 2: held because its id repeats, or waiting for
/// an append's lookup.
pub(super) struct Candidate {
    pub line: u64,
    pub raw: String,
    pub fact: FactRow,
    pub currency: Currency,
}

pub(super) struct Pass2<'a> {
    pub run_id: i64,
    pub out: Transactions,
    /// Append only: the stored data, and the rows waiting to be looked up in it.
    pub stored: Option<&'a mut dyn StoredLookup>,
    pub pending: Vec<Candidate>,
    /// Accepted rows not yet sent; the loader encodes them for its database.
    pub batch: FactBatch,
    /// What the customers' facts take of each row of `batch` besides the
    /// row: they are shown it once the batch's customers are numbered.
    pub observed: Vec<(Currency, Catalogued)>,
    pub sender: mpsc::Sender<FactBatch>,
}

impl Pass2<'_> {
    pub fn reject(&mut self, line: u64, reject: Reject, raw_line: String) {
        self.out.counts.rejected += 1;
        self.out.rejects.push(RejectedRow {
            run_id: self.run_id,
            file: FILE,
            line_number: line as i64,
            reason_code: reject.code,
            reason: reject.message,
            raw_line,
        });
    }

    /// A valid row of a unique id (or the first of identical rows).
    pub fn submit(&mut self, row: &RawRow<'_>, parsed: Parsed<'_>) -> Result<(), EtlError> {
        if self.stored.is_none() {
            return self.accept(parsed);
        }
        self.pending.push(Candidate {
            line: row.line,
            raw: row.raw_line(),
            fact: parsed.fact.to_owned_row(),
            currency: parsed.currency,
        });
        self.resolve_when_full()
    }

    pub fn submit_owned(&mut self, candidate: Candidate) -> Result<(), EtlError> {
        if self.stored.is_none() {
            return self.accept(Parsed {
                fact: candidate.fact.as_ref(),
                currency: candidate.currency,
            });
        }
        self.pending.push(candidate);
        self.resolve_when_full()
    }

    fn resolve_when_full(&mut self) -> Result<(), EtlError> {
        if self.pending.len() >= LOOKUP_BATCH {
            self.resolve()?;
        }
        Ok(())
    }

    /// Append: looks the pending rows up among the stored transactions (and
    /// their subscriptions among the stored products), then accepts the new ones.
    pub fn resolve(&mut self) -> Result<(), EtlError> {
        let Some(stored) = self.stored.as_deref_mut() else {
            return Ok(());
        };
        if self.pending.is_empty() {
            return Ok(());
        }
        let ids: Vec<&str> = self.pending.iter().map(|c| c.fact.transaction_id.as_str()).collect();
        let known = stored.transactions(&ids)?;
        let mut subscriptions: Vec<String> = self
            .pending
            .iter()
            .filter_map(|c| c.fact.subscription_id.clone())
            .filter(|s| self.out.catalog.needs(s))
            .collect();
        subscriptions.sort_unstable();
        subscriptions.dedup();
        if !subscriptions.is_empty() {
            let rows = stored.products(&subscriptions)?;
            self.out.catalog.merge_stored(&subscriptions, &rows);
        }
        for c in std::mem::take(&mut self.pending) {
            match known.get(&c.fact.transaction_id) {
                None => self.accept(Parsed {
                    fact: c.fact.as_ref(),
                    currency: c.currency,
                })?,
                Some(s) if *s == c.fact => self.out.counts.already_loaded += 1,
                Some(s) => self.reject(c.line, conflict(&c, s), c.raw),
            }
        }
        Ok(())
    }

    /// A new transaction: shown to every aggregate, then batched for the
    /// loader (and shown to its customer's facts with the batch).
    fn accept(&mut self, parsed: Parsed<'_>) -> Result<(), EtlError> {
        let Parsed { fact, currency } = parsed;
        let out = &mut self.out;
        out.counts.loaded += 1;
        let attribution = match fact.subscription_id {
            None => Attribution::NoSubscription,
            Some(sub) => out
                .catalog
                .plans
                .get(sub)
                .map_or(Attribution::Unknown, |p| Attribution::Plans(p)),
        };
        let accepted = Accepted {
            fact,
            currency,
            month: Month::of(&fact.date_utc),
            attribution,
        };
        out.aggregates.observe(&accepted).map_err(in_file)?;
        out.first = Some(out.first.map_or(fact.date_utc, |f| f.min(fact.date_utc)));
        out.last = Some(out.last.map_or(fact.date_utc, |l| l.max(fact.date_utc)));
        self.batch.push(&fact);
        self.observed.push((currency, Catalogued::of(&attribution)));
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the rows buffered, their customers numbered.
    pub fn flush(&mut self) -> Result<(), EtlError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut batch = std::mem::replace(&mut self.batch, FactBatch::with_capacity(BATCH));
        self.number_customers(&mut batch)?;
        self.sender
            .blocking_send(batch)
            .map_err(|_| EtlError::Internal("the database loader stopped".to_owned()))
    }

    /// Numbers the batch's customers all at once (their lookups overlap:
    /// [`crate::interner`]), in row order, so that a new customer is the next
    /// number as one lookup per row made it; then shows each customer's
    /// facts its rows.
    fn number_customers(&mut self, batch: &mut FactBatch) -> Result<(), EtlError> {
        if self.observed.len() != batch.len() {
            return Err(EtlError::Internal(
                "a batch's rows and their observations differ in number".to_owned(),
            ));
        }
        let out = &mut self.out;
        let ids: Vec<&str> = batch.iter().map(|fact| fact.customer_id).collect();
        let mut customers = Vec::with_capacity(ids.len());
        out.customer_ids
            .number_all(&ids, &mut customers)
            .map_err(|e| EtlError::Overflow(format!("{FILE}: {e}")))?;
        drop(ids);
        for &customer in customers.iter().take(AHEAD) {
            out.customers.prefetch(customer);
        }
        let rows = batch.iter().zip(&self.observed).zip(&customers);
        for (j, ((fact, &(currency, known)), &customer)) in rows.enumerate() {
            if let Some(&ahead) = customers.get(j + AHEAD) {
                out.customers.prefetch(ahead);
            }
            out.customers
                .observe(customer, &fact, currency, known)
                .map_err(in_file)?;
        }
        self.observed.clear();
        batch
            .set_customers(customers)
            .ok_or_else(|| EtlError::Internal("a batch's customers left unnumbered".to_owned()))
    }
}

/// An overflow of the aggregates, said of the file.
fn in_file(e: EtlError) -> EtlError {
    match e {
        EtlError::Overflow(message) => EtlError::Overflow(format!("{FILE}: {message}")),
        e => e,
    }
}

/// Why a row whose id is stored with other content is rejected.
fn conflict(c: &Candidate, s: &FactRow) -> Reject {
    Reject::new(
        "conflicts_with_loaded",
        format!(
            "Transaction ID {:?} is already loaded with different content \
             (loaded: {} {} {} {} {}; this row: {} {} {} {} {})",
            c.fact.transaction_id,
            s.date_utc,
            s.customer_id,
            s.subscription_id.as_deref().unwrap_or("-"),
            domain::money_of(s.currency, s.total_cents),
            s.currency,
            c.fact.date_utc,
            c.fact.customer_id,
            c.fact.subscription_id.as_deref().unwrap_or("-"),
            c.currency.money(c.fact.total_cents),
            c.fact.currency,
        ),
    )
}

/// A row of a repeated id, held until the end of the file.
struct Held {
    line: u64,
    content: u64,
    raw: String,
    parsed: Result<(FactRow, Currency), Reject>,
}

/// The rows of repeated ids, by id, in first-seen order.
#[derive(Default)]
pub(super) struct Repeats {
    by_id: HashMap<String, Vec<Held>>,
    order: Vec<String>,
}

fn content_hash(row: &RawRow<'_>) -> u64 {
    let mut h = Xxh3::new();
    for field in row.record.iter() {
        h.update(field.trim_ascii());
        h.update(&[0x1f]);
    }
    h.digest()
}

impl Repeats {
    pub fn hold(&mut self, id: &[u8], row: &RawRow<'_>, parsed: Result<Parsed<'_>, Reject>) {
        let key = String::from_utf8_lossy(id).into_owned();
        let entry = self.by_id.entry(key.clone()).or_default();
        if entry.is_empty() {
            self.order.push(key);
        }
        entry.push(Held {
            line: row.line,
            content: content_hash(row),
            raw: row.raw_line(),
            parsed: parsed.map(|v| (v.fact.to_owned_row(), v.currency)),
        });
    }

    /// Identical rows keep the first and count the rest as duplicates;
    /// differing rows are all rejected, since no one can tell which is right.
    pub fn settle(mut self, pass: &mut Pass2<'_>) -> Result<(), EtlError> {
        let held: usize = self.by_id.values().map(Vec::len).sum();
        tracing::debug!(held, ids = self.order.len(), "rows held back for their repeated ids");
        for id in std::mem::take(&mut self.order) {
            let Some(rows) = self.by_id.remove(&id) else {
                continue;
            };
            if rows.len() > 1 && rows.iter().any(|r| r.content != rows[0].content) {
                let lines: Vec<String> = rows.iter().map(|r| r.line.to_string()).collect();
                for r in rows {
                    let reject = Reject::new(
                        "conflicting_duplicate",
                        format!(
                            "Transaction ID {id:?} appears on {} rows with different content (lines {})",
                            lines.len(),
                            lines.join(", ")
                        ),
                    );
                    pass.reject(r.line, reject, r.raw);
                }
                continue;
            }
            let mut rows = rows.into_iter();
            if let Some(first) = rows.next() {
                match first.parsed {
                    Ok((fact, currency)) => pass.submit_owned(Candidate {
                        line: first.line,
                        raw: first.raw,
                        fact,
                        currency,
                    })?,
                    Err(reject) => pass.reject(first.line, reject, first.raw),
                }
            }
            pass.out.counts.duplicates += rows.len() as u64;
        }
        Ok(())
    }
}

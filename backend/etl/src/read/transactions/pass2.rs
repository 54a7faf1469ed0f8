//! Pass 2's bookkeeping: what becomes of each parsed row. A row of a unique
//! id is accepted at once (a replace) or after its lookup among the stored
//! transactions (an append); rows of a repeated id are held (as positions in
//! the file) until its end, then read again and kept once (identical) or all
//! rejected (conflicting).

use rustc_hash::FxHashMap as HashMap;
use tokio::sync::mpsc;

use super::customers::Catalogued;
use super::parse::{parse, Parsed};
use super::{StoredLookup, Transactions, BATCH, FILE};
use crate::aggregates::{Accepted, Attribution};
use crate::error::EtlError;
use crate::read::source::{for_rows_at, trimmed, RawRow, Source};
use crate::rows::{FactBatch, FactRow, Reject, RejectedRow};
use domain::{Currency, DateBounds, Month};

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
            self.out.catalog.merge_stored(&subscriptions, &rows)?;
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
            Some(sub) => out.catalog.plans(sub).map_or(Attribution::Unknown, Attribution::Plans),
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

/// A row of a repeated id, held until the end of the file as where to read
/// it again (its line and where that starts) and a hash of its content: 32
/// bytes, where holding the row itself cost about 900 (the raw line, the
/// parsed row, the id twice), so that a file concatenated to itself by
/// mistake costs 32 bytes a row, not a gigabyte per million rows.
struct Held {
    line: u64,
    offset: u64,
    content: u64,
    group: u32,
}

/// The rows of one repeated id: how many, and whether they all agree.
struct Group {
    rows: u64,
    first_content: u64,
    differ: bool,
}

/// The rows of repeated ids, in file order, and their ids.
#[derive(Default)]
pub(super) struct Repeats {
    /// Id (its bytes: two invalid ids must not meet in U+FFFD) → its index in `groups`.
    ids: HashMap<Box<[u8]>, u32>,
    groups: Vec<Group>,
    held: Vec<Held>,
}

/// Lines listed in a conflict's message at most: one id on a million rows
/// must not write a million line numbers into each of its million rejects.
const LINES_LISTED: usize = 20;

impl Repeats {
    pub fn hold(&mut self, id: &[u8], row: &RawRow<'_>) -> Result<(), EtlError> {
        let content = row.content_hash();
        let group = match self.ids.get(id) {
            Some(&g) => g,
            None => {
                let g = u32::try_from(self.groups.len())
                    .map_err(|_| EtlError::Overflow(format!("{FILE}: more than 4 billion repeated ids")))?;
                self.ids.insert(id.into(), g);
                self.groups.push(Group {
                    rows: 0,
                    first_content: content,
                    differ: false,
                });
                g
            }
        };
        let g = &mut self.groups[group as usize];
        g.rows += 1;
        g.differ |= content != g.first_content;
        self.held.push(Held {
            line: row.line,
            offset: row.offset,
            content,
            group,
        });
        Ok(())
    }

    /// Identical rows keep the first and count the rest as duplicates;
    /// differing rows are all rejected, since no one can tell which is
    /// right. The rows kept and rejected are read again from `source`'s
    /// file (columns at `p`), in file order; one that changed since aborts
    /// the run.
    pub fn settle(
        self,
        pass: &mut Pass2<'_>,
        source: &Source,
        p: &[usize],
        dates: &DateBounds,
    ) -> Result<(), EtlError> {
        let Self { ids, groups, held } = self;
        tracing::debug!(
            held = held.len(),
            ids = groups.len(),
            "rows held back for their repeated ids"
        );
        if held.is_empty() {
            return Ok(());
        }
        drop(ids);
        let mut listed: HashMap<u32, Lines> = HashMap::default();
        let mut started = vec![false; groups.len()];
        let mut again: Vec<&Held> = Vec::new();
        for h in &held {
            let g = &groups[h.group as usize];
            let first = !std::mem::replace(&mut started[h.group as usize], true);
            if g.differ {
                listed.entry(h.group).or_default().add(h.line, g.rows);
                again.push(h);
            } else if first {
                pass.out.counts.duplicates += g.rows - 1;
                again.push(h);
            }
        }
        let mut source = source.reopen(super::COLUMNS)?;
        let mut next = again.iter();
        for_rows_at(&mut source, again.iter().map(|h| (h.line, h.offset)), FILE, |row| {
            let Some(h) = next.next() else {
                return Err(EtlError::Internal("a row read again that was not asked for".to_owned()));
            };
            if row.content_hash() != h.content {
                return Err(EtlError::LineChanged {
                    file: FILE,
                    line: row.line,
                });
            }
            let g = &groups[h.group as usize];
            if g.differ {
                let id = row.record.get(p[1]).map(trimmed).unwrap_or_default();
                let lines = listed.get(&h.group).map_or("", |l| l.text.as_str());
                let reject = Reject::new(
                    "conflicting_duplicate",
                    format!(
                        "Transaction ID {:?} appears on {} rows with different content (lines {lines})",
                        String::from_utf8_lossy(id),
                        g.rows
                    ),
                );
                pass.reject(row.line, reject, row.raw_line());
                return Ok(());
            }
            match parse(&row, p, dates) {
                Ok(parsed) => pass.submit(&row, parsed),
                Err(reject) => {
                    pass.reject(row.line, reject, row.raw_line());
                    Ok(())
                }
            }
        })
    }
}

/// The lines of a conflict's rows as its message lists them: the first
/// [`LINES_LISTED`], then how many more.
#[derive(Default)]
struct Lines {
    listed: usize,
    text: String,
}

impl Lines {
    /// Adds `line`, one of `rows` in all.
    fn add(&mut self, line: u64, rows: u64) {
        use std::fmt::Write as _;
        match self.listed {
            0 => self.text = line.to_string(),
            n if n < LINES_LISTED => {
                let _ = write!(self.text, ", {line}");
            }
            n if n == LINES_LISTED => {
                let _ = write!(self.text, " and {} more", rows - LINES_LISTED as u64);
            }
            _ => {}
        }
        self.listed += 1;
    }
}

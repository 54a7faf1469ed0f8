//! transactions.csv → `fct_transaction`, streamed, plus every aggregate the reports need.
//!
//! Two passes keep memory proportional to distinct keys: pass 1 hashes each
//! row's id and content to find ids that occur more than once; pass 2 parses,
//! validates and streams rows to the loader, holding back only the repeated ids
//! until it can tell exact duplicates (dropped, counted) from conflicts (all rejected).

// Fx hashing: the keys come from the operator's own export files, and SipHash was a hot spot.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;

use chrono::NaiveDateTime;
use indicatif::{ProgressBar, ProgressStyle};
use smallvec::SmallVec;
use tokio::sync::mpsc;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::counts::Counts;
use super::customers::Interner;
use super::error::EtlError;
use super::load::copy_binary;
use super::products::{allocate, Products};
use super::rows::{FactBatch, FactRef, FactRow, RejectedRow};
use super::source::{for_each_row, Column, Digested, RawRow, Source};
use crate::domain::{parse_amount, parse_timestamp, Currency, Month};

pub const FILE: &str = "transactions.csv";

const COLUMNS: &[Column] = &[
    Column {
        name: "Date (UTC)",
        aliases: &["dateutc", "date", "datetime", "timestamp", "createdutc"],
    },
    Column {
        name: "Transaction ID",
        aliases: &["transactionid", "id"],
    },
    Column {
        name: "Customer ID",
        aliases: &["customerid", "customer"],
    },
    Column {
        name: "Subscription ID",
        aliases: &["subscriptionid", "subscription"],
    },
    Column {
        name: "Total",
        aliases: &["total", "amount"],
    },
    Column {
        name: "Currency",
        aliases: &["currency"],
    },
];

/// Rows per batch sent to the loader.
pub const BATCH: usize = 8192;

/// What pass 1 found.
pub struct Scan {
    /// 32-bit hashes of transaction ids seen on more than one row. A collision
    /// only makes pass 2 hold a row back and then accept it alone, so 32 bits
    /// suffice and halve pass 1's memory (4 bytes per row while it runs).
    repeated: HashSet<u32>,
    pub rows: u64,
    pub sha256: String,
    pub bytes: u64,
}

fn content_hash(row: &RawRow<'_>) -> u64 {
    let mut h = Xxh3::new();
    for field in row.record.iter() {
        h.update(field.trim_ascii());
        h.update(&[0x1f]);
    }
    h.digest()
}

fn id_hash(id: &[u8]) -> u32 {
    xxh3_64(id) as u32
}

/// Pass 1: which transaction ids repeat. Memory: 4 bytes per row, freed after.
pub fn scan(dir: &Path) -> Result<Scan, EtlError> {
    let digest = Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()))?;
    let id_pos = source.positions[1];
    let mut ids: Vec<u32> = Vec::new();
    let rows = for_each_row(&mut source, |row| {
        if let Some(id) = row
            .record
            .get(id_pos)
            .map(<[u8]>::trim_ascii)
            .filter(|id| !id.is_empty())
        {
            ids.push(id_hash(id));
        }
        Ok(())
    })?;
    ids.sort_unstable();
    let repeated = ids.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    tracing::debug!(rows, rss_mb = super::resident_mb(), "transactions scanned");
    let (sha256, bytes) = digest.finish();
    Ok(Scan {
        repeated,
        rows,
        sha256,
        bytes,
    })
}

/// Totals of one customer in one currency.
pub struct Spending {
    pub currency: Currency,
    pub cents: i64,
    pub transactions: i64,
    /// Months with a transaction: bit `k` is month `base + k`. Months outside
    /// these 64 go to [`Transactions::far_months`] (rare: over five years apart).
    base: Month,
    bits: u64,
}

impl Spending {
    fn new(currency: Currency, first: Month) -> Self {
        Self {
            currency,
            cents: 0,
            transactions: 0,
            // Room for 31 months before the first one seen and 32 after.
            base: first.plus(-31),
            bits: 0,
        }
    }
}

/// Everything pass 2 learnt about one customer.
#[derive(Default)]
pub struct CustomerFacts {
    /// One entry per currency (almost always one: kept inline).
    pub spending: SmallVec<[Spending; 1]>,
    pub null_subscription: bool,
    pub unknown_subscription: bool,
}

#[derive(Default, Clone, Copy)]
pub struct MonthAcc {
    pub transactions: i64,
    pub active_customers: i64,
    pub revenue_cents: i64,
    pub zero_amount: i64,
    pub refunds: i64,
    pub refund_cents: i64,
    pub null_sub_transactions: i64,
    pub null_sub_cents: i64,
    pub unknown_sub_transactions: i64,
    pub unknown_sub_cents: i64,
}

/// The result of pass 2.
pub struct Transactions {
    pub counts: Counts,
    pub rejects: Vec<RejectedRow>,
    /// Customer ids in first-seen order; index `i` is `customers[i]`.
    pub customer_ids: Interner,
    pub customers: Vec<CustomerFacts>,
    /// (customer, currency, month) seen outside its [`Spending`]'s 64-month window.
    far_months: HashSet<(u32, Currency, Month)>,
    pub months: HashMap<(Currency, Month), MonthAcc>,
    /// (currency, month, product index) → (cents, transactions).
    pub product_months: HashMap<(Currency, Month, u32), (i64, i64)>,
    pub first: Option<NaiveDateTime>,
    pub last: Option<NaiveDateTime>,
}

struct Parsed<'a> {
    fact: FactRef<'a>,
    currency: Currency,
}

/// A parsed row kept until the end of pass 2 (its id repeats).
struct OwnedParsed {
    fact: FactRow,
    currency: Currency,
}

fn parse<'a>(row: &'a RawRow<'_>, p: &[usize]) -> Result<Parsed<'a>, String> {
    let date = row.field(p[0], COLUMNS[0].name)?;
    let id = row.field(p[1], COLUMNS[1].name)?;
    let customer = row.field(p[2], COLUMNS[2].name)?;
    let subscription = row.field(p[3], COLUMNS[3].name)?;
    let total = row.field(p[4], COLUMNS[4].name)?;
    let currency = row.field(p[5], COLUMNS[5].name)?;
    if id.is_empty() {
        return Err("empty Transaction ID".to_owned());
    }
    if customer.is_empty() {
        return Err("empty Customer ID".to_owned());
    }
    let date_utc = parse_timestamp(date).map_err(|e| format!("column \"Date (UTC)\": {e}"))?;
    let total = parse_amount(total, true).map_err(|e| format!("column \"Total\": {e}"))?;
    let currency = Currency::parse(currency).map_err(|e| format!("column \"Currency\": {e}"))?;
    Ok(Parsed {
        fact: FactRef {
            transaction_id: id,
            date_utc,
            customer_id: customer,
            subscription_id: (!subscription.is_empty()).then_some(subscription),
            total_cents: total.cents(),
            currency: currency.as_str(),
        },
        currency,
    })
}

struct Held {
    line: u64,
    content: u64,
    raw: String,
    parsed: Result<OwnedParsed, String>,
}

struct Pass2<'a> {
    products: &'a Products,
    run_id: i64,
    out: Transactions,
    /// PostgreSQL: rows encoded for binary COPY here, on the parsing thread.
    copy: bool,
    bytes: Vec<u8>,
    batch: Vec<FactRow>,
    batch_rows: u64,
    sender: mpsc::Sender<FactBatch>,
}

/// Bytes of COPY data per batch.
const COPY_BATCH_BYTES: usize = 256 << 10;

impl Pass2<'_> {
    fn reject(&mut self, line: u64, reason: String, raw_line: String) {
        self.out.counts.rejected += 1;
        self.out.rejects.push(RejectedRow {
            run_id: self.run_id,
            file: FILE,
            line_number: line as i64,
            reason,
            raw_line,
        });
    }

    fn accept(&mut self, parsed: Parsed<'_>) -> Result<(), EtlError> {
        let Parsed { fact, currency } = parsed;
        let out = &mut self.out;
        out.counts.loaded += 1;
        let (cust, new) = out
            .customer_ids
            .intern(fact.customer_id)
            .map_err(|e| EtlError::Aborted(format!("{FILE}: {e}")))?;
        if new {
            out.customers.push(CustomerFacts::default());
        }
        let month = Month::of(&fact.date_utc);
        let cents = fact.total_cents;
        let acc = out.months.entry((currency, month)).or_default();
        acc.transactions += 1;
        acc.revenue_cents += cents;
        acc.zero_amount += i64::from(cents == 0);
        if cents < 0 {
            acc.refunds += 1;
            acc.refund_cents += cents;
        }
        let facts = &mut out.customers[cust as usize];
        let spending = match facts.spending.iter().position(|s| s.currency == currency) {
            Some(i) => &mut facts.spending[i],
            None => {
                facts.spending.push(Spending::new(currency, month));
                let last = facts.spending.len() - 1;
                &mut facts.spending[last]
            }
        };
        spending.cents += cents;
        spending.transactions += 1;
        // Active customers of the month: counted on a customer's first transaction in it.
        let first_in_month = match u32::try_from(spending.base.months_until(month)) {
            Ok(k) if k < 64 => {
                let new = spending.bits & (1 << k) == 0;
                spending.bits |= 1 << k;
                new
            }
            _ => out.far_months.insert((cust, currency, month)),
        };
        if first_in_month {
            acc.active_customers += 1;
        }
        match fact.subscription_id {
            None => {
                acc.null_sub_transactions += 1;
                acc.null_sub_cents += cents;
                facts.null_subscription = true;
            }
            Some(sub) => match self.products.plans.get(sub) {
                None => {
                    acc.unknown_sub_transactions += 1;
                    acc.unknown_sub_cents += cents;
                    facts.unknown_subscription = true;
                }
                Some(plans) => {
                    let amounts: Vec<i64> = plans.iter().map(|p| p.1).collect();
                    let parts = allocate(cents, &amounts);
                    // Several plans of one product count the transaction once for it.
                    let mut seen: Vec<u32> = Vec::with_capacity(plans.len());
                    for (&(product, _), part) in plans.iter().zip(parts) {
                        let entry = out.product_months.entry((currency, month, product)).or_default();
                        entry.0 += part;
                        if !seen.contains(&product) {
                            entry.1 += 1;
                            seen.push(product);
                        }
                    }
                }
            },
        }
        out.first = Some(out.first.map_or(fact.date_utc, |f| f.min(fact.date_utc)));
        out.last = Some(out.last.map_or(fact.date_utc, |l| l.max(fact.date_utc)));
        self.batch_rows += 1;
        if self.copy {
            copy_binary::fact(&mut self.bytes, &fact);
            if self.bytes.len() >= COPY_BATCH_BYTES {
                self.flush()?;
            }
        } else {
            self.batch.push(fact.to_owned_row());
            if self.batch.len() >= BATCH {
                self.flush()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), EtlError> {
        if self.batch_rows == 0 {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch_rows);
        let batch = if self.copy {
            FactBatch::Copy {
                bytes: std::mem::replace(&mut self.bytes, Vec::with_capacity(COPY_BATCH_BYTES + 4096)),
                rows,
            }
        } else {
            FactBatch::Rows(std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH)))
        };
        self.sender
            .blocking_send(batch)
            .map_err(|_| EtlError::Aborted("the database loader stopped".to_owned()))
    }
}

/// Pass 2: parse, validate, de-duplicate and aggregate, streaming accepted rows
/// to `sender` in batches. Runs on a blocking thread.
pub fn load(
    dir: &Path,
    scan: &Scan,
    products: &Products,
    run_id: i64,
    copy: bool,
    sender: mpsc::Sender<FactBatch>,
) -> Result<Transactions, EtlError> {
    let mut source = Source::open(&dir.join(FILE), COLUMNS, None)?;
    let p = source.positions.clone();
    let progress = ProgressBar::new(scan.rows).with_message("transactions");
    progress.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut pass = Pass2 {
        products,
        run_id,
        out: Transactions {
            counts: Counts::default(),
            rejects: Vec::new(),
            customer_ids: Interner::default(),
            customers: Vec::new(),
            far_months: HashSet::default(),
            months: HashMap::default(),
            product_months: HashMap::default(),
            first: None,
            last: None,
        },
        copy,
        bytes: Vec::with_capacity(if copy { COPY_BATCH_BYTES + 4096 } else { 0 }),
        batch: Vec::new(),
        batch_rows: 0,
        sender,
    };
    let mut held: HashMap<String, Vec<Held>> = HashMap::default();
    let mut held_order: Vec<String> = Vec::new();
    let read = for_each_row(&mut source, |row| {
        if row.line % 65_536 == 0 {
            progress.set_position(row.line);
        }
        let id = row.record.get(p[1]).map(<[u8]>::trim_ascii).unwrap_or_default();
        if !id.is_empty() && scan.repeated.contains(&id_hash(id)) {
            let key = String::from_utf8_lossy(id).into_owned();
            let entry = held.entry(key.clone()).or_default();
            if entry.is_empty() {
                held_order.push(key);
            }
            entry.push(Held {
                line: row.line,
                content: content_hash(&row),
                raw: row.raw_line(),
                parsed: parse(&row, &p).map(|v| OwnedParsed {
                    fact: v.fact.to_owned_row(),
                    currency: v.currency,
                }),
            });
            return Ok(());
        }
        match parse(&row, &p) {
            Ok(parsed) => pass.accept(parsed),
            Err(reason) => {
                pass.reject(row.line, reason, row.raw_line());
                Ok(())
            }
        }
    })?;
    pass.out.counts.read = read;
    // Repeated ids: identical rows keep the first and count the rest as duplicates;
    // differing rows are all rejected, since no one can tell which is right.
    for id in held_order {
        let Some(rows) = held.remove(&id) else {
            continue;
        };
        if rows.len() > 1 && rows.iter().any(|r| r.content != rows[0].content) {
            let lines: Vec<String> = rows.iter().map(|r| r.line.to_string()).collect();
            for r in rows {
                let reason = format!(
                    "Transaction ID {id:?} appears on {} rows with different content (lines {})",
                    lines.len(),
                    lines.join(", ")
                );
                pass.reject(r.line, reason, r.raw);
            }
            continue;
        }
        let mut rows = rows.into_iter();
        if let Some(first) = rows.next() {
            match first.parsed {
                Ok(owned) => pass.accept(Parsed {
                    fact: owned.fact.as_ref(),
                    currency: owned.currency,
                })?,
                Err(reason) => pass.reject(first.line, reason, first.raw),
            }
        }
        pass.out.counts.duplicates += rows.len() as u64;
    }
    pass.flush()?;
    progress.finish_and_clear();
    Ok(pass.out)
}

//! transactions.csv → `fct_transaction`, streamed, plus every aggregate the reports need.
//!
//! Two passes keep memory proportional to distinct keys: pass 1 hashes each
//! row's id to find ids that occur more than once; pass 2 parses, validates
//! and streams rows to the loader, holding back only the repeated ids until it
//! can tell exact duplicates (dropped, counted) from conflicts (all rejected).
//! In an append, pass 2 also looks its rows up among the stored transactions,
//! a batch at a time: identical ones are `already_loaded`, differing ones are
//! rejected (`conflicts_with_loaded`).

// Fx hashing: the keys come from the operator's own export files, and SipHash was a hot spot.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;

use chrono::NaiveDateTime;
use smallvec::SmallVec;
use tokio::sync::mpsc;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::counts::Counts;
use crate::customers::Interner;
use crate::encode::copy_binary;
use crate::error::EtlError;
use crate::months::ActiveMonths;
use crate::progress::{Progress, TICK_ROWS};
use crate::read::products::{allocate, Catalog};
use crate::read::source::{for_each_row, Column, Digested, Limits, RawRow, Source};
use crate::rows::{FactBatch, FactRef, FactRow, ProductRow, Reject, RejectedRow};
use domain::{check_id, parse_amount, parse_timestamp, AmountError, Currency, DateBounds, Month, ParseMoneyError};

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

/// Rows an append looks up among the stored transactions at a time.
const LOOKUP_BATCH: usize = 4096;

/// What pass 1 found.
pub struct Scan {
    /// 32-bit hashes of transaction ids seen on more than one row. A collision
    /// only makes pass 2 hold a row back and then accept it alone, so 32 bits
    /// suffice and halve pass 1's memory (4 bytes per row while it runs).
    repeated: HashSet<u32>,
    pub rows: u64,
    pub sha256: String,
    pub bytes: u64,
    limits: Limits,
}

impl Scan {
    /// An append given no transactions.csv: nothing to read.
    pub fn absent(limits: Limits) -> Self {
        Self {
            repeated: HashSet::default(),
            rows: 0,
            sha256: String::new(),
            bytes: 0,
            limits,
        }
    }
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
pub fn scan(dir: &Path, limits: Limits, progress: &Progress) -> Result<Scan, EtlError> {
    let phase = progress.phase("read transactions (pass 1)", None);
    let digest = Digested::default();
    let mut source = Source::open(&dir.join(FILE), COLUMNS, Some(digest.clone()), limits)?;
    let id_pos = source.positions[1];
    let mut ids: Vec<u32> = Vec::new();
    let rows = for_each_row(&mut source, |row| {
        if row.line % TICK_ROWS == 0 {
            phase.at(row.line);
        }
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
    phase.done(rows);
    tracing::debug!(rows, rss_mb = crate::resident_mb(), "transactions scanned");
    let (sha256, bytes) = digest.finish();
    Ok(Scan {
        repeated,
        rows,
        sha256,
        bytes,
        limits,
    })
}

/// Totals of one customer in one currency, in this run.
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
    /// Transactions without a subscription id / with one unknown to the catalog.
    pub null_subscription_tx: u32,
    pub unknown_subscription_tx: u32,
}

/// The additive figures of one (currency, month) cell.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthAcc {
    pub transactions: i64,
    pub revenue_cents: i64,
    pub zero_amount: i64,
    pub refunds: i64,
    pub refund_cents: i64,
    pub null_sub_transactions: i64,
    pub null_sub_cents: i64,
    pub unknown_sub_transactions: i64,
    pub unknown_sub_cents: i64,
    /// Σ|amount|: what bounds every sum of these transactions (see `DataState::gross_cents`).
    pub gross_cents: i64,
}

/// The result of pass 2: the new transactions, aggregated.
pub struct Transactions {
    pub counts: Counts,
    pub rejects: Vec<RejectedRow>,
    /// Customer ids in first-seen order; index `i` is `customers[i]`.
    pub customer_ids: Interner,
    pub customers: Vec<CustomerFacts>,
    /// (customer, currency) → months outside its [`Spending`]'s 64-month window.
    far_months: HashMap<(u32, Currency), Vec<Month>>,
    pub months: HashMap<(Currency, Month), MonthAcc>,
    /// (currency, month, product index) → (cents, transactions).
    pub product_months: HashMap<(Currency, Month, u32), (i64, i64)>,
    pub first: Option<NaiveDateTime>,
    pub last: Option<NaiveDateTime>,
    /// The catalog that attributed the revenue (an append merges stored rows into it).
    pub catalog: Catalog,
}

impl Transactions {
    /// No transactions (transactions.csv was ingested before).
    pub fn empty(catalog: Catalog) -> Self {
        Self {
            counts: Counts::default(),
            rejects: Vec::new(),
            customer_ids: Interner::default(),
            customers: Vec::new(),
            far_months: HashMap::default(),
            months: HashMap::default(),
            product_months: HashMap::default(),
            first: None,
            last: None,
            catalog,
        }
    }

    /// The months in which customer `cust` paid in `spending`'s currency in this run.
    pub fn active_months(&self, cust: u32, spending: &Spending) -> ActiveMonths {
        let mut months = ActiveMonths::default();
        for k in 0..64 {
            if spending.bits & (1 << k) != 0 {
                months.insert(spending.base.plus(k));
            }
        }
        for &m in self.far_months.get(&(cust, spending.currency)).into_iter().flatten() {
            months.insert(m);
        }
        months
    }
}

/// The stored data an append checks its rows against, read from the blocking
/// thread of pass 2.
pub trait StoredLookup: Send {
    /// The stored transactions among `ids`, by id.
    fn transactions(&mut self, ids: &[&str]) -> Result<HashMap<String, FactRow>, EtlError>;
    /// The stored `dim_product` rows of `subscriptions`.
    fn products(&mut self, subscriptions: &[String]) -> Result<Vec<ProductRow>, EtlError>;
}

struct Parsed<'a> {
    fact: FactRef<'a>,
    currency: Currency,
}

/// A parsed row owned by pass 2: held because its id repeats, or waiting for
/// an append's lookup.
struct Candidate {
    line: u64,
    raw: String,
    fact: FactRow,
    currency: Currency,
}

fn parse<'a>(row: &'a RawRow<'_>, p: &[usize], dates: &DateBounds) -> Result<Parsed<'a>, Reject> {
    let date = row.field(p[0], COLUMNS[0].name)?;
    let id = row.field(p[1], COLUMNS[1].name)?;
    let customer = row.field(p[2], COLUMNS[2].name)?;
    let subscription = row.field(p[3], COLUMNS[3].name)?;
    let total = row.field(p[4], COLUMNS[4].name)?;
    let currency_text = row.field(p[5], COLUMNS[5].name)?;
    if id.is_empty() {
        return Err(Reject::new("empty_transaction_id", "empty Transaction ID"));
    }
    if customer.is_empty() {
        return Err(Reject::new("empty_customer_id", "empty Customer ID"));
    }
    for (value, column) in [(id, &COLUMNS[1]), (customer, &COLUMNS[2]), (subscription, &COLUMNS[3])] {
        check_id(value, column.name).map_err(|e| Reject::new("id_too_long", e))?;
    }
    let date_utc =
        parse_timestamp(date).map_err(|e| Reject::new("invalid_date", format!("column \"Date (UTC)\": {e}")))?;
    dates
        .check(date_utc)
        .map_err(|e| Reject::new("implausible_date", format!("column \"Date (UTC)\": {e}")))?;
    let amount_reject = |e: AmountError| Reject::new(e.reason_code(), format!("column \"Total\": {e}"));
    // The amount's decimals depend on the currency; a Total that is no number
    // at all is still named first, whatever the currency says.
    let currency = match Currency::parse(currency_text) {
        Ok(currency) => currency,
        Err(e) => {
            if let Err(e @ AmountError::Parse(ParseMoneyError::NotADecimal { .. })) = parse_amount(total, 0, true) {
                return Err(amount_reject(e));
            }
            return Err(Reject::new("unknown_currency", format!("column \"Currency\": {e}")));
        }
    };
    let total = parse_amount(total, currency.exponent(), true).map_err(|e| {
        let mut reject = amount_reject(e);
        // The limit depends on the currency: name it.
        reject.message.push_str(&format!(" (currency {currency})"));
        reject
    })?;
    Ok(Parsed {
        fact: FactRef {
            transaction_id: id,
            date_utc,
            customer_id: customer,
            subscription_id: (!subscription.is_empty()).then_some(subscription),
            total_cents: total.minor(),
            currency: currency.as_str(),
        },
        currency,
    })
}

struct Held {
    line: u64,
    content: u64,
    raw: String,
    parsed: Result<(FactRow, Currency), Reject>,
}

/// A sum in minor units that no longer fits 64 bits: the run fails rather than wrap.
fn add_cents(sum: &mut i64, cents: i64, what: &dyn Fn() -> String) -> Result<(), EtlError> {
    *sum = sum.checked_add(cents).ok_or_else(|| {
        EtlError::Overflow(format!(
            "{FILE}: {} exceeds the range of 64-bit minor units (cents)",
            what()
        ))
    })?;
    Ok(())
}

struct Pass2<'a> {
    run_id: i64,
    out: Transactions,
    /// Append only: the stored data, and the rows waiting to be looked up in it.
    stored: Option<&'a mut dyn StoredLookup>,
    pending: Vec<Candidate>,
    /// PostgreSQL: rows encoded for binary COPY here, on the parsing thread.
    copy: bool,
    bytes: Vec<u8>,
    batch: Vec<FactRow>,
    batch_rows: u64,
    sender: mpsc::Sender<FactBatch>,
}

/// Bytes of COPY data per batch (small under test, so that tests see several).
const COPY_BATCH_BYTES: usize = if cfg!(test) { 8 << 10 } else { 256 << 10 };

impl Pass2<'_> {
    fn reject(&mut self, line: u64, reject: Reject, raw_line: String) {
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
    fn submit(&mut self, row: &RawRow<'_>, parsed: Parsed<'_>) -> Result<(), EtlError> {
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

    fn submit_owned(&mut self, candidate: Candidate) -> Result<(), EtlError> {
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
    fn resolve(&mut self) -> Result<(), EtlError> {
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
                Some(s) => {
                    let reject = Reject::new(
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
                    );
                    self.reject(c.line, reject, c.raw);
                }
            }
        }
        Ok(())
    }

    fn accept(&mut self, parsed: Parsed<'_>) -> Result<(), EtlError> {
        let Parsed { fact, currency } = parsed;
        let out = &mut self.out;
        out.counts.loaded += 1;
        let (cust, new) = out
            .customer_ids
            .intern(fact.customer_id)
            .map_err(|e| EtlError::Overflow(format!("{FILE}: {e}")))?;
        if new {
            out.customers.push(CustomerFacts::default());
        }
        let month = Month::of(&fact.date_utc);
        let cents = fact.total_cents;
        let cell = || format!("the {currency} revenue of {month}");
        let acc = out.months.entry((currency, month)).or_default();
        acc.transactions += 1;
        add_cents(&mut acc.revenue_cents, cents, &cell)?;
        add_cents(&mut acc.gross_cents, cents.saturating_abs(), &cell)?;
        acc.zero_amount += i64::from(cents == 0);
        if cents < 0 {
            acc.refunds += 1;
            add_cents(&mut acc.refund_cents, cents, &cell)?;
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
        add_cents(&mut spending.cents, cents, &|| {
            format!("the {currency} spending of customer {:?}", fact.customer_id)
        })?;
        spending.transactions += 1;
        match u32::try_from(spending.base.months_until(month)) {
            Ok(k) if k < 64 => spending.bits |= 1 << k,
            _ => {
                let far = out.far_months.entry((cust, currency)).or_default();
                if !far.contains(&month) {
                    far.push(month);
                }
            }
        }
        match fact.subscription_id {
            None => {
                acc.null_sub_transactions += 1;
                add_cents(&mut acc.null_sub_cents, cents, &cell)?;
                facts.null_subscription_tx = facts.null_subscription_tx.saturating_add(1);
            }
            Some(sub) => match out.catalog.plans.get(sub) {
                None => {
                    acc.unknown_sub_transactions += 1;
                    add_cents(&mut acc.unknown_sub_cents, cents, &cell)?;
                    facts.unknown_subscription_tx = facts.unknown_subscription_tx.saturating_add(1);
                }
                Some(plans) => {
                    let amounts: Vec<i64> = plans.iter().map(|p| p.amount_cents).collect();
                    let parts = allocate(cents, &amounts);
                    // Several plans of one product count the transaction once for it.
                    let mut seen: SmallVec<[u32; 4]> = SmallVec::new();
                    for (plan, part) in plans.iter().zip(parts) {
                        let entry = out.product_months.entry((currency, month, plan.product)).or_default();
                        add_cents(&mut entry.0, part, &cell)?;
                        if !seen.contains(&plan.product) {
                            entry.1 += 1;
                            seen.push(plan.product);
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

    /// Sends the rows buffered: COPY data, or the batch of rows.
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
            .map_err(|_| EtlError::Internal("the database loader stopped".to_owned()))
    }
}

/// How pass 2 runs.
pub struct Pass2Options<'a, 'p> {
    pub run_id: i64,
    /// Encode rows for PostgreSQL's binary COPY (else: owned rows for SQLite).
    pub copy: bool,
    /// Append: the stored data to check against. Replace: `None`.
    pub stored: Option<&'a mut dyn StoredLookup>,
    pub progress: &'p Progress,
    /// The transaction dates accepted.
    pub dates: DateBounds,
}

/// Pass 2: parse, validate, de-duplicate and aggregate, streaming accepted rows
/// to `sender` in batches. Runs on a blocking thread.
pub fn load(
    dir: &Path,
    scan: &Scan,
    catalog: Catalog,
    options: Pass2Options<'_, '_>,
    sender: mpsc::Sender<FactBatch>,
) -> Result<Transactions, EtlError> {
    let mut source = Source::open(&dir.join(FILE), COLUMNS, None, scan.limits)?;
    let p = source.positions.clone();
    let dates = options.dates;
    let phase = options.progress.phase("read transactions (pass 2)", Some(scan.rows));
    let mut pass = Pass2 {
        run_id: options.run_id,
        out: Transactions::empty(catalog),
        stored: options.stored,
        pending: Vec::new(),
        copy: options.copy,
        bytes: Vec::with_capacity(if options.copy { COPY_BATCH_BYTES + 4096 } else { 0 }),
        batch: Vec::new(),
        batch_rows: 0,
        sender,
    };
    let mut held: HashMap<String, Vec<Held>> = HashMap::default();
    let mut held_order: Vec<String> = Vec::new();
    let read = for_each_row(&mut source, |row| {
        if row.line % TICK_ROWS == 0 {
            phase.at(row.line);
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
                parsed: parse(&row, &p, &dates).map(|v| (v.fact.to_owned_row(), v.currency)),
            });
            return Ok(());
        }
        match parse(&row, &p, &dates) {
            Ok(parsed) => pass.submit(&row, parsed),
            Err(reject) => {
                pass.reject(row.line, reject, row.raw_line());
                Ok(())
            }
        }
    })?;
    if read != scan.rows {
        // Pass 1 counted other lines: the file changed while the run read it.
        return Err(EtlError::file_changed(FILE, scan.rows, read));
    }
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
    pass.resolve()?;
    pass.flush()?;
    phase.done(read);
    Ok(pass.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored data held in memory.
    struct Fake {
        facts: Vec<FactRow>,
        products: Vec<ProductRow>,
        asked: Vec<usize>,
    }

    impl StoredLookup for Fake {
        fn transactions(&mut self, ids: &[&str]) -> Result<HashMap<String, FactRow>, EtlError> {
            self.asked.push(ids.len());
            Ok(self
                .facts
                .iter()
                .filter(|f| ids.contains(&f.transaction_id.as_str()))
                .map(|f| (f.transaction_id.clone(), f.clone()))
                .collect())
        }
        fn products(&mut self, subscriptions: &[String]) -> Result<Vec<ProductRow>, EtlError> {
            Ok(self
                .products
                .iter()
                .filter(|p| subscriptions.contains(&p.subscription_id))
                .cloned()
                .collect())
        }
    }

    fn run(lines: &[&str], stored: Option<&mut dyn StoredLookup>) -> (Transactions, Vec<FactRow>) {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency");
        for l in lines {
            text.push_str("\r\n");
            text.push_str(l);
        }
        std::fs::write(dir.path().join(FILE), text).unwrap();
        let progress = Progress::for_stderr(std::time::Duration::from_millis(crate::progress::DEFAULT_INTERVAL_MS));
        let scan = scan(dir.path(), Limits::default(), &progress).unwrap();
        let (sender, mut receiver) = mpsc::channel(64);
        let options = Pass2Options {
            run_id: 1,
            copy: false,
            stored,
            progress: &progress,
            dates: DateBounds::new(
                chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
                1,
                chrono::Utc::now().naive_utc(),
            ),
        };
        let tx = load(dir.path(), &scan, Catalog::for_append(&[]), options, sender).unwrap();
        let mut rows = Vec::new();
        while let Ok(batch) = receiver.try_recv() {
            if let FactBatch::Rows(r) = batch {
                rows.extend(r);
            }
        }
        (tx, rows)
    }

    /// COPY batches (PostgreSQL): rows in random time order over 24 months,
    /// more than one batch holds (8 KiB under test): every batch is bounded,
    /// and every row is sent once, whatever its month.
    #[test]
    fn copy_batches_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from("Date (UTC)\tTransaction ID\tCustomer ID\tSubscription ID\tTotal\tCurrency");
        let mut rng = fastrand::Rng::with_seed(5);
        let mut per_month: HashMap<Month, u64> = HashMap::default();
        for i in 0..3000 {
            let (year, month) = (2022 + rng.i32(0..2), rng.u32(1..=12));
            *per_month.entry(Month::new(year, month).unwrap()).or_default() += 1;
            text.push_str(&format!(
                "\r\n{month}/{}/{year} 7:00\tt{i}\tc1\t\t1.00\tusd",
                rng.u32(1..=28)
            ));
        }
        std::fs::write(dir.path().join(FILE), text).unwrap();
        let progress = Progress::for_stderr(std::time::Duration::from_millis(crate::progress::DEFAULT_INTERVAL_MS));
        let scan = scan(dir.path(), Limits::default(), &progress).unwrap();
        let (sender, mut receiver) = mpsc::channel(100_000);
        let options = Pass2Options {
            run_id: 1,
            copy: true,
            stored: None,
            progress: &progress,
            dates: DateBounds::new(
                chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
                1,
                chrono::Utc::now().naive_utc(),
            ),
        };
        load(dir.path(), &scan, Catalog::for_append(&[]), options, sender).unwrap();
        let (mut sent, mut batches) = (0, 0);
        while let Ok(batch) = receiver.try_recv() {
            let FactBatch::Copy { bytes, rows } = batch else {
                panic!("a batch of rows in COPY mode")
            };
            assert!(bytes.len() <= COPY_BATCH_BYTES + 4096);
            sent += rows;
            batches += 1;
        }
        assert_eq!(sent, per_month.values().sum::<u64>());
        assert!(batches > 1, "{batches} batches");
    }

    fn fact(id: &str, date: &str, cents: i64) -> FactRow {
        FactRow {
            transaction_id: id.into(),
            date_utc: chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M").unwrap(),
            customer_id: "c1".into(),
            subscription_id: Some("s1".into()),
            total_cents: cents,
            currency: "usd",
        }
    }

    #[test]
    fn an_append_sorts_rows_into_new_already_loaded_and_conflicting() {
        let mut stored = Fake {
            facts: vec![
                fact("t1", "2024-01-01 07:00", 1000),
                fact("t2", "2024-01-02 07:00", 500),
            ],
            products: vec![ProductRow {
                subscription_id: "s1".into(),
                plan: "Base".into(),
                product: "Alpha".into(),
                interval: "month".into(),
                amount_cents: 100,
                status: "active".into(),
            }],
            asked: Vec::new(),
        };
        let (tx, rows) = run(
            &[
                "2024-01-01T07:00:00Z\tt1\tc1\ts1\t10\tusd",
                "1/2/24 7:00\tt2\tc1\ts1\t5.01\tusd",
                "1/3/24 7:00\tt3\tc1\ts1\t2.00\tusd",
                "1/3/24 7:00\tt3\tc1\ts1\t2.00\tusd",
                "1/4/24 7:00\tt4\tc1\ts9\t1.00\tusd",
            ],
            Some(&mut stored),
        );
        let c = tx.counts;
        assert_eq!(
            (c.read, c.loaded, c.already_loaded, c.duplicates, c.rejected),
            (5, 2, 1, 1, 1)
        );
        assert_eq!(tx.rejects[0].reason_code, "conflicts_with_loaded");
        assert_eq!(tx.rejects[0].line_number, 3);
        let ids: Vec<&str> = rows.iter().map(|r| r.transaction_id.as_str()).collect();
        assert_eq!(ids, ["t4", "t3"], "new rows only (held repeats come last)");
        // t3's subscription came from the stored catalog; t4's is unknown.
        assert_eq!(tx.product_months.values().map(|v| v.0).sum::<i64>(), 200);
        let month = tx.months.values().next().unwrap();
        assert_eq!((month.unknown_sub_transactions, month.unknown_sub_cents), (1, 100));
        assert_eq!(stored.asked, [4], "one lookup for the batch (the repeat once)");
    }

    #[test]
    fn a_replace_looks_nothing_up() {
        let (tx, rows) = run(&["1/1/24 7:00\tt1\tc1\t\t1.00\tusd", "junk\tt2\tc1\t\t1.00\tusd"], None);
        assert_eq!((tx.counts.loaded, tx.counts.rejected), (1, 1));
        assert_eq!(tx.rejects[0].reason_code, "invalid_date");
        assert_eq!(rows.len(), 1);
    }
}

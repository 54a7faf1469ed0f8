//! The subscription feed's format: each run's loaded transactions as the
//! subscription figures read them, written by the load into
//! `etl_saas_feed` (see its entity) in parts of about [`PART_BYTES`].
//!
//! Why: after a replace, the server read every transaction back from the
//! fact table to compute the figures (11 s at 5M on PostgreSQL, two thirds
//! of the replace itself), most of it in the driver's rows and in looking
//! every id up again. The load has each transaction in hand and its
//! customers already numbered, so it writes them compactly once, and the
//! server reads a few large values instead of millions of rows.
//!
//! A run's parts, numbered from 0 in this order: record parts (written as
//! the transactions load), then dictionary parts (the customers, the
//! subscriptions, the currencies, each in index order; the kinds in any
//! order, the load writes the customers last), then one end part
//! holding the counts, which a reader checks: a run's feed without its end
//! part, or whose counts differ, is not read. A reader takes the parts
//! last first ([`FeedReader`]), so that it knows the dictionaries before
//! the first record part and decodes each record part as it arrives.
//! Every part starts with
//! [`MAGIC`], [`VERSION`] and its kind. Fixed-size integers are
//! little-endian; texts are at most 255 bytes (`domain::MAX_ID_BYTES`),
//! each preceded by its length in one byte.
//!
//! A record part holds blocks ([`Block`], one per batch the load encoded):
//! each is its length in bytes (u32), then its records. A record is, as
//! LEB128 varints (the signed ones zigzag, `integer-encoding`'s): the
//! customer index, the subscription index plus one (0: none), the currency
//! index, the seconds since the epoch less those of the block's record
//! before (of the first: less 0), the nanoseconds, the total in minor
//! units; then the transaction id as the number of leading bytes it shares
//! with the id of the block's record before (one byte), the number of
//! bytes that follow (one byte) and those bytes. Why: 56 bytes a record in
//! version 1 (5M transactions: 282 MB, written by every load and read by
//! the server's first figures) against about half; ids made in the same
//! second share their start, and a file's rows come in about time order.

use integer_encoding::VarInt;

/// The first byte of every part.
pub const MAGIC: u8 = b'F';
/// The format's version: a reader skips (and falls back from) any other.
pub const VERSION: u8 = 2;
/// A part is written once it holds this many bytes (the last of a kind
/// holds fewer): large values, few rows. Not more: the load holds a part
/// while it fills and copies it while writing it (parts of 8 MiB put
/// 23 MB on the peak of a 5M PostgreSQL load).
pub const PART_BYTES: usize = 1 << 20;
/// The subscription index of a transaction without subscription (encoded
/// as 0: every index is encoded plus one, wrapping).
pub const NO_SUBSCRIPTION: u32 = u32::MAX;

/// What a part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Records = 1,
    Customers = 2,
    Subscriptions = 3,
    Currencies = 4,
    End = 5,
}

impl Kind {
    fn of(byte: u8) -> Option<Kind> {
        [
            Kind::Records,
            Kind::Customers,
            Kind::Subscriptions,
            Kind::Currencies,
            Kind::End,
        ]
        .into_iter()
        .find(|k| *k as u8 == byte)
    }
}

/// The start of a part of `kind`.
pub fn part_header(kind: Kind) -> [u8; 3] {
    [MAGIC, VERSION, kind as u8]
}

/// One transaction as the feed holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub customer: u32,
    pub subscription: u32,
    pub currency: u16,
    pub seconds: i64,
    pub nanos: u32,
    pub total: i64,
    pub transaction_id: &'a str,
}

/// A value the feed cannot hold.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Ids are checked shorter when read.
    #[error("a text of {0} bytes is longer than the feed's 255")]
    TooLong(usize),
    #[error("a block of {0} bytes is longer than the feed's 4 GiB")]
    BlockTooLong(usize),
}

/// Appends `text` with its length.
pub fn push_text(out: &mut Vec<u8>, text: &str) -> Result<(), EncodeError> {
    let len = u8::try_from(text.len()).map_err(|_| EncodeError::TooLong(text.len()))?;
    out.push(len);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn push_varint(out: &mut Vec<u8>, value: impl VarInt) {
    let mut buffer = [0u8; 10];
    let n = value.encode_var(&mut buffer);
    out.extend_from_slice(&buffer[..n]);
}

/// Records encoded into one block of a record part (the module's doc).
#[derive(Debug)]
pub struct Block {
    /// The length's four bytes, then the records.
    bytes: Vec<u8>,
    /// The record before's seconds and transaction id.
    seconds: i64,
    id: Vec<u8>,
}

impl Block {
    /// An empty block with room for about `records` records.
    pub fn with_capacity(records: usize) -> Self {
        let mut bytes = Vec::with_capacity(4 + records * 32);
        bytes.extend_from_slice(&[0; 4]);
        Self {
            bytes,
            seconds: 0,
            id: Vec::new(),
        }
    }

    /// Appends a record.
    pub fn push(&mut self, r: &Record<'_>) -> Result<(), EncodeError> {
        let id = r.transaction_id.as_bytes();
        if id.len() > 255 {
            return Err(EncodeError::TooLong(id.len()));
        }
        let out = &mut self.bytes;
        push_varint(out, r.customer);
        push_varint(out, r.subscription.wrapping_add(1));
        push_varint(out, r.currency);
        push_varint(out, r.seconds.wrapping_sub(self.seconds));
        push_varint(out, r.nanos);
        push_varint(out, r.total);
        let shared = self.id.iter().zip(id).take_while(|(a, b)| a == b).count();
        // Both at most 255: checked above.
        out.extend_from_slice(&[shared as u8, (id.len() - shared) as u8]);
        out.extend_from_slice(&id[shared..]);
        self.seconds = r.seconds;
        self.id.clear();
        self.id.extend_from_slice(id);
        Ok(())
    }

    /// The block's bytes, its length first, to append to a record part.
    pub fn finish(mut self) -> Result<Vec<u8>, EncodeError> {
        let len = self.bytes.len() - 4;
        let len32 = u32::try_from(len).map_err(|_| EncodeError::BlockTooLong(len))?;
        self.bytes[..4].copy_from_slice(&len32.to_le_bytes());
        Ok(self.bytes)
    }
}

/// The end part's counts: what the parts before it hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    pub customers: u32,
    pub subscriptions: u32,
    pub currencies: u32,
    /// Parts before the end part.
    pub parts: u32,
}

impl Counts {
    /// The end part.
    pub fn end_part(&self) -> Vec<u8> {
        let mut out = part_header(Kind::End).to_vec();
        out.extend_from_slice(&self.records.to_le_bytes());
        for n in [self.customers, self.subscriptions, self.currencies, self.parts] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out
    }
}

/// A run's dictionaries, complete: each record's indexes are into these.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Dictionaries<'a> {
    pub customers: Vec<&'a str>,
    pub subscriptions: Vec<&'a str>,
    pub currencies: Vec<&'a str>,
}

/// What a [`FeedReader`] gives: the run's dictionaries once, before its
/// first record, then every record (its indexes checked against them).
pub trait Visit {
    fn dictionaries(&mut self, dictionaries: Dictionaries<'_>);
    fn record(&mut self, record: Record<'_>) -> Result<(), FeedError>;
}

/// Reads one run's feed from its parts given last first (`ORDER BY part
/// DESC`): the end part, which counts everything, then the dictionaries,
/// then the record parts, each decoded as it comes. A reader thus holds
/// one record part at a time, not the run's (282 MB at 5M transactions),
/// and can decode a part while the next one is on its way.
#[derive(Debug)]
pub struct FeedReader {
    counts: Counts,
    /// The part expected next (one less than the last given; `None`: part 0 came).
    next: Option<u32>,
    /// Dictionary parts, last first, until the first record part.
    pending: Vec<(u32, Kind, Vec<u8>)>,
    /// Once the dictionaries are given: their lengths.
    lengths: Option<[usize; 3]>,
    records: u64,
}

/// Reads a part's bytes in order.
struct Cursor<'a> {
    part: u32,
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], FeedError> {
        let (head, rest) = self
            .bytes
            .split_first_chunk::<N>()
            .ok_or(FeedError::Truncated(self.part))?;
        self.bytes = rest;
        Ok(*head)
    }

    /// A varint of `T` (an unterminated one, or one too large for `T`: truncated).
    fn varint<T: VarInt>(&mut self) -> Result<T, FeedError> {
        let (value, n) = T::decode_var(self.bytes).ok_or(FeedError::Truncated(self.part))?;
        self.bytes = &self.bytes[n..];
        Ok(value)
    }

    fn text(&mut self) -> Result<&'a str, FeedError> {
        let [len] = self.take::<1>()?;
        let len = usize::from(len);
        if self.bytes.len() < len {
            return Err(FeedError::Truncated(self.part));
        }
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(text).map_err(|_| FeedError::NotUtf8 { part: self.part })
    }

    /// The part's kind, from its header.
    fn header(&mut self) -> Result<Kind, FeedError> {
        let [magic, version, kind] = self.take::<3>()?;
        Kind::of(kind)
            .filter(|_| magic == MAGIC && version == VERSION)
            .ok_or(FeedError::Header(self.part))
    }
}

impl FeedReader {
    /// Starts a run's feed with its last part, which must be its end part.
    pub fn start(part: u32, bytes: &[u8]) -> Result<FeedReader, FeedError> {
        let mut at = Cursor { part, bytes };
        if at.header()? != Kind::End {
            return Err(FeedError::NoEnd);
        }
        let records = u64::from_le_bytes(at.take()?);
        let [customers, subscriptions, currencies, parts] = [(); 4].map(|()| at.take::<4>());
        let counts = Counts {
            records,
            customers: u32::from_le_bytes(customers?),
            subscriptions: u32::from_le_bytes(subscriptions?),
            currencies: u32::from_le_bytes(currencies?),
            parts: u32::from_le_bytes(parts?),
        };
        // The end part is numbered after every other: parts 0..parts come before it.
        if counts.parts != part {
            return Err(FeedError::Count {
                what: "parts",
                expected: u64::from(counts.parts),
                found: u64::from(part),
            });
        }
        Ok(FeedReader {
            counts,
            next: part.checked_sub(1),
            pending: Vec::new(),
            lengths: None,
            records: 0,
        })
    }

    /// The records the end part counts.
    pub fn len(&self) -> u64 {
        self.counts.records
    }

    pub fn is_empty(&self) -> bool {
        self.counts.records == 0
    }

    /// The run's next part (each one less than the last given).
    pub fn part(&mut self, part: u32, bytes: Vec<u8>, to: &mut impl Visit) -> Result<(), FeedError> {
        match self.next {
            Some(next) if next == part => self.next = part.checked_sub(1),
            Some(next) => return Err(FeedError::Missing(next)),
            None => return Err(FeedError::Header(part)),
        }
        let mut at = Cursor { part, bytes: &bytes };
        match at.header()? {
            Kind::Records => {
                let lengths = self.dictionaries(to)?;
                self.records += records(at, lengths, to)?;
                Ok(())
            }
            // The end part last only, and no dictionary before a record part.
            Kind::End => Err(FeedError::Header(part)),
            _ if self.lengths.is_some() => Err(FeedError::Header(part)),
            kind => {
                self.pending.push((part, kind, bytes));
                Ok(())
            }
        }
    }

    /// After part 0: checks that every part came and the records' count
    /// (and gives the dictionaries, when no record part did).
    pub fn finish(mut self, to: &mut impl Visit) -> Result<(), FeedError> {
        if let Some(next) = self.next {
            return Err(FeedError::Missing(next));
        }
        self.dictionaries(to)?;
        match self.records == self.counts.records {
            true => Ok(()),
            false => Err(FeedError::Count {
                what: "records",
                expected: self.counts.records,
                found: self.records,
            }),
        }
    }

    /// The dictionaries' lengths, reading and giving them first if they
    /// were not yet.
    fn dictionaries(&mut self, to: &mut impl Visit) -> Result<[usize; 3], FeedError> {
        if let Some(lengths) = self.lengths {
            return Ok(lengths);
        }
        let mut d = Dictionaries::default();
        // They came last first.
        for (part, kind, bytes) in self.pending.iter().rev() {
            let list = match kind {
                Kind::Customers => &mut d.customers,
                Kind::Subscriptions => &mut d.subscriptions,
                _ => &mut d.currencies,
            };
            let mut at = Cursor {
                part: *part,
                bytes: &bytes[3..],
            };
            while !at.bytes.is_empty() {
                list.push(at.text()?);
            }
        }
        for (what, expected, found) in [
            ("customers", self.counts.customers, d.customers.len()),
            ("subscriptions", self.counts.subscriptions, d.subscriptions.len()),
            ("currencies", self.counts.currencies, d.currencies.len()),
        ] {
            if u64::from(expected) != found as u64 {
                return Err(FeedError::Count {
                    what,
                    expected: u64::from(expected),
                    found: found as u64,
                });
            }
        }
        let lengths = [d.customers.len(), d.subscriptions.len(), d.currencies.len()];
        to.dictionaries(d);
        self.pending = Vec::new();
        self.lengths = Some(lengths);
        Ok(lengths)
    }
}

/// Gives every record of a record part (after its header) to `to`, its
/// indexes checked against dictionaries of `lengths`; how many.
fn records(mut at: Cursor<'_>, lengths: [usize; 3], to: &mut impl Visit) -> Result<u64, FeedError> {
    let mut found = 0;
    let mut id = Vec::with_capacity(255);
    while !at.bytes.is_empty() {
        let len = u32::from_le_bytes(at.take()?) as usize;
        let (block, rest) = at.bytes.split_at_checked(len).ok_or(FeedError::Truncated(at.part))?;
        at.bytes = rest;
        let block = Cursor {
            part: at.part,
            bytes: block,
        };
        found += block_records(block, lengths, &mut id, to)?;
    }
    Ok(found)
}

/// A block's records (see [`records`]); `id` a buffer for their ids.
fn block_records(
    mut at: Cursor<'_>,
    [customers, subscriptions, currencies]: [usize; 3],
    id: &mut Vec<u8>,
    to: &mut impl Visit,
) -> Result<u64, FeedError> {
    let index = |what, index: u32, count: usize| match (index as usize) < count {
        true => Ok(()),
        false => Err(FeedError::Index { what, index, count }),
    };
    let mut found = 0;
    let mut seconds = 0i64;
    id.clear();
    while !at.bytes.is_empty() {
        let customer = at.varint::<u32>()?;
        let subscription = at.varint::<u32>()?.wrapping_sub(1);
        let currency = at.varint::<u16>()?;
        seconds = seconds.wrapping_add(at.varint::<i64>()?);
        let nanos = at.varint::<u32>()?;
        let total = at.varint::<i64>()?;
        let [shared, more] = at.take::<2>()?.map(usize::from);
        // An id is at most 255 bytes, as written.
        if shared > id.len() || shared + more > 255 || at.bytes.len() < more {
            return Err(FeedError::Truncated(at.part));
        }
        id.truncate(shared);
        let (suffix, rest) = at.bytes.split_at(more);
        id.extend_from_slice(suffix);
        at.bytes = rest;
        index("customer", customer, customers)?;
        if subscription != NO_SUBSCRIPTION {
            index("subscription", subscription, subscriptions)?;
        }
        index("currency", u32::from(currency), currencies)?;
        to.record(Record {
            customer,
            subscription,
            currency,
            seconds,
            nanos,
            total,
            transaction_id: std::str::from_utf8(id).map_err(|_| FeedError::NotUtf8 { part: at.part })?,
        })?;
        found += 1;
    }
    Ok(found)
}

/// Why a run's feed cannot be read (the reader then reads the facts).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    #[error("part {0} is not a feed part of version {VERSION}")]
    Header(u32),
    #[error("part {0} ends inside a value, or holds one out of range")]
    Truncated(u32),
    #[error("part {part} holds a text that is not UTF-8")]
    NotUtf8 { part: u32 },
    #[error("the feed has no end part")]
    NoEnd,
    #[error("part {0} of the feed is missing")]
    Missing(u32),
    #[error("the feed's end part counts {expected} {what}, its parts hold {found}")]
    Count {
        what: &'static str,
        expected: u64,
        found: u64,
    },
    #[error("a record's time ({0} s, {1} ns since 1970) is out of range")]
    Timestamp(i64, u32),
    #[error("a record refers to {what} {index}, of {count}")]
    Index {
        what: &'static str,
        index: u32,
        count: usize,
    },
}

#[cfg(test)]
mod tests;

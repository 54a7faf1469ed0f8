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
//! subscriptions, the currencies, each in index order), then one end part
//! holding the counts, which a reader checks: a run's feed without its end
//! part, or whose counts differ, is not read. Every part starts with
//! [`MAGIC`], [`VERSION`] and its kind. Integers are little-endian; texts
//! are at most 255 bytes (`domain::MAX_ID_BYTES`), each preceded by its
//! length in one byte.
//!
//! A record: customer index (u32), subscription index (u32, [`NO_SUBSCRIPTION`]
//! for none), currency index (u16), seconds since the epoch (i64),
//! nanoseconds (u32), total in minor units (i64), transaction id (text).

/// The first byte of every part.
pub const MAGIC: u8 = b'F';
/// The format's version: a reader skips (and falls back from) any other.
pub const VERSION: u8 = 1;
/// A part is written once it holds this many bytes (the last of a kind
/// holds fewer): large values, few rows.
pub const PART_BYTES: usize = 8 << 20;
/// The subscription index of a transaction without subscription.
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

/// A text longer than 255 bytes (ids are checked shorter when read).
#[derive(Debug, thiserror::Error)]
#[error("a text of {0} bytes is longer than the feed's 255")]
pub struct TooLong(pub usize);

/// Appends `text` with its length.
pub fn push_text(out: &mut Vec<u8>, text: &str) -> Result<(), TooLong> {
    let len = u8::try_from(text.len()).map_err(|_| TooLong(text.len()))?;
    out.push(len);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

impl Record<'_> {
    /// Appends the record to a record part's bytes.
    pub fn push(&self, out: &mut Vec<u8>) -> Result<(), TooLong> {
        out.extend_from_slice(&self.customer.to_le_bytes());
        out.extend_from_slice(&self.subscription.to_le_bytes());
        out.extend_from_slice(&self.currency.to_le_bytes());
        out.extend_from_slice(&self.seconds.to_le_bytes());
        out.extend_from_slice(&self.nanos.to_le_bytes());
        out.extend_from_slice(&self.total.to_le_bytes());
        push_text(out, self.transaction_id)
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

/// Why a run's feed cannot be read (the reader then reads the facts).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FeedError {
    #[error("part {0} is not a feed part of version {VERSION}")]
    Header(u32),
    #[error("part {0} ends inside a value")]
    Truncated(u32),
    #[error("part {part} holds a text that is not UTF-8")]
    NotUtf8 { part: u32 },
    #[error("the feed has no end part")]
    NoEnd,
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

/// One run's feed, decoded: its dictionaries, and its record parts (read
/// with [`Feed::records`]).
#[derive(Debug, Default)]
pub struct Feed {
    pub customers: Vec<String>,
    pub subscriptions: Vec<String>,
    pub currencies: Vec<String>,
    records: Vec<(u32, Vec<u8>)>,
    count: u64,
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
}

impl Feed {
    /// Decodes one run's parts, given in their order. Checks every part's
    /// header, the dictionaries, and the end part's counts (the records'
    /// count and indexes are checked by [`Feed::records`]).
    pub fn decode(parts: Vec<(u32, Vec<u8>)>) -> Result<Feed, FeedError> {
        let mut feed = Feed::default();
        let mut end = None;
        let total = parts.len();
        for (i, (part, bytes)) in parts.into_iter().enumerate() {
            let mut at = Cursor { part, bytes: &bytes };
            let [magic, version, kind] = at.take::<3>()?;
            let kind = Kind::of(kind).filter(|_| magic == MAGIC && version == VERSION);
            let list = match kind.ok_or(FeedError::Header(part))? {
                Kind::Records => {
                    feed.records.push((part, bytes));
                    continue;
                }
                Kind::End if i + 1 == total && u32::try_from(i) == Ok(part) => {
                    let records = u64::from_le_bytes(at.take()?);
                    let [customers, subscriptions, currencies, parts] = [(); 4].map(|()| at.take::<4>());
                    end = Some(Counts {
                        records,
                        customers: u32::from_le_bytes(customers?),
                        subscriptions: u32::from_le_bytes(subscriptions?),
                        currencies: u32::from_le_bytes(currencies?),
                        parts: u32::from_le_bytes(parts?),
                    });
                    continue;
                }
                // An end part anywhere but last, or parts missing before it.
                Kind::End => return Err(FeedError::Header(part)),
                Kind::Customers => &mut feed.customers,
                Kind::Subscriptions => &mut feed.subscriptions,
                Kind::Currencies => &mut feed.currencies,
            };
            while !at.bytes.is_empty() {
                list.push(at.text()?.to_owned());
            }
        }
        let end = end.ok_or(FeedError::NoEnd)?;
        for (what, expected, found) in [
            ("customers", u64::from(end.customers), feed.customers.len()),
            ("subscriptions", u64::from(end.subscriptions), feed.subscriptions.len()),
            ("currencies", u64::from(end.currencies), feed.currencies.len()),
            ("parts", u64::from(end.parts), total - 1),
        ] {
            if expected != found as u64 {
                return Err(FeedError::Count {
                    what,
                    expected,
                    found: found as u64,
                });
            }
        }
        feed.count = end.records;
        Ok(feed)
    }

    /// The records the end part counts.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Calls `each` with every record in the order written, after checking
    /// its indexes against the dictionaries; then checks the records' count.
    pub fn records(&self, mut each: impl FnMut(Record<'_>)) -> Result<(), FeedError> {
        let mut found = 0u64;
        for (part, bytes) in &self.records {
            let mut at = Cursor {
                part: *part,
                bytes: &bytes[3..],
            };
            while !at.bytes.is_empty() {
                let record = Record {
                    customer: u32::from_le_bytes(at.take()?),
                    subscription: u32::from_le_bytes(at.take()?),
                    currency: u16::from_le_bytes(at.take()?),
                    seconds: i64::from_le_bytes(at.take()?),
                    nanos: u32::from_le_bytes(at.take()?),
                    total: i64::from_le_bytes(at.take()?),
                    transaction_id: at.text()?,
                };
                let index = |what, index: u32, count: usize| match (index as usize) < count {
                    true => Ok(()),
                    false => Err(FeedError::Index { what, index, count }),
                };
                index("customer", record.customer, self.customers.len())?;
                if record.subscription != NO_SUBSCRIPTION {
                    index("subscription", record.subscription, self.subscriptions.len())?;
                }
                index("currency", u32::from(record.currency), self.currencies.len())?;
                each(record);
                found += 1;
            }
        }
        match found == self.count {
            true => Ok(()),
            false => Err(FeedError::Count {
                what: "records",
                expected: self.count,
                found,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(kind: Kind, texts: &[&str]) -> Vec<u8> {
        let mut out = part_header(kind).to_vec();
        for t in texts {
            push_text(&mut out, t).unwrap();
        }
        out
    }

    fn sample() -> (Vec<(u32, Vec<u8>)>, Vec<Record<'static>>) {
        let records = vec![
            Record {
                customer: 1,
                subscription: 0,
                currency: 0,
                seconds: 1_700_000_000,
                nanos: 5,
                total: -1999,
                transaction_id: "t1",
            },
            Record {
                customer: 0,
                subscription: NO_SUBSCRIPTION,
                currency: 1,
                seconds: -86_400,
                nanos: 0,
                total: i64::MAX,
                transaction_id: "t-2",
            },
        ];
        let mut first = part_header(Kind::Records).to_vec();
        records[0].push(&mut first).unwrap();
        let mut second = part_header(Kind::Records).to_vec();
        records[1].push(&mut second).unwrap();
        let counts = Counts {
            records: 2,
            customers: 2,
            subscriptions: 1,
            currencies: 2,
            parts: 5,
        };
        let parts = vec![
            first,
            second,
            texts(Kind::Customers, &["c0", "c1"]),
            texts(Kind::Subscriptions, &["s0"]),
            texts(Kind::Currencies, &["usd", "jpy"]),
            counts.end_part(),
        ];
        (
            parts.into_iter().enumerate().map(|(i, p)| (i as u32, p)).collect(),
            records,
        )
    }

    fn read_all(feed: &Feed) -> Result<Vec<String>, FeedError> {
        let mut seen = Vec::new();
        feed.records(|r| seen.push(format!("{r:?}")))?;
        Ok(seen)
    }

    #[test]
    fn a_feed_reads_back_as_written() {
        let (parts, records) = sample();
        let feed = Feed::decode(parts).unwrap();
        assert_eq!(feed.customers, ["c0", "c1"]);
        assert_eq!(feed.subscriptions, ["s0"]);
        assert_eq!(feed.currencies, ["usd", "jpy"]);
        assert_eq!(feed.len(), 2);
        let expected: Vec<String> = records.iter().map(|r| format!("{r:?}")).collect();
        assert_eq!(read_all(&feed).unwrap(), expected);
    }

    #[test]
    fn a_damaged_or_incomplete_feed_is_refused() {
        // Without its end part.
        let (mut parts, _) = sample();
        parts.pop();
        assert_eq!(Feed::decode(parts).unwrap_err(), FeedError::NoEnd);
        // A part missing before the end.
        let (mut parts, _) = sample();
        parts.remove(1);
        assert!(matches!(Feed::decode(parts), Err(FeedError::Header(5))));
        // Another version.
        let (mut parts, _) = sample();
        parts[2].1[1] = VERSION + 1;
        assert_eq!(Feed::decode(parts).unwrap_err(), FeedError::Header(2));
        // A dictionary shorter than counted.
        let (mut parts, _) = sample();
        parts[2].1 = texts(Kind::Customers, &["c0"]);
        assert!(matches!(
            Feed::decode(parts),
            Err(FeedError::Count { what: "customers", .. })
        ));
        // A record cut short.
        let (mut parts, _) = sample();
        parts[0].1.pop();
        assert_eq!(read_all(&Feed::decode(parts).unwrap()), Err(FeedError::Truncated(0)));
        // A record whose customer is not in the dictionary.
        let (mut parts, _) = sample();
        parts[0].1[3] = 7;
        assert!(matches!(
            read_all(&Feed::decode(parts).unwrap()),
            Err(FeedError::Index {
                what: "customer",
                index: 7,
                ..
            })
        ));
        // More records than counted.
        let (mut parts, _) = sample();
        let end = parts.len() - 1;
        parts[end].1[3] = 1;
        assert!(matches!(
            read_all(&Feed::decode(parts).unwrap()),
            Err(FeedError::Count { what: "records", .. })
        ));
        // Too long a text.
        assert!(push_text(&mut Vec::new(), &"x".repeat(256)).is_err());
    }
}

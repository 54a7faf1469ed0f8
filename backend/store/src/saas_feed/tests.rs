//! The feed written and read back, and refused when damaged.

use super::*;

fn texts(kind: Kind, texts: &[&str]) -> Vec<u8> {
    let mut out = part_header(kind).to_vec();
    for t in texts {
        push_text(&mut out, t).unwrap();
    }
    out
}

/// A record part of one block of `records`.
fn record_part(records: &[Record<'_>]) -> Vec<u8> {
    let mut block = Block::with_capacity(records.len());
    for r in records {
        block.push(r).unwrap();
    }
    let mut part = part_header(Kind::Records).to_vec();
    part.extend_from_slice(&block.finish().unwrap());
    part
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
    let first = record_part(&records[..1]);
    let second = record_part(&records[1..]);
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

/// What a reader gives.
#[derive(Default)]
struct Seen {
    dictionaries: Vec<String>,
    records: Vec<String>,
}

impl Visit for Seen {
    fn dictionaries(&mut self, d: Dictionaries<'_>) {
        self.dictionaries.push(format!("{d:?}"));
    }
    fn record(&mut self, r: Record<'_>) -> Result<(), FeedError> {
        self.records.push(format!("{r:?}"));
        Ok(())
    }
}

/// Reads `parts` (in their order) last first, as the server does.
fn read_all(parts: Vec<(u32, Vec<u8>)>) -> Result<Seen, FeedError> {
    let mut parts = parts.into_iter().rev();
    let (part, bytes) = parts.next().ok_or(FeedError::NoEnd)?;
    let mut reader = FeedReader::start(part, &bytes)?;
    let mut seen = Seen::default();
    for (part, bytes) in parts {
        reader.part(part, bytes, &mut seen)?;
    }
    reader.finish(&mut seen)?;
    Ok(seen)
}

#[test]
fn a_feed_reads_back_as_written() {
    let (parts, records) = sample();
    let (end, bytes) = parts.last().unwrap();
    assert_eq!(FeedReader::start(*end, bytes).unwrap().len(), 2);
    let seen = read_all(parts).unwrap();
    let dictionaries = Dictionaries {
        customers: vec!["c0", "c1"],
        subscriptions: vec!["s0"],
        currencies: vec!["usd", "jpy"],
    };
    assert_eq!(seen.dictionaries, [format!("{dictionaries:?}")]);
    // Record parts come last first.
    let expected: Vec<String> = records.iter().rev().map(|r| format!("{r:?}")).collect();
    assert_eq!(seen.records, expected);
}

#[test]
fn a_feed_without_records_gives_its_dictionaries() {
    let counts = Counts {
        parts: 1,
        currencies: 1,
        ..Counts::default()
    };
    let parts = vec![(0, texts(Kind::Currencies, &["usd"])), (1, counts.end_part())];
    let seen = read_all(parts).unwrap();
    assert!(seen.records.is_empty());
    assert_eq!(seen.dictionaries.len(), 1);
}

#[test]
fn a_damaged_or_incomplete_feed_is_refused() {
    let error = |parts| read_all(parts).err();
    // Without its end part.
    let (mut parts, _) = sample();
    parts.pop();
    assert_eq!(error(parts), Some(FeedError::NoEnd));
    // A part missing before the end.
    let (mut parts, _) = sample();
    parts.remove(1);
    assert_eq!(error(parts), Some(FeedError::Missing(1)));
    // Part 0 missing.
    let (mut parts, _) = sample();
    parts.remove(0);
    assert_eq!(error(parts), Some(FeedError::Missing(0)));
    // The end part not numbered after every other.
    let (mut parts, _) = sample();
    parts.last_mut().unwrap().0 = 6;
    assert!(matches!(error(parts), Some(FeedError::Count { what: "parts", .. })));
    // A dictionary among the record parts: counted short when the records start,
    let (mut parts, _) = sample();
    parts.swap(1, 2);
    parts[1].0 = 1;
    parts[2].0 = 2;
    assert!(matches!(error(parts), Some(FeedError::Count { what: "customers", .. })));
    // or, empty, refused where it is.
    let (sample_parts, _) = sample();
    let mut bytes: Vec<Vec<u8>> = sample_parts.into_iter().map(|(_, b)| b).collect();
    bytes.insert(1, texts(Kind::Currencies, &[]));
    let end = bytes.len() - 1;
    bytes[end] = Counts {
        records: 2,
        customers: 2,
        subscriptions: 1,
        currencies: 2,
        parts: 6,
    }
    .end_part();
    let parts = bytes.into_iter().enumerate().map(|(i, b)| (i as u32, b)).collect();
    assert_eq!(error(parts), Some(FeedError::Header(1)));
    // Another version.
    let (mut parts, _) = sample();
    parts[2].1[1] = VERSION + 1;
    assert_eq!(error(parts), Some(FeedError::Header(2)));
    // A dictionary shorter than counted.
    let (mut parts, _) = sample();
    parts[2].1 = texts(Kind::Customers, &["c0"]);
    assert!(matches!(error(parts), Some(FeedError::Count { what: "customers", .. })));
    // A record cut short.
    let (mut parts, _) = sample();
    parts[0].1.pop();
    assert_eq!(error(parts), Some(FeedError::Truncated(0)));
    // A record whose customer is not in the dictionary (its first byte
    // after the header and the block's length).
    let (mut parts, _) = sample();
    parts[0].1[7] = 7;
    assert!(matches!(
        error(parts),
        Some(FeedError::Index {
            what: "customer",
            index: 7,
            ..
        })
    ));
    // More records than counted.
    let (mut parts, _) = sample();
    let end = parts.len() - 1;
    parts[end].1[3] = 1;
    assert!(matches!(error(parts), Some(FeedError::Count { what: "records", .. })));
    // Too long a text.
    assert!(push_text(&mut Vec::new(), &"x".repeat(256)).is_err());
}

/// What `block_records` gives of one block's bytes (after its length).
fn read_block(bytes: &[u8]) -> Result<Vec<String>, FeedError> {
    let mut seen = Seen::default();
    let at = Cursor { part: 0, bytes };
    block_records(at, [usize::MAX; 3], &mut Vec::new(), &mut seen)?;
    Ok(seen.records)
}

/// Records at the limits, the seventh of id `long` and the last of id `x`.
fn at_the_limits(long: &str) -> Vec<Record<'_>> {
    let ids = [
        "in_1OTfU6I9Qa85Sr7CGQ6TDv2n",
        "in_1OTfU5I9Qa85Sr7CrvBc1sQ2",
        "in_1OTfU5I9Qa85Sr7CrvBc1sQ2",
        "",
        "Zoë-1",
        // Shares the first byte of `ë`'s two only.
        "Zo\u{00e9}",
        long,
        "x",
    ];
    let times = [
        1_704_092_400,
        1_704_092_399,
        i64::MIN,
        i64::MAX,
        0,
        -1,
        86_400,
        i64::MAX,
    ];
    ids.into_iter()
        .zip(times)
        .enumerate()
        .map(|(i, (id, seconds))| Record {
            customer: [0, u32::MAX - 1][i % 2],
            subscription: [NO_SUBSCRIPTION, 0, u32::MAX - 1][i % 3],
            currency: [0, u16::MAX][i % 2],
            seconds,
            nanos: [0, 999_999_999][i % 2],
            total: [9600, -1, i64::MIN, i64::MAX][i % 4],
            transaction_id: id,
        })
        .collect()
}

#[test]
fn a_block_reads_back_each_record_against_the_one_before() {
    let long = "x".repeat(255);
    let records = at_the_limits(&long);
    let part = record_part(&records);
    let block = &part[3 + 4..];
    assert_eq!(u32::from_le_bytes(part[3..7].try_into().unwrap()) as usize, block.len());
    let expected: Vec<String> = records.iter().map(|r| format!("{r:?}")).collect();
    assert_eq!(read_block(block).unwrap(), expected);
    // A renewal a few seconds after the record before, of an id made in the
    // same second: 33 bytes, 21 of them the id (version 1: 56).
    let renewal = Record {
        customer: 600_000,
        subscription: 800_000,
        currency: 0,
        seconds: 1_704_092_400,
        nanos: 0,
        total: 9600,
        transaction_id: records[0].transaction_id,
    };
    let pair = [
        renewal,
        Record {
            seconds: renewal.seconds + 3,
            transaction_id: records[1].transaction_id,
            ..renewal
        },
    ];
    assert_eq!(record_part(&pair).len() - record_part(&pair[..1]).len(), 33);
}

#[test]
fn a_damaged_block_is_refused() {
    let long = "x".repeat(255);
    let records = at_the_limits(&long);
    // Too long an id, written.
    let longer = "y".repeat(256);
    let mut b = Block::with_capacity(1);
    let too_long = Record {
        transaction_id: &longer,
        ..records[0]
    };
    assert!(matches!(b.push(&too_long), Err(EncodeError::TooLong(256))));
    // Read: the last record's id (one byte, `x`) shares 1 byte of the 255
    // before; made to claim 255 more, it would be 256 bytes long.
    let part = record_part(&records);
    let block = &part[3 + 4..];
    let at = block.len() - 2;
    assert_eq!(&block[at..], [1, 0]);
    let mut damaged = block.to_vec();
    damaged[at + 1] = 255;
    damaged.extend_from_slice(&[b'z'; 255]);
    assert_eq!(read_block(&damaged), Err(FeedError::Truncated(0)));
    // A currency too large for its 16 bits; a varint without its end.
    let mut over = Vec::new();
    for v in [0u64, 1, 1 << 16] {
        push_varint(&mut over, v);
    }
    assert_eq!(read_block(&over), Err(FeedError::Truncated(0)));
    assert_eq!(read_block(&[0x80; 11]), Err(FeedError::Truncated(0)));
    // An id sharing more than the id before holds (the first: none before).
    let one = record_part(&records[..1]);
    let mut damaged = one[3 + 4..].to_vec();
    let id_at = damaged.len() - records[0].transaction_id.len() - 2;
    damaged[id_at] = 1;
    assert_eq!(read_block(&damaged), Err(FeedError::Truncated(0)));
    // A block longer than its part.
    let mut short = part.clone();
    short.truncate(part.len() - 1);
    assert_eq!(read_all_records(&short), Err(FeedError::Truncated(0)));
}

/// The records of a whole record part (after its header).
fn read_all_records(part: &[u8]) -> Result<u64, FeedError> {
    let at = Cursor {
        part: 0,
        bytes: &part[3..],
    };
    records(at, [usize::MAX; 3], &mut Seen::default())
}

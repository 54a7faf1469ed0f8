//! The feed written and read back, and refused when damaged.

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
    // A record whose customer is not in the dictionary.
    let (mut parts, _) = sample();
    parts[0].1[3] = 7;
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

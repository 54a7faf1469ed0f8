//! Compact per-customer profiles. Millions of transactions come from
//! millions of customers, and what the ETL keeps per customer is what its
//! memory grows with: so each customer's name, e-mail and flags are one
//! record in one buffer, found by a 4-byte start (the ids:
//! [`crate::interner`]).

use integer_encoding::VarInt;

mod held;
pub use held::{Held, InOrder};

/// A customer's profile as stored in [`Profiles`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Profile<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub conflicting_name: bool,
    pub conflicting_email: bool,
}

/// A profile as stored, its texts as bytes (whole `&str`s were stored).
#[derive(Debug, Default, Clone, Copy)]
pub struct Raw<'a> {
    pub name: &'a [u8],
    pub email: &'a [u8],
    pub conflicting_name: bool,
    pub conflicting_email: bool,
}

/// A profile to store: a text left `None` stays the stored one.
#[derive(Debug, Default, Clone, Copy)]
pub struct Change<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub conflicting_name: bool,
    pub conflicting_email: bool,
}

/// Customers' profiles, numbered densely from 0. A record is
/// `varint(name length × 4 + flags)`, the name, `varint(e-mail length)`, the
/// e-mail: about 2 bytes besides the texts, where two (start, length) pairs
/// and two flags took 20 (140 MB at 7.8 million customers). A record
/// replaced by one no longer is overwritten in place (users.csv repeats a
/// customer on many rows, mostly alike); a longer one is written whole at
/// the end, e-mail included, and the old record's room is not reused, so a
/// name that alternates with a longer one is stored again each time it
/// grows (at 50M generated rows the records took 373 MB where the texts
/// alone took 312; a byte of room per record would keep such names in
/// place, not worth it there).
#[derive(Default)]
pub struct Profiles {
    /// Where customer `i`'s record starts in `records`.
    starts: Vec<u32>,
    /// The records, whole `&str`s only (every text read back is UTF-8).
    records: Vec<u8>,
    /// A record being built (it may be built from the one it replaces).
    scratch: Vec<u8>,
}

/// Past 4 GiB of profiles: the caller reports it.
#[derive(Debug, thiserror::Error)]
#[error("names and e-mails exceed 4 GiB in total")]
pub struct ProfilesFull;

impl Profiles {
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Bytes held on the heap (capacity), for the memory log.
    pub fn heap_bytes(&self) -> usize {
        self.starts.capacity() * size_of::<u32>() + self.records.capacity()
    }

    /// Gives back the memory reserved for growth (once every customer is in).
    pub fn shrink_to_fit(&mut self) {
        self.starts.shrink_to_fit();
        self.records.shrink_to_fit();
        self.scratch = Vec::new();
    }

    /// Asks for where customer `i`'s record is, ahead of [`Profiles::prefetch`].
    pub fn prefetch_start(&self, i: u32) {
        crate::interner::prefetch(self.starts.as_ptr().wrapping_add(i as usize));
    }

    /// Asks for customer `i`'s record ahead of its use (each a miss beyond
    /// the CPU's caches).
    pub fn prefetch(&self, i: u32) {
        if let Some(&start) = self.starts.get(i as usize) {
            crate::interner::prefetch(self.records.as_ptr().wrapping_add(start as usize));
        }
    }

    /// Customer `i`'s profile (empty past the last customer).
    pub fn get(&self, i: u32) -> Profile<'_> {
        let raw = self.raw(i);
        let text = |b| std::str::from_utf8(b).unwrap_or_default();
        Profile {
            name: text(raw.name),
            email: text(raw.email),
            conflicting_name: raw.conflicting_name,
            conflicting_email: raw.conflicting_email,
        }
    }

    /// Customer `i`'s profile, its texts as bytes (not checked as UTF-8
    /// again: what users.csv's rows are compared with, once a row).
    pub fn raw(&self, i: u32) -> Raw<'_> {
        match self.starts.get(i as usize) {
            Some(&start) => decode(&self.records[start as usize..]).0,
            None => Raw::default(),
        }
    }

    /// Customer `i`'s record as stored (empty past the last customer).
    fn record(&self, i: u32) -> &[u8] {
        match self.starts.get(i as usize) {
            Some(&start) => {
                let rest = &self.records[start as usize..];
                &rest[..decode(rest).1]
            }
            None => &[],
        }
    }

    /// Stores customer `i`'s profile; `i` is an existing customer or the
    /// next number (a new customer).
    pub fn set(&mut self, i: u32, change: Change<'_>) -> Result<(), ProfilesFull> {
        let mut record = std::mem::take(&mut self.scratch);
        record.clear();
        let old = self.raw(i);
        let profile = Raw {
            name: change.name.map_or(old.name, str::as_bytes),
            email: change.email.map_or(old.email, str::as_bytes),
            conflicting_name: change.conflicting_name,
            conflicting_email: change.conflicting_email,
        };
        encode(&profile, &mut record);
        let stored = self.put(i, &record);
        self.scratch = record;
        stored
    }

    /// Writes `record` as customer `i`'s: over its old record when it fits,
    /// else at the end.
    fn put(&mut self, i: u32, record: &[u8]) -> Result<(), ProfilesFull> {
        if let Some(&start) = self.starts.get(i as usize) {
            let start = start as usize;
            if record.len() <= decode(&self.records[start..]).1 {
                self.records[start..start + record.len()].copy_from_slice(record);
                return Ok(());
            }
        }
        let start = u32::try_from(self.records.len()).map_err(|_| ProfilesFull)?;
        u32::try_from(self.records.len() + record.len()).map_err(|_| ProfilesFull)?;
        self.records.extend_from_slice(record);
        let i = i as usize;
        if i < self.starts.len() {
            self.starts[i] = start;
        } else {
            assert_eq!(i, self.starts.len(), "a customer numbered past the next");
            self.starts.push(start);
        }
        Ok(())
    }
}

fn encode(p: &Raw<'_>, out: &mut Vec<u8>) {
    let flags = u64::from(p.conflicting_name) | u64::from(p.conflicting_email) << 1;
    push_varint(out, (p.name.len() as u64) << 2 | flags);
    out.extend_from_slice(p.name);
    push_varint(out, p.email.len() as u64);
    out.extend_from_slice(p.email);
}

/// The profile a record starts `bytes` with, and the record's length.
fn decode(bytes: &[u8]) -> (Raw<'_>, usize) {
    match try_decode(bytes) {
        Some(decoded) => decoded,
        None => unreachable!("a record's lengths end within the record"),
    }
}

/// As [`decode`]; `None` when `bytes` end before the record does (a
/// record read back in blocks, [`Held`]).
fn try_decode(bytes: &[u8]) -> Option<(Raw<'_>, usize)> {
    let (head, mut at) = u64::decode_var(bytes)?;
    let name = bytes.get(at..at.checked_add(usize::try_from(head >> 2).ok()?)?)?;
    at += name.len();
    let (email_len, n) = u64::decode_var(bytes.get(at..)?)?;
    at += n;
    let email = bytes.get(at..at.checked_add(usize::try_from(email_len).ok()?)?)?;
    at += email.len();
    let profile = Raw {
        name,
        email,
        conflicting_name: head & 1 != 0,
        conflicting_email: head & 2 != 0,
    };
    Some((profile, at))
}

/// LEB128, as the subscription feed writes its numbers (`integer-encoding`).
fn push_varint(out: &mut Vec<u8>, v: u64) {
    let mut buffer = [0u8; 10];
    let n = v.encode_var(&mut buffer);
    out.extend_from_slice(&buffer[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p<'a>(name: &'a str, email: &'a str, flags: (bool, bool)) -> Profile<'a> {
        Profile {
            name,
            email,
            conflicting_name: flags.0,
            conflicting_email: flags.1,
        }
    }

    fn set(a: &mut Profiles, i: u32, name: &str, email: &str, flags: (bool, bool)) {
        let change = Change {
            name: Some(name),
            email: Some(email),
            conflicting_name: flags.0,
            conflicting_email: flags.1,
        };
        a.set(i, change).unwrap();
    }

    #[test]
    fn profiles_return_what_was_stored() {
        let mut a = Profiles::default();
        set(&mut a, 0, "Ann", "ann@x.test", (false, false));
        set(&mut a, 1, "", "", (true, false));
        set(&mut a, 2, "Zoë", &"z".repeat(300), (false, true));
        assert_eq!(a.get(0), p("Ann", "ann@x.test", (false, false)));
        assert_eq!(a.get(1), p("", "", (true, false)));
        assert_eq!(a.get(2), p("Zoë", &"z".repeat(300), (false, true)));
        assert_eq!(a.get(3), Profile::default(), "past the last: empty");
        assert_eq!(a.len(), 3);
        // Shorter: in place; longer: at the end. The others stay.
        let before = a.records.len();
        set(&mut a, 0, "Al", "ann@x.test", (true, true));
        assert_eq!(a.records.len(), before, "a record that fits takes no more space");
        set(&mut a, 1, "Bea", "bea@x.test", (false, false));
        assert!(a.records.len() > before);
        assert_eq!(a.get(0), p("Al", "ann@x.test", (true, true)));
        assert_eq!(a.get(1), p("Bea", "bea@x.test", (false, false)));
        assert_eq!(a.get(2), p("Zoë", &"z".repeat(300), (false, true)));
        // Texts left as stored, flags changed.
        let flags = Change {
            conflicting_name: true,
            conflicting_email: true,
            ..Change::default()
        };
        a.set(2, flags).unwrap();
        assert_eq!(a.get(2), p("Zoë", &"z".repeat(300), (true, true)));
        let name = Change {
            name: Some("Zed"),
            ..Change::default()
        };
        a.set(2, name).unwrap();
        assert_eq!(a.get(2), p("Zed", &"z".repeat(300), (false, false)));
        // A new customer from nothing stored.
        a.set(3, Change::default()).unwrap();
        assert_eq!((a.get(3), a.len()), (Profile::default(), 4));
        // Names whose length takes two bytes: shorter in place, longer at the end.
        set(&mut a, 4, &"n".repeat(40), "e@x.test", (false, false));
        let before = a.records.len();
        set(&mut a, 4, &"m".repeat(31), "e@x.test", (true, false));
        assert_eq!(a.records.len(), before);
        assert_eq!(a.get(4), p(&"m".repeat(31), "e@x.test", (true, false)));
        set(&mut a, 4, &"o".repeat(300), "", (false, true));
        assert_eq!(a.get(4), p(&"o".repeat(300), "", (false, true)));
        assert_eq!(a.get(3), Profile::default(), "its neighbour untouched");
        a.shrink_to_fit();
        assert_eq!(a.get(1), p("Bea", "bea@x.test", (false, false)));
    }

    fn read_varint(bytes: &[u8]) -> (u64, usize) {
        u64::decode_var(bytes).unwrap()
    }

    #[test]
    fn varints_round_trip() {
        for v in [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            push_varint(&mut out, v);
            assert_eq!(read_varint(&out), (v, out.len()), "{v}");
        }
    }
}

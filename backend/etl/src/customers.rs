//! Compact per-customer state. Millions of transactions come from hundreds of
//! thousands of customers, and what the ETL keeps per customer is what its
//! memory grows with: so ids and texts are stored once, in shared buffers, and
//! looked up through a table of 8-byte slots (about 30 bytes per customer id,
//! where a `HashMap<String, _>` costs over 100).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Interned strings (customer ids): index ↔ text, each text stored once.
///
/// A lookup costs a few cache misses, and the ETL makes one per row of two large
/// files (the interner outgrows the CPU caches at about 100,000 customers): so
/// each slot of the table holds the text's offset beside its index, and a
/// match is confirmed by reading the text alone.
#[derive(Default)]
pub struct Interner {
    /// The texts in index order, each followed by [`END`] (a byte UTF-8
    /// never uses): text `i` is the `i`-th, so no offset per index is kept
    /// (4 bytes per customer); texts are read back in order only.
    text: Vec<u8>,
    /// Texts interned.
    count: u32,
    /// (offset, index) of each text.
    table: HashTable<(u32, u32)>,
}

/// Ends each text in [`Interner::text`].
const END: u8 = 0xff;

/// More customer ids than 32-bit offsets and indexes can address.
#[derive(Debug, thiserror::Error)]
#[error("more than 4 GiB of distinct customer ids")]
pub struct InternerFull;

fn stored_at(text: &[u8], start: u32, key: &[u8]) -> bool {
    let start = start as usize;
    text.get(start..start + key.len()) == Some(key) && text.get(start + key.len()) == Some(&END)
}

fn text_at(text: &[u8], start: u32) -> &[u8] {
    let rest = &text[start as usize..];
    &rest[..memchr::memchr(END, rest).unwrap_or(rest.len())]
}

impl Interner {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The index of `key`, if interned.
    pub fn find(&self, key: &str) -> Option<u32> {
        let key = key.as_bytes();
        let hash = FxBuildHasher.hash_one(key);
        self.table
            .find(hash, |&(start, _)| stored_at(&self.text, start, key))
            .map(|&(_, i)| i)
    }

    /// The index of `key`, and whether it was new. Indexes are dense, in
    /// first-seen order.
    pub fn intern(&mut self, key: &str) -> Result<(u32, bool), InternerFull> {
        let key = key.as_bytes();
        let hash = FxBuildHasher.hash_one(key);
        let Self { text, count, table } = self;
        match table.entry(
            hash,
            |&(start, _)| stored_at(text, start, key),
            |&(start, _)| FxBuildHasher.hash_one(text_at(text, start)),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => Ok((e.get().1, false)),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let i = *count;
                *count = count.checked_add(1).ok_or(InternerFull)?;
                let start = u32::try_from(text.len()).map_err(|_| InternerFull)?;
                text.extend_from_slice(key);
                text.push(END);
                e.insert((start, i));
                Ok((i, true))
            }
        }
    }

    /// Bytes held on the heap (capacity), for the memory log.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + 9 * self.table.capacity()
    }

    /// All texts, by index.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        // Only whole `&str`s are stored, so the bytes between two ends are UTF-8.
        let all = self.text.strip_suffix(&[END]).unwrap_or_default();
        all.split(|&b| b == END)
            .take(self.len())
            .map(|t| std::str::from_utf8(t).unwrap_or_default())
    }
}

/// Text storage for values that rarely change (names, e-mails): a value is
/// a (start, length) pair into one buffer. A value replaced by one no longer
/// is overwritten in place: the users file repeats a customer on many rows,
/// and names that alternate (a typo, another case) would otherwise be
/// stored again on each change.
#[derive(Default)]
pub struct TextArena {
    /// Whole `&str`s only, so every stored value is UTF-8.
    text: Vec<u8>,
}

/// A string in a [`TextArena`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TextRef {
    start: u32,
    len: u32,
}

impl TextRef {
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

impl TextArena {
    /// Bytes held on the heap (capacity), for the memory log.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
    }

    pub fn get(&self, r: TextRef) -> &str {
        std::str::from_utf8(self.bytes(r)).unwrap_or_default()
    }

    pub fn bytes(&self, r: TextRef) -> &[u8] {
        &self.text[r.start as usize..r.start as usize + r.len as usize]
    }

    /// Stores `value` in place of `old` (whose space is then no longer
    /// read): in `old`'s bytes when it fits, else at the end.
    pub fn replace(&mut self, old: TextRef, value: &str) -> Option<TextRef> {
        if value.len() > old.len as usize {
            return self.push(value);
        }
        let start = old.start as usize;
        self.text[start..start + value.len()].copy_from_slice(value.as_bytes());
        Some(TextRef {
            start: old.start,
            len: value.len() as u32,
        })
    }

    /// Stores `value`; values past 4 GiB of text in total are stored empty
    /// (the caller counts and reports them).
    pub fn push(&mut self, value: &str) -> Option<TextRef> {
        let start = u32::try_from(self.text.len()).ok()?;
        let len = u32::try_from(value.len()).ok()?;
        start.checked_add(len)?;
        self.text.extend_from_slice(value.as_bytes());
        Some(TextRef { start, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_round_trips_and_keeps_first_seen_order() {
        let mut ids = Interner::default();
        assert_eq!(ids.intern("c2").unwrap(), (0, true));
        assert_eq!(ids.intern("c10").unwrap(), (1, true));
        assert_eq!(ids.intern("c2").unwrap(), (0, false));
        assert_eq!(ids.intern("").unwrap(), (2, true));
        assert_eq!(ids.intern("c").unwrap(), (3, true));
        assert_eq!(ids.intern("Zoë").unwrap(), (4, true));
        assert_eq!(ids.find("c10"), Some(1));
        assert_eq!(ids.find("c1"), None);
        assert_eq!(ids.find("Zoë"), Some(4));
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["c2", "c10", "", "c", "Zoë"]);
        for i in 0..10_000 {
            ids.intern(&format!("k{i}")).unwrap();
        }
        assert_eq!(ids.len(), 10_005);
        assert_eq!(ids.find("k"), None);
        assert_eq!(ids.iter().nth(ids.find("k9999").unwrap() as usize), Some("k9999"));
    }

    #[test]
    fn arena_returns_what_was_stored() {
        let mut a = TextArena::default();
        let x = a.push("Ann").unwrap();
        let y = a.push("").unwrap();
        let z = a.push("Zoë").unwrap();
        assert_eq!((a.get(x), a.get(y), a.get(z)), ("Ann", "", "Zoë"));
        assert!(y.is_empty() && !x.is_empty());
        // Shorter: in place; longer: at the end. The other values stay.
        let x2 = a.replace(x, "Al").unwrap();
        let z2 = a.replace(z, "Zoë Zed").unwrap();
        assert_eq!((a.get(x2), a.get(z2), a.get(z)), ("Al", "Zoë Zed", "Zoë"));
        let before = a.text.len();
        a.replace(x2, "Bo").unwrap();
        assert_eq!(a.text.len(), before, "a value that fits takes no more space");
    }
}

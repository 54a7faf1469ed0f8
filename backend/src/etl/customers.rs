//! Compact per-customer state. Millions of transactions come from hundreds of
//! thousands of customers, and what the ETL keeps per customer is what its
//! memory grows with: so ids and texts are stored once, in shared buffers, and
//! looked up through a table of 4-byte indexes (about 30 bytes per customer,
//! where a `HashMap<String, _>` costs over 100).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Interned strings (customer ids): index ↔ text, each text stored once.
#[derive(Default)]
pub struct Interner {
    text: String,
    /// End of string `i` in `text` (its start is the previous end).
    ends: Vec<usize>,
    table: HashTable<u32>,
}

fn slice<'a>(text: &'a str, ends: &[usize], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

impl Interner {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of index `i`.
    pub fn get(&self, i: u32) -> &str {
        slice(&self.text, &self.ends, i)
    }

    /// The index of `key`, if interned.
    pub fn find(&self, key: &str) -> Option<u32> {
        let hash = FxBuildHasher.hash_one(key);
        self.table
            .find(hash, |&i| slice(&self.text, &self.ends, i) == key)
            .copied()
    }

    /// The index of `key`, and whether it was new. Indexes are dense, in
    /// first-seen order.
    pub fn intern(&mut self, key: &str) -> (u32, bool) {
        let hash = FxBuildHasher.hash_one(key);
        let Self { text, ends, table } = self;
        match table.entry(
            hash,
            |&i| slice(text, ends, i) == key,
            |&i| FxBuildHasher.hash_one(slice(text, ends, i)),
        ) {
            hashbrown::hash_table::Entry::Occupied(e) => (*e.get(), false),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let i = u32::try_from(ends.len()).unwrap_or(u32::MAX);
                text.push_str(key);
                ends.push(text.len());
                e.insert(i);
                (i, true)
            }
        }
    }

    /// All texts, by index.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(|i| self.get(i))
    }
}

/// Append-only text storage for values that rarely change (names, e-mails):
/// a value is a (start, length) pair into one buffer.
#[derive(Default)]
pub struct TextArena {
    text: String,
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
    pub fn get(&self, r: TextRef) -> &str {
        &self.text[r.start as usize..r.start as usize + r.len as usize]
    }

    /// Stores `value`; values past 4 GiB of text in total are stored empty
    /// (the caller counts and reports them).
    pub fn push(&mut self, value: &str) -> Option<TextRef> {
        let start = u32::try_from(self.text.len()).ok()?;
        let len = u32::try_from(value.len()).ok()?;
        start.checked_add(len)?;
        self.text.push_str(value);
        Some(TextRef { start, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_round_trips_and_keeps_first_seen_order() {
        let mut ids = Interner::default();
        assert_eq!(ids.intern("c2"), (0, true));
        assert_eq!(ids.intern("c10"), (1, true));
        assert_eq!(ids.intern("c2"), (0, false));
        assert_eq!(ids.intern(""), (2, true));
        assert_eq!(ids.find("c10"), Some(1));
        assert_eq!(ids.find("c1"), None);
        assert_eq!(ids.iter().collect::<Vec<_>>(), ["c2", "c10", ""]);
        for i in 0..10_000 {
            ids.intern(&format!("k{i}"));
        }
        assert_eq!(ids.len(), 10_003);
        assert_eq!(ids.get(ids.find("k9999").unwrap()), "k9999");
    }

    #[test]
    fn arena_returns_what_was_stored() {
        let mut a = TextArena::default();
        let x = a.push("Ann").unwrap();
        let y = a.push("").unwrap();
        let z = a.push("Zoë").unwrap();
        assert_eq!((a.get(x), a.get(y), a.get(z)), ("Ann", "", "Zoë"));
        assert!(y.is_empty() && !x.is_empty());
    }
}

//! Compact per-customer texts. Millions of transactions come from hundreds
//! of thousands of customers, and what the ETL keeps per customer is what its
//! memory grows with: so names and e-mails are stored once, in one buffer
//! (the ids: [`crate::interner`]).

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

    /// Asks for `r`'s bytes ahead of their use.
    pub fn prefetch(&self, r: TextRef) {
        crate::interner::prefetch(self.text.as_ptr().wrapping_add(r.start as usize));
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

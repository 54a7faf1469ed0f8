//! Interned ids (customers, subscriptions): index ↔ text, each text stored
//! once, looked up many at a time.
//!
//! The ETL looks an id up for every row of transactions.csv and users.csv
//! and for every record of the feed, in tables of hundreds of thousands to
//! millions of ids, far beyond the CPU caches: one lookup was three misses
//! in a row (the table's control bytes, its slot, the text), about 37% of a
//! 5M load's CPU. Looked up one after another, each waits for the last;
//! [`Interner::intern_all`] first asks for the memory of a whole run of
//! lookups (prefetches), then makes them, so that their misses overlap.
//! `hashbrown` offers no prefetch, hence this table. Measured on this
//! machine (`examples/interner_lookups.rs`), 5M lookups among 780,000 ids
//! of 16 bytes took 194–218 ns each one after another and 58 ns in
//! batches; among 7.8 million, 384–423 ns and 75 ns.

use xxhash_rust::xxh3::xxh3_64;

/// Interned strings: index ↔ text, indexes dense in first-seen order.
#[derive(Default)]
pub struct Interner {
    /// Each text as an entry, laid out as [`Layout`] says. Entries are in
    /// index order, so the texts are read back in order by walking them.
    text: Vec<u8>,
    layout: Layout,
    /// Texts interned.
    count: u32,
    /// Open addressing, linear probing; empty, or at least 64 long. Not a
    /// power of two: sized to the texts (at most 4/5 full, 3/5 after
    /// growing), a table of 7.8 million ids is 89 MB on average instead of
    /// the 134 MB of the next power of two (three such tables at 50M). The
    /// fuller table costs lookups among 7.8 million ids about 20% more
    /// (`examples/interner_lookups.rs`: 112–149 against 89–107 ns in
    /// batches on the 2-vCPU EPYC, 2026-12-07), none among 780,000.
    slots: Vec<Slot>,
}

/// How [`Interner::text`] holds its entries.
///
/// Ids of one kind usually have one length (Stripe's customer ids are 18
/// bytes, the generator's 16), and while they do the entries are the bare
/// texts: an entry's index is where it starts divided by the width. That is
/// 5 bytes less an id than an index and an end kept with each (about 90 MB
/// at 50M generated transactions, over the customers', the feed's
/// subscriptions' and the catalogue's tables). The first text of another
/// length turns the entries into [`Layout::Varied`] ones, once.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
enum Layout {
    /// No text yet.
    #[default]
    Empty,
    /// Every text is this many bytes (at least one), stored bare.
    Uniform(u32),
    /// Each entry is its index (4 bytes, little-endian), its bytes, then
    /// [`END`] (a byte UTF-8 never uses).
    Varied,
}

impl Layout {
    /// Bytes of an entry before its text.
    fn before_text(self) -> usize {
        match self {
            Layout::Varied => INDEX_BYTES,
            Layout::Empty | Layout::Uniform(_) => 0,
        }
    }

    /// Bytes of the entry of a text of `len` bytes.
    fn entry_bytes(self, len: usize) -> usize {
        match self {
            Layout::Varied => INDEX_BYTES + len + 1,
            Layout::Empty | Layout::Uniform(_) => len,
        }
    }
}

/// The entries of `text` laid out as `layout`: where each starts, its text.
fn entries(text: &[u8], layout: Layout) -> impl Iterator<Item = (u32, &[u8])> + '_ {
    let mut start = 0usize;
    std::iter::from_fn(move || {
        let entry = text.get(start + layout.before_text()..)?;
        let len = match layout {
            Layout::Empty => return None,
            Layout::Uniform(width) => width as usize,
            Layout::Varied => memchr::memchr(END, entry)?,
        };
        let bytes = entry.get(..len)?;
        // Entries start below u32::MAX: checked as each was added.
        let at = start as u32;
        start += layout.entry_bytes(len);
        Some((at, bytes))
    })
}

/// A table slot: where an entry starts, and its hash's upper half (so that
/// a slot of another text is passed over without reading its text).
#[derive(Clone, Copy)]
struct Slot {
    tag: u32,
    start: u32,
}

const EMPTY: Slot = Slot {
    tag: 0,
    start: u32::MAX,
};

/// Ends each text in [`Interner::text`].
const END: u8 = 0xff;
/// Bytes of an entry before its text (the index).
const INDEX_BYTES: usize = 4;
/// Lookups whose memory is asked for before any of them is made.
const LOOKAHEAD: usize = 32;

/// More ids than the interner's 32-bit numbers can address.
#[derive(Debug, thiserror::Error)]
#[error("more than 4 GiB of distinct customer ids")]
pub struct InternerFull;

fn hash(key: &[u8]) -> u64 {
    xxh3_64(key)
}

fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// Asks the CPU to bring `p`'s cache line in; a hint only (for the other
/// tables looked up by the numbers this gives, too).
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    // SAFETY: a prefetch reads nothing the program sees and cannot fault,
    // whatever the address (the callers' addresses are in their buffers).
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Where a key is, or the empty slot where it would go.
enum Probe {
    Found(u32),
    Vacant(usize),
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
        match self.probe(key.as_bytes(), hash(key.as_bytes())) {
            Probe::Found(i) => Some(i),
            Probe::Vacant(_) => None,
        }
    }

    /// The index of `key`, and whether it was new. Indexes are dense, in
    /// first-seen order.
    pub fn intern(&mut self, key: &str) -> Result<(u32, bool), InternerFull> {
        self.intern_hashed(key.as_bytes(), hash(key.as_bytes()))
    }

    /// Interns `keys` in order, as [`Interner::intern`] one after another
    /// would (the same indexes), appending each one's index to `out`.
    pub fn intern_all(&mut self, keys: &[&str], out: &mut Vec<u32>) -> Result<(), InternerFull> {
        out.reserve(keys.len());
        let mut hashes = [0u64; LOOKAHEAD];
        for run in keys.chunks(LOOKAHEAD) {
            self.prefetch_run(run, &mut hashes);
            for (&h, key) in hashes.iter().zip(run) {
                out.push(self.intern_hashed(key.as_bytes(), h)?.0);
            }
        }
        Ok(())
    }

    /// Looks `keys` up in order, appending each one's index (if interned) to
    /// `out`, the lookups overlapping as in [`Interner::intern_all`].
    pub fn find_all(&self, keys: &[&str], out: &mut Vec<Option<u32>>) {
        out.reserve(keys.len());
        let mut hashes = [0u64; LOOKAHEAD];
        for run in keys.chunks(LOOKAHEAD) {
            self.prefetch_run(run, &mut hashes);
            for (&h, key) in hashes.iter().zip(run) {
                out.push(match self.probe(key.as_bytes(), h) {
                    Probe::Found(i) => Some(i),
                    Probe::Vacant(_) => None,
                });
            }
        }
    }

    /// Hashes a run of keys into `hashes` and asks for their slots, then for
    /// the entries those slots point to when they may be the keys'.
    fn prefetch_run(&self, run: &[&str], hashes: &mut [u64; LOOKAHEAD]) {
        for (h, key) in hashes.iter_mut().zip(run) {
            *h = hash(key.as_bytes());
            prefetch(self.slots.as_ptr().wrapping_add(self.home(*h)));
        }
        // The first slot of each is in cache by now (or on its way).
        for (&h, key) in hashes.iter().zip(run) {
            if let Some(slot) = self.slots.get(self.home(h)) {
                if slot.start != EMPTY.start && slot.tag == tag(h) {
                    let entry = self.text.as_ptr().wrapping_add(slot.start as usize);
                    prefetch(entry);
                    prefetch(entry.wrapping_add(self.layout.entry_bytes(key.len()).saturating_sub(1)));
                }
            }
        }
    }

    /// Where each text starts, by index: what [`Interner::text_at`] takes,
    /// for reading texts in another order than their indexes' (4 bytes a
    /// text, built on demand: the table does not keep it).
    pub fn starts(&self) -> Vec<u32> {
        let mut starts = Vec::with_capacity(self.len());
        starts.extend(entries(&self.text, self.layout).map(|(start, _)| start));
        starts
    }

    /// The text whose entry starts at `start` (one of [`Interner::starts`]).
    pub fn text_at(&self, start: u32) -> &str {
        let entry = (self.text.get(start as usize..)).map_or(&[][..], |rest| {
            entries(rest, self.layout).next().map_or(&[][..], |(_, text)| text)
        });
        // Only whole `&str`s are stored, so an entry's text is UTF-8.
        std::str::from_utf8(entry).unwrap_or_default()
    }

    /// Bytes held on the heap (capacity), for the memory log.
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity() + std::mem::size_of::<Slot>() * self.slots.capacity()
    }

    /// All texts, by index.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        // Only whole `&str`s are stored, so an entry's text is UTF-8.
        entries(&self.text, self.layout).map(|(_, text)| std::str::from_utf8(text).unwrap_or_default())
    }

    /// The slot a hash starts its probe at (0 for an empty table): its lower
    /// half scaled to the table (the upper half is the tag).
    fn home(&self, hash: u64) -> usize {
        ((u64::from(hash as u32) * self.slots.len() as u64) >> 32) as usize
    }

    /// The slot after `at`, wrapping around.
    fn next(&self, at: usize) -> usize {
        match at + 1 {
            n if n == self.slots.len() => 0,
            n => n,
        }
    }

    /// Whether the entry at `start` holds `key`; its index if so.
    fn entry_at(&self, start: u32, key: &[u8]) -> Option<u32> {
        if let Layout::Uniform(width) = self.layout {
            let at = start as usize;
            return (key.len() == width as usize && self.text.get(at..at + key.len()) == Some(key))
                .then_some(start / width);
        }
        let start = start as usize;
        let text = start + INDEX_BYTES;
        if self.text.get(text..text + key.len()) != Some(key) || self.text.get(text + key.len()) != Some(&END) {
            return None;
        }
        let index: [u8; INDEX_BYTES] = self.text[start..text].try_into().ok()?;
        Some(u32::from_le_bytes(index))
    }

    fn probe(&self, key: &[u8], hash: u64) -> Probe {
        if self.slots.is_empty() {
            return Probe::Vacant(0);
        }
        let mut at = self.home(hash);
        loop {
            let slot = self.slots[at];
            if slot.start == EMPTY.start {
                return Probe::Vacant(at);
            }
            if slot.tag == tag(hash) {
                if let Some(i) = self.entry_at(slot.start, key) {
                    return Probe::Found(i);
                }
            }
            at = self.next(at);
        }
    }

    fn intern_hashed(&mut self, key: &[u8], hash: u64) -> Result<(u32, bool), InternerFull> {
        let mut at = match self.probe(key, hash) {
            Probe::Found(i) => return Ok((i, false)),
            Probe::Vacant(at) => at,
        };
        let i = self.count;
        let count = i.checked_add(1).ok_or(InternerFull)?;
        self.layout = match (self.layout, u32::try_from(key.len())) {
            (Layout::Empty, Ok(width)) if width > 0 => Layout::Uniform(width),
            (Layout::Uniform(width), Ok(len)) if len == width => Layout::Uniform(width),
            (Layout::Uniform(_), _) => self.vary(key.len())?,
            (Layout::Empty | Layout::Varied, _) => Layout::Varied,
        };
        // The entry's end must be addressable, and u32::MAX marks an empty slot.
        let start = u32::try_from(self.text.len()).map_err(|_| InternerFull)?;
        let end = self.text.len() + self.layout.entry_bytes(key.len());
        if end >= u32::MAX as usize {
            return Err(InternerFull);
        }
        // At most 4/5 full: linear probing's runs stay short.
        if count as usize * 5 > self.slots.len() * 4 {
            self.grow();
            let Probe::Vacant(vacant) = self.probe(key, hash) else {
                unreachable!("a key absent before growing is absent after");
            };
            at = vacant;
        }
        if self.layout == Layout::Varied {
            self.text.extend_from_slice(&i.to_le_bytes());
            self.text.extend_from_slice(key);
            self.text.push(END);
        } else {
            self.text.extend_from_slice(key);
        }
        self.slots[at] = Slot { tag: tag(hash), start };
        self.count = count;
        Ok((i, true))
    }

    /// Grows the table to 3/5 full (placing every entry again): the next
    /// growth comes at 4/5, after a third more texts.
    fn grow(&mut self) {
        let len = (self.count as usize * 5 / 3).max(64);
        // The entries are placed again from the texts alone: the old table
        // goes first, so that the two are never held together (83 MB more
        // at the last growth of 9 million subscriptions).
        self.slots = Vec::new();
        self.slots = vec![EMPTY; len];
        for (start, text) in entries(&self.text, self.layout) {
            let h = hash(text);
            let mut at = self.home(h);
            while self.slots[at].start != EMPTY.start {
                at = self.next(at);
            }
            self.slots[at] = Slot { tag: tag(h), start };
        }
    }

    /// Turns uniform entries into varied ones (a text of another length
    /// of `next` bytes comes): each entry gets its index and end, each slot
    /// its entry's new start. The table's places do not change.
    fn vary(&mut self, next: usize) -> Result<Layout, InternerFull> {
        let Layout::Uniform(width) = self.layout else {
            return Ok(Layout::Varied);
        };
        let bytes = Layout::Varied.entry_bytes(width as usize);
        if self.count as usize * bytes >= u32::MAX as usize {
            return Err(InternerFull);
        }
        // Room for the text that comes next (`next` bytes) too: pushed at
        // once, it would double the new allocation.
        let mut text = Vec::with_capacity(self.count as usize * bytes + Layout::Varied.entry_bytes(next));
        for (i, entry) in self.text.chunks_exact(width as usize).enumerate() {
            // Fewer than 2^32 entries: `count` is a u32.
            text.extend_from_slice(&(i as u32).to_le_bytes());
            text.extend_from_slice(entry);
            text.push(END);
        }
        self.text = text;
        for slot in self.slots.iter_mut().filter(|s| s.start != EMPTY.start) {
            // Below u32::MAX: checked above.
            slot.start = slot.start / width * bytes as u32;
        }
        Ok(Layout::Varied)
    }
}

#[cfg(test)]
mod tests;

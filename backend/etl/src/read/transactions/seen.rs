//! Pass 1's memory of the transaction ids it has seen: which keys (48 bits
//! of each id's hash) occur on more than one row.
//!
//! A key is all pass 1 keeps of a row, and it kept 8 bytes a row in one
//! array sorted at the end: 400 MB at 50M transactions, with users.csv and
//! products.csv read beside it (the load's peak once the profiles left,
//! BENCHMARKS.md "Load memory, fifth look"). Here the keys come in blocks
//! of [`BLOCK`]; each full block is spread by its keys' upper 16 bits into
//! [`BUCKETS`] runs, of which only the lower 32 bits are kept: 4 bytes a
//! row. At the end each bucket's runs of every block are gathered and
//! sorted (about 760 keys at 50M), and the keys found twice are the
//! repeated ones.
//!
//! 48 bits, not 64: a collision makes pass 2 hold a row back, read it
//! again and accept it alone (never a wrong result); 50M distinct ids
//! collide in about 4 pairs, 1 billion in about 1,800.

use rustc_hash::FxHashSet as HashSet;

/// Keys gathered before they are spread (32 MB); fewer under test, so that
/// tests cross blocks.
const BLOCK: usize = if cfg!(test) { 1000 } else { 1 << 22 };
/// Buckets by a key's upper 16 bits.
const BUCKETS: usize = 1 << 16;

/// The key pass 1 and pass 2 compare a transaction id by.
pub(super) fn key(id: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id) >> 16
}

/// Keys seen so far.
#[derive(Default)]
pub(super) struct Seen {
    /// Keys not yet spread into a block.
    gathering: Vec<u64>,
    blocks: Vec<Block>,
}

/// A block's keys by bucket: bucket `b`'s lower halves are
/// `low[start[b]..start[b + 1]]`.
struct Block {
    start: Vec<u32>,
    low: Vec<u32>,
}

impl Seen {
    pub fn push(&mut self, key: u64) {
        self.gathering.push(key);
        if self.gathering.len() == BLOCK {
            self.spread();
        }
    }

    /// The gathered keys as a block (a counting sort by bucket).
    fn spread(&mut self) {
        let mut start = vec![0u32; BUCKETS + 1];
        for &k in &self.gathering {
            start[bucket(k) + 1] += 1;
        }
        for b in 0..BUCKETS {
            start[b + 1] += start[b];
        }
        let mut next = start.clone();
        let mut low = vec![0u32; self.gathering.len()];
        for &k in &self.gathering {
            let at = &mut next[bucket(k)];
            low[*at as usize] = k as u32;
            *at += 1;
        }
        self.blocks.push(Block { start, low });
        self.gathering.clear();
    }

    /// The keys pushed more than once.
    pub fn repeated(mut self) -> HashSet<u64> {
        if !self.gathering.is_empty() {
            self.spread();
        }
        self.gathering = Vec::new();
        let mut repeated = HashSet::default();
        let mut keys: Vec<u32> = Vec::new();
        for b in 0..BUCKETS {
            keys.clear();
            for block in &self.blocks {
                keys.extend_from_slice(&block.low[block.start[b] as usize..block.start[b + 1] as usize]);
            }
            keys.sort_unstable();
            let high = (b as u64) << 32;
            repeated.extend(keys.windows(2).filter(|w| w[0] == w[1]).map(|w| high | u64::from(w[0])));
        }
        repeated
    }
}

fn bucket(key: u64) -> usize {
    (key >> 32) as usize & (BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Across blocks and within them, in any order, the keys seen twice or
    /// more are those a plain count finds, each once.
    #[test]
    fn repeated_keys_are_those_seen_more_than_once() {
        let mut rng = fastrand::Rng::with_seed(5);
        for rows in [0, 1, 999, 1000, 1001, 5500] {
            let mut seen = Seen::default();
            let mut count: std::collections::HashMap<u64, u32> = Default::default();
            let mut pushed: Vec<u64> = Vec::new();
            for _ in 0..rows {
                // A key of a row before (a repeat), or a new one; some new
                // keys share a bucket or a lower half with others.
                let k = match rng.u32(0..10) {
                    0 if !pushed.is_empty() => pushed[rng.usize(0..pushed.len())],
                    1 => rng.u64(0..4) << 32 | rng.u64(0..8),
                    _ => key(&rng.u64(..).to_le_bytes()),
                };
                pushed.push(k);
                seen.push(k);
                *count.entry(k).or_default() += 1;
            }
            let want: HashSet<u64> = count.iter().filter(|(_, &n)| n > 1).map(|(&k, _)| k).collect();
            assert_eq!(seen.repeated(), want, "{rows} rows");
        }
    }

    #[test]
    fn keys_are_48_bits() {
        assert!(key(b"txn_1") < 1 << 48);
        assert_eq!(key(b"txn_1"), xxhash_rust::xxh3::xxh3_64(b"txn_1") >> 16);
    }
}

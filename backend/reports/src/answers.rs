//! The answers of one snapshot as they went out: the serialised bytes of
//! each view (JSON or CSV, and their compressed forms), kept so that the
//! same request is answered again without building and serialising the same
//! report. They live in the [`ReportContext`](crate::ReportContext) of the
//! run they were made from, so a new run starts with none.
//!
//! Bounded in memory: the weight of an entry is its bytes (body and key),
//! the total stays within the budget, and the entries used least lately go
//! first (`quick_cache`'s CLOCK-Pro: recency, with scans kept from pushing
//! out the answers asked for again and again).

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{OptionsBuilder, Weighter};

/// Bytes of answers kept per run, by default.
pub const ANSWER_BUDGET: u64 = 64 << 20;
/// What an entry costs beyond its body and key (the entry, the map's slot).
const ENTRY_OVERHEAD: u64 = 128;
/// Expected entries for a budget (its bytes by this): sizes the cache's shards.
const TYPICAL_ANSWER: u64 = 16 << 10;

/// Which answer: the view (path and query, as the client wrote them), its
/// form, and what it read of the clock.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AnswerKey {
    pub path: String,
    pub query: String,
    /// CSV rather than JSON.
    pub csv: bool,
    /// What the answer depends on besides the data and the request (the
    /// day, the days since the latest transaction); `None` when nothing.
    pub clock: Option<i64>,
    /// The content coding of the bytes (`br`, `gzip`, `zstd`); `None`: as serialised.
    pub coding: Option<&'static str>,
}

impl AnswerKey {
    /// The same answer in another content coding.
    pub fn coded(&self, coding: &'static str) -> Self {
        Self {
            coding: Some(coding),
            ..self.clone()
        }
    }
}

#[derive(Clone)]
struct BytesWeighter;

impl Weighter<AnswerKey, Bytes> for BytesWeighter {
    fn weight(&self, key: &AnswerKey, body: &Bytes) -> u64 {
        (body.len() + key.path.len() + key.query.len()) as u64 + ENTRY_OVERHEAD
    }
}

/// The kept answers of one run.
pub struct Answers {
    kept: Cache<AnswerKey, Bytes, BytesWeighter>,
    /// An answer larger than this is not kept (it would push out many others).
    largest: u64,
}

impl Default for Answers {
    fn default() -> Self {
        Self::with_budget(ANSWER_BUDGET)
    }
}

impl Answers {
    /// Keeps at most `budget` bytes of answers, each at most an eighth of it.
    pub fn with_budget(budget: u64) -> Self {
        // Four shards (each a quarter of the budget, locked on its own): an
        // answer of an eighth always fits its shard.
        let options = OptionsBuilder::new()
            .shards(4)
            .estimated_items_capacity((budget / TYPICAL_ANSWER).max(128) as usize)
            .weight_capacity(budget)
            .build();
        let kept = match options {
            Ok(options) => Cache::with_options(options, BytesWeighter, Default::default(), Default::default()),
            // Unreachable (the options are complete); then keep nothing rather than fail.
            Err(_) => Cache::with_weighter(1, 0, BytesWeighter),
        };
        Self {
            kept,
            largest: budget / 8,
        }
    }

    /// The bytes of `key`, when kept.
    pub fn get(&self, key: &AnswerKey) -> Option<Bytes> {
        self.kept.get(key)
    }

    /// Keeps `body` as the answer of `key`, unless it is too large to.
    pub fn keep(&self, key: AnswerKey, body: Bytes) {
        if BytesWeighter.weight(&key, &body) <= self.largest {
            self.kept.insert(key, body);
        }
    }

    /// Bytes kept now (bodies, keys and the overhead of each entry).
    pub fn weight(&self) -> u64 {
        self.kept.weight()
    }

    /// Answers kept now.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> AnswerKey {
        AnswerKey {
            path: "/reports/top-users".to_owned(),
            query: format!("limit={n}"),
            csv: false,
            clock: None,
            coding: None,
        }
    }

    #[test]
    fn a_kept_answer_comes_back_under_its_key_only() {
        let answers = Answers::default();
        answers.keep(key(5), Bytes::from_static(b"{\"a\":1}"));
        assert_eq!(answers.get(&key(5)).as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(answers.get(&key(6)), None);
        assert_eq!(answers.get(&key(5).coded("br")), None);
        let csv = AnswerKey { csv: true, ..key(5) };
        assert_eq!(answers.get(&csv), None);
        let tomorrow = AnswerKey {
            clock: Some(1),
            ..key(5)
        };
        assert_eq!(answers.get(&tomorrow), None);
    }

    #[test]
    fn the_kept_bytes_stay_within_the_budget() {
        let budget = 1 << 20;
        let answers = Answers::with_budget(budget);
        let body = Bytes::from(vec![b'x'; 10_000]);
        // Ten times the budget offered, in answers of 10 kB; one of them is
        // asked for again and again meanwhile.
        answers.keep(key(0), body.clone());
        for n in 1..1000 {
            answers.keep(key(n), body.clone());
            assert!(answers.weight() <= budget, "{} > {budget} after {n}", answers.weight());
            assert!(answers.get(&key(0)).is_some(), "the answer in use went out after {n}");
        }
        // Most of the budget is used, by about as many answers as it holds.
        assert!(answers.weight() > budget / 2, "{}", answers.weight());
        assert!(answers.len() <= (budget / 10_000) as usize, "{}", answers.len());
        let kept = (1..1000).filter(|&n| answers.get(&key(n)).is_some()).count();
        assert!(kept < 200, "{kept} of 999 answers kept within {budget} bytes");
    }

    #[test]
    fn an_answer_over_an_eighth_of_the_budget_is_not_kept() {
        let answers = Answers::with_budget(80_000);
        answers.keep(key(1), Bytes::from(vec![b'x'; 10_001]));
        assert!(answers.is_empty());
        answers.keep(key(2), Bytes::from(vec![b'x'; 9_000]));
        assert_eq!(answers.len(), 1);
    }
}

//! The interner's tests: lookups one by one and in batches, both layouts.

use super::*;
use proptest::prelude::*;

#[test]
fn interner_round_trips_and_keeps_first_seen_order() {
    let mut ids = Interner::default();
    assert_eq!(ids.find("c2"), None, "an empty table finds nothing");
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
    // An index whose bytes include END (0xff) does not cut the walk.
    assert_eq!(ids.iter().nth(255), Some("k250"));
    assert_eq!(ids.iter().count(), 10_005);
}

/// Every text is found and read back alike while the texts share one
/// length (kept bare) and after one of another length comes.
#[test]
fn texts_of_one_length_then_of_others() {
    fn check(ids: &Interner, keys: &[String]) {
        assert_eq!(ids.iter().collect::<Vec<_>>(), keys);
        let starts = ids.starts();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(ids.find(key), Some(i as u32), "{key}");
            assert_eq!(ids.text_at(starts[i]), key);
        }
        for absent in ["k0000", "k000000", "k1000x", "y", ""] {
            assert_eq!(ids.find(absent), None, "{absent}");
        }
    }
    let mut ids = Interner::default();
    let mut keys: Vec<String> = (0..5000).map(|i| format!("k{i:05}")).collect();
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(ids.intern(key).unwrap(), (i as u32, true));
    }
    assert_eq!(ids.layout, Layout::Uniform(6));
    assert_eq!(ids.text.len(), 5000 * 6, "the texts kept bare");
    check(&ids, &keys);
    for key in ["x", "k00001", "longer id"] {
        ids.intern(key).unwrap();
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    }
    assert_eq!(ids.layout, Layout::Varied);
    check(&ids, &keys);
    for i in 0..5000 {
        keys.push(format!("m{i}"));
        ids.intern(&keys[keys.len() - 1]).unwrap();
    }
    check(&ids, &keys);
    // An empty first text: entries varied from the start.
    let mut ids = Interner::default();
    assert_eq!(ids.intern("").unwrap(), (0, true));
    assert_eq!(ids.intern("ab").unwrap(), (1, true));
    assert_eq!(
        (ids.layout, ids.find(""), ids.find("ab")),
        (Layout::Varied, Some(0), Some(1))
    );
}

proptest! {
    /// Batches give the indexes that one lookup after another gives, and
    /// every text is found again at its index.
    #[test]
    fn intern_all_is_intern_in_order(
        uniform in prop::collection::vec("[a-c]{3}|k[0-9]{2}", 0..200),
        first in prop::collection::vec("[a-c]{0,3}|k[0-9]{1,4}", 0..200),
        then in prop::collection::vec("[a-c]{0,3}|k[0-9]{1,4}", 0..400),
    ) {
        let (mut one, mut all) = (Interner::default(), Interner::default());
        let mut expected = Vec::new();
        for key in uniform.iter().chain(&first).chain(&then) {
            expected.push(one.intern(key).unwrap().0);
        }
        let mut got = Vec::new();
        // Ids of one length first (kept bare), then of any.
        for part in [&uniform, &first, &then] {
            let keys: Vec<&str> = part.iter().map(String::as_str).collect();
            all.intern_all(&keys, &mut got).unwrap();
        }
        prop_assert_eq!(&got, &expected);
        let texts: Vec<&str> = all.iter().collect();
        prop_assert_eq!(texts.len(), all.len());
        for (key, &i) in uniform.iter().chain(&first).chain(&then).zip(&got) {
            prop_assert_eq!(texts[i as usize], key.as_str());
            prop_assert_eq!(all.find(key), Some(i));
        }
        // Looked up together, and read back out of order by their starts.
        let keys: Vec<&str> = (uniform.iter().chain(&first).chain(&then))
            .map(String::as_str)
            .chain(["zz", "k", "abcd", "ab", ""])
            .collect();
        let mut found = Vec::new();
        all.find_all(&keys, &mut found);
        let starts = all.starts();
        prop_assert_eq!(starts.len(), all.len());
        for (key, f) in keys.iter().zip(found) {
            prop_assert_eq!(f, all.find(key));
            if let Some(i) = f {
                prop_assert_eq!(all.text_at(starts[i as usize]), *key);
            }
        }
    }
}

//! PostgreSQL identifiers that the migrations and the loads both make, so that
//! both name the same objects the same way.

/// PostgreSQL's limit on identifiers, in bytes.
pub(crate) const MAX_IDENTIFIER: usize = 63;

/// FNV-1a: stable across versions and platforms (names made with it are stored).
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `name` with `suffix` (`__load`, `__data`), within PostgreSQL's 63 bytes.
/// PostgreSQL would cut a longer name silently, so `name` with two suffixes,
/// or with one, could become the same name (a 63-byte index name stays
/// itself): a name too long is cut at a character boundary and given a hash
/// of the whole name before the suffix.
pub fn suffixed(name: &str, suffix: &str) -> String {
    let whole = format!("{name}{suffix}");
    if whole.len() <= MAX_IDENTIFIER {
        return whole;
    }
    let mut cut = MAX_IDENTIFIER.saturating_sub(suffix.len() + 17).min(name.len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:016x}{suffix}", &name[..cut], fnv1a(name))
}

/// `name` as a quoted SQL identifier (names read from the catalog may hold
/// capitals or quotes).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixed_names_fit_postgres() {
        assert_eq!(suffixed("dim_user_pkey", "__load"), "dim_user_pkey__load");
        // Unchanged when they fit; else distinct, and distinct from the name
        // itself, within 63 bytes, cut between characters.
        for name in ["x".repeat(63), "é".repeat(31), format!("{}a", "x".repeat(60))] {
            let (load, data) = (suffixed(&name, "__load"), suffixed(&name, "__data"));
            assert!(
                load.len() <= MAX_IDENTIFIER && data.len() <= MAX_IDENTIFIER,
                "{load} {data}"
            );
            assert!(load != data && load != name && data != name);
            assert!(load.ends_with("__load") && data.ends_with("__data"));
        }
        assert_ne!(
            suffixed(&format!("{}a", "x".repeat(60)), "__data"),
            suffixed(&format!("{}b", "x".repeat(60)), "__data")
        );
    }

    #[test]
    fn quoted_identifiers() {
        assert_eq!(quote_ident("Mixed Case"), "\"Mixed Case\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}

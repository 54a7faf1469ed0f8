//! Personal data in text the API serves (rejected input rows quote it).

/// Characters of an address's local part or domain.
fn address_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '\'')
}

/// Masks every e-mail address in `text`, keeping a hint for whoever debugs
/// the input: `evan.maysury@gmail.com` → `e***@g***.com`.
pub fn mask_emails(text: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // byte offset in `text` up to which `out` holds the input
    let mut i = 0;
    while i < chars.len() {
        if chars[i].1 != '@' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && address_char(chars[start - 1].1) && chars[start - 1].0 >= copied {
            start -= 1;
        }
        let mut end = i + 1;
        while end < chars.len() && (chars[end].1.is_alphanumeric() || matches!(chars[end].1, '.' | '-')) {
            end += 1;
        }
        // A trailing dot ends a sentence, not the domain.
        while end > i + 1 && chars[end - 1].1 == '.' {
            end -= 1;
        }
        let local: String = chars[start..i].iter().map(|c| c.1).collect();
        let domain: String = chars[i + 1..end].iter().map(|c| c.1).collect();
        let Some((_, tld)) = domain.rsplit_once('.') else {
            i += 1;
            continue;
        };
        if local.is_empty() || tld.is_empty() {
            i += 1;
            continue;
        }
        out.push_str(&text[copied..chars[start].0]);
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        out.push_str(&format!("{}***@{}***.{tld}", first(&local), first(&domain)));
        copied = chars.get(end).map_or(text.len(), |c| c.0);
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::mask_emails;

    #[test]
    fn addresses_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_emails("cus_1\tEvan\tevan.maysury@gmail.com"),
            "cus_1\tEvan\te***@g***.com"
        );
        assert_eq!(
            mask_emails("a@b.io, x.y+z@mail.example.co.uk."),
            "a***@b***.io, x***@m***.uk."
        );
        assert_eq!(mask_emails("\"zoë@exämple.de\""), "\"z***@e***.de\"");
        for kept in ["no address", "user@localhost", "@handle", "a@", "total 5 @ 3.00"] {
            assert_eq!(mask_emails(kept), kept);
        }
    }
}

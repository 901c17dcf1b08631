//! Text measured as the record writes it: a JSON string's bytes after
//! escaping (a control byte is six there, `\u0001`). Bounds on what a
//! record holds are bounds on what it weighs in the log, so an excerpt of
//! control bytes cannot grow a line sixfold. Pure: tested natively.

/// The bytes `c` takes inside a JSON string as serde_json writes it.
fn escaped(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        '\0'..='\u{1f}' => 6,
        c => c.len_utf8(),
    }
}

/// The bytes `s` takes inside a JSON string (without the quotes).
pub fn escaped_len(s: &str) -> usize {
    s.chars().map(escaped).sum()
}

/// The longest prefix of `s` that takes at most `max` bytes once escaped:
/// cut between characters, never inside an escape.
pub fn within(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += escaped(c);
        if used > max {
            return &s[..i];
        }
    }
    s
}

/// What ends a text the record had to shorten.
pub const CUT_MARK: &str = "…[cut]";

/// `s` shortened by at least `by` escaped bytes and marked as cut; `None`
/// when nothing of it would be left to mark.
pub fn shortened(s: &str, by: usize) -> Option<String> {
    let keep = escaped_len(s).checked_sub(by + CUT_MARK.len())?;
    Some(format!("{}{CUT_MARK}", within(s, keep)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_escaped_length_is_what_serde_json_writes() {
        let mut all: String = (0u8..=0x7f).map(char::from).collect();
        all.push_str("é€😀\u{2028}");
        for c in all.chars() {
            let s = c.to_string();
            let written = serde_json::to_string(&s).unwrap().len() - 2;
            assert_eq!(escaped_len(&s), written, "{c:?}");
        }
        assert_eq!(escaped_len("a\u{1}\"é"), 1 + 6 + 2 + 2);
    }

    #[test]
    fn a_prefix_fits_its_bound_and_never_splits_an_escape() {
        let s = "ab\u{1}\u{1}c€";
        let table = [
            (0, ""),
            (2, "ab"),
            (7, "ab"),
            (8, "ab\u{1}"),
            (13, "ab\u{1}"),
            (14, "ab\u{1}\u{1}"),
            (15, "ab\u{1}\u{1}c"),
            (17, "ab\u{1}\u{1}c"),
            (18, s),
            (100, s),
        ];
        for (max, want) in table {
            assert_eq!(within(s, max), want, "{max}");
            assert!(escaped_len(within(s, max)) <= max, "{max}");
        }
    }

    #[test]
    fn a_shortened_text_is_marked_and_shorter_by_at_least_the_amount() {
        let s = "x".repeat(100);
        let cut = shortened(&s, 10).unwrap();
        assert!(cut.ends_with(CUT_MARK), "{cut}");
        assert_eq!(escaped_len(&cut), 90);
        let ctl = "\u{1}".repeat(10);
        let cut = shortened(&ctl, 7).unwrap();
        assert!(escaped_len(&cut) <= 60 - 7, "{cut:?}");
        assert_eq!(shortened("short", 1), None);
    }
}

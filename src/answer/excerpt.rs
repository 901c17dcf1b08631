//! The excerpt of a failing origin body as the record shows it: its first
//! `LOG_ORIGIN_BODY_BYTES` as text, without the client's credentials.
//! Pure: tested natively.

use error_shield::parts::fit;

use crate::answer::credentials::Secrets;

/// The start of a failing body as text for the log, at most `max` bytes
/// as the record writes it (after JSON escaping: a control byte takes six,
/// so a body of them cannot grow a record sixfold). Invalid UTF-8 (and a
/// character cut in half at the end) becomes U+FFFD.
pub fn text(bytes: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]);
    fit::within(&text, max).to_owned()
}

/// [`text`] without the client's credentials, still at most `max`
/// bytes (a mark may be longer than what it stands for). The executor
/// reads at most `max` bytes: as many means the body may go on, so a
/// credential's first bytes at the end are cut too.
pub fn logged(bytes: &[u8], max: usize, secrets: &Secrets) -> String {
    let shown = text(bytes, max);
    if secrets.is_empty() {
        return shown;
    }
    // Cut after the bound is applied, so no trimming can leave a
    // credential's first bytes at the end; what may go on past `shown`
    // (the body was read to the cap, or the bound trimmed it) has them cut.
    let whole = String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).len();
    let out = secrets.cut(&shown, bytes.len() >= max || shown.len() < whole);
    fit::within(&out, max).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_lose_the_clients_credentials_and_stay_within_the_cap() {
        let s = Secrets::of(
            |n| (n == "cookie").then(|| "a=abcd; b=longer-secret".to_owned()),
            None,
        );
        assert_eq!(logged(b"x abcd y", 64, &s), "x REDACTED y");
        // A 4-byte value marked with 8 bytes: still at most 8 bytes.
        assert_eq!(logged(b"abcdabcd", 8, &s), "REDACTED");
        assert_eq!(logged(b"ab abcd", 7, &s), "ab REDA");
        // Cut at the cap mid-credential: its first bytes go too.
        assert_eq!(logged(b"s=longer-secret", 10, &s), "s=REDACTED");
        assert_eq!(logged(b"s=longer", 10, &s), "s=longer", "not cut: it ended");
        assert_eq!(logged(b"plain", 64, &s), "plain");
    }

    #[test]
    fn excerpts_are_capped_and_lossy() {
        assert_eq!(text(b"hello world", 5), "hello");
        assert_eq!(text(b"hi", 0), "");
        assert_eq!(text("héllo".as_bytes(), 2), "h");
        assert_eq!(text(&"héllo".as_bytes()[..2], 4), "h\u{fffd}");
        assert_eq!(text(&[0xff, b'a'], 10), "\u{fffd}a");
        // Bounded as written in the record: escapes and U+FFFD count whole.
        assert_eq!(text(&[1; 100], 20), "\u{1}\u{1}\u{1}");
        assert_eq!(text(b"a\"b\"", 4), "a\"b");
        assert_eq!(text(&[0xff; 10], 7), "\u{fffd}\u{fffd}");
        for max in [0, 1, 5, 6, 7, 2048] {
            let e = text(&[0, 1, b'\n', b'x', 0xc3, 0xa9, 0xff].repeat(400), max);
            assert!(fit::escaped_len(&e) <= max, "{max}: {e:?}");
        }
    }
}

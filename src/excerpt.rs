//! The excerpt of a failing origin body as the record shows it: its first
//! `LOG_ORIGIN_BODY_BYTES` as text, without the client's credentials.
//! Pure: tested natively.

use crate::credentials::Secrets;

/// The first `max` bytes of a failing body as text for the log. Invalid
/// UTF-8 (and a character cut in half at the end) becomes U+FFFD.
pub fn text(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(max)]).into_owned()
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
    let mut out = secrets.cut(&shown, bytes.len() >= max);
    if out.len() > max {
        let mut end = max;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
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
        assert_eq!(text("héllo".as_bytes(), 2), "h\u{fffd}");
        assert_eq!(text(&[0xff, b'a'], 10), "\u{fffd}a");
    }
}

//! Comparing a secret with what a client sent.

/// Whether `a` equals `b`, in time independent of where they differ (a
/// guessed prefix of the secret is no faster to reject than a wrong one).
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in a.iter().enumerate() {
        diff |= x ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_bytes_are_the_same() {
        assert!(same(b"token-123", b"token-123"), "the control");
        assert!(same(b"", b""));
        for other in [
            &b"token-124"[..],
            b"token-12",
            b"token-1234",
            b"",
            b"TOKEN-123",
        ] {
            assert!(!same(b"token-123", other), "{other:?}");
        }
        // A longer guess whose first bytes are the secret is no match.
        assert!(!same(b"ab", b"ab\0"));
        assert!(!same(b"ab\0", b"ab"));
    }
}

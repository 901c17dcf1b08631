//! The request id: the client's `X-Request-Id` when well-formed, else
//! `cf-ray`, else a fresh random one. Randomness is passed in,
//! so this is tested natively.

/// Longest id accepted from a client.
pub const MAX_LEN: usize = 128;

/// Whether `id` matches `[A-Za-z0-9._:-]{1,128}`: safe in every format and
/// header without escaping.
pub fn is_valid(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Picks the id for a request; `mint` runs only when neither header is usable.
pub fn choose(client: Option<&str>, cf_ray: Option<&str>, mint: impl FnOnce() -> String) -> String {
    match (client, cf_ray) {
        (Some(id), _) if is_valid(id) => id.to_owned(),
        (_, Some(ray)) if is_valid(ray) => ray.to_owned(),
        _ => mint(),
    }
}

/// 16 random bytes as 32 lowercase hex digits.
pub fn from_bytes(bytes: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(32);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// A fresh random id from the platform's CSPRNG (`crypto.getRandomValues`
/// in Workers). Falls back to a fixed marker only if randomness is missing,
/// which the runtime does not allow to happen.
pub fn mint() -> String {
    let mut bytes = [0u8; 16];
    match getrandom::fill(&mut bytes) {
        Ok(()) => from_bytes(bytes),
        Err(_) => "no-entropy".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        let long = "a".repeat(128);
        let too_long = "a".repeat(129);
        let table = [
            ("abc-123", true),
            ("A.b_c:d-e", true),
            ("8c3f1a2b3c4d5e6f-AMS", true),
            (long.as_str(), true),
            (too_long.as_str(), false),
            ("", false),
            ("has space", false),
            ("<script>", false),
            ("a\"b", false),
            ("ünïcode", false),
            ("a\nb", false),
        ];
        for (id, want) in table {
            assert_eq!(is_valid(id), want, "{id:?}");
        }
    }

    #[test]
    fn client_id_then_cf_ray_then_minted() {
        let mint = || "minted".to_string();
        let table = [
            (Some("client-1"), Some("ray-1"), "client-1"),
            (Some("bad id"), Some("ray-1"), "ray-1"),
            (None, Some("ray-1"), "ray-1"),
            (Some("<x>"), Some("<y>"), "minted"),
            (None, None, "minted"),
        ];
        for (client, ray, want) in table {
            assert_eq!(choose(client, ray, mint), want, "{client:?} {ray:?}");
        }
    }

    #[test]
    fn minted_ids_are_valid_hex_and_differ() {
        assert_eq!(from_bytes([0xab; 16]), "ab".repeat(16));
        let (a, b) = (mint(), mint());
        assert!(is_valid(&a) && a.len() == 32 && a != b);
    }
}

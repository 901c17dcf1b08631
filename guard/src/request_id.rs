//! The request id: the client's `X-Request-Id` when well-formed, else the
//! trace-id of a valid W3C `traceparent` (so the id joins the distributed
//! trace), else `cf-ray`, else a fresh random one. Randomness is passed in,
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

/// Picks the id for a request from the client's id, the trace-id of its
/// `traceparent` (see [`trace_id`]) and `cf-ray`; `mint` runs only when none
/// is usable.
pub fn choose(
    client: Option<&str>,
    trace_id: Option<&str>,
    cf_ray: Option<&str>,
    mint: impl FnOnce() -> String,
) -> String {
    if let Some(id) = client.filter(|id| is_valid(id)) {
        return id.to_owned();
    }
    if let Some(trace) = trace_id {
        return trace.to_owned();
    }
    match cf_ray {
        Some(ray) if is_valid(ray) => ray.to_owned(),
        _ => mint(),
    }
}

/// The trace-id of a W3C Trace Context `traceparent` (level 1): version
/// `00`, lowercase hex, trace-id and parent-id not all zeros; anything
/// else is ignored.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let b = traceparent.as_bytes();
    let hex =
        |r: std::ops::Range<usize>| b[r].iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
    let nonzero = |r: std::ops::Range<usize>| b[r].iter().any(|c| *c != b'0');
    let shaped = b.len() == 55
        && b.starts_with(b"00-")
        && b[35] == b'-'
        && b[52] == b'-'
        && hex(3..35)
        && hex(36..52)
        && hex(53..55);
    (shaped && nonzero(3..35) && nonzero(36..52)).then(|| &traceparent[3..35])
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
    fn client_id_then_trace_id_then_cf_ray_then_minted() {
        let mint = || "minted".to_string();
        let trace = Some("4bf92f3577b34da6a3ce929d0e0e4736");
        let table = [
            (Some("client-1"), trace, Some("ray-1"), "client-1"),
            (
                Some("bad id"),
                trace,
                Some("ray-1"),
                "4bf92f3577b34da6a3ce929d0e0e4736",
            ),
            (None, trace, None, "4bf92f3577b34da6a3ce929d0e0e4736"),
            (Some("bad id"), None, Some("ray-1"), "ray-1"),
            (None, None, Some("ray-1"), "ray-1"),
            (Some("<x>"), None, Some("<y>"), "minted"),
            (None, None, None, "minted"),
        ];
        for (client, trace, ray, want) in table {
            assert_eq!(
                choose(client, trace, ray, mint),
                want,
                "{client:?} {trace:?} {ray:?}"
            );
        }
    }

    #[test]
    fn only_valid_level_1_traceparents_give_a_trace_id() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(ok), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(
            trace_id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        let bad = [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01ü",
        ];
        for t in bad {
            assert_eq!(trace_id(t), None, "{t:?}");
        }
    }

    #[test]
    fn minted_ids_are_valid_hex_and_differ() {
        assert_eq!(from_bytes([0xab; 16]), "ab".repeat(16));
        let (a, b) = (mint(), mint());
        assert!(is_valid(&a) && a.len() == 32 && a != b);
    }
}

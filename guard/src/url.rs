//! An absolute URL split at its authority, as a string: nothing decoded or
//! re-encoded, so what is forwarded or shown is byte for byte what came;
//! and whether a configured URL is one the runtime can fetch. Pure but for
//! the runtime's own parser in the wasm build: tested natively.

/// `scheme://authority rest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split<'a> {
    /// Before `://`.
    pub scheme: &'a str,
    /// `[userinfo@]host[:port]`.
    pub authority: &'a str,
    /// Path, query and fragment (may be empty).
    pub rest: &'a str,
}

/// Splits `v` at `://` and the end of its authority; `None` without `://`.
pub fn split(v: &str) -> Option<Split<'_>> {
    let s = v.find("://")?;
    let after = &v[s + 3..];
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    Some(Split {
        scheme: &v[..s],
        authority: &after[..end],
        rest: &after[end..],
    })
}

impl<'a> Split<'a> {
    /// The authority without its userinfo: `host[:port]`.
    pub fn host(&self) -> &'a str {
        self.authority.rsplit('@').next().unwrap_or(self.authority)
    }
}

/// An absolute `http(s)://host[:port][/path]` URL with a non-empty host, a
/// valid port and no whitespace or control characters, which the runtime's
/// own URL parser (WHATWG) takes too: what passes here the runtime can
/// fetch, so a bad value is a `config_error` at the first request, never a
/// runtime error quoting it.
pub fn is_http(v: &str) -> bool {
    by_hand(v) && runtime_parses(v)
}

/// The WHATWG rules that matter for an origin, by hand (so native tests see
/// them): the scheme, the port, the host's forbidden code points and, when
/// the host ends in a number, a valid IPv4 address (`10.0.0.256` is not).
/// Never stricter than the parser, except for whitespace and controls.
fn by_hand(v: &str) -> bool {
    let Some(u) = split(v) else {
        return false;
    };
    if !u.scheme.eq_ignore_ascii_case("http") && !u.scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let host = u.host();
    // `[v6]:port` or `name:port`: what follows the host must be a port.
    let (name, port) = match host.strip_prefix('[') {
        Some(v6) => {
            let Some((addr, rest)) = v6.split_once(']') else {
                return false;
            };
            if !rest.is_empty() && !rest.starts_with(':') {
                return false;
            }
            let v6_ok = !addr.is_empty()
                && addr
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            (if v6_ok { "v6" } else { "" }, rest.strip_prefix(':'))
        }
        None => match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        },
    };
    // An empty port is the scheme's default, as the parser has it.
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && (p.is_empty() || p.parse::<u16>().is_ok())
    });
    !name.is_empty()
        && port_ok
        && domain_ok(name)
        && !v.contains(|c: char| c.is_whitespace() || c.is_control())
}

/// A host name as WHATWG reads it: percent-decoded, then no forbidden
/// domain code point, and a valid IPv4 address if its last label is a
/// number.
fn domain_ok(name: &str) -> bool {
    let Some(decoded) = percent_decoded(name) else {
        return false;
    };
    const FORBIDDEN: &[u8] = b" #%/:<>?@[\\]^|";
    if decoded
        .iter()
        .any(|b| *b < 0x20 || *b == 0x7f || FORBIDDEN.contains(b))
    {
        return false;
    }
    // Non-ASCII goes through IDNA, which only the parser knows.
    let Ok(decoded) = std::str::from_utf8(&decoded) else {
        return false;
    };
    !ends_in_a_number(decoded) || ipv4(decoded).is_some()
}

/// `%XX` decoded; `None` for a `%` without two hex digits after it (it
/// would stay a `%`, forbidden in a host).
fn percent_decoded(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// WHATWG's "ends in a number": the last label (after one trailing dot)
/// is all digits, or a `0x` hex number.
fn ends_in_a_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || ipv4_number(last).is_some()
}

/// WHATWG's IPv4 parser: up to four parts, decimal, octal (`0…`) or hex
/// (`0x…`), each but the last at most 255, the last filling what is left.
fn ipv4(host: &str) -> Option<u32> {
    let host = host
        .strip_suffix('.')
        .filter(|h| !h.is_empty())
        .unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let numbers = parts
        .iter()
        .map(|p| ipv4_number(p))
        .collect::<Option<Vec<u64>>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) || *last >= 256u64.pow(5 - numbers.len() as u32) {
        return None;
    }
    let mut address = *last;
    for (i, n) in init.iter().enumerate() {
        address += n << (8 * (3 - i));
    }
    u32::try_from(address).ok()
}

/// One IPv4 part; `None` when it is no number or too large to matter.
fn ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = match part.get(..2) {
        Some("0x" | "0X") => (&part[2..], 16),
        _ if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
        _ => (part, 10),
    };
    if digits.is_empty() {
        return Some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Anything this long is past every limit: no overflow to care about.
    u64::from_str_radix(&digits[..digits.len().min(12)], radix).ok()
}

/// The runtime's own `URL` takes `v` (the wasm build; natively the hand
/// rules stand alone). No Wasm bytes of a parser: the runtime has one.
#[cfg(target_arch = "wasm32")]
fn runtime_parses(v: &str) -> bool {
    web_sys::Url::new(v).is_ok()
}

#[cfg(not(target_arch = "wasm32"))]
fn runtime_parses(_: &str) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_at_their_authority() {
        let table = [
            (
                "https://u:p@h:8/a?b#c",
                Some(("https", "u:p@h:8", "/a?b#c", "h:8")),
            ),
            ("http://h", Some(("http", "h", "", "h"))),
            ("http://h?q=1", Some(("http", "h", "?q=1", "h"))),
            (
                "http://[::1]:8/x",
                Some(("http", "[::1]:8", "/x", "[::1]:8")),
            ),
            ("http://a@b@c/x", Some(("http", "a@b@c", "/x", "c"))),
            ("svc:pw@host", None),
        ];
        for (url, want) in table {
            let got = split(url).map(|s| (s.scheme, s.authority, s.rest, s.host()));
            assert_eq!(got, want, "{url}");
        }
    }

    #[test]
    fn http_urls_are_recognised() {
        let table = [
            ("https://api.example.com", true),
            ("http://127.0.0.1:9000/v1", true),
            ("HTTPS://H", true),
            ("http://[::1]:8080/p", true),
            ("http://[::1]", true),
            ("https://u:p@h:443", true),
            ("ftp://x", false),
            ("https://", false),
            ("https://:80", false),
            ("http://host:99999", false),
            ("http://[::1]:99999", false),
            ("http://[::1]x", false),
            ("http://[::1", false),
            ("https://a b", false),
            ("javascript:alert(1)", false),
            ("http:/x", false),
            ("http://h:/p", true),
            ("http://h:+80", false),
            ("http://svc:hunter2@10.0.0.256", false),
            ("http://10.0.0.255", true),
            ("http://10.0.0.256.example", true),
            ("http://1.2.3.4.5", false),
            ("http://0x7f.1", true),
            ("http://0x7f.0x1000000", false),
            ("http://127.0.0.1.", true),
            ("http://4294967295", true),
            ("http://4294967296", false),
            ("http://09", false),
            ("http://a.09", false),
            ("http://a.0x", false),
            ("http://a..1", false),
            ("http://a.1..", true),
            ("http://%30x10", true),
            ("http://a.0xg", true),
            ("http://api-1.example.com", true),
            ("http://a%2Fb", false),
            ("http://a%41b", true),
            ("http://a%4", false),
            ("http://a|b", false),
            ("http://a^b", false),
            ("http://a\\b", false),
            ("http://[::1x]", false),
            ("http://[]", false),
            ("http://[1:2::3]:0", true),
            // Natively taken: IPv6 grammar (and IDNA) only the runtime's
            // parser knows, and the wasm build asks it.
            ("http://[1::2::3]", true),
        ];
        for (url, want) in table {
            assert_eq!(is_http(url), want, "{url}");
        }
    }
}

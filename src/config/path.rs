//! The path rules match: the request's path normalised the way origins
//! read it, so `//api/admin/x` or `/api/%61dmin/x` cannot dodge the rule
//! for `/api/admin/`. Only matching sees it; the origin still gets the
//! client's path byte for byte. Pure: tested natively.

use std::borrow::Cow;

/// `path` with unreserved `%xx` decoded (`%61` → `a`; any other escape
/// kept, its hex in upper case, so `%2F` stays a byte and not a
/// separator), runs of `/` merged and dot segments resolved. A lone `%`
/// becomes `%25`, so normalising twice changes nothing. Borrowed, with no
/// allocation, when there is nothing to do.
pub fn normalise(path: &str) -> Cow<'_, str> {
    if is_normal(path) {
        return Cow::Borrowed(path);
    }
    let decoded = decode_unreserved(path);
    Cow::Owned(resolve_dots(&merge_slashes(&decoded)))
}

/// Whether `path` has nothing to normalise: no `%`, no `//`, no `.` or
/// `..` segment.
fn is_normal(path: &str) -> bool {
    let b = path.as_bytes();
    if b.contains(&b'%') || path.contains("//") {
        return false;
    }
    !path.split('/').any(|s| s == "." || s == "..")
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986's unreserved characters: decoding them changes no meaning.
fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn decode_unreserved(path: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let b = path.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match (
            b.get(i + 1).and_then(|&h| hex(h)),
            b.get(i + 2).and_then(|&l| hex(l)),
        ) {
            (Some(h), Some(l)) => {
                let v = h << 4 | l;
                if unreserved(v) {
                    out.push(v);
                } else {
                    out.extend_from_slice(&[b'%', HEX[usize::from(h)], HEX[usize::from(l)]]);
                }
                i += 3;
            }
            _ => {
                out.extend_from_slice(b"%25");
                i += 1;
            }
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// RFC 3986 §5.2.4 on a path with no empty segments: `.` goes, `..` takes
/// the segment before it (never above the root).
fn resolve_dots(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut trailing = path.ends_with('/') || path.is_empty();
    for (n, s) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        match *s {
            "." => trailing |= last,
            ".." => {
                kept.pop();
                trailing |= last;
            }
            "" => {}
            s => kept.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &kept {
        out.push('/');
        out.push_str(s);
    }
    if trailing || kept.is_empty() {
        out.push('/');
    }
    out
}

/// A configured prefix as the runtime spells a request's path (the WHATWG
/// URL parser's path percent-encode set): a non-ASCII character as its
/// percent-encoded UTF-8 (`/ü/` → `/%C3%BC/`), a space, `"`, `<`, `>`,
/// `` ` ``, `{`, `}` or `^` as its escape; else a prefix could validate and
/// then match nothing. `None` for what no request path can hold as
/// written: a control character, `?` or `#` (they end the path) and `\`
/// (the runtime reads it as `/`).
pub fn spelled(prefix: &str) -> Option<Cow<'_, str>> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let escaped = |b: u8| !b.is_ascii() || b" \"<>`{}^".contains(&b);
    let b = prefix.as_bytes();
    if b.iter()
        .any(|&c| c.is_ascii_control() || b"?#\\".contains(&c))
    {
        return None;
    }
    if !b.iter().any(|&c| escaped(c)) {
        return Some(Cow::Borrowed(prefix));
    }
    let mut out = String::with_capacity(b.len() * 3);
    for &c in b {
        if escaped(c) {
            out.extend([
                '%',
                char::from(HEX[usize::from(c >> 4)]),
                char::from(HEX[usize::from(c & 15)]),
            ]);
        } else {
            out.push(char::from(c));
        }
    }
    Some(Cow::Owned(out))
}

/// Whether origins may read `path` as another path: it holds `;` (Tomcat
/// and Spring drop `..;` as a path parameter), `\` (read as `/` by some),
/// or an escaped `/`, `\`, NUL or `;` (`%2F`, `%5C`, `%00`, `%3B`, any
/// case), which some origins decode before routing (Spring's firewall
/// refuses each for that reason). No bypass applies to such a path.
pub fn ambiguous(path: &str) -> bool {
    let b = path.as_bytes();
    b.iter().enumerate().any(|(i, &c)| match c {
        b';' | b'\\' => true,
        b'%' => matches!(
            (b.get(i + 1), b.get(i + 2).map(u8::to_ascii_uppercase)),
            (Some(b'2'), Some(b'F'))
                | (Some(b'5'), Some(b'C'))
                | (Some(b'0'), Some(b'0'))
                | (Some(b'3'), Some(b'B'))
        ),
        _ => false,
    })
}

/// Whether `path` lies under `prefix` by whole segments: `/healthz` takes
/// `/healthz` and `/healthz/…`, not `/healthzX`; `/status/` takes what is
/// below it.
pub fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_a_path_normalise_to_it() {
        let table = [
            ("/api/admin/x", "/api/admin/x"),
            ("//api/admin/x", "/api/admin/x"),
            ("/api//admin///x", "/api/admin/x"),
            ("/api/%61dmin/x", "/api/admin/x"),
            ("/api/%41%7e%2d%2E%5F", "/api/A~-._"),
            ("/api/./admin/x", "/api/admin/x"),
            ("/api/z/../admin/x", "/api/admin/x"),
            ("/api/%2e%2E/api/admin/x", "/api/admin/x"),
            ("/../../api/admin/x", "/api/admin/x"),
            ("/api/admin/.", "/api/admin/"),
            ("/api/admin/x/..", "/api/admin/"),
            ("/", "/"),
            ("/..", "/"),
            ("/a/", "/a/"),
        ];
        for (path, want) in table {
            assert_eq!(normalise(path), want, "{path}");
        }
    }

    #[test]
    fn reserved_escapes_stay_bytes_with_upper_case_hex() {
        let table = [
            ("/api%2Fadmin/x", "/api%2Fadmin/x"),
            ("/api%2fadmin/x", "/api%2Fadmin/x"),
            ("/a%3f/%25/%C3%A9", "/a%3F/%25/%C3%A9"),
            ("/a%", "/a%25"),
            ("/a%zz", "/a%25zz"),
            ("/a%%611", "/a%25a1"),
            ("/a%4", "/a%254"),
        ];
        for (path, want) in table {
            assert_eq!(normalise(path), want, "{path}");
        }
    }

    #[test]
    fn a_normal_path_is_borrowed() {
        for path in ["/", "/api/admin/x", "/a.b/..c/.d/", "/x-y_z~"] {
            assert!(matches!(normalise(path), Cow::Borrowed(_)), "{path}");
        }
        for path in ["//a", "/a/./b", "/a/..", "/%61"] {
            assert!(matches!(normalise(path), Cow::Owned(_)), "{path}");
        }
    }

    #[test]
    fn prefixes_are_spelled_as_the_runtime_spells_paths() {
        let table = [
            ("/api/", Some("/api/")),
            ("/ü/", Some("/%C3%BC/")),
            ("/日本/x", Some("/%E6%97%A5%E6%9C%AC/x")),
            ("/a b/{c}/", Some("/a%20b/%7Bc%7D/")),
            ("/a\"<>`^", Some("/a%22%3C%3E%60%5E")),
            ("/%C3%BC/", Some("/%C3%BC/")),
            ("/a|b[c]@!$&'()*+,;=:%", Some("/a|b[c]@!$&'()*+,;=:%")),
            ("/a?b", None),
            ("/a#b", None),
            ("/a\\b", None),
            ("/a\tb", None),
            ("/a\u{7f}", None),
        ];
        for (prefix, want) in table {
            assert_eq!(spelled(prefix).as_deref(), want, "{prefix:?}");
        }
        assert!(matches!(spelled("/api/"), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn paths_origins_read_differently_are_ambiguous() {
        let table = [
            ("/healthz/..;/admin", true),
            ("/healthz;jsessionid=1", true),
            ("/healthz/..%2Fadmin", true),
            ("/healthz/..%2fadmin", true),
            ("/healthz\\..\\admin", true),
            ("/healthz/%5C../admin", true),
            ("/healthz/%5c", true),
            ("/healthz%00.json", true),
            ("/healthz/..%3Badmin", true),
            ("/healthz/..%3b/admin", true),
            ("/healthz/%3A", false),
            ("/healthz/%252F", false),
            ("/healthz/%2", false),
            ("/healthz/%", false),
            ("/healthz/%20/%C3%BC", false),
            ("/healthz", false),
            ("/", false),
        ];
        for (path, want) in table {
            assert_eq!(ambiguous(path), want, "{path}");
        }
    }

    #[test]
    fn under_matches_whole_segments() {
        let table = [
            ("/healthz", "/healthz", true),
            ("/healthz/deep", "/healthz", true),
            ("/healthzX", "/healthz", false),
            ("/healthz.json", "/healthz", false),
            ("/status/db", "/status/", true),
            ("/status/", "/status/", true),
            ("/status", "/status/", false),
            ("/", "/", true),
            ("/anything", "/", true),
        ];
        for (path, prefix, want) in table {
            assert_eq!(under(path, prefix), want, "{path} under {prefix}");
        }
    }
}

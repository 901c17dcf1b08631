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
